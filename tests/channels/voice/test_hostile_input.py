"""Hostile but real input on the voice line: values Twilio never sends in its enumerated
fields, caller numbers that are not plain numbers, and a whisper for a call that is gone."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.cases.models import AttemptResult, CallbackRequest, Contact, RoutingAttempt
from app.channels.voice.ivr import whisper_language
from app.privacy import crypto
from tests.channels.voice.calls import Caller, expected, spoken
from tests.twilio import new_call_sid, post, twiml

pytestmark = pytest.mark.usefixtures("demo_directory")

NUMBER = "+77010000031"  # fictitious


def _lang(url: str) -> str:
    return parse_qs(urlsplit(url).query)["lang"][0]


def _nobody_answers(c: Caller) -> str:
    """From the first ring to the callback offer; the language of the call."""
    c.call()
    c.press("1")
    language = _lang(c.last.gather_action())
    c.press("1")
    while c.last.find("Dial") is not None:
        c.dial_ends("no-answer")
    assert "/callback" in c.last.gather_action()
    return language


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/twilio/voice/status", "CallStatus", "ringingDigits3"),
    ("/twilio/voice/status", "AnsweredBy", "robot"),
    ("/twilio/sms/status", "MessageStatus", "deliveredErrorCode30003"),
    ("/twilio/sms/status", "SmsStatus", "Delivered!"),
])
def test_a_status_twilio_never_sends_is_refused_with_400(client, settings, session, path,
                                                         field, value):
    c = Caller(client, settings, NUMBER)
    c.call()
    usual = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered",
             "CallStatus": "completed", "CallDuration": "30"}
    response = post(client, settings, path, c.params(**usual) | {field: value})
    assert response.status_code == 400
    assert response.json()["detail"] == f"{field}={value!r} is not a value Twilio sends"
    assert session.scalars(select(Contact)).one().ended_at is None  # nothing recorded
    c.status("completed", 30)  # Twilio's own values go through
    session.expire_all()
    assert session.scalars(select(Contact)).one().duration_seconds == 30


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress", "completed", "busy",
                                    "failed", "no-answer", "canceled"])
def test_every_call_status_twilio_documents_is_taken(client, settings, status):
    c = Caller(client, settings, NUMBER)
    c.call()
    assert post(client, settings, "/twilio/voice/status",
                c.params(CallStatus=status, CallDuration="5")).status_code == 200


def test_a_caller_step_with_an_unknown_value_runs_nothing_and_still_answers(
        client, settings, session):
    """A caller is never answered with 400 (Twilio would say "an application error has
    occurred" and hang up): they hear the fallback to the hub, and the step does nothing."""
    c = Caller(client, settings, NUMBER)
    c.call()
    action = c.last.gather_action()
    odd = twiml(post(client, settings, action, c.params(Digits="1", CallStatus="in-progressX")))
    assert odd.dialled_numbers(), odd.text  # the regional hub
    assert expected("ru", "error_fallback") in spoken(odd.root)
    assert session.scalars(select(Contact)).one().language is None
    c.press("1")
    dial = c.press("1")
    action = dial.find("Dial").get("action")
    after = twiml(post(client, settings, action, c.params(DialCallStatus="no-answerDialCallSid")))
    assert expected(_lang(action), "error_fallback") in spoken(after.root)
    attempt = session.scalars(select(RoutingAttempt)).one()
    assert attempt.result is AttemptResult.DIALLING and attempt.ended_at is None
    assert c.dial_ends("answered").find("Dial") is not None  # Twilio's value: next responder


def test_a_whisper_for_an_unknown_call_hangs_up_the_responder_politely(app, client, settings):
    responder = app.state.directory.get().by_slug("kz-almaty-hub")
    language = whisper_language(responder.languages, app.state.ivr.speaker)
    leg = {"CallSid": new_call_sid(), "ParentCallSid": new_call_sid(), "From": "+77270009999",
           "To": responder.duty_numbers[0], "CallStatus": "in-progress"}
    for url in (f"/twilio/voice/whisper?c={uuid.uuid4()}&o=kz-almaty-hub&attempt=0",
                f"/twilio/voice/whisper/accept?c={uuid.uuid4()}&attempt=0"):
        answer = twiml(post(client, settings, url, leg | {"Digits": "1"}))
        assert answer.find("Dial") is None, answer.text  # no hub rung on their phone
        assert answer.verbs()[-1] == "Hangup"
    gone = twiml(post(client, settings,
                      f"/twilio/voice/whisper?c={uuid.uuid4()}&o=kz-almaty-hub&attempt=0", leg))
    assert spoken(gone.root) == [expected(language, "whisper_gone")]


def test_a_whisper_for_an_attempt_never_dialled_hangs_up_too(client, settings, session):
    c = Caller(client, settings, NUMBER)
    c.call()
    c.press("1")
    dial = c.press("1")
    url = dial.find("Dial/Number").get("url").replace("attempt=0", "attempt=7")
    answer = twiml(post(client, settings, url, {"CallSid": new_call_sid(),
                                                "ParentCallSid": c.sid,
                                                "CallStatus": "in-progress"}))
    assert answer.find("Dial") is None and answer.verbs()[-1] == "Hangup"


@pytest.mark.parametrize("number", ["+7701🆘", "+77010000031\u202e", "+\u202e77010000031",
                                    "anonymous"])
def test_a_number_that_is_not_one_is_never_kept_and_the_caller_is_told(
        client, settings, session, number):
    c = Caller(client, settings, number)
    language = _nobody_answers(c)
    goodbye = c.press("1")
    heard = spoken(goodbye.root)
    assert heard[0] == expected(language, "callback_impossible"), heard
    assert goodbye.verbs()[-1] == "Hangup"
    assert session.scalars(select(CallbackRequest)).all() == []


def test_a_callback_number_is_kept_as_e164(client, settings, session):
    c = Caller(client, settings, "+7 (701) 000-00-31")
    language = _nobody_answers(c)
    assert spoken(c.press("1").root)[0] == expected(language, "callback_confirmed")
    request = session.scalars(select(CallbackRequest)).one()
    assert crypto.decrypt(settings.encryption_key, request.number_encrypted) == NUMBER
