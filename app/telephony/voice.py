"""Twilio voice webhooks: signed, idempotent per step, and never failing the caller.

Each step runs in one transaction. A retried step (same CallSid, path, query and
digits) returns the reply stored the first time and changes nothing. Any exception
becomes TwiML that rings the regional hub: a caller never hears Twilio's
"an application error has occurred".
"""

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from app import pipeline
from app.cases import service as cases
from app.cases.models import Channel, Contact, ContactOutcome
from app.config import Settings
from app.languages import LANGUAGES
from app.organisations.models import Organisation
from app.routing.engine import Query, Tier, route
from app.routing.snapshot import Directory
from app.telephony.ivr import MORE_DIGIT, NEED_KEYS, SILENT_NEED, Ivr, language_pages
from app.telephony.models import WebhookReply
from app.telephony.signature import TwilioDep, TwilioRequest

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/voice", tags=["twilio"])
STEP_FIELDS = ("CallSid", "Digits", "DialCallStatus", "CallStatus")
Step = Callable[[Session, "Call"], VoiceResponse]


class Call:
    """One webhook request of one call: what the step functions need."""

    def __init__(self, request: Request, tw: TwilioRequest) -> None:
        self.tw = tw
        self.settings: Settings = request.app.state.settings
        self.ivr: Ivr = request.app.state.ivr
        self.directory: Directory = request.app.state.directory.get()
        self.now: datetime = request.app.state.clock()
        self.sid = tw.field("CallSid")
        self.digits = tw.optional("Digits")
        self.attempt = _int(tw.query.get("t"), 1)

    @property
    def language(self) -> str:
        lang = self.tw.query.get("lang", "")
        return lang if lang in LANGUAGES else "ru"

    def contact(self, session: Session) -> Contact:
        contact = cases.get_contact(session, self.sid)
        if contact is None:  # a step without the first webhook: record it now
            contact = pipeline.receive(session, self.settings, sid=self.sid,
                                       channel=Channel.VOICE, from_=self.tw.field("From"),
                                       from_country=self.tw.optional("FromCountry"))
        return contact


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


def _xml(body: str) -> Response:
    return Response(body, media_type="application/xml")


def run_step(request: Request, tw: TwilioRequest, step: Step) -> Response:
    call = None
    try:
        call = Call(request, tw)
        key = _reply_key(request, tw)
        with request.app.state.sessionmaker() as session, session.begin():
            stored = session.get(WebhookReply, key)
            if stored is not None:
                return _xml(stored.body)
            body = str(step(session, call))
            session.add(WebhookReply(key=key, body=body))
        return _xml(body)
    except HTTPException:
        raise  # malformed, not a caller in trouble: Twilio always sends these fields
    except Exception:
        logger.exception("voice step %s failed; ringing the regional hub", request.url.path)
        return _xml(str(_fallback(request, call)))


def _reply_key(request: Request, tw: TwilioRequest) -> str:
    parts = [request.url.path, request.url.query, *(tw.form.get(f, "") for f in STEP_FIELDS)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fallback(request: Request, call: Call | None) -> VoiceResponse:
    ivr: Ivr = request.app.state.ivr
    language = call.language if call else "ru"
    now: datetime = request.app.state.clock()
    try:
        candidates = route(request.app.state.directory.current, Query(language, None, None, now))
        hub = next((c for c in candidates if c.is_open and c.tier is not Tier.LOCAL
                    and c.responder.duty_numbers), None)
        return ivr.fallback(language, hub, now)
    except Exception:
        logger.exception("even the fallback failed")
        response = VoiceResponse()
        response.say("112", language="ru-RU")
        return response


# --- steps ------------------------------------------------------------------------


def incoming(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    return call.ivr.language_menu(contact.caller_country, page=0, attempt=1, welcome=True)


def choose_language(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    pages = language_pages(contact.caller_country)
    page = min(_int(call.tw.query.get("page"), 0), len(pages) - 1)
    languages, digits = pages[page], call.digits
    if digits is None and call.attempt >= 2:
        digits = "1"  # silence twice: the first (most likely) language
    if digits is None or digits == "*":
        return call.ivr.language_menu(contact.caller_country, page, call.attempt + 1)
    if digits == MORE_DIGIT and page + 1 < len(pages):
        return call.ivr.language_menu(contact.caller_country, page + 1, 1)
    index = _int(digits, 0) - 1
    if not 0 <= index < len(languages):
        return call.ivr.language_menu(contact.caller_country, page, call.attempt)
    contact.language = languages[index]
    return call.ivr.need_menu(contact.language, attempt=1)


def choose_need(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    language, digits = call.language, call.digits
    if digits is None and call.attempt >= 2:
        digits = SILENT_NEED
    if digits is None or digits == "*":
        return call.ivr.need_menu(language, call.attempt + 1)
    if digits not in NEED_KEYS:
        return call.ivr.need_menu(language, call.attempt, invalid=True)
    contact.language = language
    contact.need, contact.child = NEED_KEYS[digits]
    if contact.need.value == "information":
        contact.outcome = ContactOutcome.INFORMATION_GIVEN
        return call.ivr.information(language, contact.caller_country, attempt=1)
    return connect(session, call, contact, attempt=0)


def information(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    if call.digits == "1":
        return connect(session, call, contact, attempt=0)
    if call.digits is None or call.attempt >= 3:  # silence after listening: done
        return call.ivr.goodbye(call.language, contact.caller_country)
    return call.ivr.information(call.language, contact.caller_country, call.attempt + 1)


def connect(session: Session, call: Call, contact: Contact, attempt: int) -> VoiceResponse:
    candidates = pipeline.dialable(call.directory, contact, call.now,
                                   call.settings.max_dial_attempts)
    if attempt >= len(candidates):
        return no_responder(session, call, contact)
    candidate = candidates[attempt]
    cases.record_attempt(session, contact, attempt,
                         pipeline.organisation_id(session, candidate.slug),
                         "; ".join(candidate.reasons))
    return call.ivr.dial(call.language, candidate, attempt, str(contact.id))


def dial_result(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    attempt = _int(call.tw.query.get("attempt"), 0)
    status = call.tw.optional("DialCallStatus") or "failed"
    row = cases.finish_attempt(session, contact, attempt, status)
    if contact.outcome is ContactOutcome.CONNECTED and row is not None:
        response = VoiceResponse()
        response.hangup()
        return response
    return connect(session, call, contact, attempt + 1)


def no_responder(session: Session, call: Call, contact: Contact) -> VoiceResponse:
    contact.outcome = ContactOutcome.NO_RESPONDER
    pipeline.enqueue(session, call.directory, contact, call.now)
    return call.ivr.callback_offer(call.language, attempt=1, first=True)


def callback(session: Session, call: Call) -> VoiceResponse:
    contact = call.contact(session)
    digits = call.digits
    if (digits is None and call.attempt < 2) or digits == "*":
        return call.ivr.callback_offer(call.language, call.attempt + 1, first=False)
    if digits == "1":
        case = pipeline.enqueue(session, call.directory, contact, call.now)
        cases.request_callback(session, contact, case, call.tw.field("From"),
                               call.settings.encryption_key,
                               call.settings.callback_retention_days)
        return call.ivr.goodbye(call.language, contact.caller_country, "callback_confirmed")
    # 2, silence twice or any other key: no consent, nothing of the number is kept
    return call.ivr.goodbye(call.language, contact.caller_country, "callback_declined")


def whisper(session: Session, call: Call) -> VoiceResponse:
    contact = session.get_one(Contact, _uuid(call.tw.query.get("c")))
    attempt = _int(call.tw.query.get("attempt"), 0)
    row = cases.get_attempt(session, contact, attempt)
    if row is None:
        raise LookupError("whisper for an attempt that was never dialled")
    organisation = session.get_one(Organisation, row.organisation_id)
    return call.ivr.whisper(frozenset(organisation.languages), contact.language, contact.need,
                            contact.child, str(contact.id), attempt)


def whisper_accept(session: Session, call: Call) -> VoiceResponse:
    response = VoiceResponse()
    if call.digits == "1":
        contact = session.get_one(Contact, _uuid(call.tw.query.get("c")))
        cases.accept_attempt(session, contact, _int(call.tw.query.get("attempt"), 0))
    else:
        response.hangup()
    return response


def status_callback(session: Session, call: Call) -> VoiceResponse:
    contact = cases.get_contact(session, call.sid)
    if contact is not None and call.tw.optional("CallStatus") in (
            "completed", "busy", "no-answer", "failed", "canceled"):
        duration = _int(call.tw.optional("CallDuration"), 0)
        cases.end_contact(contact, contact.started_at + timedelta(seconds=duration), duration)
    return VoiceResponse()


def _uuid(text: str | None) -> uuid.UUID:
    return uuid.UUID(text or "")


STEPS: dict[str, Step] = {
    "": incoming, "/language": choose_language, "/need": choose_need, "/info": information,
    "/dial": dial_result, "/callback": callback, "/whisper": whisper,
    "/whisper/accept": whisper_accept, "/status": status_callback,
}


def _endpoint(step: Step) -> Callable[[Request, TwilioRequest], Response]:
    def endpoint(request: Request, tw: TwilioDep) -> Response:
        return run_step(request, tw, step)

    endpoint.__name__ = f"voice_{step.__name__}"
    endpoint.__doc__ = step.__doc__
    return endpoint


for _path, _step in STEPS.items():
    router.add_api_route(_path, _endpoint(_step), methods=["POST"],
                         response_class=Response, include_in_schema=True)
