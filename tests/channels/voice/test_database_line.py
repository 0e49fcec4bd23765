"""The voice line's record of a call, as plain statements (``app.channels.voice.rows``)
mixed with the ORM where a case is opened: what a call's steps and a replayed journal
leave in the database."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.models import (
    AttemptResult,
    CallbackRequest,
    Case,
    Contact,
    ContactOutcome,
    RoutingAttempt,
)
from app.channels.voice.lines import Caller, DatabaseLine
from app.config import Settings
from app.organisations import service as organisations
from app.routing.needs import Need

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday morning: responders open


def _line(session: Session, settings: Settings, sid: str = "CA" + "1" * 32) -> DatabaseLine:
    caller = Caller(sid, "p" * 64, "TJ", "+77270009999")
    line = DatabaseLine.for_new_caller(session, caller, AT, settings)
    line.directory = organisations.snapshot(session, AT)
    return line


def test_a_case_opened_after_plain_writes_takes_the_callers_choices(
        session: Session, settings: Settings, demo_directory: None) -> None:
    line = _line(session, settings)
    line.set(language="tg")
    line.set(need=Need.LEGAL_AID.value, child=True)
    line.set(outcome=ContactOutcome.NO_RESPONDER)
    line.queue()
    session.commit()
    case = session.scalars(select(Case)).one()
    assert (case.language, case.need, case.child) == ("tg", Need.LEGAL_AID, True)
    contact = session.scalars(select(Contact)).one()
    assert contact.case_id == case.id and line.row.case_id == case.id
    assert contact.outcome is ContactOutcome.NO_RESPONDER


def test_a_call_back_recorded_after_more_plain_writes_sees_them(
        session: Session, settings: Settings, demo_directory: None) -> None:
    """The ORM's contact, loaded to open the case, is read afresh for the call-back: the
    caller's language changed by a plain statement in between is the one kept."""
    line = _line(session, settings)
    line.set(language="tg")
    line.queue()
    line.set(language="ru")
    line.callback("+992900000001")
    session.commit()
    assert session.scalars(select(CallbackRequest)).one().language == "ru"
    assert session.scalars(select(Contact)).one().outcome is ContactOutcome.CALLBACK_REQUESTED


def test_the_same_attempt_recorded_twice_keeps_the_first(
        session: Session, settings: Settings, demo_directory: None) -> None:
    """A replayed step may record an attempt its first run did: nothing fails, and the
    responder first rung stays the one recorded."""
    line = _line(session, settings)
    slugs = sorted(r.slug for r in line.directory.responders if r.organisation_id)
    line.attempt(0, slugs[0], "first")
    line.attempt(0, slugs[1], "again")
    session.commit()
    attempt = session.scalars(select(RoutingAttempt)).one()
    assert attempt.reason == "first"


def test_an_accepted_attempt_ends_connected_and_a_later_end_keeps_it(
        session: Session, settings: Settings, demo_directory: None) -> None:
    line = _line(session, settings)
    slug = next(r.slug for r in line.directory.responders if r.organisation_id)
    line.attempt(0, slug, "best match")
    session.commit()
    # Each step reads its line afresh, the attempt its URL names in the same statement.
    answered = DatabaseLine.for_contact(session, line.id, AT + timedelta(seconds=20),
                                        settings, attempt=0)
    answered.accept(0)
    session.commit()
    ended = DatabaseLine.find(session, "CA" + "1" * 32, AT + timedelta(minutes=5),
                              settings, attempt=0)
    assert ended is not None
    assert ended.finish(0, "completed", True) is True
    ended.end(300)
    session.commit()
    contact = session.scalars(select(Contact)).one()
    attempt = session.scalars(select(RoutingAttempt)).one()
    assert contact.outcome is ContactOutcome.CONNECTED
    assert contact.answered_at == AT + timedelta(seconds=20)
    assert contact.ended_at == AT + timedelta(seconds=300)
    assert attempt.result is AttemptResult.COMPLETED
    assert attempt.ended_at == AT + timedelta(minutes=5)


def test_a_call_nobody_answered_ends_abandoned(
        session: Session, settings: Settings, demo_directory: None) -> None:
    line = _line(session, settings)
    line.end(12)
    line.end(40)  # Twilio retried the status callback: the first end stands
    session.commit()
    contact = session.scalars(select(Contact)).one()
    assert contact.outcome is ContactOutcome.ABANDONED
    assert (contact.duration_seconds, contact.ended_at) == (12, AT + timedelta(seconds=12))
