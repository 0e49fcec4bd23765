"""``hotline simulate call``: a whole call through the real endpoints, in-process.

Requests are signed as Twilio signs them and the TwiML is read back, so a newcomer
can hear (as text) what a caller would hear, without a Twilio account. Everything the
call records is rolled back unless ``keep`` is set.
"""

import itertools
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from app import db
from app.config import Settings
from app.main import create_app
from app.organisations import service as organisations
from app.routing.snapshot import Directory
from app.telephony import information
from app.telephony.audio import prompt_text
from app.telephony.prompts import parse_audio_name

MAX_STEPS = 40
RESPONDER_ACTIONS = ("accept", "decline", "no-answer", "busy", "failed")

T = TypeVar("T")


def required(value: T | None, what: str) -> T:
    """A part the app's TwiML always has; TwiML without it is a bug, named here."""
    if value is None:
        raise ValueError(f"the TwiML has no {what}")
    return value


def new_sid(prefix: str) -> str:
    """A SID as Twilio's look (two letters, 32 hex digits), fresh on every run: a fixed one
    would make a second ``--keep`` run on the same database replay the first."""
    return prefix + secrets.token_hex(16)


@dataclass
class Script:
    number: str
    digits: list[str] = field(default_factory=list)
    responders: list[str] = field(default_factory=list)
    from_country: str = ""


def post_signed(client: TestClient, settings: Settings, url: str,
                params: dict[str, str]) -> ET.Element:
    """POST as Twilio does: form-encoded, signed over the public URL; returns the TwiML."""
    public = url if url.startswith("http") else settings.public_url + url
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(public, params)
    parts = urlsplit(public)
    response = client.post(
        parts.path + (f"?{parts.query}" if parts.query else ""), content=urlencode(params),
        headers={"X-Twilio-Signature": signature,
                 "Content-Type": "application/x-www-form-urlencoded"})
    response.raise_for_status()
    return ET.fromstring(response.content)


@contextmanager
def simulated_app(settings: Settings, at: datetime | None, keep: bool) -> Iterator[FastAPI]:
    url = settings.effective_database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as connection:
        transaction = connection.begin()
        # One shared connection: no background purge may use it behind the dialogue's back.
        app = create_app(settings.model_copy(update={"purge_interval_minutes": 0}))
        app.state.sessionmaker = lambda: Session(bind=connection,
                                                 join_transaction_mode="create_savepoint")
        if at is not None:
            app.state.clock = lambda: at
        with app.state.sessionmaker() as session:
            organisations.load_demo_if_empty(session)
            session.commit()
        try:
            yield app
        finally:
            (transaction.commit if keep else transaction.rollback)()
    engine.dispose()


class Simulator:
    def __init__(self, app: FastAPI, client: TestClient, script: Script,
                 say: Callable[[str], None]) -> None:
        self.app, self.client, self.script, self.say = app, client, script, say
        self.settings: Settings = app.state.settings
        self.sid = new_sid("CA")
        self.digits = iter(script.digits)
        self.responders = itertools.chain(script.responders, itertools.repeat("accept"))

    def post(self, url: str, extra: dict[str, str], sid: str | None = None) -> ET.Element:
        params = {"CallSid": sid or self.sid, "From": self.script.number,
                  "To": "+10000000000", "FromCountry": self.script.from_country} | extra
        return post_signed(self.client, self.settings, url, params)

    def run(self) -> None:
        self.say(f"caller {self.script.number} dials the hotline")
        twiml = self.post("/twilio/voice", {"CallStatus": "ringing"})
        for _ in range(MAX_STEPS):
            following = self.perform(twiml)
            if following is None:
                self.say("call ends")
                return
            twiml = following
        self.say(f"stopped after {MAX_STEPS} steps")

    def perform(self, twiml: ET.Element) -> ET.Element | None:
        for verb in twiml:
            if verb.tag in ("Say", "Play"):
                self.hear("caller hears", verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    self.hear("caller hears", inner)
                digit = next(self.digits, None)
                if digit is not None:
                    self.say(f"caller presses {digit}")
                    return self.post(required(verb.get("action"), "Gather action"),
                                     {"Digits": digit})
                self.say("caller stays silent")
            elif verb.tag == "Redirect":
                return self.post(required(verb.text, "Redirect URL"), {})
            elif verb.tag == "Dial":
                return self.dial(verb)
            elif verb.tag == "Hangup":
                return None
        return None

    def dial(self, dial: ET.Element) -> ET.Element | None:
        numbers = [required(n.text, "Number") for n in dial.findall("Number")]
        self.say(f"hotline dials {self.responder_name(numbers)}: {', '.join(numbers)}")
        action = next(self.responders)
        status = action if action in ("no-answer", "busy", "failed") else "completed"
        number = dial.find("Number")
        whisper_url = number.get("url") if number is not None else None
        if action in ("accept", "decline") and whisper_url:
            leg = new_sid("CA")  # the responder's leg is a call of its own
            whisper = self.post(whisper_url, {}, sid=leg)
            gather = required(whisper.find("Gather"), "Gather on the whisper")
            for inner in gather:
                self.hear("responder hears", inner)
            key = "1" if action == "accept" else "2"
            self.say(f"responder presses {key}")
            self.post(required(gather.get("action"), "Gather action"), {"Digits": key},
                      sid=leg)
            if action == "accept":
                self.say("caller and responder are connected and talk")
        else:
            self.say(f"responder: {action}")
        dial_action = dial.get("action")
        if dial_action is None:
            return None
        return self.post(dial_action, {"DialCallStatus": status})

    def responder_name(self, numbers: list[str]) -> str:
        for responder in self.app.state.directory.current.responders:
            if set(numbers) & set(responder.duty_numbers):
                return f"{responder.name} [{responder.slug}]"
        return "unknown responder"

    def hear(self, who: str, verb: ET.Element) -> None:
        hear(self.say, who, verb, self.app.state.directory.current)


def hear(say: Callable[[str], None], who: str, verb: ET.Element,
         directory: Directory | None = None) -> None:
    if verb.tag == "Say":
        say(f'{who} ({verb.get("language")}, Twilio voice): "{verb.text}"')
    elif verb.tag == "Play":
        language, filename = (verb.text or "").rsplit("/", 2)[-2:]
        name = filename.split(".")[0]
        # A directory's information message is named by its hash, not a prompt key.
        text = (information.text_of(directory, language, name) if directory else None) \
            or prompt_text(language, *parse_audio_name(name))
        say(f'{who} ({language}, audio {filename}): "{text}"')


def simulate_call(settings: Settings, script: Script, say: Callable[[str], None],
                  at: datetime | None = None, keep: bool = False) -> None:
    with simulated_app(settings, at, keep) as app, TestClient(app) as client:
        app.state.information_audio.wait(60)  # a server would have had the time
        Simulator(app, client, script, say).run()
