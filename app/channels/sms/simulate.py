"""``hotline simulate sms``: a text conversation through the real webhook, in-process.

Each message is signed as Twilio signs it; the TwiML reply is read back and printed
with its SMS segment count and encoding (GSM-7 or UCS-2), one line per message of it.
An operator's reply can be sent through the real outbox, delivered by a sender that
prints instead of calling Twilio.
``--from whatsapp:+…`` writes on WhatsApp, as Twilio delivers it: same webhook, no
segments.
"""

from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient

from app import pipeline
from app.cases.models import Channel
from app.channels.sms.sender import text_senders
from app.config import Settings
from app.detection.country import channel_prefix, strip_channel
from app.messaging import outbox
from app.segments import encoding, segments
from app.twilio.signing import post_signed
from app.webhooks.simulation import AppFactory, new_sid, show_case, simulated_app


class PrintingSender:
    """Twilio's outbound interface (``app.twilio.rest.Outbound``), showing what would go
    to Twilio instead of sending it."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.count = 0
        self.calls: list[tuple[str, str, str, str]] = []  # what call() was asked to place

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        self.count += 1
        self.say(f'outbox sends to {to}{_size(to, body)}: "{body}"')
        return new_sid("SM")

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        self.calls.append((to, from_, url, status_callback))
        self.say(f"Twilio rings {to}, showing {from_}")
        return new_sid("CA")  # fresh each time, as Twilio's are


def simulate_sms(create_app: AppFactory, settings: Settings, number: str, messages: list[str],
                 say: Callable[[str], None], *, operator_reply: str | None = None,
                 at: datetime | None = None, keep: bool = False) -> None:
    settings = settings.model_copy(update={"outbox_worker": False})
    with simulated_app(create_app, settings, at, keep) as app, TestClient(app) as client:
        for text in messages:
            say(f'caller {number} writes: "{text}"')
            params = {"MessageSid": new_sid("SM"), "From": number, "Body": text,
                      "To": _hotline_address(number), "NumSegments": "1"}
            twiml = post_signed(client, settings, "/twilio/sms", params)
            replies = [m.text or "" for m in twiml.iter("Message")]
            for reply in replies:
                say(f"hotline replies{_size(number, reply)}:\n{reply}")
            if not replies:
                say("hotline does not reply")
        pseudonym = pipeline.pseudonym(settings, Channel.SMS, strip_channel(number))
        if show_case(app, pseudonym, operator_reply, say):
            outbox.deliver_due(app.state.sessionmaker, text_senders(PrintingSender(say),
                                                                    settings),
                               settings, app.state.clock())


def _hotline_address(number: str) -> str:
    """The hotline as Twilio writes it in ``To``: on WhatsApp, with its prefix."""
    return "whatsapp:+10000000000" if channel_prefix(number) == "whatsapp" else "+10000000000"


def _size(address: str, body: str) -> str:
    """SMS segments the text costs, and in which encoding; WhatsApp has none."""
    if channel_prefix(address) == "whatsapp":
        return " on WhatsApp"
    count = segments(body)
    return f" ({count} segment{'s' if count > 1 else ''}, {encoding(body)})"


