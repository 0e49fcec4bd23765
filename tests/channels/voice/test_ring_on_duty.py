"""Ring mode ``on_duty``: the phones of the operators on duty now, else the duty numbers."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.cases.models import AttemptResult, Contact, ContactOutcome, RoutingAttempt
from app.organisations import service as organisations
from app.organisations.models import Organisation, RingMode
from app.organisations.schemas import DirectoryFile
from app.routing import cache
from app.users import duty
from app.users import service as users
from app.users.models import Role
from app.webhooks.replies import WebhookReply
from tests.channels.voice.calls import Caller
from tests.channels.voice.test_ring_mode import DUTY, SHELTER, duty_roster
from tests.channels.voice.test_voice_flow import TAJIK_NUMBER, choose, digits_for
from tests.conftest import WEEKDAY_MORNING
from tests.twilio import post, twiml

pytestmark = pytest.mark.usefixtures("demo_directory")
HOTLINE = "+77270009999"  # the number the scripted caller dials (tests.channels.voice.calls)
FIRST, SECOND, OFF = "+992900000311", "+992900000312", "+992900000313"


def on_duty(session, settings, name: str, phone: str, organisation: str = SHELTER,
            minutes_ago: int = 60, stay: bool = True) -> None:
    user = users.create_user(session, name, "correct horse battery staple", Role.OPERATOR,
                             organisation)
    duty.set_duty(session, settings, user, True, phone,
                  WEEKDAY_MORNING - timedelta(minutes=minutes_ago))
    if not stay:
        duty.set_duty(session, settings, user, False, None, WEEKDAY_MORNING)
    session.commit()


@pytest.fixture
def users_queries(connection) -> list[str]:
    seen: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    yield seen
    event.remove(connection, "before_cursor_execute", note)


def test_on_duty_rings_the_operators_on_duty_at_once_showing_the_hotlines_number(
        app, client, settings, session, users_queries):
    shelter = duty_roster(app, session, RingMode.ON_DUTY)
    on_duty(session, settings, "farrukh", SECOND, minutes_ago=30)
    on_duty(session, settings, "malika", "whatsapp:" + FIRST, minutes_ago=90)  # longest
    on_duty(session, settings, "gone", OFF, stay=False)
    on_duty(session, settings, "elsewhere", "+77010000314", organisation="kz-almaty-shelter")
    users_queries.clear()
    c = Caller(client, settings, TAJIK_NUMBER)
    dial = choose(c, "TJ", "tg", "1")
    assert dial.dialled_numbers() == [FIRST, SECOND]  # a WhatsApp address rings its number
    assert dial.find("Dial").get("callerId") == HOTLINE  # never the caller's number
    assert TAJIK_NUMBER not in dial.text
    assert len({n.get("url") for n in dial.findall("Dial/Number")}) == 1  # same whisper
    assert len(users_queries) == 1  # one query for the on-duty phones, no more
    whisper = c.responder_whisper()
    assert whisper.find("Gather") is not None  # the whisper and press 1, as ever
    c.responder_presses(whisper, "1")
    assert c.dial_ends("completed").verbs() == ["Hangup"]
    [attempt] = session.scalars(select(RoutingAttempt)).all()
    assert attempt.organisation_id == shelter.id and attempt.result is AttemptResult.COMPLETED
    assert attempt.reason.startswith("2 on-duty operator(s)")
    assert session.scalars(select(Contact)).one().outcome is ContactOutcome.CONNECTED


def test_the_stored_reply_is_sealed_and_a_retried_webhook_gets_the_same_dial(
        app, client, settings, session):
    duty_roster(app, session, RingMode.ON_DUTY)
    on_duty(session, settings, "malika", FIRST)
    c = Caller(client, settings, TAJIK_NUMBER)
    c.call()
    for digit in digits_for("TJ", "tg"):
        c.press(digit)
    action = c.last.gather_action()
    first = c.press("1")
    retried = twiml(post(client, settings, action, c.params(Digits="1")))
    assert retried.text == first.text and retried.dialled_numbers() == [FIRST]
    stored = session.scalars(select(WebhookReply.body)).all()
    assert not any(FIRST in body or FIRST[1:] in body for body in stored)
    assert sum(body.startswith("sealed:") for body in stored) == 1
    assert len(session.scalars(select(RoutingAttempt)).all()) == 1  # nothing done twice


def test_the_configured_caller_id_is_shown_to_the_operator(app, client, settings, session):
    duty_roster(app, session, RingMode.ON_DUTY)
    on_duty(session, settings, "malika", FIRST)
    app.state.settings = settings.model_copy(update={"voice_caller_id": "+77270000100"})
    dial = choose(Caller(client, app.state.settings, TAJIK_NUMBER), "TJ", "tg", "1")
    assert dial.find("Dial").get("callerId") == "+77270000100"


def test_nobody_on_duty_rings_the_directorys_duty_numbers(app, client, settings, session):
    duty_roster(app, session, RingMode.ON_DUTY)
    on_duty(session, settings, "gone", OFF, stay=False)
    dial = choose(Caller(client, settings, TAJIK_NUMBER), "TJ", "tg", "1")
    assert dial.dialled_numbers() == DUTY
    # The NGO's duty line too sees the hotline's number, never the caller's.
    assert dial.find("Dial").get("callerId") == HOTLINE


def test_other_ring_modes_never_look_up_who_is_on_duty(app, client, settings, session,
                                                        users_queries):
    duty_roster(app, session, RingMode.SIMULTANEOUS)
    on_duty(session, settings, "malika", FIRST)
    users_queries.clear()
    dial = choose(Caller(client, settings, TAJIK_NUMBER), "TJ", "tg", "1")
    assert dial.dialled_numbers() == DUTY
    assert users_queries == []


def test_the_directory_file_accepts_on_duty_and_the_saved_snapshot_keeps_it(
        session, tmp_path):
    entry = {"id": "kz-test-line", "name": "Test line", "country": "KZ",
             "timezone": "Asia/Almaty", "hours": "24/7", "services": ["shelter"],
             "languages": ["kk"], "duty_numbers": DUTY, "ring": "on_duty"}
    organisations.import_directory(session, DirectoryFile(organisations=[entry]))
    row = session.scalars(select(Organisation).where(Organisation.slug == "kz-test-line")).one()
    assert row.ring_mode == RingMode.ON_DUTY
    directory = organisations.snapshot(session)
    responder = directory.by_slug("kz-test-line")
    assert responder.ring_on_duty and not responder.ring_in_order
    cache.write(tmp_path / "directory.json", directory)
    assert cache.read(tmp_path / "directory.json").by_slug("kz-test-line").ring_on_duty
