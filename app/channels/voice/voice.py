"""Twilio voice webhooks: signed, idempotent per step, and never failing the caller.

Each step runs in one transaction. A retried step (same CallSid, path, query and
digits) returns the reply stored the first time and changes nothing. If the database
cannot be reached, the same step runs on a ``JournalLine``: it routes from the directory
snapshot and its changes go to the local journal, replayed once the database is back
(``app.webhooks.recovery``). Any other exception becomes TwiML that rings the regional hub: a
caller never hears Twilio's "an application error has occurred". On a responder's leg (the
whisper) it becomes a polite hang-up instead, as does a whisper for an unknown call.

Enumerated fields (``CallStatus``, ``DialCallStatus``, ``AnsweredBy``) holding a value
Twilio never sends (``app.twilio.fields``) run no step: the status callback and a
responder's leg answer 400; a caller's own step answers with the fallback to the hub.
"""

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import URL
from twilio.twiml.voice_response import VoiceResponse

from app import errors, pipeline
from app.cases.models import Channel, ContactOutcome
from app.channels.voice.ivr import MORE_DIGIT, NEED_KEYS, SILENT_NEED, Ivr, language_pages
from app.channels.voice.lines import Caller, CallGone, DatabaseLine, JournalLine, Line
from app.config import Settings
from app.detection.country import line_number
from app.detection.numbers import e164
from app.languages import LANGUAGES
from app.privacy import crypto
from app.routing.engine import Query, Tier, reopening, route
from app.routing.needs import Need
from app.routing.snapshot import Directory, HotlineNumber
from app.twilio import fields, paths
from app.twilio.signature import TwilioDep, TwilioRequest
from app.users import duty
from app.webhooks import lane, recovery
from app.webhooks.deps import Webhook, WebhookDep
from app.webhooks.journal import Journal
from app.webhooks.replies import reply_once

logger = logging.getLogger(__name__)
router = APIRouter(prefix=paths.VOICE, tags=["twilio"], responses=errors.WEBHOOK)
STEP_FIELDS = ("CallSid", "Digits", "DialCallStatus", "CallStatus")
Step = Callable[[Line, "Call"], VoiceResponse]
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
# A stored reply that dials operators' own phones is kept encrypted (TwiML starts "<?xml").
SEALED = "sealed:"


class Call:
    """One webhook request of one call: what the step functions need."""

    def __init__(self, hook: Webhook, ivr: Ivr, tw: TwilioRequest) -> None:
        self.tw = tw
        self.settings: Settings = hook.settings
        self.ivr = ivr
        self.directory: Directory = hook.directory.get()
        self.now: datetime = hook.now
        self.sid = tw.field("CallSid")
        self.digits = tw.optional("Digits")
        self.attempt = _int(tw.query.get("t"), 1)
        self.dials_operators = False  # the reply holds operators' own phones: seal it
        # The national line dialled, from the snapshot: no database on the way.
        self.line_number = line_number(tw.optional("To"))
        self.dialled: HotlineNumber | None = self.directory.line(self.line_number)

    @property
    def language(self) -> str:
        lang = self.tw.query.get("lang", "")
        return lang if lang in LANGUAGES else "ru"

    @property
    def caller(self) -> Caller:
        return Caller.of(self.settings, self.sid, self.tw.field("From"),
                         self.tw.optional("FromCountry"), self.line_number, self.dialled)

    @property
    def first_languages(self) -> tuple[str, ...]:
        """The dialled line's languages, for a caller whose own number says nothing of
        where they are; () keeps the menu of the caller's country."""
        if self.dialled is None or pipeline.own_country(
                Channel.VOICE, self.tw.field("From"), self.tw.optional("FromCountry")):
            return ()
        return self.dialled.languages

    @property
    def dial_attempt(self) -> int | None:
        """The responder rung that the step is about (its URL names which): read with
        the contact."""
        return _int(self.tw.query["attempt"], 0) if "attempt" in self.tw.query else None

    @property
    def responder_leg(self) -> uuid.UUID | None:
        """On the responder's leg (the whisper), the caller's contact named in the URL."""
        return _uuid(self.tw.query["c"]) if "c" in self.tw.query else None


def _int(text: str | None, default: int) -> int:
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    return int(text) if text and text.isdecimal() and len(text) < 6 else default


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise HTTPException(400, "malformed contact in the URL") from None


def _xml(body: str) -> Response:
    return Response(body, media_type="application/xml")


def run_step(hook: Webhook, ivr: Ivr, url: URL, tw: TwilioRequest, step: Step) -> Response:
    call = None
    try:
        call = Call(hook, ivr, tw)
        if (unknown := fields.unknown_value(tw.form)) is not None:
            return _refused(hook, ivr, url, call, step, unknown)
        key = _reply_key(url, tw)
        return _xml(recovery.database_or_journal(
            hook.app, lambda: _in_database(hook.sessions, call, key, step),
            lambda: _in_journal(hook.journal, call, key, step)))
    except HTTPException:
        raise  # malformed, not a caller in trouble: Twilio always sends these fields
    except Exception as failure:
        if call is not None and call.responder_leg is not None:
            # Never the hub's <Dial> on a responder's phone (a second responder rung for
            # nobody): a polite hang-up, and the caller's <Dial> moves on.
            if not isinstance(failure, CallGone):
                logger.exception("voice step %s failed on a responder's leg; hanging up",
                                 url.path)
            return _xml(str(call.ivr.whisper_gone(_responder_languages(call))))
        logger.exception("voice step %s failed; ringing the regional hub", url.path)
        return _xml(str(_fallback(hook, ivr, call)))


def _refused(hook: Webhook, ivr: Ivr, url: URL, call: Call, step: Step, unknown: str
             ) -> Response:
    """A step whose enumerated fields hold a value Twilio never sends runs nothing. Where
    nobody waits on the answer (a status callback, a responder's leg, which the caller's
    <Dial> moves on from) it is refused with 400; a caller waiting on it hears the
    fallback instead, as after any failure: Twilio's "application error" would end their
    call."""
    if step in NOBODY_WAITING or call.responder_leg is not None:
        raise HTTPException(400, unknown)
    logger.warning("voice step %s: an enumerated field Twilio never sends; ringing the "
                   "regional hub", url.path)
    return _xml(str(_fallback(hook, ivr, call)))


def _responder_languages(call: Call) -> tuple[str, ...]:
    # The organisation rung is in the whisper's URL (not in the accept's: English there).
    responder = call.directory.by_slug(call.tw.query.get("o", ""))
    return tuple(responder.languages) if responder is not None else ()


def _in_database(sessions: Callable[[], Session], call: Call, key: str, step: Step) -> str:
    encryption_key = call.settings.encryption_key

    def seal(body: str) -> str:
        if not call.dials_operators:
            return body
        return SEALED + crypto.encrypt(encryption_key, body)

    def unseal(stored: str) -> str:
        if not stored.startswith(SEALED):
            return stored
        return crypto.decrypt(encryption_key, stored.removeprefix(SEALED))

    return reply_once(sessions, key,
                      lambda session: str(step(_database_line(session, call), call)),
                      seal=seal, unseal=unseal)


def _database_line(session: Session, call: Call) -> DatabaseLine:
    contact, attempt = call.responder_leg, call.dial_attempt
    if contact is not None:
        line = DatabaseLine.for_contact(session, contact, call.now, call.settings, attempt)
    else:  # usually known: no need to pseudonymise the number again
        line = (DatabaseLine.find(session, call.sid, call.now, call.settings, attempt)
                or DatabaseLine.for_new_caller(session, call.caller, call.now, call.settings))
    line.directory = call.directory
    return line


def _in_journal(journal: Journal, call: Call, key: str, step: Step) -> str:
    contact = call.responder_leg
    caller = None if contact else call.caller
    line = JournalLine(caller, call.settings, call.directory, call.tw.query)
    body = str(step(line, call))
    journal.append({"v": 1, "channel": "voice", "key": key, "at": call.now.isoformat(),
                    "sid": call.sid, "contact": str(contact) if contact else None,
                    "pseudonym": caller.pseudonym if caller else None,
                    "country": caller.country if caller else None,
                    "line": caller.line if caller else None,
                    "operations": line.operations, "reply": body})
    return body


def _reply_key(url: URL, tw: TwilioRequest) -> str:
    parts = [url.path, url.query, *(tw.form.get(f, "") for f in STEP_FIELDS)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fallback(hook: Webhook, ivr: Ivr, call: Call | None) -> VoiceResponse:
    """The regional hub, routed from the snapshot in memory: nothing here may fail."""
    language = call.language if call else "ru"
    now = hook.now
    try:
        candidates = route(hook.directory.current, Query(language, None, None, now))
        hub = next((c for c in candidates if c.is_open and c.tier is not Tier.LOCAL
                    and c.responder.duty_numbers), None)
        return ivr.fallback(language, hub, now)
    except Exception:
        logger.exception("even the fallback failed")
        response = VoiceResponse()
        response.say("112", language="ru-RU")
        return response


# --- steps ------------------------------------------------------------------------


def incoming(line: Line, call: Call) -> VoiceResponse:
    if _blocked(line, call):
        line.set(outcome=ContactOutcome.BLOCKED)
        return call.ivr.unavailable(line.country)
    return call.ivr.language_menu(line.country, page=0, attempt=1, welcome=True,
                                  first=call.first_languages)


def _blocked(line: Line, call: Call) -> bool:
    # On a JournalLine the database is down and no block can be checked: the call goes
    # through. Turning away a victim wrongly is worse than an abuser getting through.
    return isinstance(line, DatabaseLine) and pipeline.block(
        line.session, line.row.caller_pseudonym, call.now) is not None


def choose_language(line: Line, call: Call) -> VoiceResponse:
    first = call.first_languages  # the same pages as the menu the caller heard
    pages = language_pages(line.country, first)
    page = min(_int(call.tw.query.get("page"), 0), len(pages) - 1)
    languages, digits = pages[page], call.digits
    if digits is None and call.attempt >= 2:
        digits = "1"  # silence twice: the first (most likely) language
    if digits is None or digits == "*":
        return call.ivr.language_menu(line.country, page, call.attempt + 1, first=first)
    if digits == MORE_DIGIT and page + 1 < len(pages):
        return call.ivr.language_menu(line.country, page + 1, 1, first=first)
    index = _int(digits, 0) - 1
    if not 0 <= index < len(languages):
        return call.ivr.language_menu(line.country, page, call.attempt, first=first)
    line.set(language=languages[index])
    return call.ivr.need_menu(languages[index], attempt=1)


def choose_need(line: Line, call: Call) -> VoiceResponse:
    language, digits = call.language, call.digits
    if digits is None and call.attempt >= 2:
        digits = SILENT_NEED
    if digits is None or digits == "*":
        return call.ivr.need_menu(language, call.attempt + 1)
    if digits not in NEED_KEYS:
        return call.ivr.need_menu(language, call.attempt, invalid=True)
    need, child = NEED_KEYS[digits]
    line.set(language=language, need=need, child=child)
    if need is Need.INFORMATION:
        line.set(outcome=ContactOutcome.INFORMATION_GIVEN)
        return call.ivr.information(language, line.country, attempt=1,
                                    messages=call.directory.information(line.country, language))
    return connect(line, call, attempt=0)


def information(line: Line, call: Call) -> VoiceResponse:
    if call.digits == "1":
        return connect(line, call, attempt=0)
    if call.digits is None or call.attempt >= 3:  # silence after listening: done
        return call.ivr.goodbye(call.language, line.country)
    return call.ivr.information(call.language, line.country, call.attempt + 1,
                                messages=call.directory.information(line.country, call.language))


def connect(line: Line, call: Call, attempt: int) -> VoiceResponse:
    query = Query(language=line.language, country=line.country, need=line.need, at=call.now)
    plans = pipeline.dial_plans(call.directory, query, call.settings.max_dial_attempts,
                                _on_duty_phones(line, call))
    if attempt >= len(plans):
        # No plan at all: nobody is on duty (night, holiday), not just nobody answered.
        return no_responder(line, call, closed=None if plans else query)
    plan = plans[attempt]
    line.attempt(attempt, plan.slug, plan.reasons)
    # Every phone we ring (an operator's own, an NGO's duty line) shows the hotline's
    # number, never the caller's (Twilio's default for a <Dial>): a caller's number is not
    # to be kept anywhere, and an NGO calls back through the masked call-back instead.
    caller_id = call.settings.voice_caller_id or call.tw.optional("To")
    call.dials_operators = plan.on_duty
    return call.ivr.dial(call.language, plan, attempt, str(line.id), line.need, line.child,
                         caller_id=caller_id)


def _on_duty_phones(line: Line, call: Call) -> pipeline.OnDutyPhones | None:
    # On a JournalLine the database is down: the directory's duty numbers are rung.
    if not isinstance(line, DatabaseLine):
        return None
    session = line.session
    return lambda ids: duty.phones_to_ring(session, call.settings, ids)


def dial_result(line: Line, call: Call) -> VoiceResponse:
    attempt = call.dial_attempt or 0
    status = call.tw.optional("DialCallStatus") or "failed"
    if line.finish(attempt, status, call.tw.optional("DialBridged") == "true"):
        response = VoiceResponse()
        response.hangup()
        return response
    return connect(line, call, attempt + 1)


def no_responder(line: Line, call: Call, closed: Query | None = None) -> VoiceResponse:
    line.set(outcome=ContactOutcome.NO_RESPONDER)
    line.queue()
    if closed is not None:
        back = reopening(route(call.directory, closed), call.now)
        return call.ivr.closed_offer(call.language, line.country, back)
    return call.ivr.callback_offer(call.language, attempt=1, first=True)


def callback(line: Line, call: Call) -> VoiceResponse:
    digits = call.digits
    if (digits is None and call.attempt < 2) or digits == "*":
        return call.ivr.callback_offer(call.language, call.attempt + 1, first=False)
    if digits != "1":
        # 2, silence twice or any other key: no consent, nothing of the number is kept.
        return call.ivr.goodbye(call.language, line.country, "callback_declined")
    # Kept and shown only as E.164: a withheld number, or one with anything in it a phone
    # number does not have, cannot be called back, and the caller is told so.
    number = e164(call.tw.field("From"))
    if number is None:
        return call.ivr.goodbye(call.language, line.country, "callback_impossible")
    line.callback(number)
    return call.ivr.goodbye(call.language, line.country, "callback_confirmed")


def whisper(line: Line, call: Call) -> VoiceResponse:
    attempt = call.dial_attempt or 0
    info = line.whisper(attempt)
    return call.ivr.whisper(info.responder_languages, info.language, info.need, info.child,
                            call.tw.query["c"], attempt)


def whisper_accept(line: Line, call: Call) -> VoiceResponse:
    response = VoiceResponse()
    if call.digits == "1":
        line.accept(call.dial_attempt or 0)
    else:
        response.hangup()
    return response


def status_callback(line: Line, call: Call) -> VoiceResponse:
    if call.tw.optional("CallStatus") in FINAL_STATUSES:
        line.end(_int(call.tw.optional("CallDuration"), 0))
    return VoiceResponse()


NOBODY_WAITING: frozenset[Step] = frozenset({status_callback})
STEPS: dict[str, Step] = {
    "": incoming, "/language": choose_language, "/need": choose_need, "/info": information,
    "/dial": dial_result, "/callback": callback, "/whisper": whisper,
    "/whisper/accept": whisper_accept, "/status": status_callback,
}


def _endpoint(step: Step) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, tw: TwilioDep, hook: WebhookDep) -> Response:
        # The IVR from app.state here, not as one more dependency: each FastAPI resolves
        # costs a step tens of microseconds (bench/load.py).
        ivr: Ivr = request.app.state.ivr
        return await lane.run(hook.lane, run_step, hook, ivr, request.url, tw, step)

    endpoint.__name__ = f"voice_{step.__name__}"
    endpoint.__doc__ = step.__doc__
    return endpoint


for _path, _step in STEPS.items():
    router.add_api_route(_path, _endpoint(_step), methods=["POST"],
                         response_class=Response, include_in_schema=True)
