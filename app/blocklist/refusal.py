"""What a blocked sender gets by SMS or WhatsApp: one neutral text, and nothing else.

The text says only that the number cannot take their messages, and the emergency number
(a block made by mistake must not cost a life): not that they are blocked, nor why, nor
anything about the hotline's work. It is sent once per block and channel;
further messages get no answer, so an abuser cannot make the hotline spend SMS on them.
The contact is recorded with the outcome ``blocked`` (for statistics); no conversation is
started, so nothing they write is kept, no case is opened and operators cannot message
them.
"""

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app import countries
from app.blocklist.models import CallerBlock
from app.cases import service as cases
from app.cases.models import Channel, Contact, ContactOutcome
from app.detection.language import detect_language
from app.messaging import texts


def refuse_message(session: Session, block: CallerBlock, *, channel: Channel,
                   provider_id: str, country: str | None, text: str, now: datetime
                   ) -> str | None:
    """Record the blocked message as a contact; the reply to send with it, if any."""
    if _told(session, block, channel):
        return None
    contact = cases.start_contact(session, sid=provider_id, channel=channel,
                                  pseudonym=block.caller_pseudonym, country=country, at=now)
    language = (detect_language(text, country).language
                or countries.likely_languages(country)[0])
    contact.language = language
    contact.outcome = ContactOutcome.BLOCKED
    return texts.text(language, "unavailable", number=countries.emergency_number(country))


def _told(session: Session, block: CallerBlock, channel: Channel) -> bool:
    """Whether a message on this channel was already turned away during this block."""
    return bool(session.scalar(select(exists().where(
        Contact.caller_pseudonym == block.caller_pseudonym, Contact.channel == channel,
        Contact.outcome == ContactOutcome.BLOCKED, Contact.started_at >= block.created_at))))
