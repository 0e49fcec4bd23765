"""A person writing to the hotline's Telegram bot: the webhook, the shared intake, the
outbox to sendMessage (a local fake of the Bot API), and what is (not) kept."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases.models import Case, Channel, Contact, ContactOutcome
from app.messaging import texts
from app.messaging.models import Conversation, ConversationState, Message, Outbox, OutboxStatus
from app.privacy import crypto
from app.users.models import Role
from app.webhooks.replies import WebhookReply
from tests.channels.telegram.chat import HEADER, SECRET, Chat, deliver, post
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING
from tests.fake_telegram import BLOCKED, SERVER_ERROR, TOKEN, TOO_MANY
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
CHAT_ID = 5550001234
RUSSIAN = "Здравствуйте, мне нужна помощь"


def count(session, model, *where) -> int:
    session.expire_all()  # the app wrote through its own sessions
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def intake(client, chat_id: int = CHAT_ID) -> Chat:
    """Russian, then 1 (danger), then 2 (no child): a case in the queue."""
    chat = Chat(client, chat_id)
    for text in (RUSSIAN, "1", "2"):
        assert chat.send(text) == {}
    return chat


def the_case(session) -> Case:
    session.expire_all()
    return session.scalars(select(Case)).one()


# --- the door ------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
def test_a_request_without_the_bots_secret_is_refused_and_changes_nothing(client, session,
                                                                          secret):
    response = post(client, Chat(client, CHAT_ID).update(RUSSIAN), secret=secret)
    assert response.status_code == 403
    assert count(session, Contact) == 0 and count(session, WebhookReply) == 0


@pytest.mark.parametrize("unset", ["telegram_bot_token", "telegram_webhook_secret"])
def test_without_a_bot_configured_the_route_refuses_even_its_own_secret(app, client, session,
                                                                        settings, unset):
    app.state.settings = settings.model_copy(update={unset: ""})
    for secret in (SECRET, ""):
        response = post(client, Chat(client, CHAT_ID).update(RUSSIAN), secret=secret)
        assert response.status_code == 403, response.text
    assert count(session, Contact) == 0


def test_a_body_that_is_not_an_update_is_refused_clearly(client, session):
    headers = {HEADER: SECRET, "Content-Type": "application/json"}
    not_json = client.post("/telegram/webhook", content=b"{update", headers=headers)
    assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]
    for body in ({"message": {"text": "hi"}}, {"update_id": "12"}, {"update_id": -1}, [1]):
        response = post(client, body)
        assert response.status_code == 422, body
        assert "update" in response.json()["detail"][0]["msg"].lower()
    assert count(session, Contact) == 0


def ignored_updates(chat: Chat) -> list[dict]:
    private = chat.update(RUSSIAN)
    group = chat.update(RUSSIAN, chat={"id": -100123, "type": "supergroup", "title": "G"})
    bot = chat.update(RUSSIAN)
    bot["message"]["from"]["is_bot"] = True
    service = chat.update(None, pinned_message={"message_id": 1})
    return [
        {"update_id": private["update_id"] + 1000, "edited_message": private["message"]},
        group, bot, service,
        {"update_id": 1, "channel_post": private["message"] | {"chat": {"id": -1001,
                                                                       "type": "channel"}}},
        {"update_id": 2, "callback_query": {"id": "9", "from": private["message"]["from"],
                                            "data": "1"}},
        {"update_id": 3, "my_chat_member": {"chat": private["message"]["chat"]}},
    ]


def test_edits_groups_channels_callbacks_bots_and_notices_are_taken_and_dropped(client,
                                                                               session):
    for update in ignored_updates(Chat(client, CHAT_ID)):
        response = post(client, update)
        assert (response.status_code, response.json()) == (200, {}), update
    assert count(session, Contact) == 0 and count(session, Message) == 0
    assert count(session, WebhookReply) == 0


# --- the intake --------------------------------------------------------------------------


def test_a_chat_runs_the_intake_and_its_replies_leave_by_send_message(app, client, session,
                                                                      telegram):
    chat = Chat(client, CHAT_ID)
    assert chat.send(RUSSIAN) == {}  # answered at once; the reply goes by the outbox
    assert deliver(app).sent
    assert telegram.sent() == [(str(CHAT_ID), texts.text("ru", "need"))]
    chat.send("1")
    chat.send("2")
    deliver(app)
    assert [text for _, text in telegram.sent()][1:] == [
        texts.text("ru", "child"), texts.text("ru", "confirmed", number="112")]
    case = the_case(session)
    assert (case.channel, case.language, case.need, case.status) == (
        Channel.TELEGRAM, "ru", "danger", "queued")
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.state is ConversationState.OPEN
    assert count(session, Message) == 6  # three in, three out, each kept as sent


def test_the_apps_language_decides_a_text_too_short_to_tell(app, client, telegram):
    Chat(client, CHAT_ID, language_code="ky").send("Салам")
    Chat(client, CHAT_ID + 1).send("Салам")  # no hint: the language menu
    deliver(app)
    first, *menu = telegram.sent()
    assert first == (str(CHAT_ID), texts.text("ky", "need"))
    assert menu and all(chat == str(CHAT_ID + 1) for chat, _ in menu)
    assert texts.text("ky", "need") not in [text for _, text in menu]


def test_a_clear_text_wins_over_the_apps_language(app, client, telegram):
    Chat(client, CHAT_ID, language_code="en").send(RUSSIAN)
    deliver(app)
    assert telegram.sent() == [(str(CHAT_ID), texts.text("ru", "need"))]


def test_a_picture_is_counted_never_fetched(app, client, session, telegram):
    chat = Chat(client, CHAT_ID)
    chat.send(RUSSIAN)
    chat.send(None, photo=[{"file_id": "AgACAgIAAxkBAAIB", "width": 90, "height": 90}])
    deliver(app)
    assert session.scalars(select(Contact)).one().media == 1
    assert [c.method for c in telegram.calls] == ["sendMessage", "sendMessage"]  # no getFile
    assert telegram.sent()[-1][1] == texts.text("ru", "media")


def test_telegram_retrying_an_update_changes_nothing_and_gets_the_same_answer(
        app, client, session, telegram):
    chat = Chat(client, CHAT_ID)
    first = chat.send(RUSSIAN)
    assert chat.resend() == first
    assert count(session, Message) == 2 and count(session, Outbox) == 1
    erased = chat.send("удалить")
    assert erased["method"] == "sendMessage"
    assert chat.resend() == erased  # the stored answer, though the chat id is forgotten


def test_the_case_reaches_the_queue_and_an_operators_reply_reaches_the_chat(
        app, client, session, telegram):
    intake(client)
    case = the_case(session)
    operator = make_person(client, session, "dana", organisation=_slug(session, case))
    assert client.post(f"/api/cases/{case.id}/claim", headers=operator.headers
                       ).status_code == 200
    reply = client.post(f"/api/cases/{case.id}/messages", json={"body": "Мы здесь"},
                        headers=operator.headers)
    assert reply.status_code == 202, reply.text
    deliver(app)
    assert telegram.sent()[-1] == (str(CHAT_ID), "Мы здесь")


def _slug(session, case: Case) -> str:
    from app.organisations.models import Organisation

    return session.get_one(Organisation, case.organisation_id).slug


# --- the outbox ----------------------------------------------------------------------------


def test_flood_limits_and_outages_are_retried_until_telegram_takes_the_reply(
        app, client, session, telegram):
    Chat(client, CHAT_ID).send(RUSSIAN)
    telegram.answer_next(TOO_MANY, SERVER_ERROR)
    assert deliver(app).retrying
    row = session.scalars(select(Outbox)).one()
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "telegram 429")
    for later in (1, 2):  # the backoff's 15 s, then 30 s
        app.state.clock = lambda minutes=later: WEEKDAY_MORNING + timedelta(minutes=minutes)
        deliver(app)
    assert count(session, Outbox, Outbox.status == OutboxStatus.SENT) == 1
    assert telegram.sent() == [(str(CHAT_ID), texts.text("ru", "need"))]


def test_a_person_who_blocked_the_bot_has_opted_out_and_is_written_to_no_more(
        app, client, session, telegram):
    intake(client)
    telegram.answer_next(BLOCKED)
    report = deliver(app)
    assert report.cancelled and not report.sent
    case = the_case(session)
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.opted_out_at == WEEKDAY_MORNING and case.opted_out_at is not None
    assert count(session, Outbox, Outbox.status.in_(["pending", "sending"])) == 0
    operator = make_person(client, session, "dana", organisation=_slug(session, case))
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    refused = client.post(f"/api/cases/{case.id}/messages", json={"body": "?"},
                          headers=operator.headers)
    assert refused.status_code == 409


def test_restarting_the_bot_after_blocking_it_lets_operators_write_again(
        app, client, session, telegram):
    chat = intake(client)
    telegram.answer_next(BLOCKED)
    deliver(app)
    assert chat.send("/start") == {}  # what Telegram's app sends on "Restart bot"
    case = the_case(session)
    assert case.opted_out_at is None
    assert session.scalars(select(Conversation)).one().opted_out_at is None
    operator = make_person(client, session, "dana", organisation=_slug(session, case))
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    reply = client.post(f"/api/cases/{case.id}/messages", json={"body": "Мы здесь"},
                        headers=operator.headers)
    assert reply.status_code == 202, reply.text
    deliver(app)
    assert telegram.sent()[-1] == (str(CHAT_ID), "Мы здесь")


@pytest.mark.parametrize("word", ["STOP", "Stop!", "cancel", "end"])
def test_stop_in_a_chat_is_words_for_the_operator_not_an_opt_out(app, client, session,
                                                                   telegram, word):
    chat = intake(client)
    chat.send(word)  # by SMS the carrier would opt them out; here leaving is blocking
    case = the_case(session)
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.opted_out_at is None and case.opted_out_at is None
    assert count(session, Message, Message.direction == "in") == 4  # in the operator's thread
    operator = make_person(client, session, "dana", organisation=_slug(session, case))
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    reply = client.post(f"/api/cases/{case.id}/messages", json={"body": "Мы здесь"},
                        headers=operator.headers)
    assert reply.status_code == 202, reply.text


# --- /start --------------------------------------------------------------------------------


def test_opening_the_bot_is_answered_with_the_first_question_in_the_apps_language(
        app, client, session, telegram):
    assert Chat(client, CHAT_ID, language_code="ru").send("/start") == {}
    Chat(client, CHAT_ID + 1).send("/start hotline-poster-kz")  # a deep link, no language
    deliver(app)
    first, *menu = telegram.sent()
    assert first == (str(CHAT_ID), texts.text("ru", "need"))
    assert menu and {chat for chat, _ in menu} == {str(CHAT_ID + 1)}
    assert "hotline-poster-kz" not in dump_all_tables(session)


# --- erase word, blocklist -----------------------------------------------------------------


def test_the_erase_word_forgets_the_chat_and_is_confirmed_in_the_webhooks_answer(
        app, client, session, telegram):
    chat = intake(client)
    answer = chat.send("удалить")
    assert answer == {"method": "sendMessage", "chat_id": CHAT_ID,
                      "text": texts.text("ru", "erased")}
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.state is ConversationState.ERASED
    assert conversation.number_encrypted is None
    assert all(m.body_encrypted is None for m in session.scalars(select(Message)))
    deliver(app)
    assert texts.text("ru", "erased") not in [text for _, text in telegram.sent()]


def test_a_blocked_person_is_told_once_in_the_answer_and_nothing_is_kept(
        app, client, session, telegram):
    chat = intake(client)
    case = the_case(session)
    admin = make_person(client, session, "root", Role.ADMIN)
    assert client.post("/api/blocklist", headers=admin.headers, json={
        "case_reference": case.reference, "days": 7, "reason": "Threatened the operator"}
    ).status_code == 201
    messages = count(session, Message)
    deliver(app)
    sent = len(telegram.sent())
    assert chat.send("Я снова пишу") == {
        "method": "sendMessage", "chat_id": CHAT_ID,
        "text": texts.text("ru", "unavailable", number="112")}
    assert chat.send("Ещё раз") == {}
    assert count(session, Message) == messages
    assert count(session, Contact, Contact.outcome == ContactOutcome.BLOCKED) == 1
    deliver(app)
    assert len(telegram.sent()) == sent


# --- privacy -------------------------------------------------------------------------------


def test_no_name_username_or_phone_is_kept_or_logged_and_the_chat_id_only_encrypted(
        app, client, session, settings, caplog):
    caplog.set_level(logging.DEBUG)
    chat = intake(client)
    chat.send(None, contact={"phone_number": "+77010000999", "first_name": "Gulnara",
                             "last_name": "Karimova", "user_id": CHAT_ID})
    deliver(app)
    conversation = session.scalars(select(Conversation)).one()
    assert crypto.decrypt(settings.encryption_key, conversation.number_encrypted) == str(
        CHAT_ID)
    assert conversation.number_purge_after == WEEKDAY_MORNING + timedelta(
        days=settings.sms_number_retention_days)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for kept in (dump_all_tables(session), logged):
        for secret in ("Gulnara", "Karimova", "gulnara_k1987", "77010000999", str(CHAT_ID),
                       RUSSIAN, TOKEN):
            assert secret not in kept


def test_the_chat_id_is_purged_like_a_phone_number(app, client, session, settings):
    from app.retention import purge_expired

    intake(client)
    later = WEEKDAY_MORNING + timedelta(days=settings.sms_number_retention_days, seconds=1)
    assert purge_expired(session, settings, later).numbers == 1
    assert session.scalars(select(Conversation)).one().number_encrypted is None
