"""Searching the organisation's cases, closed ones too; GET /api/cases without filters is
still the queue."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseStatus, Channel, CloseStatus
from tests.factories import make_case
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"


@pytest.fixture
def operator(client, session):
    return make_person(client, session, "aigerim", organisation=HOME)


@pytest.fixture
def cases(session) -> dict[str, Case]:
    made = {
        "open_sms": make_case(session, HOME, reference="HL-AAA111",
                              created_at=datetime(2026, 11, 20, 10, tzinfo=UTC)),
        "closed_voice": make_case(session, HOME, priority="child", reference="HL-BBB222",
                                  created_at=datetime(2026, 11, 10, 10, tzinfo=UTC)),
        # 23:30 UTC on the 14th is already the 15th in Almaty (UTC+5).
        "late_ru": make_case(session, HOME, priority="urgent", reference="HL-CCC333",
                             created_at=datetime(2026, 11, 14, 23, 30, tzinfo=UTC)),
        "theirs": make_case(session, ABROAD, reference="HL-AAA999",
                            created_at=datetime(2026, 11, 20, 10, tzinfo=UTC)),
    }
    made["open_sms"].channel = Channel.SMS
    made["closed_voice"].channel = Channel.VOICE
    made["closed_voice"].status = CaseStatus.CLOSED
    made["closed_voice"].close_status = CloseStatus.CLOSED
    made["closed_voice"].closed_at = datetime(2026, 11, 11, tzinfo=UTC)
    made["late_ru"].language = "ru"
    session.commit()
    return made


def refs(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["reference"] for c in response.json()]


def test_without_filters_it_is_still_the_open_queue(client, operator, cases):
    queue = client.get("/api/cases", headers=operator.headers)
    assert refs(queue) == ["HL-CCC333", "HL-AAA111"]  # urgent first; the closed one is not


def test_each_filter_finds_the_organisations_cases_closed_ones_too(client, operator, cases):
    def search(**params: str) -> list[str]:
        return refs(client.get("/api/cases", params=params, headers=operator.headers))

    assert search(status="closed") == ["HL-BBB222"]
    assert search(reference="aaa") == ["HL-AAA111"]  # part of it, any case; not theirs
    assert search(reference="HL-BBB222") == ["HL-BBB222"]
    assert search(channel="voice") == ["HL-BBB222"]
    assert search(priority="child") == ["HL-BBB222"]
    assert search(language="ru") == ["HL-CCC333"]
    assert search(**{"from": "2026-11-15", "to": "2026-11-15"}) == ["HL-CCC333"]  # Almaty day
    assert search(**{"from": "2026-11-11"}) == ["HL-AAA111", "HL-CCC333"]  # newest first
    assert search(**{"to": "2026-11-14"}) == ["HL-BBB222"]
    assert search(status="closed", priority="normal") == []
    found = client.get("/api/cases", params={"status": "closed"},
                       headers=operator.headers).json()[0]
    assert (found["close_status"], found["channel"]) == ("Closed", "voice")
    assert found["closed_at"].startswith("2026-11-11")


def test_results_come_a_page_at_a_time(client, operator, cases):
    first = client.get("/api/cases", params={"limit": 2}, headers=operator.headers)
    assert refs(first) == ["HL-AAA111", "HL-CCC333"] and first.headers["X-Next-Offset"] == "2"
    last = client.get("/api/cases", params={"limit": 2, "offset": 2}, headers=operator.headers)
    assert refs(last) == ["HL-BBB222"] and "X-Next-Offset" not in last.headers


@pytest.mark.parametrize("params", [
    {"status": "lost"}, {"from": "yesterday"}, {"to": "2026-13-01"},
    {"from": "2026-11-20", "to": "2026-11-01"}, {"language": "xx"}, {"channel": "fax"},
    {"priority": "high"}, {"reference": "HL-%"}, {"limit": "0"}, {"limit": "1000"},
    {"offset": "-1"}, {"from": "0001-01-01"}, {"to": "9999-12-31"}])
def test_nonsense_is_refused(client, operator, cases, params):
    assert client.get("/api/cases", params=params, headers=operator.headers
                      ).status_code == 422


def test_a_search_is_audited_by_filter_names_not_values(client, session, operator, cases):
    client.get("/api/cases", params={"reference": "AAA111", "status": "queued"},
               headers=operator.headers)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.search")).one()
    assert sorted(event.detail["filters"]) == ["reference", "status"]
    assert event.detail["count"] == 1 and "AAA111" not in str(event.detail)
