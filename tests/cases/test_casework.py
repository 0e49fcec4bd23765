"""Working a claimed case: notes, screening, referral across borders, SMS replies, closing."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.casework import CaseNote, CaseScreening
from app.cases.models import Case, CaseStatus
from app.messaging.models import Conversation, Outbox
from app.organisations.models import Organisation
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.factories import make_case
from tests.messaging.texting import Texter
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, ABROAD = "kz-almaty-shelter", "ru-moscow-shelter"
SCREENING = {"gender": "Feminine", "age_band": "18-20", "citizenship": ["KZ"],
             "country_of_exploitation": "RU", "trafficking_status": "PossibleVictimOfTrafficking",
             "exploitation_types": ["ForcedLabour"], "control_methods": ["WithholdsDocuments"],
             "ilo_indicators": ["retention_of_identity_documents"]}


@pytest.fixture
def operator(client, session):
    return make_person(client, session, "aigerim", organisation=HOME)


@pytest.fixture
def claimed(client, session, operator) -> Case:
    case = make_case(session, HOME, priority="urgent")
    session.commit()
    assert client.post(f"/api/cases/{case.id}/claim", headers=operator.headers
                       ).status_code == 200
    return case


def url(case: Case, path: str = "") -> str:
    return f"/api/cases/{case.id}{path}"


def test_notes_are_scrubbed_and_the_operator_sees_what_was_removed(client, session, operator,
                                                                   claimed):
    text = "Позвонила с +7 701 123 45 67, паспорт N12345678, почта aigul@example.org"
    response = client.post(url(claimed, "/notes"), json={"text": text},
                           headers=operator.headers)
    assert response.status_code == 201
    note = response.json()
    assert note["removed"] == {"phone": 1, "document": 1, "email": 1}
    assert "701" not in note["text"] and "N12345678" not in note["text"]
    assert note["text"].startswith("Позвонила с ")
    dumped = dump_all_tables(session)
    assert "Позвонила" not in dumped  # stored encrypted too
    listed = client.get(url(claimed, "/notes"), headers=operator.headers).json()
    assert [n["text"] for n in listed] == [note["text"]]


def test_changing_a_case_needs_a_claim(client, session, operator):
    case = make_case(session, HOME)
    session.commit()
    for path, body in (("/notes", {"text": "x"}), ("/refer", {
            "organisation": ABROAD, "service": "Shelter", "reason": "x"}), ("/close", {})):
        assert client.post(url(case, path), json=body, headers=operator.headers
                           ).status_code == 409
    assert client.put(url(case, "/screening"), json=SCREENING, headers=operator.headers
                      ).status_code == 409


def test_screening_is_validated_stored_and_audited_by_field(client, session, operator,
                                                            claimed):
    assert client.get(url(claimed, "/screening"), headers=operator.headers
                      ).json()["gender"] == "NonSpecifiedUnknown"  # unknown until asked
    saved = client.put(url(claimed, "/screening"), json=SCREENING, headers=operator.headers)
    assert saved.status_code == 200
    row = session.get(CaseScreening, claimed.id)
    assert (row.gender, row.citizenship, row.exploitation_types) == (
        "Feminine", ["KZ"], ["ForcedLabour"])
    assert client.get(url(claimed, "/screening"), headers=operator.headers).json() == (
        saved.json())
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.screening")
                            ).one()
    assert "gender" in event.detail["fields"] and "Feminine" not in str(event.detail)
    bad = client.put(url(claimed, "/screening"), json=SCREENING | {"citizenship": ["QQ"]},
                     headers=operator.headers)
    assert bad.status_code == 422 and "citizenship" in bad.text


def test_referral_abroad_moves_the_case_without_unshared_notes(client, session, operator,
                                                               claimed):
    client.post(url(claimed, "/notes"), json={"text": "private to Almaty"},
                headers=operator.headers)
    client.put(url(claimed, "/screening"), json=SCREENING, headers=operator.headers)
    referred = client.post(url(claimed, "/refer"), json={
        "organisation": ABROAD, "service": "Shelter", "reason": "she is in Moscow"},
        headers=operator.headers)
    assert referred.status_code == 200 and referred.json()["status"] == "referred"
    assert client.get(url(claimed), headers=operator.headers).status_code == 404  # gone
    moscow = make_person(client, session, "olga", organisation=ABROAD)
    queue = client.get("/api/cases", headers=moscow.headers).json()
    assert [c["id"] for c in queue] == [str(claimed.id)]
    client.post(url(claimed, "/claim"), headers=moscow.headers)
    assert client.get(url(claimed, "/screening"), headers=moscow.headers
                      ).json()["country_of_exploitation"] == "RU"
    assert client.get(url(claimed, "/notes"), headers=moscow.headers).json() == []


def test_shared_notes_travel_with_the_referral(client, session, operator, claimed):
    client.post(url(claimed, "/notes"), json={"text": "needs a Kazakh speaker"},
                headers=operator.headers)
    client.post(url(claimed, "/refer"), json={
        "organisation": ABROAD, "service": "Legal", "reason": "x", "share_notes": True},
        headers=operator.headers)
    moscow = make_person(client, session, "olga", organisation=ABROAD)
    notes = client.get(url(claimed, "/notes"), headers=moscow.headers).json()
    assert [(n["text"], n["mine"]) for n in notes] == [("needs a Kazakh speaker", False)]


def test_referral_to_an_unknown_organisation_is_a_clear_error(client, operator, claimed):
    response = client.post(url(claimed, "/refer"), json={
        "organisation": "nowhere", "service": "Shelter", "reason": "x"},
        headers=operator.headers)
    assert response.status_code == 422 and "nowhere" in response.text


def texted_case(client, session, settings, number: str) -> tuple[Texter, Case, object]:
    """A person texted in; an operator of the organisation it was routed to."""
    texter = Texter(client, settings, number)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        texter.send(body)
    case = session.scalars(select(Case)).one()
    slug = session.get(Organisation, case.organisation_id).slug
    return texter, case, make_person(client, session, "nurlan", organisation=slug)


def test_sms_thread_and_reply_through_the_outbox(client, session, settings):
    texter, case, operator = texted_case(client, session, settings, "+77010000501")
    client.post(url(case, "/claim"), headers=operator.headers)
    thread = client.get(url(case, "/messages"), headers=operator.headers).json()
    assert thread[0]["body"] == "Сәлеметсіз бе, маған көмек керек"
    reply = client.post(url(case, "/messages"), json={"body": "Сәлем, біз осындамыз"},
                        headers=operator.headers)
    assert reply.status_code == 202
    assert session.scalars(select(Outbox)).one().status == "pending"
    texter.send("STOP")
    refused = client.post(url(case, "/messages"), json={"body": "?"}, headers=operator.headers)
    assert refused.status_code == 409 and "STOP" in refused.json()["detail"]


def test_closing_forgets_the_number_to_reply_to(client, session, settings):
    _, case, operator = texted_case(client, session, settings, "+77010000502")
    client.post(url(case, "/claim"), headers=operator.headers)
    closed = client.post(url(case, "/close"), json={"status": "Closed"},
                         headers=operator.headers)
    assert closed.status_code == 200 and closed.json()["status"] == CaseStatus.CLOSED
    session.expire_all()
    assert session.scalars(select(Conversation)).one().number_encrypted is None
    assert client.get("/api/cases", headers=operator.headers).json() == []


def test_every_view_and_change_is_in_the_audit_log(client, session, operator, claimed):
    client.get(url(claimed, "/notes"), headers=operator.headers)
    client.post(url(claimed, "/notes"), json={"text": "x"}, headers=operator.headers)
    client.put(url(claimed, "/screening"), json=SCREENING, headers=operator.headers)
    client.get(url(claimed, "/messages"), headers=operator.headers)
    client.post(url(claimed, "/close"), json={}, headers=operator.headers)
    actions = [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == claimed.id).order_by(AuditEvent.id))]
    assert actions == ["case.claim", "case.notes.view", "case.note", "case.screening",
                       "case.messages.view", "case.close"]
    assert session.scalars(select(CaseNote)).one().author_id is not None


def test_a_callback_is_listed_masked_then_done_and_forgotten(client, session, operator,
                                                             claimed, settings):
    from datetime import UTC, datetime, timedelta

    from app.cases.models import CallbackRequest, Contact
    from app.privacy import crypto

    contact = Contact(channel="voice", twilio_sid="CA" + "1" * 32, caller_pseudonym="p" * 64,
                      case_id=claimed.id, started_at=datetime(2026, 11, 23, 7, tzinfo=UTC))
    session.add(contact)
    session.flush()
    number = "+77010000000"
    session.add(CallbackRequest(contact_id=contact.id, case_id=claimed.id, language="kk",
                                number_encrypted=crypto.encrypt(settings.encryption_key, number),
                                created_at=contact.started_at,
                                purge_after=contact.started_at + timedelta(days=14)))
    session.commit()
    response = client.get(url(claimed, "/callbacks"), headers=operator.headers)
    listed = response.json()
    assert [c["number_masked"] for c in listed] == ["+7 ••• ••• •• 00"]
    assert number not in response.text and "7010000000" not in response.text
    assert "number" not in listed[0] and listed[0]["language"] == "kk"
    assert listed[0]["pending"] and listed[0]["attempts"] == 0
    done = client.post(url(claimed, f"/callbacks/{listed[0]['id']}/done"),
                       headers=operator.headers)
    assert done.status_code == 200 and done.json()["completed_at"]
    stored = session.scalars(select(CallbackRequest)).one()
    session.refresh(stored)
    assert stored.number_encrypted is None and stored.completed_at is not None
    after = client.get(url(claimed, "/callbacks"), headers=operator.headers).json()[0]
    assert after["number_masked"] is None and after["pending"] is False
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_id == claimed.id)).all()
    assert {"case.callbacks.view", "case.callback.done"} <= set(actions)
    other = make_case(session, HOME)
    session.commit()
    # Reading needs no claim (nothing but the masked number is shown); marking done does.
    assert client.get(url(other, "/callbacks"), headers=operator.headers).status_code == 200
    assert client.post(url(other, f"/callbacks/{listed[0]['id']}/done"),
                       headers=operator.headers).status_code == 409
