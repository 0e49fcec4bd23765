"""What Twilio's webhook form fields may hold: its enumerated values, and the free text a
sender typed.

Enumerated fields are checked against the values Twilio documents (voice webhooks and
status callbacks, <Dial> action, answering-machine detection, messaging webhooks). A value
outside them is not something Twilio sends: it is a signed request cut differently (the
signature runs names and values together, so ``CallStatus=ringing&Digits=3`` and
``CallStatus=ringingDigits3`` sign alike), and it is refused rather than recorded. Which
webhook refuses with 400 and which answers the caller anyway is said where each is handled
(``app.channels.voice.voice``, ``app.channels.voice.callback``, ``app.channels.sms.webhook``).

Free text (an SMS or WhatsApp ``Body``, a WhatsApp profile name) is the sender's own:
control characters are stripped from it (PostgreSQL cannot store NUL, and no reader needs
the others) and the message is answered, never refused.
"""

import re
from collections.abc import Iterable, Mapping

CALL_STATUSES = frozenset({"queued", "ringing", "in-progress", "completed", "busy", "failed",
                           "no-answer", "canceled"})
DIAL_CALL_STATUSES = CALL_STATUSES | {"answered"}
MESSAGE_STATUSES = frozenset({
    "accepted", "scheduled", "queued", "sending", "sent", "delivery_unknown", "delivered",
    "undelivered", "failed", "receiving", "received", "read", "canceled",
    "partially_delivered"})
ANSWERED_BY = frozenset({"human", "machine_start", "machine_end_beep", "machine_end_silence",
                         "machine_end_other", "fax", "unknown"})
ENUMERATED: Mapping[str, frozenset[str]] = {
    "CallStatus": CALL_STATUSES, "DialCallStatus": DIAL_CALL_STATUSES,
    "MessageStatus": MESSAGE_STATUSES, "SmsStatus": MESSAGE_STATUSES,
    "AnsweredBy": ANSWERED_BY,
}
# What a sender (or their carrier) writes, cleaned rather than refused: the message (kept,
# encrypted), and fields never kept but that must not get a message refused: WhatsApp's
# profile name, a button's text, a shared location's label and address, caller-ID names.
FREE_TEXT = frozenset({"Body", "ProfileName", "ButtonText", "ButtonPayload", "Label",
                       "Address", "CallerName"})
# C0 and C1 controls and DEL, but newline and tab: a message's lines stay lines.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def unknown_value(form: Mapping[str, str], names: Iterable[str] = ENUMERATED) -> str | None:
    """``"CallStatus='ringingDigits3' is not a value Twilio sends"`` for the first of
    ``names`` whose value Twilio never sends; None if all are known or absent."""
    for name in names:
        value = form.get(name)
        if value and value not in ENUMERATED[name]:
            shown = value if len(value) <= 40 else value[:40] + "…"
            return f"{name}={shown!r} is not a value Twilio sends"
    return None


def clean_text(text: str) -> str:
    """Free text without control characters; a lone carriage return becomes a newline."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
