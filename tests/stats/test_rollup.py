"""Stored monthly figures give the same counts as counting live, and go stale on changes.

The live count is forced by a country filter naming every country (filters bypass the
stored figures), so both paths count the same people by two different routes.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from app.cases.models import Contact
from app.stats import rollup, sources
from app.stats.dimensions import COUNTRIES, Period, Source
from app.stats.models import StatsRollup
from tests.stats.people import add_people

pytestmark = pytest.mark.usefixtures("demo_directory")
NAMES = ["country", "language"]
WINDOW = sources.Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def now(monkeypatch):
    """Mid-May: March and April are settled, May is settled up to 11:00 on the 20th."""
    moment = datetime(2026, 5, 20, 12, 30, tzinfo=UTC)
    monkeypatch.setattr(rollup, "clock", lambda: moment)
    return moment


def stored_count(session, source=Source.CONTACTS):
    return sources.count(session, source, NAMES, Period.MONTH, WINDOW, [], {})


def live_count(session, source=Source.CONTACTS):
    return sources.count(session, source, NAMES, Period.MONTH, WINDOW, list(COUNTRIES), {})


@pytest.fixture
def callers(session):
    """Repeat callers across months and across May's cutoff (11:00 on the 20th)."""
    repeat = add_people(session, 7, day="2026-03-02", language="ru", contacts_each=2)
    add_people(session, 4, day="2026-03-30", country="TJ", language="tg")
    add_people(session, 7, day="2026-04-11", language="kk", pseudonyms=repeat)
    add_people(session, 5, day="2026-05-20", language="uz", country="UZ")  # 09:00-09:04
    late = add_people(session, 3, day="2026-05-20T11:30", language="ru")
    add_people(session, 3, day="2026-05-20T11:45", language="ru", pseudonyms=repeat[:3])
    session.flush()
    return repeat, late


def test_stored_figures_equal_the_live_count(session, callers):
    first = stored_count(session)
    assert first == live_count(session)
    months = session.scalars(select(StatsRollup.month).where(StatsRollup.kind == "contacts"))
    assert sorted(months) == ["2026-03", "2026-04", "2026-05"]
    # Read back from the store, the figures are unchanged.
    assert stored_count(session) == first
    assert first[("2026-03", "KZ", "ru")] == 7  # two calls each, counted once
    assert first[("2026-04", "KZ", "kk")] == 7
    # May: 5 before the cutoff, 3 new after it, 3 repeat callers first seen after it.
    assert first[("2026-05", "UZ", "uz")] == 5
    assert first[("2026-05", "KZ", "ru")] == 6
    assert stored_count(session, Source.CASES) == live_count(session, Source.CASES)


def test_a_person_seen_before_the_cutoff_is_not_counted_again_after_it(session, callers,
                                                                        now, monkeypatch):
    repeat, _ = callers
    assert stored_count(session)[("2026-05", "KZ", "ru")] == 6
    # An hour later the cutoff moves past 11:45: the stored May figures are extended.
    monkeypatch.setattr(rollup, "clock", lambda: now.replace(hour=13, minute=30))
    add_people(session, 2, day="2026-05-20T12:40", language="ru", pseudonyms=repeat[:2])
    session.flush()
    extended = stored_count(session)
    assert extended[("2026-05", "KZ", "ru")] == 6  # the two had already called in May
    assert extended == live_count(session)
    until = session.scalar(select(StatsRollup.settled_until).where(
        StatsRollup.kind == "contacts", StatsRollup.month == "2026-05"))
    assert until == datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def test_a_late_change_to_a_settled_month_is_counted(session, callers):
    before = stored_count(session)
    assert before[("2026-03", "TJ", "tg")] == 4
    # An operator's late correction of March records: the stored March figures go stale.
    session.execute(update(Contact).where(Contact.language == "tg").values(language="fa"))
    session.flush()
    after = stored_count(session)
    assert ("2026-03", "TJ", "tg") not in after
    assert after[("2026-03", "TJ", "fa")] == 4
    assert after == live_count(session)
    assert sum(after.values()) == sum(before.values())


def test_deleted_records_leave_the_stored_figures(session, callers):
    stored_count(session)
    deleted = session.execute(select(func.count()).select_from(Contact)
                              .where(Contact.caller_country == "TJ")).scalar_one()
    session.query(Contact).filter(Contact.caller_country == "TJ").delete()
    session.flush()
    assert deleted == 4
    assert ("2026-03", "TJ", "tg") not in stored_count(session)
