"""Child and urgent cases nobody claims alert the on-duty operators, then the regional hub."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import exc, select

from app import db, retention
from app.audit.models import AuditEvent
from app.cases.models import Case, CaseEvent
from app.channels.sms.sender import text_senders
from app.events import bus
from app.events.bus import EventKind
from app.messaging import outbox
from app.messaging.models import Outbox, OutboxKind, OutboxStatus
from app.operator_queue import service as queue_service
from app.operator_queue.escalation import escalate_due, escalation_worker
from app.organisations import service as organisations
from app.privacy import crypto
from app.users import duty
from app.users import service as users
from app.users.models import Role, User
from tests.conftest import make_settings
from tests.factories import make_case
from tests.messaging.texting import FakeSender, Texter

pytestmark = pytest.mark.usefixtures("demo_directory")
HOME, LANGUAGE_HUB, OTHER_HUB = "kz-almaty-shelter", "kz-almaty-hub", "tr-istanbul-hub"
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # when the case was opened
PHONES = {"aigerim": "+77010000211", "dana": "+77010000212", "off": "+77010000213",
          "abroad": "+79000000214", "hub-kz": "+77010000215", "hub-tr": "+905320000216"}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def operator(session, settings, name: str, organisation: str, on_duty: bool = True) -> User:
    user = users.create_user(session, name, "correct horse battery staple", Role.OPERATOR,
                             organisation)
    duty.set_duty(session, settings, user, True, PHONES[name], T0 - timedelta(hours=1))
    if not on_duty:
        duty.set_duty(session, settings, user, False, None, T0 - timedelta(minutes=30))
    return user


@pytest.fixture
def staff(session, settings) -> dict[str, User]:
    people = {name: operator(session, settings, name, organisation, on)
              for name, organisation, on in [
                  ("aigerim", HOME, True), ("dana", HOME, True), ("off", HOME, False),
                  ("abroad", "ru-moscow-shelter", True), ("hub-kz", LANGUAGE_HUB, True),
                  ("hub-tr", OTHER_HUB, True)]}
    session.commit()
    return people


def alerts(session, settings) -> list[tuple[str, str]]:
    """(recipient, body) of every alert in the outbox, decrypted, oldest first."""
    key = settings.encryption_key
    rows = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.ALERT)
                           .order_by(Outbox.id))
    return [(crypto.decrypt(key, r.recipient_encrypted), crypto.decrypt(key, r.body_encrypted))
            for r in rows]


def escalations(session, case: Case) -> list[tuple[str, object]]:
    session.commit()  # audit entries are chained and written at commit
    history = [("history", e.detail["level"]) for e in session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id,
                                CaseEvent.kind == "case.escalated").order_by(CaseEvent.id))]
    audit = [("audit", e.detail["level"]) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id,
                                 AuditEvent.action == "case.escalate").order_by(AuditEvent.id))]
    return history + audit


def test_not_yet_due_nothing_happens(session, settings, staff):
    case = make_case(session, HOME, priority="child", created_at=T0)
    report = escalate_due(session, settings, minutes(4.9))
    assert report.escalated == [] and alerts(session, settings) == []
    session.refresh(case)
    assert case.escalation_level == 0


def test_level_1_alerts_the_organisations_on_duty_operators_once(
        session, settings, staff, monkeypatch):
    published: list[bus.QueueEvent] = []
    monkeypatch.setattr(bus, "publish", lambda session, event: published.append(event))
    case = make_case(session, HOME, priority="child", created_at=T0, reference="HL-KX7M3")
    report = escalate_due(session, settings, minutes(5))
    assert report.escalated == [("HL-KX7M3", 1)] and report.alerts == 2
    sent = alerts(session, settings)
    assert sorted(to for to, _ in sent) == [PHONES["aigerim"], PHONES["dana"]]
    # Almaty's alerts are in Russian, the language its operators' console speaks.
    assert sent[0][1] == ("Горячая линия: случай HL-KX7M3 (ребёнок, казахский) ждёт 5 мин, "
                          "никто не взял. Откройте консоль.")
    session.refresh(case)
    assert (case.escalation_level, case.escalated_at) == (1, minutes(5))
    assert escalations(session, case) == [("history", 1), ("audit", 1)]
    assert [(e.kind, e.case_id, e.reference) for e in published] == [
        (EventKind.CASE_ESCALATED, case.id, "HL-KX7M3")]

    assert escalate_due(session, settings, minutes(9)).escalated == []  # not again
    assert len(alerts(session, settings)) == 2


def test_level_2_alerts_the_hub_speaking_the_cases_language(session, settings, staff):
    case = make_case(session, HOME, priority="urgent", created_at=T0, reference="HL-URG01")
    escalate_due(session, settings, minutes(5))
    report = escalate_due(session, settings, minutes(10))
    assert report.escalated == [("HL-URG01", 2)] and report.alerts == 1
    [(to, body)] = alerts(session, settings)[2:]
    assert to == PHONES["hub-kz"]  # the Almaty hub speaks Kazakh; Istanbul's does not
    assert "HL-URG01" in body and "Safe House Almaty" in body and "10" in body
    session.refresh(case)
    assert case.escalation_level == 2
    assert escalations(session, case) == [("history", 1), ("history", 2),
                                          ("audit", 1), ("audit", 2)]
    assert escalate_due(session, settings, minutes(60)).escalated == []


def test_a_hub_that_does_not_speak_the_language_is_alerted_when_none_that_does_is_on_duty(
        session, settings, staff):
    duty.set_duty(session, settings, staff["hub-kz"], False, None, T0)
    make_case(session, HOME, priority="urgent", created_at=T0, reference="HL-URG02")
    escalate_due(session, settings, minutes(10))
    hub_alerts = [(to, body) for to, body in alerts(session, settings)
                  if to == PHONES["hub-tr"]]
    # Istanbul's operators read English.
    assert hub_alerts == [(PHONES["hub-tr"],
                           "Hotline: urgent case HL-URG02 (Kazakh) unclaimed for 10 min at "
                           "Safe House Almaty (demo). Please follow up.")]


def test_a_worker_that_was_down_raises_both_levels_each_once(session, settings, staff):
    case = make_case(session, HOME, priority="child", created_at=T0)
    report = escalate_due(session, settings, minutes(25))
    assert [level for _, level in report.escalated] == [1, 2]
    assert len(alerts(session, settings)) == 3
    assert escalations(session, case) == [("history", 1), ("history", 2),
                                          ("audit", 1), ("audit", 2)]


def test_a_claimed_case_never_escalates(session, settings, staff):
    case = make_case(session, HOME, priority="child", created_at=T0)
    queue_service.claim(session, settings, staff["aigerim"], case.id, minutes(1))
    assert escalate_due(session, settings, minutes(20)).escalated == []
    assert alerts(session, settings) == []


def test_a_lapsed_claim_counts_as_unclaimed(session, settings, staff):
    case = make_case(session, HOME, priority="child", created_at=T0)
    queue_service.claim(session, settings, staff["aigerim"], case.id, minutes(1))
    lapsed = minutes(2 + settings.claim_idle_minutes)
    assert [lvl for _, lvl in escalate_due(session, settings, lapsed).escalated] == [1, 2]


def test_a_normal_case_never_escalates(session, settings, staff):
    make_case(session, HOME, priority="normal", created_at=T0)
    assert escalate_due(session, settings, minutes(600)).escalated == []
    assert alerts(session, settings) == []


def test_nobody_on_duty_still_records_the_level_once(session, settings):
    case = make_case(session, HOME, priority="child", created_at=T0)
    report = escalate_due(session, settings, minutes(5))
    assert report.escalated == [(case.reference, 1)] and report.alerts == 0
    assert escalate_due(session, settings, minutes(6)).escalated == []
    [event] = session.scalars(select(CaseEvent).where(CaseEvent.kind == "case.escalated"))
    assert event.detail == {"level": 1, "alerted": 0}


def test_alerts_say_nothing_about_the_caller_and_the_outbox_sends_them(
        app, client, session, settings, staff):
    caller = "+77010000999"
    texter = Texter(client, settings, caller)
    for body in ("Сәлеметсіз бе, маған көмек керек", "1", "1"):  # danger, a child
        texter.send(body)
    case = session.scalars(select(Case)).one()
    assert case.priority == "child"
    opened = case.created_at
    escalate_due(session, settings, opened + timedelta(minutes=5))
    session.commit()
    sender = FakeSender()
    report = outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings,
                                opened + timedelta(minutes=5))
    assert len(report.sent) == 2
    assert sorted(s.to for s in sender.sent) == [PHONES["aigerim"], PHONES["dana"]]
    for sent in sender.sent:
        assert case.reference in sent.body
        for secret in (caller, caller[1:], caller[-7:], case.caller_pseudonym[:12]):
            assert secret not in sent.body
        assert "Сәлеметсіз" not in sent.body and "көмек" not in sent.body
    session.expire_all()
    rows = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.ALERT)).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert all(r.case_id == case.id and r.conversation_id is None for r in rows)


def test_an_alert_to_a_whatsapp_address_is_sent_there(app, session, settings, staff):
    duty.set_duty(session, settings, staff["dana"], True, "whatsapp:" + PHONES["dana"], T0)
    make_case(session, HOME, priority="urgent", created_at=T0)
    escalate_due(session, settings, minutes(5))
    session.commit()
    sender = FakeSender()
    outbox.deliver_due(app.state.sessionmaker, text_senders(sender, settings), settings,
        minutes(5))
    assert sorted(s.to for s in sender.sent) == [PHONES["aigerim"],
                                                 "whatsapp:" + PHONES["dana"]]


def test_the_console_shows_the_escalation_on_the_queue_and_the_case(
        app, session, settings, staff):
    from tests.console.helpers import sign_in

    case = make_case(session, HOME, priority="child", created_at=T0)
    escalate_due(session, settings, minutes(5))
    session.commit()
    console = sign_in(app, session, "zarina")
    queue = console.get("/console").text
    assert 'class="badge escalated"' in queue and ">escalated<" in queue
    page = console.get(f"/console/cases/{case.id}").text
    assert ">escalated<" in page and "on-duty operators alerted" in page


def test_the_worker_is_off_when_the_setting_says_so(session, settings):
    off = settings.model_copy(update={"escalation_worker": False})
    assert escalation_worker(lambda: session, off, lambda: T0) is None
    assert escalation_worker(lambda: session, settings.model_copy(
        update={"escalation_worker": True}), lambda: T0) is not None


def _shared_database(url: str) -> tuple:
    """A database of its own with real commits: staff on duty and one child case."""
    db.upgrade(url)
    settings = make_settings(url)
    engine = db.make_engine(url)
    make_session = db.make_sessionmaker(engine)
    with make_session() as session, session.begin():
        organisations.load_demo_if_empty(session)
        for name, organisation in (("aigerim", HOME), ("dana", HOME),
                                   ("hub-kz", LANGUAGE_HUB)):
            operator(session, settings, name, organisation)
        make_case(session, HOME, priority="child", created_at=T0, reference="HL-RACE1")
    return settings, engine, make_session


def _committed_alerts(make_session) -> int:
    with make_session() as session:
        return len(session.scalars(select(Outbox.id).where(Outbox.kind == OutboxKind.ALERT))
                   .all())


def test_two_processes_at_once_alert_once(fresh_database_url):
    settings, engine, make_session = _shared_database(fresh_database_url)
    start = threading.Barrier(4)
    reports = []

    def process() -> None:
        start.wait()
        while True:
            try:
                with make_session() as session, session.begin():
                    report = escalate_due(session, settings, minutes(5))
                reports.append(report)
                return
            except exc.OperationalError:
                # SQLite has one writer at a time: a process that lost the race for the
                # lock tries again, as the worker's next pass would.
                if not fresh_database_url.startswith("sqlite"):
                    raise

    threads = [threading.Thread(target=process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r.escalated) for r in reports) == 1
    assert _committed_alerts(make_session) == 2
    with make_session() as session:
        assert len(session.scalars(select(CaseEvent.id)).all()) == 1
    engine.dispose()


def test_after_a_restart_nothing_is_sent_again(fresh_database_url):
    settings, engine, make_session = _shared_database(fresh_database_url)
    with make_session() as session, session.begin():
        escalate_due(session, settings, minutes(5))
    engine.dispose()  # the process stops; a new one starts on the same database
    engine = db.make_engine(fresh_database_url)
    make_session = db.make_sessionmaker(engine)
    with make_session() as session, session.begin():
        assert escalate_due(session, settings, minutes(7)).escalated == []
    assert _committed_alerts(make_session) == 2
    with make_session() as session, session.begin():
        assert escalate_due(session, settings, minutes(10)).escalated == [("HL-RACE1", 2)]
    assert _committed_alerts(make_session) == 3
    engine.dispose()


def test_two_days_after_sending_an_alerts_number_and_text_are_erased(app, session, settings,
                                                                      staff):
    """The operator's phone number does not stay in the outbox; an alert still waiting to be
    sent keeps it, or it could never go out."""
    make_case(session, HOME, priority="child", created_at=T0)
    escalate_due(session, settings, minutes(5))
    session.commit()
    outbox.deliver_due(app.state.sessionmaker, text_senders(FakeSender(), settings), settings,
        minutes(5))
    make_case(session, HOME, priority="urgent", created_at=T0 + timedelta(days=3))
    escalate_due(session, settings, minutes(5) + timedelta(days=3))
    session.commit()
    purge = retention.purge_expired(session, settings, minutes(6) + timedelta(days=3))
    assert purge.alerts == 2
    session.expire_all()
    rows = session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.ALERT)).all()
    erased = {(r.status, r.recipient_encrypted is None, r.body_encrypted is None)
              for r in rows}
    assert erased == {(OutboxStatus.SENT, True, True), (OutboxStatus.PENDING, False, False)}
    assert retention.purge_expired(session, settings,
                                       minutes(6) + timedelta(days=3)).alerts == 0
