"""Escalation of child and urgent cases that nobody claims. Never commits.

Level 1, ``escalate_after_minutes`` after the case was opened and still unclaimed: an
alert to each of the organisation's on-duty operators. Level 2, twice that: an alert to
the on-duty operators of the regional hubs (those speaking the case's language if any of
them has someone on duty), who can phone the organisation. Alerts go through the durable
outbox (``OutboxKind.ALERT``), by SMS, or by WhatsApp to a phone stored as
``whatsapp:+…``, and say the reference, priority, language and waiting time: nothing a
caller said or is.

The level lives in the case row and is raised by one conditional UPDATE (``WHERE
escalation_level < n``): of two processes passing at once only the one whose UPDATE
changed the row writes the alerts (on PostgreSQL the other's UPDATE waits for the first
to commit, then finds the level raised). A restarted process reads the level back, so
nothing is sent twice.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel import Locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import i18n
from app.audit import service as audit
from app.cases import history
from app.cases.claims import claimable
from app.cases.models import Case, CasePriority
from app.config import Settings
from app.db import rowcount
from app.events import bus
from app.events.bus import EventKind, QueueEvent
from app.languages import LANGUAGES
from app.messaging.models import Outbox, OutboxKind, OutboxStatus
from app.operator_queue.service import PRIORITY_ORDER
from app.organisations.models import Organisation
from app.privacy import crypto
from app.users import duty
from app.workers import PeriodicWorker

ESCALATING = (CasePriority.CHILD, CasePriority.URGENT)
TOP_LEVEL = 2

# The console speaks English and Russian; an organisation in a country where Russian is
# the working language gets its alerts in Russian, every other one in English. Short
# enough for one SMS segment (two in Cyrillic) with a long organisation name.
ALERT_LANGUAGE_BY_COUNTRY = {"RU": "ru", "KZ": "ru", "KG": "ru", "TJ": "ru", "UZ": "ru",
                             "TM": "ru"}
PRIORITY_WORDS = {"en": {CasePriority.CHILD: "child", CasePriority.URGENT: "urgent"},
                  "ru": {CasePriority.CHILD: "ребёнок", CasePriority.URGENT: "срочно"}}
TEXTS = {
    ("en", 1): "Hotline: {priority} case {reference} ({language}) waiting {minutes} min, "
               "unclaimed. Open the console.",
    ("en", 2): "Hotline: {priority} case {reference} ({language}) unclaimed for {minutes} "
               "min at {organisation}. Please follow up.",
    ("ru", 1): "Горячая линия: случай {reference} ({priority}, {language}) ждёт {minutes} "
               "мин, никто не взял. Откройте консоль.",
    ("ru", 2): "Горячая линия: случай {reference} ({priority}, {language}) {minutes} мин "
               "не взят в {organisation}. Проверьте, пожалуйста.",
}


@dataclass
class EscalationReport:
    escalated: list[tuple[str, int]] = field(default_factory=list)  # (reference, level)
    alerts: int = 0  # outbox rows written


@dataclass(frozen=True)
class _Due:
    id: uuid.UUID
    reference: str
    priority: CasePriority
    language: str | None
    organisation_id: int
    created_at: datetime
    level: int


def escalate_due(session: Session, settings: Settings, now: datetime) -> EscalationReport:
    """Raise every due case's escalation level and queue its alerts."""
    period = timedelta(minutes=settings.escalate_after_minutes)
    report = EscalationReport()
    for case in _due(session, now, period):
        for level in range(case.level + 1, TOP_LEVEL + 1):
            if now - case.created_at < level * period:
                break
            if not _raise(session, case.id, level, now):
                break  # claimed meanwhile, or another process raised it first
            sent = _alert(session, settings, case, level, now)
            history.record(session, case.id, "case.escalated", now,
                           organisation_id=case.organisation_id, level=level, alerted=sent)
            audit.record_system(session, "case.escalate", now,
                                organisation_id=case.organisation_id, case_id=case.id,
                                level=level, alerted=sent)
            bus.publish(session, QueueEvent(case.organisation_id, EventKind.CASE_ESCALATED,
                                            case.id, case.reference))
            report.escalated.append((case.reference, level))
            report.alerts += sent
    return report


def _due(session: Session, now: datetime, period: timedelta) -> list[_Due]:
    rows = session.execute(
        select(Case.id, Case.reference, Case.priority, Case.language, Case.organisation_id,
               Case.created_at, Case.escalation_level)
        .where(Case.priority.in_(ESCALATING), claimable(now),
               Case.escalation_level < TOP_LEVEL, Case.created_at <= now - period)
        .order_by(PRIORITY_ORDER, Case.created_at, Case.id))
    return [_Due(*row) for row in rows]


def _raise(session: Session, case_id: uuid.UUID, level: int, now: datetime) -> bool:
    """The one conditional UPDATE that decides which process escalates."""
    won = rowcount(session.execute(
        update(Case).where(Case.id == case_id, Case.escalation_level < level, claimable(now))
        .values(escalation_level=level, escalated_at=now)
        .execution_options(synchronize_session=False)))
    return won == 1


def _alert(session: Session, settings: Settings, case: _Due, level: int, now: datetime
           ) -> int:
    home = session.get_one(Organisation, case.organisation_id)
    if level == 1:
        recipients = duty.reachable(session, settings, [home.id])
    else:
        recipients = _hub_recipients(session, settings, case, home.id)
    key = settings.encryption_key
    for person in recipients:
        recipient_org = home if person.organisation_id == home.id else session.get_one(
            Organisation, person.organisation_id)
        body = alert_text(case, level, now, home.name, recipient_org.country)
        session.add(Outbox(kind=OutboxKind.ALERT, case_id=case.id,
                           recipient_encrypted=crypto.encrypt(key, person.address),
                           body_encrypted=crypto.encrypt(key, body),
                           status=OutboxStatus.PENDING, next_attempt_at=now, created_at=now))
    return len(recipients)


def _hub_recipients(session: Session, settings: Settings, case: _Due, home_id: int
                    ) -> list[duty.OnDuty]:
    hubs = {org.id: org for org in session.scalars(
        select(Organisation).where(Organisation.is_hub.is_(True),
                                   Organisation.active.is_(True), Organisation.id != home_id))}
    people = duty.reachable(session, settings, list(hubs))
    speaking = [p for p in people if case.language in hubs[p.organisation_id].languages]
    return speaking or people


def alert_text(case: _Due, level: int, now: datetime, organisation: str,
               recipient_country: str) -> str:
    language = ALERT_LANGUAGE_BY_COUNTRY.get(recipient_country, "en")
    minutes = int((now - case.created_at).total_seconds() // 60)
    return TEXTS[language, level].format(
        priority=PRIORITY_WORDS[language].get(case.priority, case.priority.value),
        reference=case.reference, language=_language_name(case.language, language),
        minutes=minutes, organisation=organisation)


def _language_name(code: str | None, in_language: str) -> str:
    if not code:
        return "?"
    name = Locale.parse(in_language).languages.get(i18n.BABEL_LOCALE.get(code, code))
    known = LANGUAGES.get(code)
    return name or (known.english_name if known else code)


def escalation_worker(make_session: Callable[[], Session], settings: Settings,
                      clock: Callable[[], datetime]) -> PeriodicWorker | None:
    """Every ``escalation_check_seconds``, or None if ``HOTLINE_ESCALATION_WORKER`` is off."""
    if not settings.escalation_worker:
        return None

    def run_once() -> EscalationReport:
        with make_session() as session, session.begin():
            return escalate_due(session, settings, clock())

    return PeriodicWorker("escalation", run_once, settings.escalation_check_seconds,
                          first_delay=settings.escalation_check_seconds)
