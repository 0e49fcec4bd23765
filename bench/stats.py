"""How fast is the coordinators' statistics dashboard with a million cases?

The dashboard (``app.stats.dashboard.dashboard``) counts each person once per month at
their first contact or case, slow to do from scratch, so settled months are stored
(``app.stats.rollup``). This benchmark loads N synthetic, anonymised cases (random
pseudonyms, no numbers) into PostgreSQL with COPY, then times the baseline, ``SELECT
count(*) FROM cases`` (the least any live count over the cases costs, on this machine at
this moment), and the dashboard part by part: cold (every month counted and stored) and
warm; then the share of the interval audit (``app.stats.intervals``), cached and solved
afresh (median of as many runs, each with the cache cleared). The dashboard shows settled
months only (``HOTLINE_STATS_SETTLE_DAYS``), so every month it counts is stored once.
Targets: warm median under 300 ms at 10,000,000 cases on 2 cores, the audit at most
100 ms of it. Last line: ``dashboard_ms=<median> cases=<n>``.

    python bench/stats.py [--cases N] [--repeat R] [--database-url URL] [--reuse]
"""

import argparse
import random
import statistics
from bisect import bisect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from time import perf_counter
from typing import Any
from unittest.mock import patch

from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import db
from app.config import Settings
from app.countries import LIKELY_LANGUAGES
from app.organisations.models import Organisation
from app.organisations.service import load_demo_if_empty
from app.stats import intervals, reports, rollup, service
from app.stats.dashboard import dashboard
from app.stats.models import StatsRollup
from app.users.models import Role, User
from app.users.service import create_user

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SPAN, BATCH = int(timedelta(days=730).total_seconds()), 50_000
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"
TABLES = {name: columns.split() for name, columns in {  # COPY columns, as generated
    "cases": "id reference status priority organisation_id caller_pseudonym caller_country "
             "language need child channel created_at updated_at closed_at",
    "contacts": "id channel twilio_sid caller_pseudonym caller_country language need child "
                "outcome case_id started_at answered_at ended_at duration_seconds",
    "case_screenings": "case_id gender age_band citizenship exploitation_types "
                       "trafficking_status country_of_exploitation referral_made "
                       "interpreter_used updated_at control_methods recruitment_method "
                       "relationship_to_trafficker ilo_indicators caller_type",
    "routing_attempts": "contact_id attempt organisation_id result started_at answered_at "
                        "ended_at reason",
    "callback_requests": "contact_id case_id created_at purge_after completed_at"}.items()}
SCREENING_UNKNOWN = ('["Unknown"]', "Unknown", "Unknown", '["unknown"]', "PotentialVictim")


def weighted(weights: dict[Any, float]) -> Callable[[random.Random], Any]:
    """A weighted choice, cheaper than ``random.choices`` per call."""
    keys, cum = list(weights), list(accumulate(weights.values()))
    return lambda rng: keys[bisect(cum, rng.random() * cum[-1])]


COUNTRY = weighted({"KZ": 26, "UZ": 22, "TJ": 16, "KG": 12, "RU": 12, "TM": 3, "AF": 3, "AZ": 2,
                    "TR": 2, "IR": 1, "UA": 0.6, None: 0.4})
LANGUAGE = {c: weighted(dict(zip(LIKELY_LANGUAGES.get(c or "", ("ru", "en")), (70, 25, 5, 2),
                                 strict=False))) for c in [*LIKELY_LANGUAGES, "UA", None]}
CHANNEL = weighted({"voice": 70, "sms": 20, "whatsapp": 10})
NEED = weighted({"information": 30, "legal_aid": 20, "shelter": 15, "danger": 8,
                 "psychosocial": 12, "medical": 7, "other": 5, None: 3})
STATUS = weighted({"closed": 60, "referred": 10, "claimed": 5, "queued": 25})
UNANSWERED = weighted({"abandoned": 50, "no_responder": 47.5, "callback_requested": 2.5})
GENDERS = ("Feminine",) * 6 + ("Masculine",) * 4 + ("NonConforming", "NonSpecifiedUnknown")
AGES = ("9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "30-38", "39-47", "48+", "Unknown")
EXPLOITATION = ('["ForcedLabour"]',) * 5 + ('["SexualExploitation"]', '["Unknown"]')


def ts(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def opt(value: Any) -> str:
    return r"\N" if value is None else str(value)


class Generator:
    """COPY rows from one seeded Random: cases in time order over two years before NOW,
    more lately; 15% from an earlier caller; 1.3 contacts and 70% screened per case."""

    def __init__(self, orgs: dict[str, list[int]], cases: int) -> None:
        self.rng = rng = random.Random(42)
        self.orgs, self.all_orgs = orgs, [o for ids in orgs.values() for o in ids]
        self.now = int(NOW.timestamp())
        self.times = sorted(self.now - int(SPAN * rng.random() ** 1.15) for _ in range(cases))
        self.pseudonyms: list[str] = []
        self.rows: dict[str, list[str]] = {name: [] for name in TABLES}

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append("\t".join(map(opt, values)) + "\n")

    def uid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def case(self, number: int) -> None:
        rng, created, case_id = self.rng, self.times[number], self.uid()
        if self.pseudonyms and rng.random() < 0.15:
            pseudonym = rng.choice(self.pseudonyms)
        else:
            pseudonym = f"{rng.getrandbits(256):064x}"
            self.pseudonyms.append(pseudonym)
        country, channel, need, status = COUNTRY(rng), CHANNEL(rng), NEED(rng), STATUS(rng)
        child = rng.random() < 0.08
        person = (pseudonym, country, LANGUAGE[country](rng), need, child)
        closed = ts(created + rng.randint(3600, 30 * 86400)) if status == "closed" else None
        self.add("cases", case_id, f"HL-{number:08X}", status,
                 "child" if child else "urgent" if need == "danger" else "normal",
                 rng.choice(self.orgs.get(country or "", self.all_orgs)), *person, channel,
                 ts(created), closed or ts(created), closed)
        self.contact(person, channel, case_id, created - rng.randint(30, 600))
        for _ in range(rng.choices((0, 1, 2), (75, 20, 5))[0]):
            later = created + rng.randint(3600, 20 * 86400)
            if later < self.now:
                self.contact(person, CHANNEL(rng), case_id if rng.random() < 0.6 else None, later)
        if rng.random() < 0.7:
            self.add("case_screenings", case_id, rng.choice(GENDERS), rng.choice(AGES),
                     f'["{country}"]' if country in LIKELY_LANGUAGES else "[]",
                     rng.choice(EXPLOITATION),
                     rng.choice(("PossibleVictimOfTrafficking", "NotAssessed")),
                     rng.choice(("RU", "KZ", None)), rng.choice(("Shelter", "Legal", None)),
                     rng.random() < 0.2, ts(created + 3600), *SCREENING_UNKNOWN)

    def contact(self, person: tuple[Any, ...], channel: str, case_id: str | None,
                start: int) -> None:
        contact_id, rng, answered = self.uid(), self.rng, None
        outcome = rng.choice(("information_given", "connected", "queued"))
        if channel == "voice":
            answered, outcome = self.attempts(contact_id, start)
        seconds = rng.randint(60, 1200)
        self.add("contacts", contact_id, channel, f"{channel[:2].upper()}{self.uid()}", *person,
                 outcome, case_id, ts(start), answered, ts(start + seconds), seconds)
        if outcome == "callback_requested" and case_id:
            at, done = start + 120, rng.randint(600, 2 * 86400) if rng.random() < 0.6 else None
            self.add("callback_requests", contact_id, case_id, ts(at), ts(at + 14 * 86400),
                     ts(at + done) if done else None)

    def attempts(self, contact_id: str, start: int) -> tuple[str | None, str]:
        """One to three responders tried; 82% of calls accepted by the last one."""
        rng, answered = self.rng, None
        tries, accepted = 1 + (rng.random() < 0.3) + (rng.random() < 0.1), rng.random() < 0.82
        for attempt in range(1, tries + 1):
            at, last = start + 5 + 25 * (attempt - 1), accepted and attempt == tries
            answered = ts(at + rng.randint(3, 60)) if last else None
            self.add("routing_attempts", contact_id, attempt, rng.choice(self.all_orgs),
                     "accepted" if last else "no-answer", ts(at), answered, ts(at + 20), "bench")
        return answered, "connected" if accepted else UNANSWERED(rng)


def load(engine: Engine, cases: int) -> None:
    """N cases through COPY with triggers off (foreign keys hold by construction); one
    thread copies a batch while the main thread generates the next."""
    with Session(engine) as session:
        orgs: dict[str, list[int]] = {}
        for org_id, country in session.execute(select(Organisation.id, Organisation.country)):
            orgs.setdefault(country, []).append(org_id)
    generator, raw = Generator(orgs, cases), engine.raw_connection()
    cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("SET session_replication_role = replica")

    def copy(batch: dict[str, str]) -> None:
        for table, data in batch.items():
            with cursor.copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN") as out:
                out.write(data)

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(lambda: None)
        for first in range(0, cases, BATCH):
            for number in range(first, min(first + BATCH, cases)):
                generator.case(number)
            pending.result()
            pending = pool.submit(copy, {t: "".join(rows) for t, rows in generator.rows.items()})
            generator.rows = {name: [] for name in TABLES}
        pending.result()
    raw.commit()
    raw.close()


def prepare(url: str, cases: int, reuse: bool) -> bool:
    """Migrate the database, recreated unless --reuse finds exactly N cases in it."""
    if reuse:
        with suppress(OperationalError):  # no such database yet: created below
            db.upgrade(url)
            with db.make_engine(url).connect() as connection:
                if connection.scalar(text("SELECT count(*) FROM cases")) == cases:
                    return True
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db.upgrade(url)
    return False


def ms(call: Callable[[], Any]) -> float:
    start = perf_counter()
    call()
    return (perf_counter() - start) * 1000


def run_dashboard(factory: sessionmaker[Session], settings: Settings,
                  fresh: bool = False) -> dict[str, float]:
    """One dashboard in its own transaction, committed (audit entries, stored months), and
    each of its calls into ``reports`` (looked up at call time) timed on the way; "audit"
    is the time spent in the interval audit (``intervals.protect``), solved afresh with
    ``fresh``, otherwise as cached by earlier runs."""
    query = service.parse("", None, None, None, NOW.date(), 60, settings.stats_settle_days)
    parts: dict[str, float] = {"audit": 0.0}
    if fresh:
        intervals.clear_cache()
    protect = intervals.protect

    def audited(*args: Any) -> Any:
        start = perf_counter()
        try:
            return protect(*args)
        finally:
            parts["audit"] += (perf_counter() - start) * 1000

    def timed(name: Callable[..., str], call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            result: list[Any] = []
            parts[name(*args)] = ms(lambda: result.append(call(*args)))
            return result[0]
        return wrapper

    with (factory() as session,
          patch.object(reports, "table",
                       timed(lambda *a: ",".join(a[4].dimensions) or "over_time",
                             reports.table)),
          patch.object(reports, "quality_report",
                       timed(lambda *a: "quality", reports.quality_report)),
          patch.object(intervals, "protect", audited)):
        user = session.scalars(select(User).where(User.username == "bench")).one()
        parts["dashboard"] = ms(lambda: (dashboard(session, settings, NOW, user, query),
                                         session.commit()))
    return parts


def show(title: str, parts: dict[str, float]) -> None:
    print(f"{title}: " + ", ".join(f"{name} {value:.0f} ms" for name, value in parts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=URL, help="PostgreSQL; dropped, recreated")
    parser.add_argument("--reuse", action="store_true", help="keep it if it has N cases")
    args = parser.parse_args()
    reused = prepare(args.database_url, args.cases, args.reuse)
    engine = db.make_engine(args.database_url)
    factory = db.make_sessionmaker(engine)
    rollup.clock = lambda: NOW  # the cutoff between stored and live figures follows NOW
    with factory() as session:
        load_demo_if_empty(session)
        if not session.scalar(select(User).where(User.username == "bench")):
            create_user(session, "bench", "bench-password-0123", Role.COORDINATOR, None)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not reused:
            load_s = ms(lambda: (load(engine, args.cases), connection.execute(
                text("VACUUM ANALYZE")))) / 1000
            print(f"load: {args.cases:,} cases in {load_s:.1f} s (COPY, VACUUM ANALYZE)")
        connection.execute(delete(StatsRollup))  # so that the first run is cold
        print(", ".join(f"{name} {connection.scalar(text(f'SELECT count(*) FROM {name}')):,}"
                        for name in TABLES))
        base = statistics.median(ms(lambda: connection.scalar(text(
            "SELECT count(*) FROM cases"))) for _ in range(args.repeat))
    print(f"baseline SELECT count(*) FROM cases: {base:.1f} ms (median of {args.repeat})")
    settings = Settings(database_url=args.database_url, twilio_auth_token="bench",
                        pseudonym_key="bench" * 8, encryption_key=Fernet.generate_key().decode())
    show("cold (all months counted and stored)", run_dashboard(factory, settings))
    runs = [run_dashboard(factory, settings) for _ in range(args.repeat)]
    warm = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    show(f"warm (median of {args.repeat})", warm)
    afresh = [run_dashboard(factory, settings, fresh=True) for _ in range(args.repeat)]
    fresh = {name: statistics.median(run[name] for run in afresh) for name in afresh[0]}
    show(f"audit solved afresh (cache cleared, median of {args.repeat})", fresh)
    print(f"audit share: {warm['audit']:.1f} of {warm['dashboard']:.0f} ms warm (cached), "
          f"{fresh['audit']:.1f} of {fresh['dashboard']:.0f} ms solved afresh "
          f"({100 * fresh['audit'] / fresh['dashboard']:.0f}%); target at most 100 ms")
    print(f"ratio dashboard/baseline (warm medians): {warm['dashboard'] / base:.1f}")
    print(f"dashboard_ms={round(warm['dashboard'])} cases={args.cases}")


if __name__ == "__main__":
    main()
