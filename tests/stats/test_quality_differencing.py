"""Service quality over overlapping windows and filters, read by an attacker who
subtracts one release from another to count the few calls of the part that differs."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases.models import AttemptResult, Contact, RoutingAttempt
from app.users.models import Role
from tests.stats.people import add_people, organisation_id
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME = "kz-almaty-shelter"
K = 10


@pytest.fixture
def coordinator(client, session):
    return make_person(client, session, "coordinator", Role.COORDINATOR)


def offered(session, n: int, day: str, country: str = "KZ") -> None:
    """n voice calls on ``day`` offered to HOME and answered there after 5 s."""
    names = add_people(session, n, day=day, country=country, case=False)
    home = organisation_id(session, HOME)
    for contact in session.scalars(select(Contact).where(Contact.caller_pseudonym.in_(names))):
        contact.answered_at = contact.started_at + timedelta(seconds=5)
        session.add(RoutingAttempt(contact_id=contact.id, attempt=1, organisation_id=home,
                                   reason="test", started_at=contact.started_at,
                                   answered_at=contact.answered_at,
                                   result=AttemptResult.COMPLETED))


def quality(client, coordinator, window: str, country: str | None = None) -> dict:
    url = f"/api/stats/quality?{window}" + (f"&country={country}" if country else "")
    response = client.get(url, headers=coordinator.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return {"overall": body["overall"],
            **{o["organisation"]: o for o in body["organisations"]}}


def shown(report: dict, subject: str, name: str) -> int | None:
    return report[subject][name]["value"] if subject in report else 0


def test_two_overlapping_windows_do_not_give_a_small_month_away(client, session, coordinator):
    for month in ("2026-01", "2026-02", "2026-03"):
        offered(session, 12, f"{month}-10")
    offered(session, 3, "2026-04-10")  # the few an attacker is after
    session.commit()
    to_march = quality(client, coordinator, "from=2026-01-01&to=2026-03-31")
    to_april = quality(client, coordinator, "from=2026-01-01&to=2026-04-30")
    april = quality(client, coordinator, "from=2026-04-01&to=2026-04-30")
    # Whole months of at least k are shown exactly: the report stays useful.
    assert to_march["overall"]["calls"]["value"] == 36
    assert to_march[HOME]["answer_rate"]["display"] == "100.0%"
    assert april[HOME]["calls"]["display"] == "<10"
    for subject in ("overall", HOME):
        for name in ("calls", "answered"):
            first, second = shown(to_march, subject, name), shown(to_april, subject, name)
            assert first is not None
            # The window over April too withholds what would differ by April's few.
            assert second is None
            assert to_april[subject][name]["withheld"] == "complementary"
        assert to_april[subject]["answer_rate"]["value"] is None


def test_an_attacker_subtracting_every_window_finds_no_small_difference(
        client, session, coordinator):
    sizes = {"2026-01": 15, "2026-02": 4, "2026-03": 0, "2026-04": 11, "2026-05": 2}
    for month, n in sizes.items():
        if n:
            offered(session, n, f"{month}-10")
    session.commit()
    months = list(sizes)
    ends = {"2026-01": 31, "2026-02": 28, "2026-03": 31, "2026-04": 30, "2026-05": 31}
    releases = {(i, j): quality(client, coordinator,
                                f"from={months[i]}-01&to={months[j]}-{ends[months[j]]}")
                for i in range(len(months)) for j in range(i, len(months))}
    for name in ("calls", "answered"):
        known = {span: shown(r, "overall", name) for span, r in releases.items()}
        assert any(known.values())  # some windows are shown
        for (i, j), outer in known.items():
            for (a, b), inner in known.items():
                # A window inside another: their difference counts the months between.
                if outer is not None and inner is not None and i <= a <= b <= j:
                    assert outer == inner or outer - inner >= K, (name, (i, j), (a, b))


def test_country_filters_do_not_give_a_small_country_away(client, session, coordinator):
    # One month: 15 calls from Kazakhstan, 3 from Uzbekistan, 20 from Tajikistan.
    for country, n in (("KZ", 15), ("UZ", 3), ("TJ", 20)):
        offered(session, n, "2026-03-10", country)
    session.commit()
    march = "from=2026-03-01&to=2026-03-31"
    everyone = quality(client, coordinator, march)
    assert everyone[HOME]["calls"]["value"] == 38
    by_country = {c: quality(client, coordinator, march, c) for c in ("KZ", "UZ", "TJ")}
    assert by_country["UZ"][HOME]["calls"]["display"] == "<10"
    for name in ("calls", "answered"):
        withheld = [c for c, report in by_country.items()
                    if shown(report, HOME, name) is None]
        # Everyone's figure less the countries shown would be exactly the one withheld.
        assert len(withheld) != 1, (name, withheld)
        assert all(report[HOME][name]["withheld"] in ("small", "complementary")
                   for c, report in by_country.items() if c in withheld)


def test_a_country_alone_in_its_months_is_shown(client, session, coordinator):
    offered(session, 14, "2026-03-10", "KZ")
    offered(session, 12, "2026-04-10", "KZ")
    session.commit()
    report = quality(client, coordinator, "from=2026-03-01&to=2026-04-30", "KZ")
    assert report[HOME]["calls"]["value"] == 26
    assert report[HOME]["median_seconds_to_answer"]["value"] == 5
