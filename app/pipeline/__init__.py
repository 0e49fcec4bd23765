"""The path of every inbound contact, on one screen.

A channel's adapter (``app.channels.<channel>``) turns its provider's request into an
``Inbound``; then, in this order:

1. pseudonym  who it is, keyed on channel and address, never the address itself
              (``app.privacy.pseudonym``)
2. blocklist  a block in force turns them away (``app.blocklist``)
3. contact    their country (their number's, else the line's: ``app.detection.country``)
              and the contact record (``app.cases``)
4. language   from what they write, their app's language, their country
              (``app.detection.language``)
5. routing    the organisations that can help, best first (``app.routing``)
6. case       the contact becomes a case in the best candidate's queue (``app.cases``)
7. queue      a call rings the candidates' duty numbers (``dial_plans``), a text waits
              for an operator (``enqueue``; ``app.operator_queue`` serves it)

Calls walk it step by step through the IVR (``app.channels.voice.lines``), texts
through the intake dialogue (``app.pipeline.intake``); both call the functions below.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.blocklist import service as blocklist
from app.blocklist.models import CallerBlock
from app.cases import service as cases
from app.cases.models import Case, Channel, Contact
from app.config import Settings
from app.detection.country import caller_country
from app.detection.language import Detection, detect_language
from app.organisations.models import Organisation
from app.privacy.pseudonym import pseudonymise, pseudonymise_id
from app.routing.engine import Candidate, Query, route
from app.routing.needs import Need
from app.routing.snapshot import Directory, HotlineNumber

# Channels whose address is a phone number: one person is one caller across them.
PHONE_CHANNELS = frozenset({Channel.VOICE, Channel.SMS, Channel.WHATSAPP})


@dataclass(frozen=True)
class Inbound:
    """One message or call step as every channel gives it to the core."""

    channel: Channel
    address: str  # who wrote, on that channel: E.164 for phone channels, a chat id, ...
    provider_id: str  # the provider's id of this message (MessageSid, update_id)
    text: str = ""
    media: int = 0  # attachments counted, never fetched
    country: str | None = None  # where the provider says the address is (FromCountry)
    language_hint: str | None = None  # the person's app language (Telegram language_code)
    line: str | None = None  # the hotline address written to (E.164 for phone channels)
    opt_out: str | None = None  # the provider's own opt-out classification (OptOutType)
    # Where replies go, in the provider's own form, if not ``address`` (Twilio writes a
    # WhatsApp sender ``whatsapp:+…``): kept encrypted while a reply is possible.
    reply_to: str | None = None


# --- 1. pseudonym ----------------------------------------------------------------------


def pseudonym(settings: Settings, channel: Channel, address: str) -> str:
    """The keyed pseudonym of who wrote or called. Phone channels share one namespace (a
    person is one caller by voice, SMS and WhatsApp, as in data from before channels were
    adapters); any other channel's ids are keyed with the channel's name, so a chat id can
    never collide with a number."""
    if channel in PHONE_CHANNELS:
        return pseudonymise(address, settings.pseudonym_key)
    return pseudonymise_id(channel.value, address, settings.pseudonym_key)


# --- 2. blocklist ----------------------------------------------------------------------


def block(session: Session, pseudonym: str, now: datetime) -> CallerBlock | None:
    """The block in force against them now, if any."""
    return blocklist.active_block(session, pseudonym, now)


# --- 3. contact ------------------------------------------------------------------------


def own_country(channel: Channel, address: str, provider_country: str | None) -> str | None:
    """Where they are by their own address: a phone number's country (the provider's
    word breaks a tie between countries sharing a code); on other channels, only what the
    provider says."""
    if channel in PHONE_CHANNELS:
        return caller_country(address, provider_country).country
    return provider_country.upper() if provider_country else None


def country(channel: Channel, address: str, provider_country: str | None,
            dialled: HotlineNumber | None) -> str | None:
    """Their own country, else the national line's they reached: a Tajik SIM on the
    Russian line is still a Tajik caller (routing follows the person, not the line)."""
    return (own_country(channel, address, provider_country)
            or (dialled.country if dialled is not None else None))


def contact(session: Session, *, channel: Channel, provider_id: str, pseudonym: str,
            country: str | None, line: str | None, at: datetime) -> Contact:
    """A new contact record for this message. Not looked for first: a retry of one already
    recorded fails on its unique provider id, in the transaction that would have stored
    the webhook's reply, and is given the reply stored the first time
    (``app.webhooks.replies``)."""
    return cases.new_contact(session, sid=provider_id, channel=channel, pseudonym=pseudonym,
                             country=country, at=at, line=line)


# --- 4. language -----------------------------------------------------------------------


def language(text: str, country: str | None, hint: str | None = None) -> Detection:
    """The language they write in; ``hint`` (their app's) breaks ties before ``country``."""
    return detect_language(text, country, hint)


# --- 5. routing ------------------------------------------------------------------------


class Routable(Protocol):
    """What routing asks of a contact, or of a text conversation (which keeps the same)."""

    @property
    def language(self) -> str | None: ...
    @property
    def caller_country(self) -> str | None: ...
    @property
    def need(self) -> Need | None: ...


def query_for(contact: Routable, at: datetime) -> Query:
    return Query(language=contact.language, country=contact.caller_country,
                 need=contact.need, at=at)


def dialable(directory: Directory, query: Query, limit: int) -> list[Candidate]:
    """Candidates that can be rung now: open, with duty numbers, best first."""
    return [c for c in route(directory, query)
            if c.is_open and c.responder.duty_numbers][:limit]


@dataclass(frozen=True)
class DialPlan:
    """One ``<Dial>``: numbers of one organisation rung at once."""

    candidate: Candidate
    numbers: tuple[str, ...]
    reasons: str
    on_duty: bool = False  # operators' own phones: they must see the hotline's number

    @property
    def slug(self) -> str:
        return self.candidate.slug


MAX_NUMBERS_PER_DIAL = 10  # Twilio rings at most ten <Number>s of one <Dial>


OnDutyPhones = Callable[[Collection[int]], Mapping[int, tuple[str, ...]]]


def dial_plans(directory: Directory, query: Query, limit: int,
               on_duty: OnDutyPhones | None = None) -> list[DialPlan]:
    """The dials to try in turn, up to ``limit`` organisations: all of an organisation's
    duty numbers at once (the first to answer takes the call, Twilio stops the others),
    or, for an organisation that rings in order, one dial per number. An organisation in
    ``on_duty`` mode rings its on-duty operators' phones at once, or its duty numbers
    while nobody is on duty (or ``on_duty`` is None: the database is out of reach).
    ``on_duty`` is asked once, and only if such an organisation is among the candidates."""
    candidates = dialable(directory, query, limit)
    wanted = [c.responder.organisation_id for c in candidates
              if c.responder.ring_on_duty and c.responder.organisation_id is not None]
    phones = on_duty(wanted) if on_duty is not None and wanted else {}
    plans = []
    for candidate in candidates:
        numbers = candidate.responder.duty_numbers[:MAX_NUMBERS_PER_DIAL]
        reasons = "; ".join(candidate.reasons)
        staff = phones.get(candidate.responder.organisation_id or 0, ())
        if staff:
            plans.append(DialPlan(candidate, staff[:MAX_NUMBERS_PER_DIAL],
                                  f"{len(staff)} on-duty operator(s); {reasons}", on_duty=True))
            continue
        if not candidate.responder.ring_in_order:
            plans.append(DialPlan(candidate, numbers, reasons))
            continue
        # First, as reasons are cut to fit their column.
        plans.extend(DialPlan(candidate, (number,),
                              f"duty number {n} of {len(numbers)}, in order; {reasons}")
                     for n, number in enumerate(numbers, start=1))
    return plans


# --- 6. case and 7. queue --------------------------------------------------------------


def organisation_id(session: Session, slug: str, directory: Directory | None = None) -> int:
    """The id of the organisation ``slug``: the snapshot's if it has it, else the row's."""
    responder = directory.by_slug(slug) if directory is not None else None
    if responder is not None and responder.organisation_id is not None:
        return responder.organisation_id
    return session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()


def enqueue(session: Session, directory: Directory, contact: Contact, at: datetime) -> Case:
    """Put the contact in the queue of its best candidate, open or not, as a case.

    A caller nobody in the directory matches still gets a case, with a hub if any.
    """
    candidates = route(directory, query_for(contact, at))
    if candidates:
        slug = candidates[0].slug
    elif directory.responders:
        slug = min(directory.responders, key=lambda r: (not r.is_hub, r.priority, r.slug)).slug
    else:
        raise LookupError("the responder directory is empty")
    return cases.open_case(session, contact, organisation_id(session, slug, directory))
