"""Texts to a national line: the conversation records the line, the line's languages come
first for a sender whose number says nothing, and every reply leaves from the line."""

import pytest
import yaml
from sqlalchemy import select

from app.cases.models import Case, Contact
from app.channels.sms.sender import text_senders
from app.messaging import conversations, outbox
from app.messaging.models import Conversation
from app.organisations.service import DEMO_DIRECTORY, import_directory, validate_directory
from tests.channels.sms.test_whatsapp import WhatsAppTexter
from tests.conftest import WEEKDAY_MORNING
from tests.messaging.test_outbox import twilio_sender
from tests.messaging.texting import FakeSender, Texter
from tests.organisations.lines import demo_line

NUMBER = "+77010000451"
UNRESOLVED = "+70000000451"  # +7 but neither Russia nor Kazakhstan: the number says nothing
KAZAKH = ("Сәлеметсіз бе, маған көмек керек", "2", "2")  # Kazakh, legal help, no child
# Public, like every line: the Almaty test block (see tests/log_guard.py).
SENDER_LINE, SENDER = "+77270000901", "+77270000902"
SERVICE = "MG" + "3" * 32


@pytest.fixture
def directory(session) -> None:
    """The demo directory plus a line whose replies leave from another number."""
    raw = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    raw["lines"].append({"number": SENDER_LINE, "country": "KZ", "languages": ["kk", "ru"],
                         "sms_sender": SENDER})
    import_directory(session, validate_directory(raw))
    session.commit()


class LineTexter(Texter):
    to = ""

    def params(self, body: str, sid: str, **extra: str) -> dict[str, str]:
        return super().params(body, sid, **extra) | {"To": self.to}


def texter(client, settings, number: str, to: str) -> LineTexter:
    person = LineTexter(client, settings, number)
    person.to = to
    return person


def reply_origin(app, settings, session) -> str | None:
    """Where an operator's reply to the (only) case leaves from."""
    conversations.queue_reply(session, settings, session.scalars(select(Case)).one(),
                              "Біз көмектесеміз", WEEKDAY_MORNING)
    session.commit()
    sender = FakeSender()
    outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings,
        WEEKDAY_MORNING)
    [sent] = sender.sent
    return sent.origin


@pytest.mark.usefixtures("directory")
def test_replies_to_a_text_leave_from_the_line_it_was_written_to(app, client, settings,
                                                                  session):
    line = demo_line("KZ")
    person = texter(client, settings, NUMBER, line)
    for body in KAZAKH:
        person.send(body)
    conversation = session.scalars(select(Conversation)).one()
    contact = session.get_one(Contact, conversation.contact_id)
    assert (conversation.line, contact.line) == (line, line)
    assert reply_origin(app, settings, session) == line


@pytest.mark.usefixtures("directory")
def test_a_lines_sms_sender_is_what_replies_leave_from(app, client, settings, session):
    person = texter(client, settings, NUMBER, SENDER_LINE)
    for body in KAZAKH:
        person.send(body)
    assert reply_origin(app, settings, session) == SENDER


@pytest.mark.usefixtures("directory")
def test_whatsapp_replies_leave_from_the_lines_whatsapp_address(app, client, settings,
                                                                 session):
    line = demo_line("KZ")

    class LineWhatsApp(WhatsAppTexter):
        def params(self, body: str, sid: str, **extra: str) -> dict[str, str]:
            return super().params(body, sid, **extra) | {"To": f"whatsapp:{line}"}

    person = LineWhatsApp(client, settings, NUMBER)
    for body in KAZAKH:
        person.send(body)
    assert session.scalars(select(Conversation)).one().line == line  # without "whatsapp:"
    assert reply_origin(app, settings, session) == f"whatsapp:{line}"


@pytest.mark.usefixtures("directory")
def test_conversations_from_before_lines_reply_from_the_configured_sender(
        app, client, settings, session):
    person = texter(client, settings, NUMBER, demo_line("KZ"))
    for body in KAZAKH:
        person.send(body)
    session.scalars(select(Conversation)).one().line = None  # an older row
    session.commit()
    assert reply_origin(app, settings, session) is None


@pytest.mark.usefixtures("directory")
def test_a_sender_whose_number_says_nothing_gets_the_lines_languages_first(
        client, settings, session):
    menu = texter(client, settings, UNRESOLVED, demo_line("AF")).send_all("?")
    assert menu[0].splitlines()[2:4] == ["1 دری", "2 پښتو"]  # after how to choose
    assert session.scalars(select(Conversation)).one().caller_country == "AF"
    session.rollback()


@pytest.mark.usefixtures("directory")
def test_a_sender_whose_number_says_where_they_are_keeps_their_countrys_menu(
        client, settings, session):
    menu = texter(client, settings, "+992900000451", demo_line("AF")).send_all("?")
    assert menu[0].splitlines()[2] == "1 Тоҷикӣ"  # after how to choose, in Tajik and Russian


def test_the_twilio_sender_sends_from_the_origin_it_is_given():
    sender, http = twilio_sender(201, {"sid": "SM1"})
    callback = "https://hotline.example.org/twilio/sms/status"
    sender.send(NUMBER, "x", callback, SERVICE)
    sender.send(f"whatsapp:{NUMBER}", "x", callback, "whatsapp:" + SENDER)
    sender.send(NUMBER, "x", callback, SENDER)
    assert http.requests[0]["data"]["MessagingServiceSid"] == SERVICE
    assert [r["data"].get("From") for r in http.requests] == [
        None, "whatsapp:" + SENDER, SENDER]
