"""How long does routing one call take with 1,000 organisations in the directory?

Every step of a call that connects someone asks the routing engine
(``app.routing.engine.route``) who to ring, on the snapshot in memory, never the database;
a directory grown from the demo's 28 organisations to a thousand must not slow that down.
This benchmark builds a synthetic directory of 1,000 fictitious responders over the
hotline's ten countries (time zones, languages, services, weekly hours, 24/7 ones, hubs,
dated exceptions; a fixed seed, so every run builds the same one), and, as the baseline
in the same run, the demo directory the service ships, loaded into a temporary SQLite
database and read back with the service's own ``organisations.snapshot``.

On each it times, with ``perf_counter_ns``, the same random queries (language, caller
country, need, a moment in one week, each of the first three sometimes None):

- ``route()`` warm: the snapshot already holds the ranking for the query's country,
  language and need, so only who is open at that moment is worked out: every call after
  the first few on a snapshot;
- ``route()`` for a new key: the first query for its country, language and need on a
  snapshot, which ranks the candidates and keeps the ranking;
- ``route()`` on a fresh snapshot: the first decision after a refresh (new responders,
  nothing memoised), the worst a caller meets once per refresh;
- a call step, warm: what the voice ``connect`` step does with the directory, i.e.
  ``pipeline.dial_plans`` (route, the open candidates with numbers, their reasons) and
  the organisation of the first dial (``Directory.by_slug``);
- ``reopening()`` when nobody is open (night, a holiday): when the first candidate opens
  again, for the caller's "someone is back within the hour". Both directories' hubs never
  close, so it is timed on each query's closed candidates;
- ``Directory.by_slug``, a scan of the directory, for a random responder.

Target (issue 22): a warm decision under 1 ms with 1,000 organisations. Last line:
``routing_warm_p50_us=<x> routing_warm_p99_us=<y> routing_cold_p50_us=<z> orgs=<n>
demo_warm_p50_us=<w>``.

    python bench/routing.py [--orgs N] [--queries Q] [--fresh F] [--seed S] [--profile]
"""

import argparse
import cProfile
import dataclasses
import gc
import pstats
import random
import statistics
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import perf_counter_ns
from typing import Any, TypeVar

from app import db
from app.countries import LIKELY_LANGUAGES
from app.languages import LANGUAGES
from app.organisations import service as organisations
from app.pipeline import dial_plans
from app.routing.engine import Query, reopening, route
from app.routing.needs import Need, Service
from app.routing.snapshot import DatedException, Directory, Interval, Responder

# A week holding the demo's spring holidays (Nauryz, Navruz, Nowruz: 20 to 24 March 2027),
# so its exceptions are met as well as its weekly hours.
WEEK = datetime(2027, 3, 18, tzinfo=UTC)
MAX_DIAL_ATTEMPTS = 3  # Settings.max_dial_attempts' default
T = TypeVar("T")

# Per country: its time zones and a fictitious duty number pattern, the demo directory's
# own (+<country code><area>000..., a range no real subscriber number starts with).
COUNTRIES: dict[str, tuple[tuple[str, ...], str]] = {
    "KZ": (("Asia/Almaty", "Asia/Qostanay", "Asia/Aqtobe", "Asia/Oral"), "+7727000{:04d}"),
    "KG": (("Asia/Bishkek",), "+996312000{:03d}"),
    "TJ": (("Asia/Dushanbe",), "+992372000{:03d}"),
    "TM": (("Asia/Ashgabat",), "+99312000{:03d}"),
    "UZ": (("Asia/Tashkent", "Asia/Samarkand"), "+998712000{:03d}"),
    "AF": (("Asia/Kabul",), "+93202000{:03d}"),
    "AZ": (("Asia/Baku",), "+99412000{:04d}"),
    "IR": (("Asia/Tehran",), "+98210000{:04d}"),
    "RU": (("Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Novosibirsk",
            "Asia/Krasnoyarsk", "Asia/Vladivostok"), "+7495000{:04d}"),
    "TR": (("Europe/Istanbul",), "+90212000{:04d}"),
}
# Where the organisations are: more where more callers are (as bench/stats.py's callers).
ORG_SHARE = {"KZ": 18, "UZ": 16, "RU": 16, "TJ": 11, "KG": 10, "TR": 9, "AF": 6, "AZ": 5,
             "IR": 5, "TM": 4}


def hours_for(rng: random.Random) -> tuple[bool, tuple[Interval, ...]]:
    """(always open, weekly hours): 24/7, office hours, split, evening or weekend shifts."""
    kind = rng.choices(["24/7", "office", "split", "overnight", "weekend"],
                       [25, 45, 10, 12, 8])[0]
    if kind == "24/7":
        return True, ()
    if kind == "office":
        opens, closes = time(rng.choice((8, 9, 10))), time(rng.choice((17, 18, 19)))
        return False, tuple(Interval(day, opens, closes) for day in range(rng.choice((5, 6))))
    if kind == "split":
        return False, tuple(Interval(day, opens, closes) for day in range(5)
                            for opens, closes in ((time(9), time(13)), (time(14), time(18))))
    if kind == "overnight":  # closes at or before it opens: runs past midnight
        return False, tuple(Interval(day, time(20), time(2)) for day in range(7))
    return False, tuple(Interval(day, time(10), time(16)) for day in (5, 6))


def exceptions_for(rng: random.Random) -> tuple[DatedException, ...]:
    """One to three dated exceptions, mostly in the measured week: holidays, closures for
    part of a day, special hours."""
    days = sorted(rng.sample(range(-3, 10), rng.randint(1, 3)))
    made = []
    for offset in days:
        day = WEEK.date() + timedelta(days=offset)
        kind = rng.choice(("holiday", "closure", "special"))
        if kind == "holiday":
            made.append(DatedException(day, True, (), "Holiday"))
        elif kind == "closure":
            made.append(DatedException(day, True, ((time(9), time(12)),), "Staff training"))
        else:
            made.append(DatedException(day, False, ((time(10), time(14)),), "Short day"))
    return tuple(made)


def synthetic_directory(size: int, seed: int) -> Directory:
    """``size`` fictitious responders, one hub per country among them."""
    rng = random.Random(seed)
    countries = rng.choices(list(ORG_SHARE), list(ORG_SHARE.values()), k=size)
    hubs = {countries.index(c) for c in COUNTRIES if c in countries}  # each country's first
    numbers = dict.fromkeys(COUNTRIES, 200)  # past the demo's (101 to 112): none reused
    responders = []
    for n, country in enumerate(countries):
        zones, pattern = COUNTRIES[country]
        likely = LIKELY_LANGUAGES[country]
        is_hub = n in hubs
        main = likely[0] if rng.random() < 0.8 else rng.choice(likely)
        others = [code for code in (*likely, "ru", "en") if code != main]
        languages = [main, *rng.sample(sorted(set(others)), rng.randint(0, 2))]
        if is_hub:  # a hub speaks the region's languages, as the demo's two do
            languages = list(dict.fromkeys([*languages, *likely, "ru", "en"]))
        always_open, hours = (True, ()) if is_hub else hours_for(rng)
        services = list(Service) if is_hub else rng.sample(list(Service), rng.randint(1, 4))
        duty = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            duty.append(pattern.format(numbers[country]))
            numbers[country] += 1
        responders.append(Responder(
            slug=f"{country.lower()}-synthetic-{n:04d}",
            name=f"Synthetic organisation {n} ({country}, fictitious)",
            country=country, timezone=rng.choice(zones), always_open=always_open,
            is_hub=is_hub, priority=10 if is_hub else rng.choice((20, 50, 100, 100)),
            services=frozenset(s.value for s in services),  # strings, as read from the rows
            languages=tuple(dict.fromkeys(languages)),
            duty_numbers=tuple(duty), ring_in_order=rng.random() < 0.2,
            hours=hours, exceptions=exceptions_for(rng) if rng.random() < 0.2 else (),
            organisation_id=n + 1))
    return Directory(tuple(responders), loaded_at=WEEK)


def demo_directory(folder: Path) -> Directory:
    """The demo directory as the service sees it: imported into a new database (SQLite
    here, a temporary file) and read back with ``organisations.snapshot``."""
    url = f"sqlite:///{folder / 'routing.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.make_sessionmaker(engine)() as session:
            organisations.load_demo_if_empty(session)
            session.commit()
            return organisations.snapshot(session, now=WEEK)
    finally:
        engine.dispose()


def queries(count: int, seed: int) -> list[Query]:
    """Callers mostly speaking one of their country's likely languages; some with no
    country known (a withheld number), from a country without responders, or before the
    language or need is known."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        country = rng.choices([*COUNTRIES, "UA", None], [*[9] * len(COUNTRIES), 2, 4])[0]
        likely = LIKELY_LANGUAGES.get(country or "", ("ru", "en"))
        language = rng.choices([rng.choice(likely), rng.choice(list(LANGUAGES)), None],
                               [80, 15, 5])[0]
        need = rng.choice([*Need, None])
        at = WEEK + timedelta(seconds=rng.randrange(7 * 86_400))
        made.append(Query(language, country, need, at))
    return made


def fresh(directory: Directory) -> Directory:
    """The same directory as a refresh would load it: new responders and snapshot, so
    nothing is memoised (the ranking, the index, each responder's weekly table)."""
    return Directory(tuple(dataclasses.replace(r) for r in directory.responders),
                     loaded_at=directory.loaded_at)


def call_step(directory: Directory, query: Query) -> None:
    """What the voice ``connect`` step does with the directory (app/channels/voice): the
    dials, the first one's organisation, and, with nobody to ring, the queue and when
    someone is back (never here: both directories' hubs are always open)."""
    plans = dial_plans(directory, query, MAX_DIAL_ATTEMPTS)
    if plans:
        directory.by_slug(plans[0].slug)  # the attempt's organisation id
        return
    candidates = route(directory, query)  # enqueue: the best candidate's queue
    if candidates:
        directory.by_slug(candidates[0].slug)
    reopening(route(directory, query), query.at)  # no_responder: when someone is back


def timed(decide: Callable[[T], Any], sample: Iterable[T]) -> list[float]:
    """Microseconds each decision took. A full collection first, so one measurement does
    not pay for the garbage of the one before; the collector stays on, as in the service."""
    gc.collect()
    took = []
    for item in sample:
        start = perf_counter_ns()
        decide(item)
        took.append((perf_counter_ns() - start) / 1000)
    return took


@dataclass(frozen=True)
class Figures:
    name: str
    micros: dict[str, list[float]]  # what was timed -> microseconds per decision
    candidates: float
    open_share: float

    def p50(self, what: str) -> float:
        return statistics.median(self.micros[what])

    def p99(self, what: str) -> float:
        return statistics.quantiles(self.micros[what], n=100, method="inclusive")[98]


WARM, NEW_KEY, FRESH = "route(), warm", "route(), new key", "route(), fresh snapshot"
STEP = "call step (dial_plans, by_slug), warm"
REOPENING = "reopening(), nobody open (night, holiday)"
BY_SLUG = "Directory.by_slug"


def measure(name: str, directory: Directory, sample: list[Query], fresh_count: int
            ) -> Figures:
    micros: dict[str, list[float]] = {}
    # New key: on a fresh snapshot, each query whose key it has not seen yet, in order.
    cold = fresh(directory)
    firsts: dict[tuple[Any, ...], Query] = {}
    for query in sample:
        firsts.setdefault((query.country, query.language, query.need), query)
    first = list(firsts.values())
    route(cold, first[0])  # the index of responders is built once per snapshot: not here
    micros[NEW_KEY] = timed(lambda q: route(cold, q), first[1:])
    refreshed = iter([fresh(directory) for _ in range(fresh_count)])
    micros[FRESH] = timed(lambda q: route(next(refreshed), q), sample[:fresh_count])
    for query in sample:  # every key's ranking kept: warm from here on
        route(directory, query)
    micros[WARM] = timed(lambda q: route(directory, q), sample)
    micros[STEP] = timed(lambda q: call_step(directory, q), sample)
    # Someone is always open in both directories (their hubs never close), so the
    # reopening path is timed on each query's closed candidates alone: what it does when
    # nobody is, the SMS confirmation's and the voice no_responder's case.
    closed = {id(q): [c for c in route(directory, q) if not c.is_open] for q in sample}
    micros[REOPENING] = timed(lambda q: reopening(closed[id(q)], q.at), sample)
    slugs = random.Random(0).choices([r.slug for r in directory.responders], k=len(sample))
    micros[BY_SLUG] = timed(directory.by_slug, slugs)
    results = [route(directory, q) for q in sample]
    return Figures(name, micros, statistics.mean(len(r) for r in results),
                   statistics.mean(any(c.is_open for c in r) for r in results))


def show(base: Figures, ours: Figures) -> None:
    """One row per measurement: the demo's and the large directory's p50 and p99 in
    microseconds, and the ratio of the medians."""
    for figures in (base, ours):
        print(f"{figures.name}: {figures.candidates:.0f} candidates a decision on average, "
              f"someone open for {100 * figures.open_share:.0f}% of queries")
    print(f"{'':<44} {'demo p50':>9} {'p99':>8} {'large p50':>10} {'p99':>8} {'ratio':>6}")
    for what in (WARM, NEW_KEY, FRESH, STEP, REOPENING, BY_SLUG):
        print(f"{what:<44} {base.p50(what):9.1f} {base.p99(what):8.1f} "
              f"{ours.p50(what):10.1f} {ours.p99(what):8.1f} "
              f"{ours.p50(what) / base.p50(what):6.1f}")
    print(f"(microseconds; {len(ours.micros[WARM]):,} decisions timed each, "
          f"{len(ours.micros[NEW_KEY]):,} new keys, {len(ours.micros[FRESH]):,} fresh snapshots)")


def profile(directory: Directory, sample: list[Query]) -> None:
    """Where a warm decision's time goes, for --profile."""
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [route(directory, q) for q in sample])
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=5000, help="timed decisions")
    parser.add_argument("--fresh", type=int, default=200, help="decisions on a new snapshot")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--profile", action="store_true", help="cProfile the warm decisions")
    args = parser.parse_args()
    big = synthetic_directory(args.orgs, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        demo = demo_directory(Path(folder))
    sample = queries(args.queries, args.seed)
    print(f"directories: demo {len(demo.responders)} organisations "
          f"({sum(r.is_hub for r in demo.responders)} hubs), synthetic "
          f"{len(big.responders):,} ({sum(r.is_hub for r in big.responders)} hubs, "
          f"{sum(r.always_open for r in big.responders)} open 24/7, "
          f"{sum(bool(r.exceptions) for r in big.responders)} with dated exceptions); "
          f"{len(sample):,} queries over the week from {WEEK:%Y-%m-%d}, seed {args.seed}")
    base = measure("demo (baseline)", demo, sample, args.fresh)
    ours = measure(f"large ({len(big.responders):,} synthetic organisations)", big, sample,
                   args.fresh)
    show(base, ours)
    warm = ours.p50(WARM)
    print(f"target: a warm decision under 1,000 us with {len(big.responders):,} organisations: "
          f"{'met' if warm < 1000 else 'NOT met'} (p50 {warm:.0f} us, p99 {ours.p99(WARM):.0f} us)")
    if args.profile:
        profile(big, sample)
    print(f"routing_warm_p50_us={warm:.0f} routing_warm_p99_us={ours.p99(WARM):.0f} "
          f"routing_cold_p50_us={ours.p50(FRESH):.0f} orgs={len(big.responders)} "
          f"demo_warm_p50_us={base.p50(WARM):.0f}")

if __name__ == "__main__":
    main()
