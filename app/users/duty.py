"""Operators on and off duty, and the phone they are reached on meanwhile. Never commits.

The phone is the operator's own: stored E.164 and encrypted, shown back only masked
(country code and last two digits), and given in clear only to Twilio: in the ``<Dial>``
of an organisation that rings its on-duty operators, or as the recipient of an escalation
alert. A phone given as ``whatsapp:+…`` receives alerts by WhatsApp (the hotline's
WhatsApp sender must be set up for that); calls ring the number itself either way.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.config import Settings
from app.detection import numbers
from app.detection.country import channel_prefix, strip_channel
from app.events import bus
from app.events.bus import EventKind, QueueEvent
from app.privacy import crypto
from app.users.models import User

logger = logging.getLogger(__name__)
WHATSAPP = "whatsapp:"


class DutyError(ValueError):
    """The change cannot be made as asked; the message says why (no number in it)."""


@dataclass(frozen=True)
class DutyState:
    on_duty: bool
    since: datetime | None
    phone_masked: str | None


@dataclass(frozen=True)
class OnDuty:
    """An operator on duty and the address an alert reaches them at (E.164 or WhatsApp)."""

    user_id: int
    organisation_id: int
    address: str


def normalise_phone(text: str) -> str:
    """``+…`` (or ``whatsapp:+…``) as E.164, or DutyError. Never says the number back."""
    if len(text) > 40:
        raise DutyError("the phone is too long")
    prefix = channel_prefix(text)
    if prefix not in (None, "whatsapp"):
        raise DutyError("the phone must be a number such as +77010000000 "
                        "(or whatsapp:+77010000000 for alerts by WhatsApp)")
    bare = strip_channel(text).replace(" ", "").replace("-", "")
    if not bare.startswith("+"):
        raise DutyError("the phone must start with + and the country code, "
                        "e.g. +77010000000")
    # Digits and separators only: phonenumbers would find +7701 in "+7701🆘" and ignore
    # a right-to-left override, and what is stored must be what Twilio will dial.
    if not numbers.WRITTEN.fullmatch(bare):
        raise DutyError("the phone is not a phone number: only + and digits, please")
    address = numbers.e164(bare, valid=True)
    if address is None:
        raise DutyError("the phone is not a valid number for its country code")
    return WHATSAPP + address if prefix == "whatsapp" else address


def masked(address: str) -> str:
    """``+77010001214`` -> ``+7 ••• ••• •• 14``: the country code and the last two digits."""
    bare = strip_channel(address)
    try:
        number = phonenumbers.parse(bare, None)
        code, national = str(number.country_code), phonenumbers.national_significant_number(
            number)
    except phonenumbers.NumberParseException:
        code, national = "", bare.lstrip("+")
    hidden = "•" * max(len(national) - 2, 0)
    groups = " ".join(hidden[i:i + 3] for i in range(0, len(hidden), 3))
    shown = f"+{code} {groups} {national[-2:]}".replace("  ", " ")
    return ("WhatsApp " + shown) if channel_prefix(address) == "whatsapp" else shown


def _phone(settings: Settings, user: User) -> str | None:
    if not user.duty_phone_encrypted:
        return None
    try:
        return crypto.decrypt(settings.encryption_key, user.duty_phone_encrypted)
    except crypto.InvalidToken:  # stored under a key since replaced: as good as none
        return None


def state(settings: Settings, user: User) -> DutyState:
    phone = _phone(settings, user)
    return DutyState(user.on_duty, user.duty_since if user.on_duty else None,
                     masked(phone) if phone else None)


def set_duty(session: Session, settings: Settings, user: User, on_duty: bool,
             phone: str | None, now: datetime) -> DutyState:
    """Go on or off duty, storing ``phone`` if given. Going on duty needs a phone, given
    now or stored before; going off keeps it for next time."""
    if phone is not None and phone.strip():
        address = normalise_phone(phone)
        if address != _phone(settings, user):
            user.duty_phone_encrypted = crypto.encrypt(settings.encryption_key, address)
            audit.record(session, user, "duty.phone", now)
    if on_duty and _phone(settings, user) is None:
        raise DutyError("give the phone you can be reached on while on duty")
    if on_duty != user.on_duty:
        user.on_duty = on_duty
        user.duty_since = now if on_duty else None
        audit.record(session, user, "duty.on" if on_duty else "duty.off", now)
        if user.organisation_id is not None:
            bus.publish(session, QueueEvent(user.organisation_id, EventKind.DUTY_CHANGED))
    return state(settings, user)


def on_duty_operators(session: Session, organisation_id: int) -> list[User]:
    """Who of the organisation is on duty now, longest on duty first."""
    return list(session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.on_duty.is_(True),
                           User.active.is_(True))
        .order_by(User.duty_since, User.username)))


def reachable(session: Session, settings: Settings, organisation_ids: Collection[int]
              ) -> list[OnDuty]:
    """The on-duty operators of these organisations with a usable phone: one query."""
    if not organisation_ids:
        return []
    rows = session.execute(
        select(User.id, User.organisation_id, User.duty_phone_encrypted)
        .where(User.organisation_id.in_(list(organisation_ids)), User.on_duty.is_(True),
               User.active.is_(True), User.duty_phone_encrypted.is_not(None))
        .order_by(User.duty_since, User.id))
    found = []
    for user_id, organisation_id, encrypted in rows:
        try:
            address = crypto.decrypt(settings.encryption_key, encrypted or "")
        except crypto.InvalidToken:
            logger.warning("operator %s: duty phone unreadable with the current key", user_id)
            continue
        found.append(OnDuty(user_id, organisation_id or 0, address))
    return found


def phones_to_ring(session: Session, settings: Settings, organisation_ids: Collection[int]
                   ) -> dict[int, tuple[str, ...]]:
    """Each organisation's on-duty operators' numbers to dial (a WhatsApp address rings
    its number), longest on duty first."""
    phones: dict[int, tuple[str, ...]] = {}
    for person in reachable(session, settings, organisation_ids):
        number = strip_channel(person.address)
        if number not in phones.get(person.organisation_id, ()):
            phones[person.organisation_id] = (*phones.get(person.organisation_id, ()), number)
    return phones
