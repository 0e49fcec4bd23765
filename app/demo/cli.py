"""`hotline demo seed`: a fictitious history in a development database, never production."""

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.cli_args import bounded
from app.config import Settings, get_settings
from app.demo import seed

SessionScope = Callable[[Settings], AbstractContextManager[Session]]
# About 1.4 contacts a person: some 50 people a month over two years, enough for many
# monthly cells by country and language to reach k = 10, seeded in seconds on SQLite.
DEFAULT_PEOPLE = 1200
MAX_PEOPLE = 5000  # the smallest country's fictitious numbers run out a little beyond
DESCRIPTION = """\
Fill the configured database (migrated first) with a fictitious, reproducible history:
people calling and texting by voice, SMS, WhatsApp and Telegram from numbers no subscriber
has, cases claimed, screened, referred and closed by demo operators, all through the
hotline's own services, so the statistics, the quality report and the exports have
something to show. The same --seed gives the same history.

Refused in production (HOTLINE_ENV=production). Refused when the database already has
cases, so it never mixes with real data: --force adds to such a database, meant only for
one seeded before."""


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
                 session_scope: SessionScope) -> None:
    demo = commands.add_parser("demo", help="fictitious data for a development database")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    seeder = demo_commands.add_parser(
        "seed", help="fill the database with a fictitious history (refused in production)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    seeder.add_argument("--months", type=bounded(1, 60), default=24,
                        help="how far back the history starts (default 24)")
    seeder.add_argument("--people", type=bounded(1, MAX_PEOPLE), default=DEFAULT_PEOPLE,
                        help=f"how many fictitious people (default {DEFAULT_PEOPLE})")
    seeder.add_argument("--seed", type=int, default=1, help="the same seed, the same history")
    seeder.add_argument("--force", action="store_true",
                        help="add to a database that already has cases (one seeded before; "
                             "never one with real cases)")
    seeder.set_defaults(handler=cmd_seed, session_scope=session_scope)


def cmd_seed(args: argparse.Namespace) -> int:
    # Read before the secrets are resolved: production without them would fail on those,
    # and the answer here is no in any case.
    if Settings().is_production:
        print("refused: `hotline demo seed` writes fictitious people and cases, and this "
              "is production (HOTLINE_ENV=production); nothing was changed", file=sys.stderr)
        return 1
    settings = get_settings()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    scope: SessionScope = args.session_scope
    with scope(settings) as session:
        if seed.has_cases(session) and not args.force:
            print("refused: the database already has cases, and demo data must never mix "
                  "with real ones; nothing was changed (--force adds to a database seeded "
                  "before)", file=sys.stderr)
            return 1
        report = seed.seed(session, settings, people=args.people, months=args.months,
                           seed=args.seed, end=end)
    print("\n".join(["seeded a fictitious history (counts only):", *report.lines()]))
    return 0
