"""Retries, failures and privacy on the voice line."""

import logging

import pytest
from sqlalchemy import select, text

from app.cases.models import Case, Contact, RoutingAttempt
from app.db import Base
from tests.channels.voice.calls import Caller, spoken
from tests.conftest import use_sessions
from tests.twilio import post, twiml

pytestmark = pytest.mark.usefixtures("demo_directory")

# Fictitious; their last nine digits must not occur in a CallSid (CA + zeros + a counter).
NUMBERS = ["+992900123451", "+77010234562", "+79000345673"]


def test_a_retried_webhook_changes_nothing_twice(client, settings, session):
    c = Caller(client, settings, NUMBERS[0])
    first = c.call()
    assert twiml(post(client, settings, "/twilio/voice", c.params(CallStatus="ringing"))
                 ).text == first.text
    c.press("1")
    need_action = c.last.gather_action()
    dial = c.press("1")
    assert twiml(post(client, settings, need_action, c.params(Digits="1"))).text == dial.text
    action = dial.find("Dial").get("action")
    next_dial = twiml(post(client, settings, action, c.params(DialCallStatus="no-answer")))
    retried = twiml(post(client, settings, action, c.params(DialCallStatus="no-answer")))
    assert retried.text == next_dial.text
    assert len(session.scalars(select(Contact)).all()) == 1
    assert len(session.scalars(select(RoutingAttempt)).all()) == 2  # first and second only


def test_an_unexpected_failure_still_connects_the_caller_to_the_regional_hub(app, client,
                                                                             settings, session):
    # (An unreachable database is not such a failure: see test_degraded_mode.py.)
    Caller(client, settings, NUMBERS[1]).call()  # loads the directory snapshot

    def broken_session():
        raise RuntimeError("a bug")

    use_sessions(app, broken_session)
    c = Caller(client, settings, NUMBERS[1])
    response = c.call()
    assert response.verbs() == ["Say", "Dial"]
    assert "Извините" in spoken(response.root)[0]
    hubs = [n for org in ("kz-almaty-hub", "tr-istanbul-hub")
            for n in app.state.directory.current.by_slug(org).duty_numbers]
    assert set(response.dialled_numbers()) <= set(hubs) and response.dialled_numbers()


def test_a_failing_step_never_gives_an_application_error(client, settings, monkeypatch):
    from app.channels.voice import lines

    def explode(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(lines.rows, "add_attempt", explode)
    c = Caller(client, settings, NUMBERS[0])
    c.call()
    c.press("1")
    response = c.press("1")
    assert response.find("Dial") is not None and response.dialled_numbers()


def test_no_table_or_log_line_holds_a_callers_number(client, settings, session, caplog):
    caplog.set_level(logging.DEBUG)
    for number in NUMBERS:
        c = Caller(client, settings, number)
        c.call()
        c.press("1")
        c.press("1")
        for _ in range(settings.max_dial_attempts):
            c.dial_ends("no-answer")
        c.press("1")  # consents to a callback: stored encrypted only
        c.status("completed", 30)
    assert len(session.scalars(select(Case)).all()) == 3
    dumped = dump_all_tables(session)
    for number in NUMBERS:
        for form in (number, number.lstrip("+"), number[-9:]):
            assert form not in dumped
            assert form not in caplog.text


def dump_all_tables(session) -> str:
    rows = []
    for table in Base.metadata.sorted_tables:
        rows += [repr(tuple(row)) for row in session.execute(text(f"SELECT * FROM {table.name}"))]
    return "\n".join(rows)


@pytest.mark.parametrize("number", ["anonymous", "+" + "1" * 300])
def test_a_number_that_cannot_be_called_back_is_not_kept(client, settings, session, number):
    from app.cases.models import CallbackRequest

    c = Caller(client, settings, number)
    c.call()
    c.press("1")
    c.press("1")
    for _ in range(settings.max_dial_attempts):
        if c.last.find("Dial") is None:
            break
        c.dial_ends("no-answer")
    goodbye = c.press("1")
    assert goodbye.verbs()[-1] == "Hangup" and "Извините" not in " ".join(spoken(goodbye.root))
    assert session.scalars(select(CallbackRequest)).all() == []


def test_odd_digits_and_a_malformed_contact_are_not_application_errors(client, settings):
    c = Caller(client, settings, NUMBERS[0])
    c.call()
    menu = twiml(post(client, settings, "/twilio/voice/language?t=%C2%B2", c.params()))
    assert menu.find("Gather") is not None and "Извините" not in menu.text
    response = post(client, settings, "/twilio/voice/whisper?c=not-a-uuid&attempt=0",
                    c.params())
    assert response.status_code == 400
