"""WhatsApp through Twilio: the same webhook, intake, queue and outbox as SMS, answered on
WhatsApp, recorded and counted as its own channel."""

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.cases.models import Case, Channel, Contact
from app.channels.sms import simulate
from app.channels.sms.sender import text_senders
from app.main import create_app
from app.messaging import conversations, outbox, texts
from app.messaging.models import Conversation, ConversationState, Message, Outbox
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users.models import Role
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING, make_settings
from tests.console.helpers import case_url, sign_in
from tests.messaging.test_outbox import twilio_sender
from tests.messaging.texting import Texter
from tests.users.people import make_person
from tests.webhooks.test_degraded_mode import (
    hotline,  # noqa: F401 (a fixture)
    journal_text,
)

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000901"
OTHER_NUMBER = "+77010000902"
SETTLED = WEEKDAY_MORNING.replace(month=12, day=15)  # November over for 14 days
HOTLINE = "+77270009999"  # the hotline's own number: public
PROFILE_NAME = "Aigerim Testova"  # WhatsApp's display name of the sender, sent by Twilio
FIRST = "Сәлеметсіз бе, маған көмек керек"


@dataclass
class WhatsAppTexter(Texter):
    """A person writing on WhatsApp: Twilio's WhatsApp form, prefixes, name and WaId."""

    def params(self, body: str, sid: str, **extra: str) -> dict[str, str]:
        sms = super().params(body, sid)
        del sms["FromCountry"]  # not sent for WhatsApp
        return sms | {"From": f"whatsapp:{self.number}", "To": f"whatsapp:{HOTLINE}",
                      "ProfileName": PROFILE_NAME, "WaId": self.number.lstrip("+"),
                      "MessageType": "text", "SmsStatus": "received"} | extra


def intake(texter: Texter) -> list[str | None]:
    """Kazakh, legal help, no child: the case is queued."""
    return [texter.send(body) for body in (FIRST, "2", "2")]


def the_case(session, channel: Channel) -> Case:
    session.expire_all()  # the app wrote through its own sessions
    return session.scalars(select(Case).where(Case.channel == channel)).one()


def test_a_whatsapp_conversation_is_answered_in_twiml_and_recorded_as_whatsapp(
        client, settings, session):
    replies = intake(WhatsAppTexter(client, settings, NUMBER))
    assert replies[0].startswith("Жедел желі")  # the need menu, in Kazakh
    assert "112" in replies[-1]  # "someone will write to you here", emergency number
    case = the_case(session, Channel.WHATSAPP)
    contact = session.scalars(select(Contact)).one()
    conversation = session.scalars(select(Conversation)).one()
    assert (case.language, case.need, case.caller_country) == ("kk", "legal_aid", "KZ")
    assert contact.channel is Channel.WHATSAPP and conversation.channel is Channel.WHATSAPP
    assert session.scalar(select(func.count()).select_from(Message)) == 6  # 3 in, 3 replies
    # Only the encrypted address to reply to is kept: no number, WaId or profile name.
    assert crypto.decrypt(settings.encryption_key, conversation.number_encrypted) == (
        f"whatsapp:{NUMBER}")
    dumped = dump_all_tables(session)
    assert NUMBER[1:] not in dumped and PROFILE_NAME not in dumped and FIRST not in dumped


@pytest.mark.parametrize(("texter", "to", "sender"), [
    (WhatsAppTexter, f"whatsapp:{NUMBER}", f"whatsapp:{HOTLINE}"),
    (Texter, NUMBER, HOTLINE),
])
def test_a_long_operator_reply_goes_whole_on_the_channel_the_person_wrote_on(
        app, client, settings, session, texter, to, sender):
    """No segment limit cuts an operator's reply: Twilio splits a long SMS into segments
    itself, and WhatsApp has none. A WhatsApp reply must come from the hotline's WhatsApp
    address, or Twilio would send an SMS (or refuse)."""
    intake(texter(client, settings, NUMBER))
    case = the_case(session, Channel.WHATSAPP if texter is WhatsAppTexter else Channel.SMS)
    long_reply = "Біз сізге көмектесеміз. " * 66  # 1584 characters, 24 SMS segments
    conversations.queue_reply(session, settings, case, long_reply, WEEKDAY_MORNING)
    session.commit()
    twilio, http = twilio_sender(201, {"sid": "SM" + "b" * 32, "status": "queued"}, HOTLINE)
    report = outbox.deliver_due(app.state.sessionmaker, text_senders(twilio, settings),
                                settings, WEEKDAY_MORNING)
    assert len(report.sent) == 1
    [request] = http.requests
    assert (request["data"]["To"], request["data"]["From"]) == (to, sender)
    assert request["data"]["Body"] == long_reply


def test_the_same_message_sid_twice_changes_nothing_twice(client, settings, session):
    texter = WhatsAppTexter(client, settings, NUMBER)
    first = texter.send(FIRST)
    assert texter.resend(FIRST) == first  # Twilio retrying the webhook
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Contact)) == 1
    assert session.scalar(select(func.count()).select_from(Message)) == 2  # in, reply


def test_one_number_on_sms_and_whatsapp_is_one_person_with_a_conversation_on_each(
        client, settings, session):
    """The pseudonym is of the bare number, so the person is one, as in statistics; each
    channel keeps its own conversation and is answered on it; erasing on one erases all."""
    sms, whatsapp = Texter(client, settings, NUMBER), WhatsAppTexter(client, settings, NUMBER)
    intake(sms)
    assert whatsapp.send(FIRST) == sms.replies[0]  # a new intake, not the SMS one's silence
    rows = session.scalars(select(Conversation).order_by(Conversation.channel)).all()
    assert [c.channel for c in rows] == [Channel.SMS, Channel.WHATSAPP]
    assert rows[0].caller_pseudonym == rows[1].caller_pseudonym
    assert whatsapp.send("ERASE") == texts.text("kk", "erased")  # confirmed once, on WhatsApp
    session.expire_all()
    for conversation in session.scalars(select(Conversation)):
        assert conversation.state is ConversationState.ERASED
        assert conversation.number_encrypted is None


def test_the_case_page_names_the_channel(app, client, settings, session):
    intake(WhatsAppTexter(client, settings, NUMBER))
    case = the_case(session, Channel.WHATSAPP)
    organisation = session.get_one(Organisation, case.organisation_id).slug
    operator = sign_in(app, session, "nurlan", organisation=organisation)
    page = operator.post(case_url(case, "/claim"), follow=True).text
    assert "<h2>WhatsApp</h2>" in page and "Reply by WhatsApp" in page
    assert "Ответ по WhatsApp" in operator.get(case_url(case) + "?lang=ru").text


def test_statistics_count_whatsapp_as_its_own_channel(client, settings, session):
    for n in range(12):
        WhatsAppTexter(client, settings, f"+7701000{9100 + n}").send(FIRST)
    for n in range(11):
        Texter(client, settings, f"+7701000{9200 + n}").send(FIRST)
    client.app.state.clock = lambda: SETTLED  # November is shown once settled
    coordinator = make_person(client, session, "coordinator", Role.COORDINATOR)
    response = client.get("/api/stats?group_by=channel&from=2026-11-01&to=2026-11-30",
                          headers=coordinator.headers)
    assert response.status_code == 200, response.text
    shown = {row["channel"]: row["display"]
             for row in response.json()["tables"]["contacts"]["rows"]}
    assert (shown["whatsapp"], shown["sms"], shown["total"]) == ("12", "11", "23")


def test_the_simulator_writes_on_whatsapp_without_counting_segments(fresh_database_url):
    said: list[str] = []
    simulate.simulate_sms(create_app, make_settings(fresh_database_url), f"whatsapp:{NUMBER}",
                          [FIRST, "1", "2"], said.append, operator_reply="Сәлем",
                          at=WEEKDAY_MORNING)
    assert said[1].startswith("hotline replies on WhatsApp:\nЖедел желі")  # no segments
    assert said[-1] == f'outbox sends to whatsapp:{NUMBER} on WhatsApp: "Сәлем"'


# --- the database is down -------------------------------------------------------------


def test_a_whatsapp_message_journalled_in_an_outage_is_replayed_and_answered_on_whatsapp(
        hotline):  # noqa: F811
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        database.down()
        texter = WhatsAppTexter(client, settings, NUMBER)
        reply = texter.send("Здравствуйте, мне нужна помощь")
        assert reply is not None and "112" in reply  # someone will write back, in Russian
        written = journal_text(app)
        assert json.loads(written)["channel"] == "whatsapp"
        assert NUMBER[1:] not in written and PROFILE_NAME not in written
        database.up()
        time.sleep(settings.journal_retry_seconds)
        assert texter.resend("Здравствуйте, мне нужна помощь") == reply  # replays first
        assert not app.state.journal.pending
    twilio, http = twilio_sender(201, {"sid": "SM" + "c" * 32, "status": "queued"}, HOTLINE)
    later = WEEKDAY_MORNING + timedelta(seconds=1)
    senders = text_senders(twilio, settings)
    assert len(outbox.deliver_due(app.state.sessionmaker, senders, settings, later).sent) == 1
    [request] = http.requests
    assert (request["data"]["To"], request["data"]["From"]) == (f"whatsapp:{NUMBER}",
                                                                f"whatsapp:{HOTLINE}")
    assert request["data"]["Body"].startswith("Горячая линия")  # the need menu, in Russian
    with database.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.channel is Channel.WHATSAPP and contact.language == "ru"
        assert session.scalars(select(Conversation)).one().channel is Channel.WHATSAPP
        assert session.scalar(select(func.count()).select_from(Outbox)) == 1


def test_whatsapp_replies_keep_every_letter_and_a_voice_note_is_asked_for_words(
        client, settings, session):
    """No segments on WhatsApp: Turkish keeps its letters, the menu is one message."""
    whatsapp = WhatsAppTexter(client, settings, "+905300000901")
    assert whatsapp.send("Merhaba, yardıma ihtiyacım var") == texts.text("tr", "need")
    assert whatsapp.send("", NumMedia="1", MediaContentType0="audio/ogg",
                         MediaUrl0="https://api.twilio.com/x/Media/ME1") == texts.text("tr",
                                                                                      "media")
    assert session.scalars(select(Contact)).one().media == 1
    assert len(WhatsAppTexter(client, settings, OTHER_NUMBER).send_all("?")) == 1
