"""What is kept of a person who texts, for how long, and who can read it."""

import logging
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import retention
from app.cases.models import Case, Contact
from app.cases.search import earlier_cases
from app.channels.sms.sender import text_senders
from app.messaging import conversations, outbox, texts
from app.messaging.models import Conversation, ConversationState, Message, Outbox, OutboxStatus
from app.privacy import crypto
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING
from tests.messaging.texting import FakeSender, Texter, by_sms

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000201"
FIRST = "Сәлеметсіз бе, маған көмек керек"


def intake(client, settings, number: str = NUMBER) -> Texter:
    t = Texter(client, settings, number)
    for body in (FIRST, "1", "2"):
        t.send(body)
    return t


def the_case(session) -> Case:
    session.expire_all()  # the app wrote through its own sessions
    return session.scalars(select(Case)).one()


def test_number_and_bodies_are_stored_only_encrypted(client, settings, session):
    intake(client, settings)
    conversation = session.scalars(select(Conversation)).one()
    assert crypto.decrypt(settings.encryption_key, conversation.number_encrypted) == NUMBER
    assert conversation.number_purge_after == WEEKDAY_MORNING + timedelta(days=30)
    dumped = dump_all_tables(session)
    assert NUMBER not in dumped and NUMBER[1:] not in dumped
    assert FIRST not in dumped and "Сәлеметсіз" not in dumped


def test_the_thread_is_readable_by_the_cases_organisation_only(client, settings, session):
    intake(client, settings)
    case = the_case(session)
    entries = conversations.thread(session, settings, case, case.organisation_id)
    assert [e.body for e in entries][:2] == [FIRST, entries[1].body]
    assert [e.author for e in entries[::2]] == ["caller"] * 3
    with pytest.raises(PermissionError):
        conversations.thread(session, settings, case, case.organisation_id + 1)


def test_erase_word_deletes_bodies_and_number_at_once_and_stops_replies(client, settings,
                                                                        session):
    t = intake(client, settings)
    case = the_case(session)
    pending = conversations.queue_reply(session, settings, case, "Мы вам напишем", WEEKDAY_MORNING)
    session.commit()
    assert t.send("жою") == texts.text("kk", "erased")  # the Kazakh erase word, confirmed
    session.expire_all()
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.number_encrypted is None and conversation.state is ConversationState.ERASED
    assert all(m.body_encrypted is None for m in session.scalars(select(Message)))
    assert session.get(Outbox, pending.id).status is OutboxStatus.CANCELLED
    kept = the_case(session)  # the anonymised case stays
    assert (kept.language, kept.need, kept.caller_country) == ("kk", "danger", "KZ")
    with pytest.raises(conversations.CannotReply):
        conversations.queue_reply(session, settings, kept, "?", WEEKDAY_MORNING)
    assert "жою" not in [e.body for e in conversations.thread(session, settings, kept,
                                                              kept.organisation_id)]


def test_configured_erase_word_works_too(app, client, settings, session):
    app.state.settings = settings.model_copy(update={"sms_erase_words": ["Pineapple"]})
    t = intake(client, app.state.settings)
    assert t.send("pineapple!") == texts.text("kk", "erased")
    assert session.scalars(select(Conversation)).one().state is ConversationState.ERASED


def test_the_erase_confirmation_is_sent_once_and_kept_with_nothing_erased(client, settings,
                                                                         session):
    t = intake(client, settings)
    messages = session.scalar(select(func.count()).select_from(Message))
    assert t.send("ERASE") == texts.text("kk", "erased")  # in the conversation's language
    session.expire_all()
    # Not a message of the erased conversation, nor queued to send: only the webhook's
    # answer, kept for Twilio's retries under a hash of the message's SID.
    assert session.scalar(select(func.count()).select_from(Message)) == messages
    assert session.scalar(select(func.count()).select_from(Outbox)) == 0
    assert t.resend("ERASE") == texts.text("kk", "erased")  # Twilio retrying: same answer
    assert t.send("ERASE") is None  # nothing is left to erase: no second confirmation


def test_after_erasing_the_next_message_starts_afresh_and_unlinked(client, settings, session):
    t = intake(client, settings)
    erased_case = the_case(session)
    t.send("жою")
    assert t.send(FIRST) == texts.text("kk", "need")  # the language detected again, no menu
    t.send("2")
    session.expire_all()
    new_case = session.scalars(select(Case).where(Case.id != erased_case.id)).one()
    assert new_case.caller_pseudonym != session.get(Case, erased_case.id).caller_pseudonym
    assert earlier_cases(session, new_case) == []  # the operator sees no erased history
    by_state = {c.state: c for c in session.scalars(select(Conversation))}
    old, new = by_state[ConversationState.ERASED], by_state[ConversationState.CHILD]
    assert new.case_id == new_case.id and old.caller_pseudonym != new.caller_pseudonym


def test_the_erase_word_is_answered_in_its_own_language_before_any_is_chosen(client,
                                                                             settings):
    t = Texter(client, settings, "+905300000201")
    t.send_all("?")  # the language menu: no language yet
    assert t.send("sil") == by_sms("tr", "erased")  # Turkish SİL, in GSM-7


def test_stop_is_recorded_on_the_case_and_nothing_is_sent_until_start(client, settings,
                                                                      session):
    t = intake(client, settings)
    assert t.send("STOP") is None
    case = the_case(session)
    assert case.opted_out_at == WEEKDAY_MORNING
    with pytest.raises(conversations.CannotReply):
        conversations.queue_reply(session, settings, case, "Hello", WEEKDAY_MORNING)
    assert t.send("HELP") is None  # Twilio would refuse it (21610)
    assert t.send("START") is None
    assert the_case(session).opted_out_at is None
    conversations.queue_reply(session, settings, the_case(session), "Hello", WEEKDAY_MORNING)


def test_twilio_advanced_opt_out_field_is_honoured(client, settings, session):
    t = intake(client, settings)
    t.send("Стоп", OptOutType="STOP")  # Twilio saw a localised opt-out word
    assert the_case(session).opted_out_at is not None


def test_opt_out_outlives_the_conversation(client, settings, session):
    t = intake(client, settings)
    t.send("STOP")
    conversations.close_for_case(session, the_case(session).id)
    session.commit()
    assert t.send("Сәлеметсіз бе") is None  # a new conversation, still opted out


def test_a_conversation_in_progress_is_continued_though_a_newer_one_has_ended(
        client, settings, session):
    """A message replayed from the journal carries its own time, so the conversation it
    starts may be older than one that has since ended; the caller's next text goes on
    with the one in progress, never a third."""
    t = Texter(client, settings, NUMBER)
    t.send(FIRST)  # its language recognised: the need is asked
    in_progress = session.scalars(select(Conversation)).one()
    ended = Conversation(channel=in_progress.channel, state=ConversationState.CLOSED,
                         caller_pseudonym=in_progress.caller_pseudonym,
                         contact_id=_another_contact(session, in_progress),
                         created_at=in_progress.created_at + timedelta(minutes=5))
    session.add(ended)
    session.commit()
    t.send("1")  # the need: danger
    session.expire_all()
    assert session.scalars(select(func.count()).select_from(Conversation)).one() == 2
    assert session.get(Conversation, in_progress.id).state is ConversationState.CHILD


def _another_contact(session, conversation: Conversation) -> uuid.UUID:
    first = session.get(Contact, conversation.contact_id)
    other = Contact(twilio_sid="SM" + "e" * 32, channel=first.channel,
                    caller_pseudonym=first.caller_pseudonym, started_at=first.started_at)
    session.add(other)
    session.flush()
    return other.id


def test_closing_the_case_erases_the_number_and_a_new_text_starts_afresh(client, settings,
                                                                        session):
    t = intake(client, settings)
    conversations.close_for_case(session, the_case(session).id)
    session.commit()
    assert session.scalars(select(Conversation)).one().number_encrypted is None
    assert t.send("Сәлеметсіз бе, маған тағы көмек керек") is not None
    assert len(session.scalars(select(Conversation)).all()) == 2


def test_retention_purges_numbers_and_bodies_but_keeps_the_case(client, settings, session):
    intake(client, settings)
    early = retention.purge_expired(session, settings, WEEKDAY_MORNING + timedelta(days=29))
    assert (early.numbers, early.bodies, early.webhook_replies) == (0, 0, 3)  # retries are over
    later = retention.purge_expired(session, settings, WEEKDAY_MORNING + timedelta(days=91))
    assert later.numbers == 1 and later.bodies == 6
    assert session.scalars(select(Conversation)).one().number_encrypted is None
    assert the_case(session).need == "danger"


NUMBERS = ["+77010000301", "+992900000301", "+93700000301"]


def test_no_table_or_log_line_holds_a_texters_number(app, client, settings, session, caplog):
    caplog.set_level(logging.DEBUG)
    sender = FakeSender()
    for number in NUMBERS:
        t = intake(client, settings, number)
        t.send(f"Call me back on {number}")  # the body is encrypted like any other
        conversations.queue_reply(session, settings, the_case_of(session, number, settings),
                                  "We will call", WEEKDAY_MORNING)
        session.commit()
    outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings,
        WEEKDAY_MORNING)
    assert sorted(s.to for s in sender.sent) == sorted(NUMBERS)
    t.send("STOP")
    t.send("ERASE")
    dumped = dump_all_tables(session)
    for number in NUMBERS:
        for form in (number, number.lstrip("+"), number[-9:]):
            assert form not in dumped
            assert form not in caplog.text


def the_case_of(session, number: str, settings) -> Case:
    from app.privacy.pseudonym import pseudonymise

    return session.scalars(select(Case).where(
        Case.caller_pseudonym == pseudonymise(number, settings.pseudonym_key))).one()
