"""The referral handoff: the receiver reads why and for what, accepts or declines; a
decline sends the case back with the reason; the sender keeps a status line."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.casework import CaseScreening, Referral, ReferralStatus
from app.cases.models import Case, CaseEvent, CaseStatus
from app.events import bus
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.factories import make_case
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"
MOSCOW = "Moscow Crisis Shelter for Migrants (demo)"
REASON = "She is in Moscow now, call her sister on +7 916 123 45 67"


@pytest.fixture
def almaty(client, session):
    return make_person(client, session, "aigerim", organisation=HOME)


@pytest.fixture
def moscow(client, session):
    return make_person(client, session, "olga", organisation=ABROAD)


@pytest.fixture
def events(monkeypatch) -> list[bus.QueueEvent]:
    published: list[bus.QueueEvent] = []
    original = bus.publish
    monkeypatch.setattr(bus, "publish",
                        lambda s, event: (published.append(event), original(s, event))[-1])
    return published


def url(case: Case, path: str = "") -> str:
    return f"/api/cases/{case.id}{path}"


def referred(client, session, almaty, screening: dict | None = None) -> Case:
    case = make_case(session, HOME, priority="urgent", reference="HL-REF001")
    session.commit()
    client.post(url(case, "/claim"), headers=almaty.headers)
    if screening is not None:
        client.put(url(case, "/screening"), json=screening, headers=almaty.headers)
    response = client.post(url(case, "/refer"), headers=almaty.headers, json={
        "organisation": ABROAD, "service": "Shelter", "reason": REASON})
    assert response.status_code == 200, response.text
    return case


def sent(client, almaty) -> list[tuple[str, str, str]]:
    lines = client.get("/api/referrals/sent", headers=almaty.headers).json()
    return [(r["reference"], r["to_organisation"], r["status"]) for r in lines]


def test_the_receiver_reads_the_referral_and_accepts_it(client, session, almaty, moscow,
                                                        events):
    case = referred(client, session, almaty)
    assert {(e.kind, e.organisation_id) for e in events} >= {
        (bus.EventKind.CASE_REFERRED, case.organisation_id)}
    assert len({e.organisation_id for e in events
                if e.kind is bus.EventKind.CASE_REFERRED}) == 2  # both queues hear of it
    detail = client.get(url(case), headers=moscow.headers).json()
    referral = detail["referral"]
    assert referral["reason"] == "She is in Moscow now, call her sister on [phone removed]"
    assert (referral["service"], referral["status"], referral["incoming"]) == (
        "Shelter", "pending", True)
    assert referral["from_organisation"] == "Safe House Almaty (demo)"
    assert referral["created_at"].startswith("2026-11-23")
    assert "916 123" not in dump_all_tables(session) and "Moscow now" not in dump_all_tables(
        session)  # scrubbed and encrypted
    assert session.get(CaseScreening, case.id).referral_made == "Shelter"
    assert sent(client, almaty) == [("HL-REF001", MOSCOW, "pending")]

    accepted = client.post(url(case, "/referral/accept"), headers=moscow.headers)
    assert accepted.status_code == 200 and accepted.json()["referral_status"] == "accepted"
    assert accepted.json()["status"] == "queued"  # theirs, waiting in their queue
    assert [c["reference"] for c in client.get("/api/cases", headers=moscow.headers).json()
            ] == ["HL-REF001"]
    assert session.get(CaseScreening, case.id).referral_made == "Shelter"  # kept
    assert sent(client, almaty) == [("HL-REF001", MOSCOW, "accepted")]
    assert client.post(url(case, "/referral/accept"), headers=moscow.headers
                       ).status_code == 409  # answered already
    assert client.get(url(case), headers=almaty.headers).status_code == 404

    client.post(url(case, "/claim"), headers=moscow.headers)
    client.post(url(case, "/close"), json={"status": "ClosedReferred"}, headers=moscow.headers)
    assert sent(client, almaty) == [("HL-REF001", MOSCOW, "closed")]
    kinds = [e.kind for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))]
    assert kinds == ["claimed", "referred", "referral_accepted", "claimed", "closed"]
    assert {"case.referral.accept", "referrals.sent.view"} <= set(session.scalars(
        select(AuditEvent.action)).all())


def test_a_decline_returns_the_case_with_the_reason(client, session, almaty, moscow, events):
    case = referred(client, session, almaty, screening={"referral_made": "Legal"})
    assert session.get(CaseScreening, case.id).referral_made == "Shelter"
    client.post(url(case, "/claim"), headers=moscow.headers)  # reading it first
    declined = client.post(url(case, "/referral/decline"), headers=moscow.headers,
                           json={"reason": "No beds this week; ask +7 916 000 11 22"})
    assert declined.status_code == 200, declined.text
    assert declined.json()["reason_removed"] == {"phone": 1}
    assert client.get(url(case), headers=moscow.headers).status_code == 404  # gone back
    session.expire_all()
    stored = session.get(Case, case.id)
    assert stored.status is CaseStatus.QUEUED and stored.claimed_by_id is None
    assert session.get(CaseScreening, case.id).referral_made == "Legal"  # as it was
    queue = client.get("/api/cases", headers=almaty.headers).json()
    assert [c["reference"] for c in queue] == ["HL-REF001"]
    referral = client.get(url(case), headers=almaty.headers).json()["referral"]
    assert (referral["status"], referral["incoming"]) == ("declined", False)
    assert referral["decline_reason"] == "No beds this week; ask [phone removed]"
    assert referral["to_organisation"] == MOSCOW
    assert sent(client, almaty) == [("HL-REF001", MOSCOW, "declined")]
    assert "No beds" not in dump_all_tables(session)
    row = session.scalars(select(Referral)).one()
    assert row.status is ReferralStatus.DECLINED and row.responded_at is not None
    declined_events = [e for e in events if e.kind is bus.EventKind.CASE_REFERRED]
    assert len(declined_events) == 4  # refer and decline, each to both organisations
    assert session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "case.referral.decline")).one()


def test_a_referral_on_a_case_never_screened_creates_the_screening_and_clears_it(
        client, session, almaty, moscow):
    case = referred(client, session, almaty)
    assert session.get(CaseScreening, case.id).gender == "NonSpecifiedUnknown"
    client.post(url(case, "/referral/decline"), json={"reason": "not for us"},
                headers=moscow.headers)
    session.expire_all()
    assert session.get(CaseScreening, case.id).referral_made == "Unknown"


def test_only_the_receiver_answers_and_a_colleagues_claim_is_respected(client, session,
                                                                       almaty, moscow):
    case = referred(client, session, almaty)
    assert client.post(url(case, "/referral/accept"), headers=almaty.headers
                       ).status_code == 404  # no longer Almaty's case
    colleague = make_person(client, session, "ivan", organisation=ABROAD)
    client.post(url(case, "/claim"), headers=colleague.headers)
    refused = client.post(url(case, "/referral/decline"), json={"reason": "x"},
                          headers=moscow.headers)
    assert refused.status_code == 409 and "claimed by another operator" in refused.text
    assert client.post(url(case, "/referral/decline"), json={"reason": ""},
                       headers=colleague.headers).status_code == 422
    own = make_case(session, ABROAD)
    session.commit()
    assert client.post(url(own, "/referral/accept"), headers=moscow.headers
                       ).status_code == 409  # nothing referred


def test_the_sender_line_holds_no_notes_or_content(client, session, almaty, moscow):
    case = referred(client, session, almaty)
    client.post(url(case, "/claim"), headers=moscow.headers)
    client.post(url(case, "/notes"), json={"text": "private to Moscow"},
                headers=moscow.headers)
    lines = client.get("/api/referrals/sent", headers=almaty.headers).json()
    assert set(lines[0]) == {"reference", "to_organisation", "status", "referred_at",
                             "responded_at"}
    assert "Moscow now" not in str(lines) and "private" not in str(lines)
    assert client.get("/api/referrals/sent", headers=moscow.headers).json() == []
