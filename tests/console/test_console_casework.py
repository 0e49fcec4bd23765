"""Operators working cases in the console: queue, claim, screening, notes, SMS, refer, close."""

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.casework import CaseNote, CaseScreening
from app.cases.models import Case, CaseStatus
from app.cases.screening import IloIndicator
from app.messaging.models import Outbox
from app.users.models import Role
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING
from tests.console.helpers import (
    ABROAD,
    BASE_URL,
    HOME,
    case_url,
    login_post,
    sign_in,
    texted_case,
)
from tests.factories import make_case
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")


def flash_of(response) -> str:
    found = re.search(r'<p class="flash (?:done|error)"[^>]*>([^<]*)</p>', response.text)
    return html.unescape(found.group(1).strip()) if found else ""


def actions(session, case: Case) -> list[str]:
    return [e.action for e in session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id))]


def test_the_queue_shows_only_the_operators_organisation(app, session):
    mine = make_case(session, HOME, priority="child", reference="HL-MINE01")
    make_case(session, ABROAD, reference="HL-THEIRS")
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    page = aigerim.get("/console").text
    assert "HL-MINE01" in page and "HL-THEIRS" not in page
    assert f'action="/console/cases/{mine.id}/claim"' in page
    for shown in ("child", "Kazakh", "Immediate danger", "1 hr"):  # priority, language, need
        assert shown in page
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "queue.view")).all()
    assert len(events) == 2  # signing in opened the queue once, then this look
    assert events[-1].detail == {"count": 1} and events[-1].username == "aigerim"


def test_claim_next_takes_the_most_urgent_case(app, session):
    aigerim = sign_in(app, session, "aigerim")
    empty = aigerim.post("/console/claim-next", follow=True)
    assert flash_of(empty) == "The queue is empty."
    make_case(session, HOME, priority="normal")
    child = make_case(session, HOME, priority="child")
    session.commit()
    response = aigerim.post("/console/claim-next")
    assert response.headers["location"] == case_url(child) + "?done=claimed"
    session.expire_all()
    assert session.get(Case, child.id).status is CaseStatus.CLAIMED


def test_a_case_from_claim_to_close_with_every_step_visible(app, client, session, settings):
    case, organisation = texted_case(client, session, settings)
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    assert case.reference in operator.get("/console").text
    page = operator.post(case_url(case, "/claim"), follow=True)
    assert flash_of(page) == "You claimed the case." and "claimed by you" in page.text
    assert "Сәлеметсіз бе, маған көмек керек" in page.text  # the SMS thread

    page = operator.post(case_url(case, "/screening"), {
        "gender": "Feminine", "age_band": "18-20", "citizenship": ["unknown", "KZ"],
        "citizenship_other": "kr", "country_of_exploitation_other": "AE",
        "exploitation_types": ["Unknown", "ForcedLabour"], "control_methods": [],
        "ilo_indicators": ["unknown", "deception", "withholding_of_wages"],
        "referral_made": "none", "interpreter_used": "yes"}, follow=True)
    assert flash_of(page) == "Screening saved."
    stored = session.get(CaseScreening, case.id)
    assert (stored.gender, stored.citizenship, stored.country_of_exploitation) == (
        "Feminine", ["KR", "KZ"], "AE")
    assert stored.exploitation_types == ["ForcedLabour"] and stored.control_methods == []
    assert stored.ilo_indicators == ["deception", "withholding_of_wages"]
    assert (stored.referral_made, stored.interpreter_used) == (None, True)
    assert '<option value="Feminine" selected>' in page.text
    assert 'value="deception" checked' in page.text and 'value="isolation">' in page.text

    page = operator.post(case_url(case, "/notes"), {
        "text": "Called back from +7 701 123 45 67", "shared": "on"}, follow=True)
    assert flash_of(page) == "Note added. removed: 1 phone number"
    # Not "701" alone: a case's random id in the page's links can hold those digits.
    assert "Called back from [phone removed]" in page.text and "701 123" not in page.text
    assert "123 45 67" not in page.text
    assert session.scalars(select(CaseNote)).one().shared is True

    page = operator.post(case_url(case, "/reply"), {"body": "Сәлем, біз осындамыз"},
                         follow=True)
    assert flash_of(page) == "Reply queued; it will be sent by SMS."
    assert "Сәлем, біз осындамыз" in page.text
    assert session.scalars(select(Outbox)).one().status == "pending"

    page = operator.post(case_url(case, "/refer"), {
        "organisation": ABROAD, "service": "Legal", "reason": "She is in Moscow",
        "share_notes": "on"}, follow=True)
    assert flash_of(page) == "Case referred; it is now in the other organisation's queue."
    assert case_url(case) not in page.text  # out of the queue; a status line stays
    assert "referred to Moscow Crisis Shelter for Migrants (demo): pending" in page.text
    assert operator.get(case_url(case)).status_code == 404

    moscow = sign_in(app, session, "olga", organisation=ABROAD)
    assert case.reference in moscow.get("/console").text
    page = moscow.post(case_url(case, "/claim"), follow=True)
    assert "Called back from [phone removed]" in page.text  # the shared note travelled
    page = moscow.post(case_url(case, "/close"), {"status": "ClosedReferred"}, follow=True)
    assert flash_of(page) == "1 reply is still waiting to be sent."  # Almaty's: asked first
    page = moscow.post(case_url(case, "/close"), {"status": "ClosedReferred",
                                                  "pending": "send"}, follow=True)
    assert flash_of(page) == "Case closed." and "<dd>closed</dd>" in page.text
    session.expire_all()
    assert session.get(Case, case.id).close_status == "ClosedReferred"
    assert case.reference not in moscow.get("/console").text

    assert actions(session, case) == [
        "case.claim", "case.view", "case.notes.view", "case.screening.view",
        "case.messages.view",
        "case.screening", *["case.view", "case.notes.view", "case.screening.view",
                            "case.messages.view"],
        "case.note", *["case.view", "case.notes.view", "case.screening.view",
                       "case.messages.view"],
        "case.reply", *["case.view", "case.notes.view", "case.screening.view",
                        "case.messages.view"],
        "case.refer",
        "case.claim", *["case.view", "case.notes.view", "case.screening.view",
                        "case.messages.view"],
        "case.close", *["case.view", "case.notes.view", "case.screening.view",
                        "case.messages.view"]]


def test_the_screening_form_has_every_field_with_unknown_as_the_default(app, session):
    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    page = aigerim.post(case_url(case, "/claim"), follow=True).text
    for name in ("gender", "age_band", "citizenship", "country_of_exploitation",
                 "trafficking_status", "exploitation_types", "control_methods",
                 "recruitment_method", "relationship_to_trafficker", "ilo_indicators",
                 "referral_made", "caller_type", "interpreter_used"):
        assert f'name="{name}"' in page, name
    for indicator in IloIndicator:
        assert f'name="ilo_indicators" value="{indicator}"' in page
    assert 'name="ilo_indicators" value="unknown" checked' in page
    for default in ("NonSpecifiedUnknown", "Unknown", "NotAssessed"):
        assert f'<option value="{default}" selected>' in page
    assert '<option value="" selected>Unknown</option>' in page  # interpreter, country


def test_changes_need_a_claim_and_say_why_they_failed(app, session):
    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    page = aigerim.post(case_url(case, "/notes"), {"text": "x"}, follow=True)
    assert flash_of(page) == "Claim the case first (your claim may have lapsed)."
    assert session.scalars(select(CaseNote)).all() == []
    aigerim.post(case_url(case, "/claim"))
    colleague = sign_in(app, session, "dana")
    page = colleague.post(case_url(case, "/claim"), follow=True)
    assert flash_of(page) == "Another operator has claimed this case."
    assert "claimed by another operator" in page.text
    for form, message in (({"text": "  "}, "Nothing was written: the text is empty."),
                          ({"text": "x" * 5001}, "The text is too long.")):
        assert flash_of(aigerim.post(case_url(case, "/notes"), form, follow=True)) == message
    bad = aigerim.post(case_url(case, "/screening"), {"citizenship_other": "QQ"}, follow=True)
    assert flash_of(bad).startswith("Screening not saved")
    assert session.get(CaseScreening, case.id) is None
    refer = aigerim.post(case_url(case, "/refer"), {"organisation": "nowhere",
                                                    "service": "Legal", "reason": "x"},
                         follow=True)
    assert flash_of(refer) == "Choose an organisation to refer to."
    session.expire_all()
    assert session.get(Case, case.id).status is CaseStatus.CLAIMED  # still here, still ours
    released = aigerim.post(case_url(case, "/release"), follow=True)
    assert flash_of(released) == "You released the case; it is back in the queue."


def test_a_reply_after_stop_is_refused_with_the_reason(app, client, session, settings):
    case, organisation = texted_case(client, session, settings, "+77010000602")
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    operator.post(case_url(case, "/claim"))
    Texter(client, settings, "+77010000602").send("STOP")
    before = dump_all_tables(session)
    # Later, so that the claim would be renewed: a refused form is rolled back whole.
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(minutes=5)
    refused = operator.post(case_url(case, "/reply"), {"body": "Hello"})
    assert refused.headers["location"].endswith("?error=stopped")
    assert dump_all_tables(session) == before
    page = operator.get(refused.headers["location"])
    assert flash_of(page) == "No reply possible: the caller texted STOP."
    assert "texted STOP" in page.text and session.scalars(select(Outbox)).all() == []


def test_admins_see_the_directory_users_and_audit_and_create_users(app, session):
    aigerim = sign_in(app, session, "aigerim")
    aigerim.get("/console")
    admin = sign_in(app, session, "boss", Role.ADMIN)
    page = admin.get("/console/admin").text
    for shown in ("Safe House Almaty (demo)", "kz-almaty-shelter", "queue.view"):
        assert shown in page
    assert ">aigerim<" in admin.get("/console/admin/users").text
    short = admin.post("/console/admin/users", {"username": "dana", "password": "short",
                                                "role": "operator", "organisation": HOME})
    assert short.status_code == 422
    assert "the password must have at least 12 characters" in short.text
    assert 'value="dana"' in short.text  # what was typed stays, but never the password
    orphan = admin.post("/console/admin/users", {"username": "dana", "password": "x" * 12,
                                                 "role": "operator"})
    assert "An operator needs an organisation." in orphan.text
    created = admin.post("/console/admin/users", {"username": "dana", "password": "x" * 12,
                                                  "role": "operator", "organisation": HOME},
                         follow=True)
    assert "User created." in created.text and ">dana<" in created.text
    twice = admin.post("/console/admin/users", {"username": "dana", "password": "x" * 12,
                                                "role": "coordinator"})
    assert twice.status_code == 422 and "user &#39;dana&#39; already exists" in twice.text
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert event.username == "boss" and event.detail["role"] == "operator"
    # The admin knows the password typed: dana chooses her own at the first sign-in.
    dana = TestClient(app, base_url=BASE_URL)
    first = login_post(dana, "dana", "x" * 12)
    queue = dana.get(first.headers["location"], follow_redirects=False)
    assert queue.headers["location"] == "/console/password"
