"""``hotline simulate call``: a whole call through the real endpoints, in-process.

Requests are signed as Twilio signs them and the TwiML is read back, so a newcomer
can hear (as text) what a caller would hear, without a Twilio account. Everything the
call records is rolled back unless ``keep`` is set.
"""

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.channels.voice import information
from app.channels.voice.audio import prompt_text
from app.channels.voice.prompts import parse_audio_name
from app.config import Settings
from app.routing.snapshot import Directory
from app.twilio.signing import post_signed
from app.webhooks.simulation import AppFactory, new_sid, simulated_app

MAX_STEPS = 40
RESPONDER_ACTIONS = ("accept", "decline", "no-answer", "busy", "failed")

T = TypeVar("T")


def required(value: T | None, what: str) -> T:
    """A part the app's TwiML always has; TwiML without it is a bug, named here."""
    if value is None:
        raise ValueError(f"the TwiML has no {what}")
    return value


@dataclass
class Script:
    number: str
    digits: list[str] = field(default_factory=list)
    responders: list[str] = field(default_factory=list)
    from_country: str = ""


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


def simulate_call(create_app: AppFactory, settings: Settings, script: Script,
                  say: Callable[[str], None],
                  at: datetime | None = None, keep: bool = False) -> None:
    with simulated_app(create_app, settings, at, keep) as app, TestClient(app) as client:
        app.state.information_audio.wait(60)  # a server would have had the time
        Simulator(app, client, script, say).run()
