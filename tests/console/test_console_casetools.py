"""The case tools in the console: assign, search, earlier cases, referral answers, the
case history, and the confirmation before closing with replies still waiting."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseStatus, CloseStatus
from app.messaging.models import Conversation, Outbox, OutboxStatus
from app.organisations.models import Organisation
from tests.console.helpers import ABROAD, HOME, case_url, sign_in, texted_case
from tests.factories import make_case
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")


def flash_of(response) -> str:
    found = re.search(r'<p class="flash (?:done|error)"[^>]*>([^<]*)</p>', response.text)
    return html.unescape(found.group(1).strip()) if found else ""


def section(page, name: str) -> str:
    found = re.search(rf'<section id="{name}">(.*?)</section>', page.text, re.S)
    assert found, f"no section {name}"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def test_assigning_to_a_colleague_from_the_case_page(app, session):
    case = make_case(session, HOME, reference="HL-ASGN01")
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    dana = sign_in(app, session, "dana")
    sign_in(app, session, "olga", organisation=ABROAD)
    page = aigerim.post(case_url(case, "/claim"), follow=True)
    picker = section(page, "assign")
    assert "dana" in picker and "olga" not in picker and "aigerim" not in picker
    page = aigerim.post(case_url(case, "/assign"), {
        "to": "dana", "note": "Speaks only Kazakh; mother on +7 701 765 43 21"}, follow=True)
    assert flash_of(page) == "The case is now with your colleague."
    assert "claimed by another operator" in page.text
    assert "assigned → dana · aigerim" in " ".join(section(page, "history").split())
    mine = dana.get(case_url(case))
    assert "claimed by you" in mine.text
    assert "Speaks only Kazakh; mother on [phone removed]" in mine.text
    refused = dana.post(case_url(case, "/assign"), {"to": "olga"}, follow=True)
    assert flash_of(refused) == "Choose an active colleague of your organisation."


def test_search_page_finds_closed_cases_of_the_organisation_only(app, session):
    closed = make_case(session, HOME, reference="HL-OLD001",
                       created_at=datetime(2026, 10, 2, 9, tzinfo=UTC))
    closed.status, closed.close_status = CaseStatus.CLOSED, CloseStatus.CLOSED
    closed.closed_at = datetime(2026, 10, 3, 9, tzinfo=UTC)
    make_case(session, HOME, reference="HL-NEW001")
    make_case(session, ABROAD, reference="HL-OLD002")
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    assert 'href="/console/search"' in aigerim.get("/console").text  # in the navigation
    empty = aigerim.get("/console/search")
    assert "Choose at least one filter." in empty.text
    found = aigerim.get("/console/search", params={"reference": "old", "status": "closed"})
    assert f'href="{case_url(closed)}"' in found.text
    assert "HL-OLD002" not in found.text and "HL-NEW001" not in found.text
    by_date = aigerim.get("/console/search", params={"from": "2026-10-01",
                                                     "to": "2026-10-31"})
    assert "HL-OLD001" in by_date.text and "HL-NEW001" not in by_date.text
    bad = aigerim.get("/console/search", params={"from": "2026-10-31", "to": "2026-10-01"})
    assert "These filters cannot be searched" in bad.text and "HL-OLD001" not in bad.text
    nonsense = aigerim.get("/console/search", params={"status": "lost"})
    assert nonsense.status_code == 200 and "These filters cannot be searched" in nonsense.text
    searches = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.search")
                               ).all()
    assert [sorted(e.detail["filters"]) for e in searches] == [
        ["reference", "status"], ["created_from", "created_to"]]
    assert "old" not in str([e.detail for e in searches])


def test_the_referral_is_answered_on_the_case_page(app, client, session, settings):
    case, organisation = texted_case(client, session, settings, "+77010000611")
    almaty = sign_in(app, session, "nurlan", organisation=organisation)
    almaty.post(case_url(case, "/claim"))
    almaty.post(case_url(case, "/refer"), {"organisation": ABROAD, "service": "Shelter",
                                           "reason": "Needs a bed in Moscow tonight"})
    moscow = sign_in(app, session, "olga", organisation=ABROAD)
    page = moscow.get(case_url(case))
    shown = " ".join(section(page, "referral").split())
    assert "Needs a bed in Moscow tonight" in shown and "Shelter" in shown
    sender = session.scalars(select(Organisation.name).where(
        Organisation.slug == organisation)).one()
    assert sender in shown and "waiting for your answer" in shown
    assert f'action="{case_url(case, "/referral/accept")}"' in page.text
    page = moscow.post(case_url(case, "/referral/decline"),
                       {"reason": "Full until Monday"}, follow=True)
    assert flash_of(page) == ("Referral declined: the case went back to the organisation "
                              "that referred it.")
    assert moscow.get(case_url(case)).status_code == 404

    queue = almaty.get("/console")
    assert f'href="{case_url(case)}"' in queue.text  # back in the sender's queue
    assert "Moscow Crisis Shelter for Migrants (demo): declined" in section(
        queue, "referrals-sent")
    back = " ".join(section(almaty.get(case_url(case)), "referral").split())
    assert "declined the referral" in back and "Full until Monday" in back
    history = " ".join(section(almaty.get(case_url(case)), "history").split())
    assert "referred → Moscow Crisis Shelter for Migrants (demo) · nurlan" in history
    assert ("referral declined, back with the referring organisation · "
            "Moscow Crisis Shelter for Migrants (demo)") in history  # not Olga's name


def test_an_accepted_referral_stays_and_says_so(app, session):
    case = make_case(session, HOME)
    session.commit()
    almaty = sign_in(app, session, "aigerim")
    almaty.post(case_url(case, "/claim"))
    almaty.post(case_url(case, "/refer"), {"organisation": ABROAD, "service": "Legal",
                                           "reason": "x"})
    moscow = sign_in(app, session, "olga", organisation=ABROAD)
    page = moscow.post(case_url(case, "/referral/accept"), follow=True)
    assert flash_of(page) == "Referral accepted: the case is in your queue."
    assert "accepted" in section(page, "referral")
    again = moscow.post(case_url(case, "/referral/accept"), follow=True)
    assert flash_of(again) == "There is no referral waiting for an answer."
    assert "Moscow Crisis Shelter for Migrants (demo): accepted" in section(
        almaty.get("/console"), "referrals-sent")


def test_closing_with_replies_waiting_asks_first(app, client, session, settings):
    case, organisation = texted_case(client, session, settings, "+77010000612")
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    operator.post(case_url(case, "/claim"))
    for body in ("Сәлем", "Біз осындамыз"):
        operator.post(case_url(case, "/reply"), {"body": body})
    asked = operator.post(case_url(case, "/close"), {"status": "Closed"})
    assert asked.status_code == 200
    assert "2 replies are still waiting to be sent." in asked.text
    assert 'name="pending" value="send"' in asked.text
    assert 'name="pending" value="cancel"' in asked.text
    session.expire_all()
    assert session.get(Case, case.id).status is CaseStatus.CLAIMED  # nothing closed yet
    page = operator.post(case_url(case, "/close"), {"status": "Closed", "pending": "cancel"},
                         follow=True)
    assert flash_of(page) == "Case closed."
    session.expire_all()
    assert {o.status for o in session.scalars(select(Outbox))} == {OutboxStatus.CANCELLED}
    assert session.scalars(select(Conversation)).one().number_encrypted is None
    refused = operator.post(case_url(case, "/reply"), {"body": "one more"}, follow=True)
    assert flash_of(refused) == "The case is closed."


def test_sending_them_and_closing_keeps_the_number_for_the_outbox(app, client, session,
                                                                  settings):
    case, organisation = texted_case(client, session, settings, "+77010000613")
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    operator.post(case_url(case, "/claim"))
    operator.post(case_url(case, "/reply"), {"body": "Сәлем"})
    page = operator.post(case_url(case, "/close"), {"status": "Closed", "pending": "send"},
                         follow=True)
    assert flash_of(page) == "Case closed."
    session.expire_all()
    assert session.scalars(select(Outbox)).one().status is OutboxStatus.PENDING
    assert session.scalars(select(Conversation)).one().number_encrypted is not None


def test_the_case_page_lists_the_callers_earlier_cases_and_its_history(app, client,
                                                                        session, settings):
    number = "+77010000614"
    first, organisation = texted_case(client, session, settings, number)
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    operator.post(case_url(first, "/claim"))
    operator.post(case_url(first, "/close"), {"status": "Closed"})
    texter = Texter(client, settings, number)
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        texter.send(body)
    second = session.scalars(select(Case).where(Case.id != first.id)).one()
    page = operator.get(case_url(second))
    earlier = " ".join(section(page, "earlier-cases").split())
    assert first.reference in earlier and "Closed" in earlier
    assert f'href="{case_url(first)}"' in page.text
    assert number not in page.text and number[1:] not in page.text
    history = " ".join(section(operator.get(case_url(first)), "history").split())
    assert "claimed · nurlan" in history and "closed · nurlan" in history


def test_the_case_tool_forms_need_the_sessions_csrf_token(app, session):
    from tests.channels.voice.test_voice_safety import dump_all_tables

    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    sign_in(app, session, "dana")
    aigerim.post(case_url(case, "/claim"))
    aigerim.post(case_url(case, "/refer"), {"organisation": ABROAD, "service": "Legal",
                                            "reason": "x"})
    moscow = sign_in(app, session, "olga", organisation=ABROAD)
    sign_in(app, session, "ivan", organisation=ABROAD)
    forms = [(moscow, "/assign", {"to": "ivan"}), (moscow, "/referral/accept", {}),
             (moscow, "/referral/decline", {"reason": "no"})]
    before = dump_all_tables(session)
    for user, action, form in forms:
        for csrf in (None, "forged-token"):
            refused = user.post(case_url(case, action), form, csrf=csrf)
            assert refused.status_code == 403 and "This form has expired" in refused.text
    assert dump_all_tables(session) == before
    for user, action, form in forms[1:]:  # accept, then (refused: answered) decline
        done = user.post(case_url(case, action), form)
        assert done.status_code == 303
    assert dump_all_tables(session) != before
