"""A texter who chooses information (3) receives the country's messages by SMS, then the
dialogue goes on."""

import pytest
from sqlalchemy import select

from app.cases.models import Case, Contact
from app.channels.sms.webhook import inbound_of
from app.events.bus import EventKind, QueueEvent
from app.messaging import texts
from app.messaging.models import Author, Direction, Message, Outbox
from app.organisations import service as organisations
from app.organisations.service import validate_directory
from app.pipeline import intake
from app.privacy import crypto
from app.routing.needs import Need
from app.segments import segments
from tests.messaging.texting import Texter, new_message_sid
from tests.organisations.lines import demo_line
from tests.organisations.test_lines_directory import demo

pytestmark = pytest.mark.usefixtures("demo_directory")

TAJIK_IN_RUSSIA = "+79000000201"
KAZAKH = "+77010000201"


def sent_bodies(session, settings) -> list[str]:
    rows = session.scalars(select(Message).where(Message.direction == Direction.OUT,
                                                 Message.author == Author.AUTO)
                           .order_by(Message.id))
    return [crypto.decrypt(settings.encryption_key, row.body_encrypted) for row in rows]


def test_a_tajik_in_russia_gets_russias_messages_in_tajik_then_the_next_question(
        client, app, settings, session):
    t = Texter(client, settings, TAJIK_IN_RUSSIA)
    assert t.send("Салом, ба ман кӯмак лозим аст") == texts.text("tg", "need")
    replies = t.send_all("3")
    russia_in_tajik = list(app.state.directory.current.information("RU", "tg"))
    assert len(russia_in_tajik) == 3
    assert replies == [*russia_in_tajik, texts.text("tg", "child")]
    assert all(segments(reply) <= 2 for reply in replies)
    case = session.scalars(select(Case)).one()  # the case is opened all the same
    assert (case.need, case.language) == (Need.INFORMATION, "tg")
    assert sent_bodies(session, settings)[-4:] == replies  # each kept as written to them
    assert t.send("2") == texts.text("tg", "confirmed", number="112")


def test_a_country_without_messages_gets_the_generic_ones(client, settings):
    t = Texter(client, settings, KAZAKH)
    t.send("Сәлеметсіз бе, маған көмек керек")
    replies = t.send_all("3")
    assert replies == [*texts.information("kk", "KZ"), texts.text("kk", "child")]
    assert replies[0] != texts.information("kk", "UZ")[0]  # rights where people come to work


def test_a_texters_number_that_says_nothing_takes_the_lines_country(client, settings):
    t = Texter(client, settings, "+70000000201")  # no country can be told from it
    t.send("Здравствуйте, мне нужна помощь", To=demo_line("TR"))
    replies = t.send_all("3", To=demo_line("TR"))
    assert replies[:-1] == texts.information("ru", "TR")  # TR has no Russian messages
    t2 = Texter(client, settings, "+70000000202")
    t2.send("Merhaba, yardıma ihtiyacım var", To=demo_line("TR"))
    assert t2.send_all("3", To=demo_line("TR"))[0].startswith("Türkiye'de acil durumlarda 112")


def test_a_new_import_is_sent_to_the_next_texter(client, app, settings, session):
    organisations.import_directory(session, validate_directory(
        demo(information={"KZ": {"kk": ["Қазақстанда төтенше жағдайда: 112."]}})))
    session.commit()
    app.state.events.dispatch(QueueEvent(0, EventKind.DIRECTORY_CHANGED))
    t = Texter(client, settings, KAZAKH)
    t.send("Сәлеметсіз бе, маған көмек керек")
    assert t.send_all("3") == ["Қазақстанда төтенше жағдайда: 112.", texts.text("kk", "child")]


def test_replayed_from_the_journal_they_go_through_the_outbox_in_order(app, settings,
                                                                      session):
    directory = organisations.snapshot(session)

    def replay(body: str) -> list[str]:
        inbound = inbound_of(new_message_sid(), TAJIK_IN_RUSSIA, body, to=demo_line("RU"))
        return intake.handle(session, settings, directory, inbound,
                             app.state.clock(), reply_later=True)

    assert replay("Салом, ба ман кӯмак лозим аст") == []
    assert replay("3") == []
    queued = session.scalars(select(Message).join(Outbox, Outbox.message_id == Message.id)
                             .order_by(Outbox.id)).all()
    bodies = [crypto.decrypt(settings.encryption_key, m.body_encrypted) for m in queued]
    assert bodies == [texts.text("tg", "need"), *directory.information("RU", "tg"),
                      texts.text("tg", "child")]
    assert session.scalars(select(Contact.need)).one() is Need.INFORMATION
