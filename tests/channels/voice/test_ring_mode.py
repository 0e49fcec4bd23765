"""An organisation's duty numbers: all rung at once, or one after another."""

import pytest
from sqlalchemy import select

from app.cases.models import AttemptResult, Contact, ContactOutcome, RoutingAttempt
from app.organisations import service as organisations
from app.organisations.models import Organisation, RingMode
from app.organisations.schemas import DirectoryFile
from app.routing import cache
from tests.channels.voice.calls import Caller
from tests.channels.voice.test_voice_flow import TAJIK_NUMBER, choose

pytestmark = pytest.mark.usefixtures("demo_directory")
SHELTER = "tj-dushanbe-shelter"  # the first a Tajik caller in danger is put through to
DUTY = ["+77270001111", "+77270001112", "+77270001113"]  # fictitious, public like all duty lines


def duty_roster(app, session, mode: RingMode) -> Organisation:
    shelter = session.scalars(select(Organisation).where(Organisation.slug == SHELTER)).one()
    shelter.duty_numbers, shelter.ring_mode = DUTY, mode.value
    session.flush()
    app.state.directory.refresh()
    return shelter


def attempts(session) -> list[RoutingAttempt]:
    return list(session.scalars(select(RoutingAttempt).order_by(RoutingAttempt.attempt)))


def test_simultaneous_rings_every_duty_number_in_one_dial(app, client, settings, session):
    shelter = duty_roster(app, session, RingMode.SIMULTANEOUS)
    c = Caller(client, settings, TAJIK_NUMBER)
    dial = choose(c, "TJ", "tg", "1")
    assert dial.dialled_numbers() == DUTY
    whispers = {n.get("url") for n in dial.findall("Dial/Number")}
    assert len(whispers) == 1  # whoever answers first hears the same whisper, then accepts
    c.responder_presses(c.responder_whisper(), "1")
    assert c.dial_ends("completed").verbs() == ["Hangup"]
    [attempt] = attempts(session)
    assert attempt.organisation_id == shelter.id and attempt.result is AttemptResult.COMPLETED
    assert session.scalars(select(Contact)).one().outcome is ContactOutcome.CONNECTED


def test_in_order_rings_one_duty_number_after_another_then_the_next_organisation(
        app, client, settings, session):
    shelter = duty_roster(app, session, RingMode.IN_ORDER)
    c = Caller(client, settings, TAJIK_NUMBER)
    dialled = [choose(c, "TJ", "tg", "1").dialled_numbers()]
    for _ in DUTY:
        dialled.append(c.dial_ends("no-answer").dialled_numbers())
    assert dialled[:3] == [[n] for n in DUTY]
    assert dialled[3] and not set(dialled[3]) & set(DUTY)  # then another organisation
    rows = attempts(session)
    assert [r.organisation_id for r in rows[:3]] == [shelter.id] * 3
    assert rows[3].organisation_id != shelter.id
    assert [r.result for r in rows[:3]] == [AttemptResult.NO_ANSWER] * 3
    assert rows[1].reason.startswith("duty number 2 of 3, in order")


def test_in_order_connects_at_the_duty_number_that_accepts(app, client, settings, session):
    duty_roster(app, session, RingMode.IN_ORDER)
    c = Caller(client, settings, TAJIK_NUMBER)
    choose(c, "TJ", "tg", "1")
    second = c.dial_ends("busy")
    assert second.dialled_numbers() == DUTY[1:2]
    c.responder_presses(c.responder_whisper(), "1")
    assert c.dial_ends("completed").verbs() == ["Hangup"]
    assert [r.result for r in attempts(session)] == [AttemptResult.BUSY,
                                                      AttemptResult.COMPLETED]


def test_the_directory_file_sets_the_ring_mode_and_the_saved_snapshot_keeps_it(
        session, tmp_path):
    entry = {"id": "kz-test-line", "name": "Test line", "country": "KZ",
             "timezone": "Asia/Almaty", "hours": "24/7", "services": ["shelter"],
             "languages": ["kk"], "duty_numbers": DUTY}
    organisations.import_directory(session, DirectoryFile(organisations=[
        entry | {"ring": "in_order"}, entry | {"id": "kz-test-all"}]))
    directory = organisations.snapshot(session)
    assert directory.by_slug("kz-test-line").ring_in_order
    assert not directory.by_slug("kz-test-all").ring_in_order
    cache.write(tmp_path / "directory.json", directory)
    assert cache.read(tmp_path / "directory.json").responders == directory.responders


def test_the_directory_file_refuses_an_unknown_ring_mode():
    with pytest.raises(ValueError, match="ring"):
        DirectoryFile(organisations=[{
            "id": "kz-test-line", "name": "Test line", "country": "KZ",
            "timezone": "Asia/Almaty", "hours": "24/7", "services": ["shelter"],
            "languages": ["kk"], "duty_numbers": DUTY, "ring": "round_robin"}])
