"""`hotline demo seed` as a developer, a statistics office and a careless operator meet it."""

import os
import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app import cli, db
from app.audit import chain as audit_chain
from app.cases.casework import CaseScreening, Referral
from app.cases.models import Case, CaseStatus, Contact, ContactOutcome
from app.config import Settings, get_settings
from app.demo import seed
from app.stats import service as stats
from app.stats import sources
from app.stats.dimensions import Period, Source
from tests.conftest import make_settings, production_environment
from tests.test_cli import hotline  # noqa: F401 (the fixture: `hotline ...` in-process)

END = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
PEOPLE, MONTHS, SEED = 500, 3, 7
WINDOW = sources.Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
PHONE_NUMBER = re.compile(r"\+\d|\d{8,}")  # E.164, or a national number's digits


def seeded_database(url: str, **overrides: object) -> Settings:
    settings = make_settings(url, **overrides)
    db.upgrade(url)
    engine = db.make_engine(url)
    make_session = db.make_sessionmaker(engine, info=audit_chain.sealing(settings.audit_key))
    with make_session() as session, session.begin():
        seed.seed(session, settings, people=PEOPLE, months=MONTHS, seed=SEED, end=END)
    engine.dispose()
    return settings


@pytest.fixture(scope="module")
def seeded(database_factory):
    """One seeded history per backend, shared by the tests that only read it."""
    settings = seeded_database(database_factory.create())
    engine = db.make_engine(settings.database_url)
    yield settings, engine
    engine.dispose()


def counts(engine) -> dict[str, Counter]:
    """What a statistics office would tabulate: people per month by country and language,
    contacts and cases."""
    with Session(engine) as session:
        slugs = stats.organisation_slugs(session)
        return {source.value: sources.count(session, source, ["country", "language"],
                                            Period.MONTH, WINDOW, [], slugs)
                for source in (Source.CONTACTS, Source.CASES)}


def test_same_seed_gives_the_same_history(seeded, database_factory):
    _, engine = seeded
    again = seeded_database(database_factory.create())
    other = db.make_engine(again.database_url)
    try:
        first, second = counts(engine), counts(other)
    finally:
        other.dispose()
    assert first == second
    # Not a trivially equal pair of empty tables: four months, many cells.
    assert {key[0] for key in first["contacts"]} == {"2026-07", "2026-08", "2026-09",
                                                     "2026-10"}
    assert len(first["contacts"]) >= 30 and len(first["cases"]) >= 20


def test_statistics_show_real_shapes_across_countries_and_languages(seeded):
    settings, engine = seeded
    k = settings.stats_k
    with Session(engine) as session:
        for dimension in ("country", "language"):
            query = stats.parse(dimension, date(2026, 7, 1), date(2026, 10, 1), None,
                                END.date(), settings.stats_max_months,
                                settings.stats_settle_days)
            table = stats.release(session, query, settings)["tables"]["contacts"]
            shown = [row for row in table["rows"] if row[dimension] != "total"
                     and row["withheld"] is None and row["value"] >= k]
            published = {row[dimension] for row in shown} - {"unknown", "other"}
            assert len(shown) >= 8, (dimension, table["rows"])
            assert len(published) >= 3, (dimension, published)


def test_the_history_has_what_operators_do(seeded):
    _, engine = seeded
    with Session(engine) as session:
        outcomes = Counter(dict(session.execute(
            select(Contact.outcome, func.count()).group_by(Contact.outcome)).all()))
        statuses = Counter(dict(session.execute(
            select(Case.status, func.count()).group_by(Case.status)).all()))
        screened = session.scalar(select(func.count()).select_from(CaseScreening))
        abroad = session.scalar(select(func.count()).select_from(Referral))
        first_case = session.scalar(select(func.min(Case.created_at)))
    assert outcomes[ContactOutcome.CONNECTED] > 0 and outcomes[ContactOutcome.NO_RESPONDER] > 0
    assert outcomes[ContactOutcome.CALLBACK_REQUESTED] > 0
    assert statuses[CaseStatus.CLOSED] > statuses[CaseStatus.QUEUED] > 0
    assert screened and abroad
    # Cases are dated when they happened in the history, not when it was seeded.
    assert first_case is not None and first_case < datetime(2026, 7, 15, tzinfo=UTC)


def test_never_mixes_with_a_database_that_has_cases(hotline):  # noqa: F811
    code, out, err = hotline("demo", "seed", "--people", "40", "--months", "2")
    assert code == 0, err
    assert "people: 40" in out and "cases:" in out
    assert not PHONE_NUMBER.search(out)  # counts only, never a number
    code, out, err = hotline("demo", "seed", "--people", "40", "--months", "2")
    assert code == 1 and out == ""
    assert "already has cases" in err and "--force" in err
    code, out, _ = hotline("demo", "seed", "--people", "40", "--months", "2", "--force")
    assert code == 0 and "people: 40" in out


def test_refused_in_production(fresh_database_url, monkeypatch, capsys):
    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)
    for name, value in production_environment(database_url=fresh_database_url).items():
        if name.startswith("HOTLINE_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        code = cli.main(["demo", "seed", "--people", "10"])
    finally:
        get_settings.cache_clear()
    _, err = capsys.readouterr()
    assert code != 0 and "refused" in err and "production" in err
    engine = db.make_engine(fresh_database_url)
    try:
        assert "cases" not in inspect(engine).get_table_names()  # not even migrated
    finally:
        engine.dispose()
