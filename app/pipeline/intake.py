"""The text intake dialogue, the same on every text channel (SMS, WhatsApp, Telegram):
language, need, child, then the operators take over.

``handle`` runs an ``app.pipeline.Inbound`` through the core's stages (pseudonym,
blocklist, contact, language, routing, case, queue), with the dialogue in between.

One function per state, each taking the caller's text and returning the reply (or
None: no reply; or several messages, as the language menu by SMS is). A person is
never stuck in a menu: the second reply that is not understood takes the menu's first
choice and moves on, as the voice line does.

Every reply goes out as ``conversations.for_channel`` renders it (by SMS in GSM-7
wherever the language allows), and is stored exactly as sent.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app import countries, pipeline
from app.blocklist import refusal
from app.blocklist.models import CallerBlock
from app.cases import service as cases
from app.cases.models import Case, Channel, Contact, ContactOutcome
from app.config import Settings
from app.events import bus
from app.messaging import conversations, menu, texts
from app.messaging.keywords import Keyword, is_english_keyword, keyword_of, menu_number, normalise
from app.messaging.models import Author, Conversation, ConversationState, Direction
from app.routing.engine import reopening, route
from app.routing.needs import Need
from app.routing.snapshot import Directory

NEEDS = {1: Need.DANGER, 2: Need.LEGAL_AID, 3: Need.INFORMATION, 4: Need.OTHER}
MAX_UNANSWERED = 2
Reply = str | list[str] | None  # a list: several messages, sent in order


@dataclass
class Turn:
    """One inbound message being handled."""

    session: Session
    settings: Settings
    directory: Directory
    now: datetime
    conversation: Conversation
    contact: Contact  # the conversation's contact record (its first message's)
    text: str
    line_languages: tuple[str, ...] = ()  # offered first: the sender's number said nothing
    media: int = 0
    language_hint: str | None = None  # the language of their app, where the channel says
    # Sent ahead of the reply, each its own SMS: the information line's messages.
    information: list[str] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.conversation.language or "en"

    def emergency(self) -> str:
        return countries.emergency_number(self.conversation.caller_country)


def handle(session: Session, settings: Settings, directory: Directory,
           inbound: pipeline.Inbound, now: datetime, reply_later: bool = False, *,
           replayed: bool = False) -> list[str]:
    """Record one inbound message and return the replies to send with it, in order: none,
    one, or the information messages and then the next question. With ``reply_later``
    they go to the outbox instead (a provider whose webhook answer carries no messages,
    Telegram's), and only what the outbox cannot send is returned, to answer at once: the
    erase word's confirmation, a blocked sender's one text. ``replayed``: the message
    comes from the journal (its sender already had the journal's reply)."""
    pseudonym = pipeline.pseudonym(settings, inbound.channel, inbound.address)
    keyword = _keyword(inbound, settings)
    if keyword is Keyword.ERASE:
        return _erase(session, inbound, pseudonym, now, replayed)
    # A message replayed from the journal came while no block could be checked, and its
    # sender was told someone would write: it goes through, as calls do then.
    block = None if replayed else pipeline.block(session, pseudonym, now)
    if block is not None:
        return _refuse(session, block, inbound, now)
    own_country = pipeline.own_country(inbound.channel, inbound.address, inbound.country)
    dialled = directory.line(inbound.line) if own_country is None else None
    conversation, contact, case = _conversation(
        session, inbound, pseudonym, own_country or (dialled.country if dialled else None), now)
    conversations.remember_number(conversation, settings, inbound.reply_to or inbound.address,
                                  now)
    conversations.record(session, conversation, settings, direction=Direction.IN,
                         author=Author.CALLER, body=inbound.text, now=now,
                         sid=inbound.provider_id)
    turn = Turn(session, settings, directory, now, conversation, contact, inbound.text,
                dialled.languages if dialled else (), media=inbound.media,
                language_hint=inbound.language_hint)
    if inbound.media:
        turn.contact.media += inbound.media
    if case is not None:  # a new case is announced when it opens
        _announce(session, case)
    reply = _respond(turn, keyword)
    replies = [conversations.outgoing(conversation, body)
               for body in [*turn.information, *_messages(reply)]]
    _keep_replies(turn, replies, reply_later)
    return [] if reply_later else replies


def _conversation(session: Session, inbound: pipeline.Inbound, pseudonym: str,
                  country: str | None, now: datetime
                  ) -> tuple[Conversation, Contact, Case | None]:
    """The person's conversation on this channel with its contact and case, or a new one
    with its contact record (``country``: theirs, else the dialled line's)."""
    last = conversations.current_or_latest(session, pseudonym, inbound.channel)
    if last is not None and last.conversation.state.active:
        return last.conversation, last.contact, last.case
    contact = pipeline.contact(session, channel=inbound.channel,
                               provider_id=inbound.provider_id, pseudonym=pseudonym,
                               country=country, line=inbound.line, at=now)
    previous = last.conversation if last is not None else None
    return conversations.start(session, contact, previous, now=now), contact, None


def _keep_replies(turn: Turn, replies: list[str], reply_later: bool) -> None:
    """Each reply recorded as sent in the webhook's answer, or queued in the outbox."""
    for body in replies:
        if reply_later:
            conversations.send_later(turn.session, turn.settings, turn.conversation, body,
                                     turn.now, Author.AUTO)
        else:
            conversations.record(turn.session, turn.conversation, turn.settings,
                                 direction=Direction.OUT, author=Author.AUTO, body=body,
                                 now=turn.now)


def _refuse(session: Session, block: CallerBlock, inbound: pipeline.Inbound, now: datetime
            ) -> list[str]:
    """A blocked sender: recorded as a contact, and told once that the number cannot take
    their messages (``app.blocklist.refusal``)."""
    country = pipeline.own_country(inbound.channel, inbound.address, inbound.country)
    refused = refusal.refuse_message(session, block, channel=inbound.channel,
                                     provider_id=inbound.provider_id, country=country,
                                     text=inbound.text, now=now)
    return [conversations.for_channel(refused, inbound.channel, None)] if refused else []


def _announce(session: Session, case: Case) -> None:
    """Tell the case's open console pages that the caller wrote (the event says which
    case, never what)."""
    bus.publish(session, bus.QueueEvent(case.organisation_id, bus.EventKind.MESSAGE_INBOUND,
                                        case.id, case.reference))


def reply_without_database(inbound: pipeline.Inbound, settings: Settings,
                           country: str | None) -> str | None:
    """What to answer while the database is down: no conversation state to go on, so
    say a person will write back (true: the message is replayed into the queue later),
    in the language the text is written in, or the country's (``pipeline.country``)."""
    keyword = _keyword(inbound, settings)
    if keyword in (Keyword.STOP, Keyword.START, Keyword.ERASE):
        return None  # the provider confirms STOP and START; ERASE is answered by silence
    language = (pipeline.language(inbound.text, country, inbound.language_hint).language
                or countries.likely_languages(country)[0])
    if keyword is Keyword.HELP and is_english_keyword(inbound.text):
        language = "en"  # HELP or INFO, in English: answered in English
    number = countries.emergency_number(country)
    if keyword is Keyword.HELP:
        reply = texts.help_text(language, number)
    elif inbound.media and not inbound.text.strip():
        reply = texts.text(language, "media")
    else:
        reply = texts.text(language, "confirmed", number=number)
    return conversations.for_channel(reply, inbound.channel, language)


def _keyword(inbound: pipeline.Inbound, settings: Settings) -> Keyword | None:
    return keyword_of(inbound.text, settings.sms_erase_words, inbound.opt_out,
                      carrier_words=inbound.channel in pipeline.PHONE_CHANNELS)


def _messages(reply: Reply) -> list[str]:
    if reply is None:
        return []
    return [reply] if isinstance(reply, str) else reply


def _erase(session: Session, inbound: pipeline.Inbound, pseudonym: str, now: datetime,
           replayed: bool) -> list[str]:
    """The erase word: everything of this caller forgotten, and one confirmation in
    their language. It is sent in the webhook's answer only, never recorded as a message:
    nothing of it is linked to what was erased."""
    last = conversations.latest(session, pseudonym, inbound.channel)
    language = _erase_language(inbound, last)
    if not conversations.erase_caller(session, pseudonym, now) or replayed:
        return []  # nothing was left to erase; or replayed: no number left to write to
    if last is not None and last.opted_out_at is not None:
        return []  # they opted out: the provider would refuse it
    if pipeline.block(session, pseudonym, now) is not None:
        return []  # erased all the same, but a blocked sender is not written to
    return [conversations.for_channel(texts.text(language, "erased"), inbound.channel,
                                      language)]


def _erase_language(inbound: pipeline.Inbound, last: Conversation | None) -> str:
    """The language of the caller's last conversation, else the one the erase word is in
    (the country's languages first: Turkish and Azerbaijani share SİL), else the
    country's first."""
    if last is not None and last.language:
        return last.language
    order = countries.language_menu_order(
        pipeline.own_country(inbound.channel, inbound.address, inbound.country))
    word = normalise(inbound.text)
    written_in = [code for code in order
                  if normalise(texts.keyword(code, texts.ERASE_KEYWORD)) == word]
    return (written_in or list(order))[0]


def _respond(turn: Turn, keyword: Keyword | None) -> Reply:
    conversation = turn.conversation
    if keyword is Keyword.STOP:
        conversations.set_opted_out(turn.session, conversation, turn.now)
        return None  # the provider confirms the opt-out itself
    if keyword is Keyword.START:
        conversations.set_opted_out(turn.session, conversation, None)
        if conversation.channel in pipeline.PHONE_CHANNELS:
            return None  # and confirms the opt-in itself
        keyword = None  # a messenger's start (Telegram's /start): nobody else answers it
    if conversation.opted_out_at is not None:
        return None  # the provider would refuse it (Twilio's error 21610)
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
        detection = pipeline.language(turn.text, conversation.caller_country,
                                      turn.language_hint)
        if detection.language is not None:
            return _choose_language(turn, detection.language)
        return _language_menu(conversation, detection.candidates, turn.line_languages)
    menu = conversation.menu.split(",")
    number = menu_number(turn.text)
    if number is not None and 1 <= number <= len(menu):
        return _choose_language(turn, menu[number - 1])
    # No app-language hint here: they have the menu, and a number off it is no choice.
    detection = pipeline.language(turn.text, conversation.caller_country)
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
        turn.contact.child = True
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
    turn.contact.language = language
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
    # The conversation's own language, country and need: its contact's are the same, and
    # reading them would cost the step a statement.
    candidates = route(turn.directory, pipeline.query_for(turn.conversation, turn.now))
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
    contact = turn.contact
    contact.need, contact.language = need, conversation.language
    case = pipeline.enqueue(turn.session, turn.directory, contact, turn.now)
    contact.outcome = ContactOutcome.QUEUED
    conversations.attach_case(turn.session, conversation, case)
