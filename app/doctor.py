"""``hotline doctor``: is this deployment ready to take calls? One line per check.

Each check says ``ok`` or ``FAIL`` and why; the Twilio check says ``skip`` when no account
is configured. The command exits 1 if any check fails. It only reads: no migration, no
write to the database, nothing sent to Twilio.

The public URL is two checks, so each can be seen on its own: that it is https (Twilio
calls nothing else), and that ``GET <public URL>/healthz`` answers 200 through whatever
is in front of the service (DNS, TLS, the reverse proxy). A staging service on plain
http on a laptop therefore fails the first and passes the second.
"""

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import httpx2 as httpx
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException

from app import config, db
from app.channels.voice import audio
from app.config import ConfigurationError, Settings
from app.messaging.models import Outbox, OutboxStatus
from app.organisations import lines
from app.organisations.models import Organisation
from app.twilio import setup as twilio_setup

HEALTH_TIMEOUT_SECONDS = 5
# Older than this, a waiting message or journal file is stuck, not draining: the outbox
# retries within seconds at first, and the journal replays every few seconds.
STUCK_AFTER = timedelta(minutes=15)
JOURNAL_SUFFIXES = (".jsonl", ".replay")  # as app.webhooks.journal writes and rotates them
SET_ASIDE = "set-aside.failed"  # app.webhooks.journal keeps records it could not apply there
Fetch = Callable[[str], tuple[int, str]]  # URL -> (status code, body)


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    reason: str

    def line(self) -> str:
        return f"{self.status.value:<4}  {self.name:<12}  {self.reason}"


def ok(name: str, reason: str) -> Check:
    return Check(name, Status.OK, reason)


def fail(name: str, reason: str) -> Check:
    return Check(name, Status.FAIL, reason)


# --- the public URL -----------------------------------------------------------------


def check_https(settings: Settings) -> Check:
    if settings.public_url.startswith("https://"):
        return ok("https", settings.public_url)
    return fail("https", f"HOTLINE_PUBLIC_URL is {settings.public_url}: Twilio needs the "
                "https:// address of the service")


def fetch(url: str) -> tuple[int, str]:
    response = httpx.get(url, timeout=HEALTH_TIMEOUT_SECONDS, follow_redirects=False)
    return response.status_code, response.text


def check_reachable(settings: Settings, get: Fetch = fetch) -> Check:
    url = f"{settings.public_url}/healthz"
    try:
        status, body = get(url)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return fail("reachable", f"GET {url}: {type(exc).__name__} ({exc})"[:200])
    if status != 200:
        return fail("reachable", f"GET {url} answered {status}, not 200")
    if not _is_healthz(body):
        return fail("reachable", f"GET {url} answered 200, but not as this service does: "
                    "does the proxy send it here?")
    return ok("reachable", f"GET {url} answered 200")


def _is_healthz(body: str) -> bool:
    try:
        parsed: object = json.loads(body)
        return parsed == {"status": "ok"}
    except ValueError:
        return False


# --- secrets ------------------------------------------------------------------------


def check_secrets(settings: Settings) -> Check:
    """What production would refuse to start with, in any mode: a development service
    generates its own secrets, and those must not go live."""
    problems: list[str] = []
    try:
        config.check_secrets(settings)
    except ConfigurationError as exc:
        problems += str(exc).removeprefix("refusing to start: ").split("; ")
    if not settings.is_production:  # production's check above already includes these
        problems += config.weak_secrets(settings)
    problems = [p for p in dict.fromkeys(problems) if "HOTLINE_PUBLIC_URL" not in p]
    if problems:
        return fail("secrets", "; ".join(problems))
    return ok("secrets", "set, strong, and none from development")


# --- the database -------------------------------------------------------------------


def check_migrations(session: Session) -> Check:
    current = MigrationContext.configure(session.connection()).get_current_revision()
    head = db.head_revision()
    if current == head:
        return ok("migrations", f"database at head ({head})")
    return fail("migrations", f"database at {current or 'no revision'}, code at {head}: "
                "run `hotline migrate`")


def check_directory(session: Session) -> Check:
    count = session.scalar(select(func.count()).select_from(Organisation)
                           .where(Organisation.active.is_(True))) or 0
    if not count:
        return fail("directory", "no active organisation: nobody to route a caller to "
                    "(`hotline directory import FILE`)")
    return ok("directory", f"{count} active organisations")


def check_lines(session: Session) -> Check:
    numbers = lines.active_numbers(session)
    if not numbers:
        return fail("lines", "no active national line: add a `lines` section to the "
                    "directory file and import it")
    return ok("lines", f"{len(numbers)} active: {', '.join(numbers)}")


def check_twilio(settings: Settings, session: Session) -> Check:
    """Every line's number is in the Twilio account and points here: the comparison
    ``hotline twilio setup --dry-run`` makes, without its writes."""
    credentials = twilio_setup.credentials_from_settings(settings)
    if credentials is None:
        return Check("twilio", Status.SKIP, "no HOTLINE_TWILIO_ACCOUNT_SID and "
                     "HOTLINE_TWILIO_AUTH_TOKEN: numbers not checked")
    numbers = lines.active_numbers(session)
    try:
        plans = twilio_setup.plan(twilio_setup.twilio_client(credentials), numbers,
                                  settings.public_url)
    except (TwilioException, OSError) as exc:
        return fail("twilio", twilio_setup.twilio_failure(exc))
    wrong = [_plan_summary(p) for p in plans if not p.found or p.changes]
    if wrong:
        return fail("twilio", "; ".join(wrong) + ": run `hotline twilio setup`")
    return ok("twilio", f"{len(plans)} numbers in the account, all pointing here")


def _plan_summary(plan: twilio_setup.Plan) -> str:
    if not plan.found:
        return f"{plan.number} is not in the Twilio account"
    return f"{plan.number} {', '.join(c.name for c in plan.changes)} not pointing here"


def check_outbox(session: Session, now: datetime) -> Check:
    waiting = (Outbox.status == OutboxStatus.PENDING) | (Outbox.status == OutboxStatus.SENDING)
    count, oldest = session.execute(select(func.count(), func.min(Outbox.created_at))
                                    .where(waiting)).one()
    if not count:
        return ok("outbox", "empty")
    age = now - oldest
    text = f"{count} waiting, the oldest for {_minutes(age)}"
    if age > STUCK_AFTER:
        return fail("outbox", f"{text}: is Twilio configured and reachable? (logs of "
                    "app.messaging.outbox)")
    return ok("outbox", f"{text}: draining")


# --- files --------------------------------------------------------------------------


def check_journal(settings: Settings, now: datetime) -> Check:
    folder = settings.journal_dir
    set_aside = folder / SET_ASIDE
    if set_aside.is_file() and set_aside.stat().st_size:
        lines = len(set_aside.read_bytes().splitlines())
        return fail("journal", f"{lines} records could not be replayed and wait in "
                    f"{set_aside}: someone must look at them")
    files = [p for p in folder.iterdir() if p.suffix in JOURNAL_SUFFIXES] \
        if folder.is_dir() else []
    if not files:
        return ok("journal", "empty")
    age = now - min(_modified(p) for p in files)
    text = f"{len(files)} files waiting for replay, the oldest for {_minutes(age)}"
    if age > STUCK_AFTER:
        return fail("journal", f"{text}: is the database reachable from the service?")
    return ok("journal", f"{text}: draining")


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def check_audio(settings: Settings) -> Check:
    """A recording or rendering of every prompt, in every language Twilio cannot speak."""
    languages = audio.played_languages()
    names = [name for name, _key, _params in audio.needed_prompts()]
    missing = {language: sum(audio.find_audio(settings.audio_dir, language, name) is None
                             for name in names) for language in languages}
    gaps = [f"{language} {count} of {len(names)}" for language, count in missing.items()
            if count]
    if gaps:
        error = audio.synthesis_error()
        remedy = (f"the bundled libespeak-ng does not load ({error}): reinstall the package"
                  if error else "run `hotline audio render`")
        return fail("audio", f"prompts missing in {settings.audio_dir}: {', '.join(gaps)}: "
                    f"{remedy}")
    return ok("audio", f"{len(names)} prompts in each of {len(languages)} languages")


def _minutes(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return "under a minute" if minutes < 1 else f"{minutes} min"


# --- all of it ----------------------------------------------------------------------


def diagnose(settings: Settings, session: Session, *, get: Fetch = fetch,
             now: datetime | None = None) -> list[Check]:
    now = now or datetime.now(UTC)
    checks = [check_https(settings), check_reachable(settings, get), check_secrets(settings)]
    checks += _database_checks(settings, session, now)
    checks += [check_audio(settings), check_journal(settings, now)]
    return checks


def _database_checks(settings: Settings, session: Session, now: datetime) -> list[Check]:
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("migrations", lambda: check_migrations(session)),
        ("directory", lambda: check_directory(session)),
        ("lines", lambda: check_lines(session)),
        ("twilio", lambda: check_twilio(settings, session)),
        ("outbox", lambda: check_outbox(session, now)),
    ]
    try:
        session.connection()  # one connect: each check trying would wait out its timeout
    except db.UNAVAILABLE as exc:
        return [fail(name, f"database unreachable ({type(exc).__name__})") for name, _ in steps]
    checks = []
    for name, step in steps:
        try:
            checks.append(_in_savepoint(session, step))
        except SQLAlchemyError as exc:  # the class only: the message may quote parameters
            checks.append(fail(name, f"query failed ({type(exc).__name__}): is the database "
                               "migrated?"))
    return checks


def _in_savepoint(session: Session, step: Callable[[], Check]) -> Check:
    # A failed query (a table an old schema lacks) must not abort the checks after it.
    with session.begin_nested():
        return step()


def report(checks: list[Check]) -> tuple[list[str], int]:
    """The lines to print, and the exit code: 1 if anything failed."""
    failed = sum(c.status is Status.FAIL for c in checks)
    summary = f"{failed} of {len(checks)} checks failed" if failed else "all checks passed"
    return [c.line() for c in checks] + [summary], 1 if failed else 0


# --- the command --------------------------------------------------------------------


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    commands.add_parser("doctor", help="check a deployment: public URL, secrets, database, "
                        "directory, lines, Twilio, audio, outbox and journal; exit 1 if "
                        "anything fails").set_defaults(handler=cmd_doctor)


def doctor_settings() -> Settings:
    """The settings the service would run with; if it would refuse them, the raw ones, so
    the secrets line says why and the other checks still run."""
    raw = Settings()
    try:
        return config.resolve(raw)
    except ConfigurationError:
        return raw


def cmd_doctor(_args: argparse.Namespace) -> int:
    settings = doctor_settings()
    engine = db.make_engine(settings.effective_database_url())
    try:
        with Session(db.read_only(engine)) as session:
            checks = diagnose(settings, session)
            session.rollback()  # read only: nothing to keep
    finally:
        engine.dispose()
    lines, code = report(checks)
    print("\n".join(lines))
    return code
