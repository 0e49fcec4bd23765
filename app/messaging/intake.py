"""The text intake dialogue (SMS and WhatsApp alike): language, need, child, then the
operators take over.

One function per state, each taking the caller's text and returning the reply (or
None: no reply; or several messages, as the language menu by SMS is). A person is
never stuck in a menu: the second reply that is not understood takes the menu's first
choice and moves on, as the voice line does.

Every reply goes out as ``conversations.for_channel`` renders it (by SMS in GSM-7
wherever the language allows), and is stored exactly as sent.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app import countries, pipeline
from app.blocklist import refusal
from app.blocklist import service as blocklist
from app.cases import service as cases
from app.cases.models import Case, Channel, Contact, ContactOutcome
from app.config import Settings
from app.detection.country import caller_country, channel_prefix, line_number
from app.detection.language import detect_language
from app.events import bus
from app.messaging import conversations, menu, texts
from app.messaging.keywords import Keyword, is_english_keyword, keyword_of, menu_number, normalise
from app.messaging.models import Author, Conversation, ConversationState, Direction
from app.privacy.pseudonym import pseudonymise
from app.routing.engine import reopening, route
from app.routing.needs import Need
from app.routing.snapshot import Directory

NEEDS = {1: Need.DANGER, 2: Need.LEGAL_AID, 3: Need.INFORMATION, 4: Need.OTHER}
MAX_UNANSWERED = 2
MAX_MEDIA = 10  # Twilio's own limit of attachments to one message
Reply = str | list[str] | None  # a list: several messages, sent in order


@dataclass(frozen=True)
class Inbound:
    sid: str
    from_: str
    body: str
    from_country: str | None = None
    opt_out_type: str | None = None
    to: str | None = None  # the hotline address written to (``To``)
    media: int = 0  # pictures or recordings attached (``NumMedia``): counted, never fetched

    @property
    def line(self) -> str | None:
        """The hotline number written to, as E.164 (a WhatsApp ``To`` without its
        ``whatsapp:``, as ``From`` is stored)."""
        return line_number(self.to)

    @property
    def channel(self) -> Channel:
        """WhatsApp when Twilio writes the sender as ``whatsapp:+…``, else SMS. Derived
        from the address, so a message replayed from the journal keeps its channel."""
        return Channel.WHATSAPP if channel_prefix(self.from_) == "whatsapp" else Channel.SMS


@dataclass
class Turn:
    """One inbound message being handled."""

    session: Session
    settings: Settings
    directory: Directory
    now: datetime
    conversation: Conversation
    text: str
    line_languages: tuple[str, ...] = ()  # offered first: the sender's number said nothing
    media: int = 0
    # Sent ahead of the reply, each its own SMS: the information line's messages.
    information: list[str] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.conversation.language or "en"

    def emergency(self) -> str:
        return countries.emergency_number(self.conversation.caller_country)


def handle(session: Session, settings: Settings, directory: Directory, inbound: Inbound,
           now: datetime, reply_later: bool = False) -> list[str]:
    """Record one inbound message and return the replies to send with it, in order: none,
    one, or the information messages and then the next question. With ``reply_later`` (a
    message replayed from the journal) they go to the outbox instead."""
    pseudonym = pseudonymise(inbound.from_, settings.pseudonym_key)
    keyword = keyword_of(inbound.body, settings.sms_erase_words, inbound.opt_out_type)
    if keyword is Keyword.ERASE:
        return _erase(session, inbound, pseudonym, now, reply_later)
    # A message replayed from the journal came while no block could be checked, and its
    # sender was told someone would write: it goes through, as calls do then.
    block = None if reply_later else blocklist.active_block(session, pseudonym, now)
    if block is not None:
        refused = refusal.refuse_message(session, block, inbound, now)
        return [conversations.for_channel(refused, inbound.channel, None)] if refused else []
    conversation = conversations.current(session, pseudonym, inbound.channel)
    own_country = caller_country(inbound.from_, inbound.from_country).country
    dialled = directory.line(inbound.line) if own_country is None else None
    if conversation is None:
        country = own_country or (dialled.country if dialled else None)
        conversation = conversations.start(session, sid=inbound.sid, channel=inbound.channel,
                                           pseudonym=pseudonym, country=country, now=now,
                                           line=inbound.line)
    conversations.remember_number(conversation, settings, inbound.from_, now)
    conversations.record(session, conversation, settings, direction=Direction.IN,
                         author=Author.CALLER, body=inbound.body, now=now, sid=inbound.sid)
    if inbound.media:
        session.get_one(Contact, conversation.contact_id).media += inbound.media
    if conversation.case_id is not None:  # a new case is announced when it opens
        _announce(session, conversation.case_id)
    turn = Turn(session, settings, directory, now, conversation, inbound.body,
                dialled.languages if dialled else (), media=inbound.media)
    reply = _respond(turn, keyword)
    replies = [conversations.outgoing(conversation, body)
               for body in [*turn.information, *_messages(reply)]]
    for body in replies:
        if reply_later:
            conversations.send_later(session, settings, conversation, body, now, Author.AUTO)
        else:
            conversations.record(session, conversation, settings, direction=Direction.OUT,
                                 author=Author.AUTO, body=body, now=now)
    return [] if reply_later else replies


def _announce(session: Session, case_id: uuid.UUID) -> None:
    """Tell the case's open console pages that the caller wrote (the event says which
    case, never what)."""
    case = session.get_one(Case, case_id)
    bus.publish(session, bus.QueueEvent(case.organisation_id, bus.EventKind.MESSAGE_INBOUND,
                                        case.id, case.reference))


def reply_without_database(inbound: Inbound, settings: Settings, country: str | None
                           ) -> str | None:
    """What to answer while the database is down: no conversation state to go on, so
    say a person will write back (true: the message is replayed into the queue later),
    in the language the text is written in, or the country's first."""
    keyword = keyword_of(inbound.body, settings.sms_erase_words, inbound.opt_out_type)
    if keyword in (Keyword.STOP, Keyword.START, Keyword.ERASE):
        return None  # Twilio confirms STOP and START; ERASE is answered by silence
    language = (detect_language(inbound.body, country).language
                or countries.likely_languages(country)[0])
    if keyword is Keyword.HELP and is_english_keyword(inbound.body):
        language = "en"  # HELP or INFO, in English: answered in English
    number = countries.emergency_number(country)
    if keyword is Keyword.HELP:
        reply = texts.help_text(language, number)
    elif inbound.media and not inbound.body.strip():
        reply = texts.text(language, "media")
    else:
        reply = texts.text(language, "confirmed", number=number)
    return conversations.for_channel(reply, inbound.channel, language)


def media_count(num_media: str | None) -> int:
    """Twilio's ``NumMedia`` as a count (0 when absent or not a number)."""
    count = int(num_media) if num_media and num_media.strip().isdecimal() else 0
    return min(count, MAX_MEDIA)


def _messages(reply: Reply) -> list[str]:
    if reply is None:
        return []
    return [reply] if isinstance(reply, str) else reply


def _erase(session: Session, inbound: Inbound, pseudonym: str, now: datetime,
           reply_later: bool) -> list[str]:
    """The erase word: everything of this caller forgotten, and one confirmation in
    their language. It is sent in the webhook's answer only, never recorded as a message:
    nothing of it is linked to what was erased."""
    last = conversations.latest(session, pseudonym, inbound.channel)
    language = _erase_language(inbound, last)
    if not conversations.erase_caller(session, pseudonym, now) or reply_later:
        return []  # nothing was left to erase; or replayed: no number left to write to
    if last is not None and last.opted_out_at is not None:
        return []  # they sent STOP: Twilio would refuse it (error 21610)
    if blocklist.active_block(session, pseudonym, now) is not None:
        return []  # erased all the same, but a blocked sender is not written to
    return [conversations.for_channel(texts.text(language, "erased"), inbound.channel,
                                      language)]


def _erase_language(inbound: Inbound, last: Conversation | None) -> str:
    """The language of the caller's last conversation, else the one the erase word is in
    (the country's languages first: Turkish and Azerbaijani share SİL), else the
    country's first."""
    if last is not None and last.language:
        return last.language
    order = countries.language_menu_order(
        caller_country(inbound.from_, inbound.from_country).country)
    word = normalise(inbound.body)
    written_in = [code for code in order
                  if normalise(texts.keyword(code, texts.ERASE_KEYWORD)) == word]
    return (written_in or list(order))[0]


def _respond(turn: Turn, keyword: Keyword | None) -> Reply:
    conversation = turn.conversation
    if keyword is Keyword.STOP:
        conversations.set_opted_out(turn.session, conversation, turn.now)
        return None  # Twilio confirms the opt-out itself
    if keyword is Keyword.START:
        conversations.set_opted_out(turn.session, conversation, None)
        return None  # and confirms the opt-in itself
    if conversation.opted_out_at is not None:
        return None  # Twilio would refuse it (error 21610)
    if turn.media and not turn.text.strip():
        return _ask_for_words(turn)
    if keyword is Keyword.HELP:
        if conversation.language is None and is_english_keyword(turn.text):
            # Whoever wrote HELP or INFO reads English; a language chosen already stays.
            return texts.help_text("en", turn.emergency())
        conversation.language = (conversation.language
                                 or _menu_order(conversation, (), turn.line_languages)[0])
        return texts.help_text(conversation.language, turn.emergency())
    if keyword is Keyword.LANG:
        return _language_menu(conversation, (), turn.line_languages)
    return STATES[conversation.state](turn)


# --- states ---------------------------------------------------------------------------


def on_language(turn: Turn) -> Reply:
    conversation = turn.conversation
    if conversation.menu is None:  # first message: understand it if we can
        detection = detect_language(turn.text, conversation.caller_country)
        if detection.language is not None:
            return _choose_language(turn, detection.language)
        return _language_menu(conversation, detection.candidates, turn.line_languages)
    menu = conversation.menu.split(",")
    number = menu_number(turn.text)
    if number is not None and 1 <= number <= len(menu):
        return _choose_language(turn, menu[number - 1])
    detection = detect_language(turn.text, conversation.caller_country)
    if detection.language is not None:
        return _choose_language(turn, detection.language)
    if _not_understood(conversation):
        return _choose_language(turn, menu[0])
    return _language_menu(conversation, tuple(menu), turn.line_languages)


def on_need(turn: Turn) -> str | None:
    number = menu_number(turn.text)
    need = NEEDS.get(number) if number is not None else None
    if need is None:
        if not _not_understood(turn.conversation):
            return texts.text(turn.language, "need")
        need = Need.OTHER  # an operator will read what they wrote
    if need is Need.INFORMATION:
        turn.information = _information(turn)
    _open_case(turn, need)
    turn.conversation.state = ConversationState.CHILD
    return texts.text(turn.language, "child")


def on_child(turn: Turn) -> str | None:
    conversation = turn.conversation
    if menu_number(turn.text) == 1:
        conversation.child = True
        contact = turn.session.get_one(Contact, conversation.contact_id)
        contact.child = True
        if conversation.case_id is not None:
            cases.mark_child(turn.session, conversation.case_id)
    conversation.state = ConversationState.OPEN
    return _confirmation(turn)


def on_open(_turn: Turn) -> str | None:
    return None  # the operators answer, through the outbox


STATES = {ConversationState.LANGUAGE: on_language, ConversationState.NEED: on_need,
          ConversationState.CHILD: on_child, ConversationState.OPEN: on_open}


# --- helpers --------------------------------------------------------------------------


def _choose_language(turn: Turn, language: str) -> str:
    conversation = turn.conversation
    conversation.language = language
    conversation.menu = None
    conversation.unanswered = 0
    turn.session.get_one(Contact, conversation.contact_id).language = language
    if conversation.case_id is not None:  # switched language after intake
        conversation.state = ConversationState.OPEN
        return texts.text(language, "confirmed", number=turn.emergency())
    conversation.state = ConversationState.NEED
    return texts.text(language, "need")


def _language_menu(conversation: Conversation, first: tuple[str, ...],
                   line_languages: tuple[str, ...] = ()) -> list[str]:
    """How to choose, in the likely languages and English, then the numbered languages
    (see ``app.messaging.menu``): by SMS as few segments as it can take."""
    likely = (countries.likely_languages(conversation.caller_country)
              if conversation.caller_country else (*line_languages[:2], "ru"))
    built = menu.language_menu(_menu_order(conversation, first, line_languages),
                               tuple(dict.fromkeys([*likely, "en"])),
                               sms=conversation.channel is Channel.SMS)
    conversation.state = ConversationState.LANGUAGE
    conversation.menu = ",".join(built.order)
    return built.messages


def _menu_order(conversation: Conversation, first: tuple[str, ...] = (),
                line_languages: tuple[str, ...] = ()) -> list[str]:
    """The detector's candidates, then the line's languages when the sender's number said
    nothing, then the caller's country's languages, then the rest."""
    order = countries.language_menu_order(conversation.caller_country)
    return list(dict.fromkeys([*first, *line_languages, *order]))


def _confirmation(turn: Turn) -> str:
    """Someone will write back; when nobody is on duty at all (night, holiday), said so,
    with when someone is back if within a day."""
    contact = turn.session.get_one(Contact, turn.conversation.contact_id)
    candidates = route(turn.directory, pipeline.query_for(contact, turn.now))
    if any(candidate.is_open for candidate in candidates):
        return texts.text(turn.language, "confirmed", number=turn.emergency())
    return texts.closed_text(turn.language, turn.emergency(), reopening(candidates, turn.now))


def _ask_for_words(turn: Turn) -> str:
    """A picture or recording without text: it is never opened, so ask for words, in the
    caller's language or the one most likely; the dialogue stays where it was."""
    conversation = turn.conversation
    language = conversation.language or _menu_order(conversation, (), turn.line_languages)[0]
    return texts.text(language, "media")


def _information(turn: Turn) -> list[str]:
    """The directory's messages for the texter's country (their number's, else the line's)
    in their language, else the generic ones."""
    country = turn.conversation.caller_country
    return (list(turn.directory.information(country, turn.language))
            or texts.information(turn.language, country))


def _not_understood(conversation: Conversation) -> bool:
    """Count a reply we could not use; True once the caller has had enough menus."""
    conversation.unanswered += 1
    if conversation.unanswered >= MAX_UNANSWERED:
        conversation.unanswered = 0
        return True
    return False


def _open_case(turn: Turn, need: Need) -> None:
    conversation = turn.conversation
    conversation.need = need
    contact = turn.session.get_one(Contact, conversation.contact_id)
    contact.need, contact.language = need, conversation.language
    case = pipeline.enqueue(turn.session, turn.directory, contact, turn.now)
    contact.outcome = ContactOutcome.QUEUED
    conversations.attach_case(turn.session, conversation, case)
