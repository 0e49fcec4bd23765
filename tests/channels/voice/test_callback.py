"""The masked call-back, as the operator, the caller and Twilio see it: signed webhooks
through the whole flow, and neither phone number on the other's display or in the
operator's browser."""

from dataclasses import dataclass

import phonenumbers
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import callbacks
from app.cases.models import (
    CallbackAttempt,
    CallbackOutcome,
    CallbackRequest,
    Case,
    CaseEvent,
)
from app.channels.voice.audio import prompt_text
from app.languages import LANGUAGES
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users.models import User
from tests.channels.voice.calls import Caller, expected, spoken
from tests.channels.voice.test_voice_flow import choose
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import make_settings
from tests.console.helpers import Console, form_token, login_post, make_user
from tests.messaging.texting import FakeSender, Placed
from tests.twilio import Twiml, new_call_sid, post, twiml
from tests.users.people import Person, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
HOTLINE = "+77270009999"          # the hotline's own number: public
OPERATOR_PHONE = "+77010000777"   # the operator's private phone
CALLER = "+992900000514"          # the caller's phone (Tajikistan)


@pytest.fixture
def settings(database_url, audio_dir):
    return make_settings(database_url, audio_dir_override=audio_dir, voice_caller_id=HOTLINE)


@pytest.fixture
def outbound(app) -> FakeSender:
    fake = FakeSender()
    app.state.sms_sender = fake
    return fake


@pytest.fixture
def requested(client, settings, session) -> Case:
    """A Tajik caller reached nobody and pressed 1 to be called back."""
    c = Caller(client, settings, CALLER)
    choose(c, "TJ", "tg", "1")
    for status in ("no-answer", "busy", "failed"):
        c.dial_ends(status)
    c.press("1")
    return session.scalars(select(Case)).one()


def slug_of(session, case: Case) -> str:
    return session.get_one(Organisation, case.organisation_id).slug


def on_duty(session, settings, username: str, phone: str | None = OPERATOR_PHONE) -> None:
    user = session.scalars(select(User).where(User.username == username)).one()
    user.duty_phone_encrypted = crypto.encrypt(settings.encryption_key, phone) if phone else None
    session.commit()


@pytest.fixture
def operator(client, session, settings, requested) -> Person:
    person = make_person(client, session, "nilufar", organisation=slug_of(session, requested))
    on_duty(session, settings, "nilufar")
    assert client.post(f"/api/cases/{requested.id}/claim", headers=person.headers
                       ).status_code == 200
    return person


def callback_of(session) -> CallbackRequest:
    row = session.scalars(select(CallbackRequest)).one()
    session.refresh(row)
    return row


def forms_of(number: str) -> list[str]:
    """Every way a page could spell a number."""
    parsed = phonenumbers.parse(number)
    return [number, number.lstrip("+"), str(parsed.national_number),
            *(phonenumbers.format_number(parsed, f) for f in (
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.NATIONAL))]


def assert_holds_no_number(text: str) -> None:
    for number in (CALLER, OPERATOR_PHONE):
        for form in forms_of(number):
            assert form not in text, f"{form} shown"


@dataclass
class Flow:
    """Twilio, placing a call-back: the operator's leg, then the caller's."""

    client: object
    settings: object
    placed: Placed
    caller_sid: str = ""
    last: Twiml | None = None

    def operator(self, url: str, **extra: str) -> Twiml:
        params = {"CallSid": self.placed.sid, "AccountSid": "AC" + "0" * 32,
                  "From": self.placed.from_, "To": self.placed.to, "Direction": "outbound-api",
                  "CallStatus": "in-progress"} | extra
        self.last = twiml(post(self.client, self.settings, url, params))
        return self.last

    def caller(self, url: str, **extra: str) -> Twiml:
        self.caller_sid = self.caller_sid or new_call_sid()
        params = {"CallSid": self.caller_sid, "ParentCallSid": self.placed.sid,
                  "AccountSid": "AC" + "0" * 32, "From": self.placed.from_, "To": CALLER,
                  "Direction": "outbound-dial", "CallStatus": "in-progress"} | extra
        self.last = twiml(post(self.client, self.settings, url, params))
        return self.last

    def answer(self) -> Twiml:
        return self.operator(self.placed.url)

    def press_1(self, whisper: Twiml) -> Twiml:
        return self.operator(whisper.gather_action(), Digits="1")

    def dial_ends(self, dial: Twiml, status: str) -> Twiml:
        return self.operator(dial.find("Dial").get("action"), DialCallStatus=status)

    def status(self, status: str) -> None:
        response = post(self.client, self.settings, self.placed.status_callback,
                        {"CallSid": self.placed.sid, "CallStatus": status,
                         "AccountSid": "AC" + "0" * 32})
        assert response.status_code == 200


def call_back(client, operator: Person, case: Case, callback_id: int):
    return client.post(f"/api/cases/{case.id}/callbacks/{callback_id}/call",
                       headers=operator.headers)


def start(client, settings, session, outbound, operator, case) -> tuple[Flow, Twiml]:
    """The operator asks for the call-back; Twilio rings their phone and they press 1."""
    response = call_back(client, operator, case, callback_of(session).id)
    assert response.status_code == 202, response.text
    flow = Flow(client, settings, outbound.calls[-1])
    return flow, flow.press_1(flow.answer())


def test_the_whole_masked_call_back_then_the_number_is_erased(
        client, settings, session, outbound, requested, operator):
    bodies = []
    listed = client.get(f"/api/cases/{requested.id}/callbacks", headers=operator.headers)
    bodies.append(listed.text)
    [shown] = listed.json()
    assert shown["number_masked"] == "+992 •• ••• •• 14" and "number" not in shown
    assert shown["language"] == "tg" and shown["pending"] and shown["attempts"] == 0

    response = call_back(client, operator, requested, shown["id"])
    bodies.append(response.text)
    assert response.status_code == 202
    [placed] = outbound.calls
    assert placed.to == OPERATOR_PHONE and placed.from_ == HOTLINE  # through the REST API
    flow = Flow(client, settings, placed)

    whisper = flow.answer()
    said = " ".join(spoken(whisper.find("Gather")))
    spelt = " ".join(requested.reference.replace("-", ""))
    assert spelt in said and "таджикский" in said  # the tj organisation hears Russian
    dial = flow.press_1(whisper)
    assert dial.find("Dial").get("callerId") == HOTLINE  # never the operator's phone
    assert dial.dialled_numbers() == [CALLER]
    assert OPERATOR_PHONE not in dial.text

    question = flow.caller(dial.find("Dial/Number").get("url"))
    assert spoken(question.find("Gather"))[0] == expected("tg", "callback_question")
    assert question.verbs() == ["Gather", "Redirect"]
    assert flow.caller(question.gather_action(), Digits="1").verbs() == []  # bridged
    assert callback_of(session).number_encrypted is not None  # until the end of the call

    assert flow.dial_ends(dial, "completed").verbs() == ["Hangup"]
    flow.status("completed")
    row = callback_of(session)
    assert row.number_encrypted is None and row.completed_at is not None
    assert (row.attempts, row.last_outcome) == (1, "completed")

    # Twilio retries: nothing changes twice.
    flow.caller(question.gather_action(), Digits="1")
    flow.dial_ends(dial, "completed")
    flow.status("completed")
    assert flow.press_1(whisper).verbs() == ["Hangup"]  # never dials the caller again
    assert callback_of(session).attempts == 1
    assert session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.kind == "callback.attempt")) == 1
    audits = session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == requested.id, AuditEvent.action.like("case.callback%"))).all()
    assert [(a.action, a.detail.get("outcome")) for a in audits] == [
        ("case.callbacks.view", None), ("case.callback.call", None),
        ("case.callback.outcome", "completed")]
    assert audits[1].detail["callback_id"] == shown["id"]

    after = client.get(f"/api/cases/{requested.id}/callbacks", headers=operator.headers)
    bodies.append(after.text)
    assert after.json()[0]["pending"] is False and after.json()[0]["number_masked"] is None
    for body in bodies:
        assert_holds_no_number(body)


@pytest.mark.parametrize("answer", [{"Digits": "2"}, {}], ids=["presses 2", "silence"])
def test_not_safe_is_recorded_and_the_call_back_stays_pending(
        client, settings, session, outbound, requested, operator, answer):
    flow, dial = start(client, settings, session, outbound, operator, requested)
    question = flow.caller(dial.find("Dial/Number").get("url"))
    url = question.gather_action() if answer else question.find("Redirect").text
    assert flow.caller(url, **answer).verbs() == ["Hangup"]
    told = flow.dial_ends(dial, "completed")
    assert spoken(told.root) == [prompt_text("ru", "callback_not_safe", {})]
    row = callback_of(session)
    assert (row.attempts, row.last_outcome) == (1, "not_safe")
    assert row.number_encrypted is not None and row.completed_at is None
    attempt = session.scalars(select(CallbackAttempt)).one()
    assert attempt.outcome is CallbackOutcome.NOT_SAFE and attempt.ended_at is not None


def test_no_answer_is_counted_and_the_operator_can_try_again(
        client, settings, session, outbound, requested, operator):
    flow, dial = start(client, settings, session, outbound, operator, requested)
    told = flow.dial_ends(dial, "no-answer")
    assert spoken(told.root) == [prompt_text("ru", "callback_unreached", {})]
    flow.status("completed")
    row = callback_of(session)
    assert (row.attempts, row.last_outcome) == (1, "no_answer") and row.number_encrypted
    flow, dial = start(client, settings, session, outbound, operator, requested)
    flow.dial_ends(dial, "busy")
    assert callback_of(session).attempts == 2
    assert len(outbound.calls) == 2 and outbound.calls[0].sid != outbound.calls[1].sid


@pytest.mark.parametrize("how", ["rings out", "answers without pressing 1"])
def test_the_operator_not_answering_is_not_a_try_at_the_caller(
        client, settings, session, outbound, requested, operator, how):
    assert call_back(client, operator, requested, callback_of(session).id).status_code == 202
    flow = Flow(client, settings, outbound.calls[0])
    if how == "rings out":
        flow.status("no-answer")
    else:
        whisper = flow.answer()
        assert whisper.verbs() == ["Gather", "Hangup"]
        flow.status("completed")
    row = callback_of(session)
    assert (row.attempts, row.last_outcome) == (0, "operator_no_answer")
    assert row.number_encrypted is not None


def test_without_a_phone_on_the_duty_profile_the_call_is_refused(
        client, settings, session, outbound, requested, operator):
    on_duty(session, settings, "nilufar", phone=None)
    response = call_back(client, operator, requested, callback_of(session).id)
    assert response.status_code == 409 and "duty profile" in response.json()["detail"]
    assert outbound.calls == []


def test_without_twilio_calls_answer_503(client, session, app, requested, operator):
    app.state.sms_sender = None
    response = call_back(client, operator, requested, callback_of(session).id)
    assert response.status_code == 503
    assert response.json()["detail"] == "outbound calls are not configured"


def test_another_organisations_case_is_not_found(client, session, settings, outbound,
                                                  requested, operator):
    other = make_person(client, session, "elif", organisation="tr-istanbul-hub")
    on_duty(session, settings, "elif")
    response = call_back(client, other, requested, callback_of(session).id)
    assert response.status_code == 404
    assert client.get(f"/api/cases/{requested.id}/callbacks", headers=other.headers
                      ).status_code == 404
    assert outbound.calls == []


def test_unknown_or_foreign_attempts_get_a_polite_hangup(client, settings, session, outbound,
                                                         requested, operator):
    for query in ("?a=999999", "?a=abc", "?a=%C2%B2", ""):
        answer = twiml(post(client, settings, f"/twilio/callback/operator{query}",
                            {"CallSid": new_call_sid(), "CallStatus": "in-progress"}))
        assert answer.verbs() == ["Hangup"]
    flow, _ = start(client, settings, session, outbound, operator, requested)
    stranger = Flow(client, settings, Placed(OPERATOR_PHONE, HOTLINE, flow.placed.url,
                                             flow.placed.status_callback, new_call_sid()))
    assert stranger.answer().verbs() == ["Hangup"]  # a call that is not this attempt's leg
    unsigned = post(client, settings, flow.placed.url, {"CallSid": flow.placed.sid},
                    signature=None)
    assert unsigned.status_code == 403


def test_the_console_lists_the_call_back_and_calls_through_the_operators_phone(
        app, client, settings, session, outbound, requested):
    slug = slug_of(session, requested)
    make_user(session, "farrukh", organisation=slug)
    on_duty(session, settings, "farrukh")
    browser = client
    home = browser.get(login_post(browser, "farrukh").headers["location"])
    console = Console(browser, "farrukh", form_token(home.text))
    page = f"/console/cases/{requested.id}"
    assert console.post(f"{page}/claim").status_code == 303
    html = console.get(page).text
    assert "+992 •• ••• •• 14" in html and "Call back" in html and 'id="callbacks"' in html
    callback_id = callback_of(session).id
    before = dump_all_tables(session)
    for action in ("call", "done"):
        for csrf in (None, "forged-token"):
            refused = console.post(f"{page}/callbacks/{callback_id}/{action}", csrf=csrf)
            assert refused.status_code == 403 and "This form has expired" in refused.text
    assert dump_all_tables(session) == before and outbound.calls == []
    done = console.post(f"{page}/callbacks/{callback_id}/call")
    assert done.status_code == 303 and done.headers["location"].endswith("done=calling")
    assert outbound.calls[0].to == OPERATOR_PHONE and outbound.calls[0].from_ == HOTLINE
    after = console.get(done.headers["location"]).text
    assert "Your phone will ring now" in after and "ringing your phone" in after
    for body in (html, after):
        assert_holds_no_number(body)
    on_duty(session, settings, "farrukh", phone=None)
    refused = console.post(f"{page}/callbacks/{callback_id}/call")
    assert refused.headers["location"].endswith("error=no-duty-phone")
    marked = console.post(f"{page}/callbacks/{callback_id}/done")
    assert marked.headers["location"].endswith("done=callback-done")
    assert callback_of(session).number_encrypted is None
    assert "Call back" not in console.get(page).text


def test_a_callback_request_is_kept_in_the_callers_language(client, settings, session,
                                                            requested):
    assert callback_of(session).language == "tg"


def test_masking_keeps_the_country_code_and_the_last_two_digits():
    assert callbacks.mask("+77010000014") == "+7 ••• ••• •• 14"
    assert callbacks.mask("+79000000014") == "+7 ••• ••• •• 14"
    assert callbacks.mask("+905320000014") == "+90 ••• ••• •• 14"
    assert callbacks.mask("not a number") == "••••"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_callers_question_is_in_every_language_and_names_no_subject(language, audio_dir):
    text = prompt_text(language, "callback_question", {})
    english = prompt_text("en", "callback_question", {})
    assert "traffick" not in english.lower()
    if language != "en":
        assert text != english
    assert "1" in text
