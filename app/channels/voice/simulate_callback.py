"""``hotline simulate callback``: a masked call-back through the real API and webhooks.

A caller who reached nobody asked to be called back; an operator on duty claims the case
and presses "Call back". Twilio is played in-process: the outbound call is printed instead
of placed, and each webhook is signed as Twilio signs it, with fresh random SIDs. What the
operator and the caller hear is printed; everything is rolled back unless ``keep``.
"""

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import callbacks
from app.cases import service as cases
from app.cases.models import CallbackRequest, Case, Channel
from app.channels.voice.ivr import language_pages
from app.channels.voice.simulate import hear, required
from app.config import Settings
from app.detection.country import caller_country
from app.operator_queue import service as queue_service
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.privacy import crypto
from app.privacy.pseudonym import pseudonymise
from app.routing.engine import Query, route
from app.twilio.signing import post_signed
from app.users import service as users
from app.users.models import Role
from app.webhooks.simulation import AppFactory, simulated_app

CALLER_ACTIONS = ("answer-safe", "answer-not-safe", "no-answer")
DEFAULT_HOTLINE = "+10000000000"


def new_sid() -> str:
    return "CA" + secrets.token_hex(16)


@dataclass
class PrintingOutbound:
    """The outbound interface, printing the call it would ask Twilio to place."""

    say: Callable[[str], None]
    calls: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        self.say(f'outbox sends to {to}: "{body}"')
        return "SM" + secrets.token_hex(16)

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        sid = new_sid()
        self.calls.append((to, from_, url, status_callback, sid))
        self.say(f"Twilio rings the operator's phone {to}; its display shows {from_}")
        return sid


def _request(session: Session, settings: Settings, number: str, language: str | None,
             now: datetime) -> Case:
    """A caller who reached nobody and pressed 1: their case and call-back request."""
    country = caller_country(number).country
    language = language or language_pages(country)[0][0]
    contact = cases.new_contact(session, sid=new_sid(), channel=Channel.VOICE,
                                pseudonym=pseudonymise(number, settings.pseudonym_key),
                                country=country, at=now)
    contact.language = language
    first = route(organisations.snapshot(session), Query(language, country, None, now))[0]
    organisation = session.scalars(select(Organisation).where(
        Organisation.slug == first.responder.slug)).one()
    case = cases.open_case(session, contact, organisation.id)
    cases.request_callback(session, contact, case, number, settings.encryption_key,
                           settings.callback_retention_days, at=now)
    return case


class CallbackSimulator:
    def __init__(self, app: FastAPI, client: TestClient, say: Callable[[str], None],
                 caller_number: str, operator_phone: str) -> None:
        self.app, self.client, self.say = app, client, say
        self.settings: Settings = app.state.settings
        self.caller_number, self.operator_phone = caller_number, operator_phone
        self.outbound = PrintingOutbound(say)
        app.state.sms_sender = self.outbound

    def prepare(self, language: str | None) -> tuple[Case, dict[str, str]]:
        now = self.app.state.clock()
        password = secrets.token_urlsafe(16)
        with self.app.state.sessionmaker() as session:
            case = _request(session, self.settings, self.caller_number, language, now)
            slug = session.get_one(Organisation, case.organisation_id).slug
            user = users.create_user(session, f"operator-{secrets.token_hex(3)}", password,
                                     Role.OPERATOR, slug)
            user.on_duty, user.duty_since = True, now
            user.duty_phone_encrypted = crypto.encrypt(self.settings.encryption_key,
                                                       self.operator_phone)
            queue_service.claim(session, self.settings, user, case.id, now)
            session.commit()
            self.say(f"caller {self.caller_number} asked to be called back "
                     f"(case {case.reference}, language {case.language}, {slug})")
            self.say(f"operator {user.username} is on duty with phone {self.operator_phone}, "
                     "claims the case and presses \"Call back\"")
            username = user.username
        token = self.client.post("/api/auth/token", data={"username": username,
                                                            "password": password})
        return case, {"Authorization": f"Bearer {token.json()['access_token']}"}

    def run(self, language: str | None, caller: str) -> None:
        case, headers = self.prepare(language)
        [shown] = self.client.get(f"/api/cases/{case.id}/callbacks", headers=headers).json()
        self.say(f"the console shows the number as {shown['number_masked']}")
        answer = self.client.post(f"/api/cases/{case.id}/callbacks/{shown['id']}/call",
                                  headers=headers)
        if answer.status_code != 202:
            self.say(f"the call-back is refused: {answer.json()['detail']}")
            return
        to, hotline, url, status_url, sid = self.outbound.calls[-1]
        operator = {"CallSid": sid, "From": hotline, "To": to, "CallStatus": "in-progress"}
        whisper = post_signed(self.client, self.settings, url, operator)
        self.hear_all("operator hears", whisper.find("Gather"))
        self.say("operator presses 1")
        gather = whisper.find("Gather")
        action = url if gather is None else required(gather.get("action"), "Gather action")
        dial = post_signed(self.client, self.settings, action, operator | {"Digits": "1"})
        self.caller_leg(dial, operator, caller)
        post_signed(self.client, self.settings, status_url,
                    operator | {"CallStatus": "completed"})
        self.say("call ends")
        self.report(shown["id"])

    def caller_leg(self, dial: ET.Element, operator: dict[str, str], caller: str) -> None:
        verb, number = dial.find("Dial"), dial.find("Dial/Number")
        if verb is None or number is None:
            self.hear_all("operator hears", dial)
            return
        self.say(f"hotline dials the caller {number.text}; their display shows "
                 f"{verb.get('callerId')}")
        status = "completed"
        if caller == "no-answer":
            self.say("caller: no answer")
            status = "no-answer"
        else:
            leg = {"CallSid": new_sid(), "ParentCallSid": operator["CallSid"],
                   "From": verb.get("callerId") or "", "To": number.text or "",
                   "CallStatus": "in-progress"}
            question = post_signed(self.client, self.settings, number.get("url") or "", leg)
            gather = question.find("Gather")
            self.hear_all("caller hears", gather)
            if caller == "answer-safe" and gather is not None:
                self.say("caller presses 1")
                post_signed(self.client, self.settings, gather.get("action") or "",
                            leg | {"Digits": "1"})
                self.say("caller and operator are connected and talk")
            else:
                self.say("caller stays silent")
                redirect = question.find("Redirect")
                if redirect is not None:
                    post_signed(self.client, self.settings, redirect.text or "", leg)
        result = post_signed(self.client, self.settings, verb.get("action") or "",
                             operator | {"DialCallStatus": status})
        self.hear_all("operator hears", result)

    def hear_all(self, who: str, element: ET.Element | None) -> None:
        for verb in element if element is not None else []:
            hear(self.say, who, verb)

    def report(self, callback_id: int) -> None:
        with self.app.state.sessionmaker() as session:
            row = session.get_one(CallbackRequest, callback_id)
            state = "pending" if row.completed_at is None else "done"
            number = "kept encrypted" if row.number_encrypted else "erased"
            self.say(f"call-back {state}: last outcome {row.last_outcome}, "
                     f"{row.attempts} attempt(s) at the caller, number {number}")


def simulate_callback(create_app: AppFactory, settings: Settings, number: str,
                      say: Callable[[str], None], *,
                      caller: str = "answer-safe", language: str | None = None,
                      operator_phone: str = "+10000000001", at: datetime | None = None,
                      keep: bool = False) -> None:
    hotline = callbacks.caller_id(settings) or DEFAULT_HOTLINE
    settings = settings.model_copy(update={"voice_caller_id": hotline, "outbox_worker": False})
    with simulated_app(create_app, settings, at, keep) as app, TestClient(app) as client:
        CallbackSimulator(app, client, say, number, operator_phone).run(language, caller)
