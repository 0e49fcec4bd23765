"""A scripted person texting the hotline, and a recording fake of the outbound interface."""

import itertools
from dataclasses import dataclass, field

from app.cases.models import Channel
from app.messaging import texts
from app.messaging.conversations import for_channel
from app.messaging.outbox import SendError
from tests.twilio import new_call_sid, post, twiml

_sids = itertools.count(1)


def new_message_sid() -> str:
    return f"SM{next(_sids):032x}"


def by_sms(language: str, key: str, **params: str) -> str:
    """A catalog reply as it goes out by SMS (GSM-7 where the language allows)."""
    return for_channel(texts.text(language, key, **params), Channel.SMS, language)


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
        messages = self._post(body, **extra)
        assert len(messages) <= 1, messages
        reply = messages[0] if messages else None
        self.replies.append(reply)
        return reply

    def send_all(self, body: str, **extra: str) -> list[str]:
        """Text the hotline; returns every message of the reply, in order."""
        self.last_sid = new_message_sid()
        messages = self._post(body, **extra)
        self.replies.extend(messages)
        return messages

    def _post(self, body: str, **extra: str) -> list[str]:
        response = twiml(post(self.client, self.settings, "/twilio/sms",
                              self.params(body, self.last_sid, **extra)))
        return [message.text or "" for message in response.findall("Message")]


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
