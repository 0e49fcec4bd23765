"""Stored monthly figures give the same counts as counting live, and go stale on changes.

The live count is forced by a country filter naming every country (filters bypass the
stored figures), so both paths count the same people by two different routes.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from app.cases.models import CallbackRequest, Case, Contact
from app.stats import quality, rollup, sources
from app.stats.dimensions import COUNTRIES, Period, Source
from app.stats.models import StatsRollup
from tests.stats.people import add_people, organisation_id

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


def ask_callbacks(session, day: str, n: int, organisation: str = "kz-almaty-shelter") -> None:
    """n call-backs asked for on ``day`` by people with a case, none completed yet."""
    add_people(session, n, day=day, organisation=organisation)
    asked = datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)
    for contact in session.scalars(select(Contact).where(
            Contact.started_at >= asked.replace(hour=0), Contact.started_at < asked)):
        session.add(CallbackRequest(contact_id=contact.id, case_id=contact.case_id,
                                    created_at=asked, purge_after=asked))
    session.flush()


def callbacks_of(session, organisation: str) -> tuple[int, int]:
    """Call-backs asked for and completed in March for the organisation's cases."""
    org = organisation_id(session, organisation)
    return quality._callbacks(session, WINDOW).get(("2026-03", org, "KZ"), (0, 0))


def test_stored_call_backs_follow_a_late_completion_and_a_referral(session):
    ask_callbacks(session, "2026-03-05", 3)
    ask_callbacks(session, "2026-04-07", 2)
    assert callbacks_of(session, "kz-almaty-shelter") == (3, 0)
    assert quality._callbacks(session, WINDOW) == quality._count_callbacks(session, WINDOW)
    assert session.scalar(select(func.count()).select_from(StatsRollup)
                          .where(StatsRollup.kind == "callbacks")) == 3  # March to May
    # Completed in May, the call-back still belongs to March, whose stored figures go stale.
    first = session.scalars(select(CallbackRequest).order_by(CallbackRequest.created_at)).first()
    first.completed_at = datetime(2026, 5, 2, tzinfo=UTC)
    session.flush()
    assert callbacks_of(session, "kz-almaty-shelter") == (3, 1)
    # Its case referred to another organisation: March's call-back moves with it.
    session.execute(update(Case).where(Case.id == first.case_id)
                    .values(organisation_id=organisation_id(session, "kz-astana-legal")))
    session.flush()
    assert callbacks_of(session, "kz-almaty-shelter") == (2, 0)
    assert callbacks_of(session, "kz-astana-legal") == (1, 1)
    assert quality._callbacks(session, WINDOW) == quality._count_callbacks(session, WINDOW)
