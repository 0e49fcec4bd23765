"""The outbox's senders for SMS and WhatsApp: Twilio's REST API (``app.twilio.rest``),
each message written in Twilio's form for its channel.

WhatsApp through Twilio wants both ends as ``whatsapp:+…``: the conversation keeps the
bare number, and the prefix is added here, the one place that knows it. Conversations
from before kept the number with its prefix; stripping first makes both alike.
"""

from dataclasses import dataclass

from app.cases.models import Channel
from app.config import Settings
from app.detection.country import strip_channel
from app.messaging.outbox import TextSender
from app.sending import SendError
from app.twilio import paths
from app.twilio.rest import OPTED_OUT, Outbound, make_outbound, sends_messages

MESSAGING_SERVICE = "MG"  # a Messaging Service SID: Twilio picks the number itself


@dataclass(frozen=True)
class TwilioTextSender:
    """``TextSender`` of one Twilio channel over an ``Outbound``."""

    outbound: Outbound
    status_callback: str
    whatsapp: bool = False

    def send(self, address: str, body: str, *, origin: str | None = None) -> str | None:
        try:
            return self.outbound.send(self._address(address), body, self.status_callback,
                                      self._origin(origin))
        except SendError as exc:
            if exc.code == str(OPTED_OUT):  # the person sent STOP to Twilio
                raise SendError(exc.code, retryable=False, opted_out=True) from None
            raise

    def _address(self, address: str) -> str:
        return "whatsapp:" + strip_channel(address) if self.whatsapp else address

    def _origin(self, origin: str | None) -> str | None:
        if origin is None or origin.startswith(MESSAGING_SERVICE):
            return origin
        return self._address(origin)


def text_senders(outbound: Outbound, settings: Settings) -> dict[Channel, TextSender]:
    """SMS and WhatsApp over one ``Outbound`` (tests and simulations give a fake)."""
    callback = settings.public_url + paths.SMS_STATUS
    return {Channel.SMS: TwilioTextSender(outbound, callback),
            Channel.WHATSAPP: TwilioTextSender(outbound, callback, whatsapp=True)}


def _configured(settings: Settings, channel: Channel) -> TextSender | None:
    """The channel's sender once Twilio has an account and a sender; None till then."""
    outbound = make_outbound(settings)
    if outbound is None or not sends_messages(outbound):
        return None
    return text_senders(outbound, settings)[channel]


def sms_sender(settings: Settings) -> TextSender | None:
    return _configured(settings, Channel.SMS)


def whatsapp_sender(settings: Settings) -> TextSender | None:
    return _configured(settings, Channel.WHATSAPP)
