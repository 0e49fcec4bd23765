"""Twilio's REST API: the only place the service talks to Twilio on its own.

``Outbound`` is what the service sends or places through Twilio: messages (for the SMS
and WhatsApp channel's outbox sender, ``app.channels.sms.sender``) and masked call-backs
(``app.channels.voice.callback``). Tests and simulations put recording fakes in its place.
"""

import logging
from typing import Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.config import Settings
from app.detection.country import channel_prefix, strip_channel
from app.sending import SendError

OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
CALL_RING_SECONDS = 30  # the operator's own phone: then it counts as not answered


class Outbound(Protocol):
    """What the service sends or places on its own: messages, and masked call-backs."""

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        """Hand one message to the provider, from ``origin`` (a number, ``whatsapp:+…`` or a
        Messaging Service SID; None: the hotline's configured sender); return its message
        SID or raise SendError."""
        ...

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        """Ring ``to`` showing ``from_``; when it answers, Twilio fetches ``url`` for what
        to do. Returns the call's SID or raises SendError."""
        ...


class TwilioOutbound:
    """Twilio's REST API, as ``Outbound``."""

    def __init__(self, account_sid: str, auth_token: str, sender: str,
                 http_client: HttpClient | None = None) -> None:
        if http_client is None:
            quiet = logging.getLogger("app.twilio.http")
            quiet.setLevel(logging.WARNING)  # its INFO lines would show request details
            http_client = TwilioHttpClient(timeout=15, logger=quiet)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.sender = sender

    def send(self, to: str, body: str, status_callback: str, origin: str | None = None
             ) -> str:
        try:
            message = self.client.messages.create(to=to, body=body,
                                                  status_callback=status_callback,
                                                  **self._origin(to, origin or self.sender))
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise SendError(str(exc.code or exc.status), retryable=retryable,
                            opted_out=exc.code == OPTED_OUT) from None
        except (TwilioException, OSError) as exc:  # network trouble: try again later
            raise SendError(type(exc).__name__, retryable=True) from None
        return str(message.sid)

    def call(self, to: str, from_: str, url: str, status_callback: str) -> str:
        try:
            call = self.client.calls.create(
                to=to, from_=from_, url=url, status_callback=status_callback,
                status_callback_event=["answered", "completed"], timeout=CALL_RING_SECONDS)
        except TwilioRestException as exc:
            raise SendError(str(exc.code or exc.status), retryable=False) from None
        except (TwilioException, OSError) as exc:
            raise SendError(type(exc).__name__, retryable=True) from None
        return str(call.sid)

    @staticmethod
    def _origin(to: str, sender: str) -> dict[str, str]:
        """Send on the channel the person wrote on: Twilio delivers to ``whatsapp:+…`` only
        from the hotline's WhatsApp address. A Messaging Service picks from its own pool."""
        if sender.startswith("MG"):
            return {"messaging_service_sid": sender}
        if channel_prefix(to) == "whatsapp":
            return {"from_": "whatsapp:" + strip_channel(sender)}
        return {"from_": strip_channel(sender)}


def make_outbound(settings: Settings) -> Outbound | None:
    """Twilio's REST API once there is an account; None without one (messages wait in the
    outbox, call-backs answer 503). Messages go out only once there is a sender too."""
    if settings.twilio_account_sid:
        return TwilioOutbound(settings.twilio_account_sid, settings.twilio_auth_token,
                              settings.sms_sender)
    return None


def sends_messages(outbound: Outbound) -> bool:
    """Whether messages can go out: Twilio's needs the hotline's sender (a fake always can)."""
    return not isinstance(outbound, TwilioOutbound) or bool(outbound.sender)
