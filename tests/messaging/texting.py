"""A scripted person texting the hotline, and a recording fake of the outbound interface."""

import itertools
from dataclasses import dataclass, field

from app.messaging.outbox import SendError
from tests.twilio import new_call_sid, post, twiml

_sids = itertools.count(1)


def new_message_sid() -> str:
    return f"SM{next(_sids):032x}"


@dataclass
class Texter:
    client: object
    settings: object
    number: str
    from_country: str = ""
    last_sid: str = ""
    replies: list[str] = field(default_factory=list)

    def params(self, body: str, sid: str, **extra: str) -> dict[str, str]:
        return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
                "From": self.number, "To": "+77270009999", "Body": body,
                "FromCountry": self.from_country, "NumMedia": "0", "NumSegments": "1"} | extra

    def send(self, body: str, **extra: str) -> str | None:
        """Text the hotline; returns the reply, or None if it does not answer."""
        self.last_sid = new_message_sid()
        return self.resend(body, **extra)

    def resend(self, body: str, **extra: str) -> str | None:
        """Twilio retrying the last webhook, same MessageSid."""
        response = twiml(post(self.client, self.settings, "/twilio/sms",
                              self.params(body, self.last_sid, **extra)))
        messages = response.findall("Message")
        assert len(messages) <= 1, response.text
        reply = messages[0].text if messages else None
        self.replies.append(reply)
        return reply


@dataclass
class Sent:
    to: str
    body: str
    status_callback: str
    sid: str
    origin: str | None = None  # what it leaves from; None: the configured sender


@dataclass
class Placed:
    to: str
    from_: str
    url: str
    status_callback: str
    sid: str


@dataclass
class FakeSender:
    """Records what would go to Twilio (the outbound interface: messages and calls);
    ``failures`` are raised first, one per send or call."""

    sent: list[Sent] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)
    attempts: int = 0
    calls: list[Placed] = field(default_factory=list)

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        if self.failures:
            raise self.failures.pop(0)
        sid = new_call_sid()
        self.calls.append(Placed(to, from_, url, status_callback, sid))
        return sid

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        sid = new_message_sid()  # unique across senders, as Twilio's are
        self.sent.append(Sent(to, body, status_callback, sid, origin))
        return sid
