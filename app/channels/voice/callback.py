"""The masked call-back: Twilio rings the operator's own phone, then the caller.

1. ``app.cases.callbacks.place`` asks Twilio's REST API (the one outbound interface) to
   ring the operator, showing the hotline's number.
2. ``/operator``: the operator answers and hears a whisper (case, the caller's language,
   press 1); ``/operator/accept`` answers 1 with a <Dial> of the caller, again showing the
   hotline's number. The caller's number is decrypted only into that TwiML, for Twilio.
3. ``/caller-question``: the caller picks up and is asked, in their language, whether it
   is safe to talk; ``/caller-answer`` bridges on 1 and hangs up on anything else.
4. ``/dial-result`` and ``/operator/status`` record how it ended (``callbacks.finish``)
   and tell the operator in one sentence when the caller was not reached.

Every step is signed, finds its attempt by the id in the URL and the call's SID, and
derives its answer from the attempt's state: a retried webhook gets the same answer and
changes nothing twice (no reply is stored, as it may hold the number). An unknown
attempt, or any failure, gets a polite <Hangup/>, never a 500. A ``CallStatus`` or
``DialCallStatus`` Twilio never sends (``app.twilio.fields``) is refused with 400 on the
operator's leg, and hung up on, politely, on the caller's.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from app import errors
from app.cases import callbacks
from app.cases.models import CallbackAttempt, CallbackOutcome, Case
from app.channels.voice.ivr import IvrDep, language_name, language_pages, whisper_language
from app.channels.voice.speech import Speaker
from app.config import Settings
from app.deps import NowDep, SettingsDep, WebhookSessionsDep
from app.organisations.models import Organisation
from app.twilio import fields, paths
from app.twilio.signature import TwilioDep, TwilioRequest
from app.webhooks import lane
from app.webhooks.deps import LaneDep

logger = logging.getLogger(__name__)
PREFIX = paths.CALLBACK
router = APIRouter(prefix=PREFIX, tags=["twilio"], responses=errors.WEBHOOK)
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
CALLER_RING_SECONDS = 30
Outcome = CallbackOutcome


# --- webhooks ---------------------------------------------------------------------


@dataclass
class Leg:
    """One webhook request of one call-back attempt."""

    session: Session
    settings: Settings
    speaker: Speaker
    now: datetime
    tw: TwilioRequest
    attempt: CallbackAttempt

    def url(self, path: str) -> str:
        return callbacks.webhook_url(self.settings, path, self.attempt.id)

    @property
    def case(self) -> Case:
        return self.session.get_one(Case, self.attempt.case_id)

    def operator_language(self) -> str:
        """The organisation's first language Twilio speaks: the call-back prompts are
        text-to-speech only (a case reference cannot be rendered ahead)."""
        organisation = self.session.get_one(Organisation, self.case.organisation_id)
        return whisper_language(organisation.languages)

    def caller_language(self) -> str:
        request = callbacks.request_of(self.session, self.attempt)
        return request.language or self.case.language or language_pages(
            self.case.caller_country)[0][0]

    def finish(self, outcome: CallbackOutcome) -> None:
        callbacks.finish(self.session, self.attempt, outcome, self.now)


def hangup(leg: Leg | None = None, key: str | None = None) -> VoiceResponse:
    response = VoiceResponse()
    if leg is not None and key is not None:
        leg.speaker.say(response, leg.operator_language(), key)
    response.hangup()
    return response


def operator_answers(leg: Leg) -> VoiceResponse:
    """The whisper: which case, the caller's language, press 1."""
    if leg.attempt.outcome not in (Outcome.DIALLING_OPERATOR, Outcome.DIALLING_CALLER):
        return hangup()
    if callbacks.number_to_call(leg.session, leg.settings, leg.attempt) is None:
        callbacks.abandon(leg.attempt, leg.now)
        return hangup(leg, "callback_gone")
    language = leg.operator_language()
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=8, action=leg.url("/operator/accept"))
    reference = " ".join(leg.case.reference.replace("-", ""))  # spelt, letter by letter
    leg.speaker.say(gather, language, "callback_whisper", reference=reference,
                    language=language_name(leg.caller_language(), language))
    response.append(gather)
    response.hangup()  # nothing pressed: the status callback records operator_no_answer
    return response


def operator_accepts(leg: Leg) -> VoiceResponse:
    if leg.tw.optional("Digits") != "1":
        leg.finish(Outcome.OPERATOR_NO_ANSWER)
        return hangup()
    callbacks.advance(leg.session, leg.attempt, Outcome.DIALLING_CALLER)
    if leg.attempt.outcome is not Outcome.DIALLING_CALLER:
        # Ended, or the caller is on the line already: Twilio ran the <Dial>, so this is
        # not a retry that needs it again. (A retry before that gets the same <Dial>.)
        return hangup()
    number = callbacks.number_to_call(leg.session, leg.settings, leg.attempt)
    if number is None:
        callbacks.abandon(leg.attempt, leg.now)
        return hangup(leg, "callback_gone")
    hotline = callbacks.caller_id(leg.settings) or leg.tw.field("From")
    response = VoiceResponse()
    dial = Dial(caller_id=hotline, action=leg.url("/dial-result"), timeout=CALLER_RING_SECONDS)
    dial.number(number, url=leg.url("/caller-question"))
    response.append(dial)
    return response


def caller_question(leg: Leg) -> VoiceResponse:
    """The caller picked up: is it safe to talk? Nothing about who or why."""
    if leg.attempt.outcome is not Outcome.DIALLING_CALLER:
        return hangup()
    leg.attempt.caller_call_sid = leg.tw.field("CallSid")
    language = leg.caller_language()
    response = VoiceResponse()
    answer = leg.url("/caller-answer")
    gather = Gather(num_digits=1, timeout=8, action=answer)
    leg.speaker.speak(gather, language, "callback_question")
    gather.pause(length=1)
    leg.speaker.speak(gather, language, "callback_question")
    response.append(gather)
    response.redirect(answer)  # silence: not safe
    return response


def caller_answers(leg: Leg) -> VoiceResponse:
    if leg.tw.optional("Digits") == "1":
        callbacks.advance(leg.session, leg.attempt, Outcome.CONNECTED)
    elif leg.attempt.outcome is Outcome.DIALLING_CALLER:  # another key, or silence
        leg.finish(Outcome.NOT_SAFE)
    if leg.attempt.outcome is Outcome.CONNECTED:
        return VoiceResponse()  # an empty answer: Twilio bridges the two
    return hangup()


def dial_result(leg: Leg) -> VoiceResponse:
    """The caller's leg ended: record it, and tell the operator if they were not reached."""
    status = leg.tw.optional("DialCallStatus") or "failed"
    outcome = leg.attempt.outcome
    if outcome is Outcome.CONNECTED:
        leg.finish(Outcome.COMPLETED)
    elif outcome is Outcome.DIALLING_CALLER:
        leg.finish(Outcome.NOT_SAFE if status in ("completed", "answered") else
                   Outcome.NO_ANSWER if status in ("no-answer", "busy") else Outcome.FAILED)
    said = {Outcome.NOT_SAFE: "callback_not_safe", Outcome.NO_ANSWER: "callback_unreached",
            Outcome.FAILED: "callback_unreached"}.get(leg.attempt.outcome)
    return hangup(leg, said)


def operator_status(leg: Leg) -> VoiceResponse:
    """The operator's leg ended: whatever is still open ends with it."""
    status = leg.tw.optional("CallStatus")
    if status in ENDED:
        ending = {Outcome.DIALLING_OPERATOR: (Outcome.FAILED if status == "failed"
                                              else Outcome.OPERATOR_NO_ANSWER),
                  Outcome.DIALLING_CALLER: Outcome.FAILED,
                  Outcome.CONNECTED: Outcome.COMPLETED}.get(leg.attempt.outcome)
        if ending is not None:
            leg.finish(ending)
    return VoiceResponse()


Step = Callable[[Leg], VoiceResponse]
# Which leg each step is on: the operator's call (placed by us) or the caller's (the Dial).
OPERATOR_LEG: dict[str, Step] = {"/operator": operator_answers,
                                 "/operator/accept": operator_accepts,
                                 "/dial-result": dial_result, "/operator/status": operator_status}
CALLER_LEG: dict[str, Step] = {"/caller-question": caller_question,
                               "/caller-answer": caller_answers}


def _attempt(session: Session, tw: TwilioRequest, on_caller_leg: bool
             ) -> CallbackAttempt | None:
    """The attempt named in the URL, if this call is one of its legs."""
    text = tw.query.get("a", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if not (text.isdecimal() and len(text) < 10):
        return None
    attempt = callbacks.get_attempt(session, int(text))
    if attempt is None:
        return None
    sid = tw.optional("CallSid")
    if on_caller_leg:
        known = attempt.caller_call_sid
        parent = tw.optional("ParentCallSid")
        if (known is not None and sid != known) or (parent and
                                                    parent != attempt.operator_call_sid):
            return None
        return attempt
    return attempt if sid is not None and sid == attempt.operator_call_sid else None


def run_step(sessions: Callable[[], Session], settings: Settings, speaker: Speaker,
             now: datetime, path: str, tw: TwilioRequest, step: Step, on_caller_leg: bool
             ) -> str:
    if (unknown := fields.unknown_value(tw.form)) is not None:
        # A value Twilio never sends runs no step. The caller's phone gets the same
        # polite hang-up as an unknown attempt (an "application error" in their ear could
        # tell whoever is near them more than silence); the operator's leg and the status
        # callbacks, which no caller hears, are refused.
        if on_caller_leg:
            return str(hangup())
        raise HTTPException(400, unknown)
    try:
        with sessions() as session, session.begin():
            attempt = _attempt(session, tw, on_caller_leg)
            if attempt is None:
                return str(hangup())
            leg = Leg(session, settings, speaker, now, tw, attempt)
            return str(step(leg))
    except HTTPException:
        raise
    except Exception:
        logger.exception("call-back step %s failed; hanging up", path)
        return str(hangup())


def _endpoint(step: Step, on_caller_leg: bool) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, tw: TwilioDep, sessions: WebhookSessionsDep,
                       settings: SettingsDep, ivr: IvrDep, now: NowDep,
                       threads: LaneDep) -> Response:
        body = await lane.run(threads, run_step, sessions, settings, ivr.speaker, now,
                              request.url.path, tw, step, on_caller_leg)
        return Response(body, media_type="application/xml")

    endpoint.__name__ = f"callback_{step.__name__}"
    endpoint.__doc__ = step.__doc__
    return endpoint


for _legs, _on_caller_leg in ((OPERATOR_LEG, False), (CALLER_LEG, True)):
    for _path, _step in _legs.items():
        router.add_api_route(_path, _endpoint(_step, _on_caller_leg), methods=["POST"],
                             response_class=Response)
