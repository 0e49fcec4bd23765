"""Playing the demo plan (``app.demo.population``) through the hotline's own services.

Every contact goes where a provider's webhook would send it: texts through the intake
dialogue (``pipeline.intake.handle``, with the ``Inbound`` the SMS and Telegram webhooks
build), calls step by step on the voice line's ``DatabaseLine`` (language, need, the
dials ``pipeline.dial_plans`` makes, the queue, the call-back). Operators then claim,
screen, refer and close cases through ``operator_queue`` and ``cases``, each action
audited as in the console. Nothing is inserted by hand.

Events run in time order from a heap, each at its simulated moment: the services are
given that moment, and ``SimulatedClock`` stamps it on rows whose time comes from a
column default (a case's ``created_at``), so statistics see the history, not the day it
was seeded. Two departures from the live service, both so that starting it later sends
nothing to a fictitious person: Telegram's replies are recorded as sent instead of
queued in the outbox, and operators never reply by text.
"""

import heapq
import itertools
import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Mapper, Session

from app import pipeline
from app.cases import callbacks, referrals
from app.cases.models import Case, CaseStatus, Channel, CloseStatus, Contact, ContactOutcome
from app.cases.screening import ReferralType
from app.cases.screening import Screening as Form
from app.channels.sms.webhook import inbound_of as sms_inbound
from app.channels.telegram.updates import PrivateMessage
from app.channels.telegram.webhook import inbound_of as telegram_inbound
from app.channels.voice.lines import Caller, DatabaseLine
from app.config import Settings
from app.db import UTCDateTime
from app.demo.population import Casework, Person, PlannedContact, plan
from app.messaging import conversations
from app.messaging.models import Conversation, ConversationState
from app.operator_queue import service as queue
from app.operator_queue import work
from app.organisations import service as organisations
from app.pipeline import intake
from app.routing.needs import Need, Service
from app.routing.snapshot import Directory, Responder
from app.users import duty, lifecycle
from app.users.models import Role, User

# The first message in each language: something a person in trouble writes, long
# enough for the language detector; the intake's menus take over from there. Machine-made
# (not written by native speakers): fictitious demo input, for native review before any
# use beyond development.
FIRST_WORDS = {
    "uz": "Assalomu alaykum, menga yordam kerak. Ish beruvchi pasportimni olib qo'ydi.",
    "ru": "Здравствуйте, мне нужна помощь. Работодатель забрал паспорт и не платит.",
    "tg": "Ассалом, ба ман кӯмак лозим. Корфармо шиносномаи маро гирифт.",
    "ky": "Саламатсызбы, мага жардам керек. Иш берүүчү паспортумду алып койду.",
    "kk": "Сәлеметсіз бе, маған көмек керек. Жұмыс беруші төлқұжатымды алып қойды.",
    "tk": "Salam, maňa kömek gerek. Işleýän ýerimde pasportymy aldylar.",
    "az": "Salam, mənə kömək lazımdır. İşəgötürən pasportumu götürüb.",
    "fa": "سلام، به کمک نیاز دارم. کارفرما پاسپورتم را گرفته است.",
    "prs": "سلام، به کمک ضرورت دارم. کارفرما پاسپورت مرا گرفته.",
    "ps": "سلام، زه مرستې ته اړتیا لرم. کارګمارونکي زما پاسپورټ اخیستی دی.",
    "tr": "Merhaba, yardıma ihtiyacım var. İşveren pasaportumu aldı.",
    "en": "Hello, I need help. My employer took my passport.",
}
NEED_DIGITS = {need: str(digit) for digit, need in intake.NEEDS.items()}
# Telegram sends the app's interface language; it has none for some of the region's.
APP_LANGUAGES = {"prs": "fa", "tg": "ru", "ky": "ru", "tk": "ru", "ps": "fa"}
SERVICES = {ReferralType.SHELTER: Service.SHELTER, ReferralType.LEGAL: Service.LEGAL_AID,
            ReferralType.SOCIAL_CARE: Service.PSYCHOSOCIAL,
            ReferralType.HEALTH: Service.MEDICAL, ReferralType.LIVELIHOOD: Service.INFORMATION}
RING = timedelta(seconds=20)  # a responder's phone rings this long before the next is tried


class SimulatedClock:
    """The simulated moment for rows whose time comes from a column default or an
    update default (``db.utcnow``): stamped before each flush, only where the services
    left it unset."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.now, self.session = now, session
        event.listen(session, "before_flush", self._stamp)

    def stop(self) -> None:
        event.remove(self.session, "before_flush", self._stamp)

    def _stamp(self, session: Session, _context: object, _instances: object) -> None:
        for row in session.new:
            for key in _time_columns(row, "default"):
                if getattr(row, key) is None:
                    setattr(row, key, self.now)
        for row in session.dirty:
            state = inspect(row)
            for key in _time_columns(row, "onupdate"):
                if not state.attrs[key].history.has_changes():
                    setattr(row, key, self.now)


_TIME_COLUMNS: dict[tuple[Mapper[Any], str], tuple[str, ...]] = {}


def _time_columns(row: object, kind: str) -> tuple[str, ...]:
    """The row's timestamp attributes with a ``kind`` ("default", "onupdate")."""
    mapper = inspect(row).mapper
    if (mapper, kind) not in _TIME_COLUMNS:
        _TIME_COLUMNS[mapper, kind] = tuple(
            attr.key for attr in mapper.column_attrs for column in attr.columns[:1]
            if isinstance(column.type, UTCDateTime) and getattr(column, kind, None) is not None)
    return _TIME_COLUMNS[mapper, kind]


@dataclass
class Report:
    """What was created: counts only, never a number or a pseudonym."""

    people: int = 0
    contacts: Counter[str] = field(default_factory=Counter)  # by channel
    cases: int = 0
    closed: int = 0
    referred: int = 0
    callbacks: int = 0
    operators: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def lines(self) -> list[str]:
        span = (f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
                if self.first and self.last else "nothing")
        channels = ", ".join(f"{n} {c}" for c, n in sorted(self.contacts.items()))
        return [f"history: {span}", f"people: {self.people}",
                f"contacts: {sum(self.contacts.values())} ({channels})",
                f"cases: {self.cases} ({self.closed} closed, {self.referred} referred)",
                f"call-backs requested: {self.callbacks}",
                f"demo operators: {self.operators}"]


def has_cases(session: Session) -> bool:
    return _cases(session) != 0


def seed(session: Session, settings: Settings, *, people: int, months: int, seed: int,
         end: datetime) -> Report:
    """Fill the database with the plan's history up to ``end``; never commits."""
    organisations.load_demo_if_empty(session)
    directory = organisations.snapshot(session, end)
    before, cases_before = _contacts(session), _cases(session)
    runner = Runner(session, settings, directory, end)
    try:
        for person in plan(people, months, end, seed):
            runner.add(person)
        runner.run()
    finally:
        runner.clock.stop()
    runner.report.cases = _cases(session) - cases_before
    runner.report.contacts = _contacts(session) - before
    return runner.report


def _cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


def _contacts(session: Session) -> Counter[str]:
    return Counter({str(channel): n for channel, n in session.execute(
        select(Contact.channel, func.count()).group_by(Contact.channel))})


Action = Callable[[datetime], None]


class Runner:
    def __init__(self, session: Session, settings: Settings, directory: Directory,
                 end: datetime) -> None:
        self.session, self.settings, self.directory = session, settings, directory
        self.end = end
        self.clock = SimulatedClock(session, end)
        self.report = Report()
        self.events: list[tuple[datetime, int, Action]] = []
        self.order = itertools.count()
        # Provider ids are unique columns: a run of its own, so a second seeding (--force)
        # never meets the first's. Nothing counted depends on them.
        self.run_id = uuid.uuid4().hex
        self.updates = itertools.count(secrets.randbelow(2**40) * 1000)  # Telegram's ids
        self.operators: dict[int, User] = {}
        self.worked: set[uuid.UUID] = set()  # cases whose casework is scheduled

    def at(self, moment: datetime, action: Action) -> None:
        if moment < self.end:  # what would happen after now has not happened yet
            heapq.heappush(self.events, (moment, next(self.order), action))

    def add(self, person: Person) -> None:
        self.report.people += 1
        for n, contact in enumerate(person.contacts):
            handler = self.call if contact.channel is Channel.VOICE else self.text
            self.at(contact.at, partial(handler, person, n, contact))

    def run(self) -> None:
        while self.events:
            moment, _, action = heapq.heappop(self.events)
            self.clock.now = moment
            action(moment)
            self.report.first = self.report.first or moment
            self.report.last = moment
        self.session.flush()

    def _sid(self, prefix: str, person: Person, n: int, step: int) -> str:
        name = f"demo:{self.run_id}:{person.index}:{n}:{step}"
        return prefix + uuid.uuid5(uuid.NAMESPACE_URL, name).hex

    def _line(self, person: Person) -> str | None:
        """The national line of the country the person is in: the number they write to."""
        return next((line.number for line in self.directory.lines
                     if line.country == person.where), None)

    # --- texts: SMS, WhatsApp, Telegram ---------------------------------------------

    def text(self, person: Person, n: int, planned: PlannedContact, start: datetime) -> None:
        """A first message in their language, then their answers to the intake's menus
        (the dialogue's state says which), until it asks nothing more or they stop."""
        channel = planned.channel
        self._send(person, channel, n, 0, FIRST_WORDS[person.language], start)
        # The same object the intake changes with each answer (the session's identity map).
        conversation = self._conversation(person, channel)
        if conversation is None:
            return
        moment = start
        for step in range(1, 5):
            body = (self._answer(conversation, person.language, planned)
                    if planned.finishes_intake else None)
            if body is None:
                break
            moment += timedelta(seconds=30 + 15 * step)
            self._send(person, channel, n, step, body, moment)
        if conversation.case_id is not None:
            self._work(conversation.case_id, person, planned.casework, moment)

    def _send(self, person: Person, channel: Channel, n: int, step: int, body: str,
              moment: datetime) -> None:
        self.clock.now = moment
        intake.handle(self.session, self.settings, self.directory,
                      self._inbound(person, channel, n, step, body), moment)

    def _conversation(self, person: Person, channel: Channel) -> Conversation | None:
        address = person.chat_id if channel is Channel.TELEGRAM else person.number
        return conversations.current(self.session,
                                     pipeline.pseudonym(self.settings, channel, address),
                                     channel)

    @staticmethod
    def _answer(conversation: Conversation, language: str, planned: PlannedContact
                ) -> str | None:
        """What the person answers to the question the dialogue is at; None: nothing."""
        state = conversation.state
        if state is ConversationState.LANGUAGE:
            menu = (conversation.menu or "").split(",")
            return str(menu.index(language) + 1) if language in menu else "1"
        if state is ConversationState.NEED:
            need = planned.need if planned.need in NEED_DIGITS else Need.OTHER
            return NEED_DIGITS[need]
        if state is ConversationState.CHILD:
            return "1" if planned.child else "2"
        return None

    def _inbound(self, person: Person, channel: Channel, n: int, step: int, body: str
                 ) -> pipeline.Inbound:
        if channel is Channel.TELEGRAM:
            language = APP_LANGUAGES.get(person.language, person.language)
            return telegram_inbound(next(self.updates), PrivateMessage(
                chat_id=int(person.chat_id), text=body, media=0, language_code=language))
        sender = f"whatsapp:{person.number}" if channel is Channel.WHATSAPP else person.number
        line = self._line(person)
        return sms_inbound(self._sid("SM", person, n, step), sender, body,
                           from_country=person.where,
                           to=f"whatsapp:{line}" if channel is Channel.WHATSAPP and line
                           else line)

    # --- calls ------------------------------------------------------------------------

    def call(self, person: Person, n: int, planned: PlannedContact, start: datetime) -> None:
        number = self._line(person)
        caller = Caller.of(self.settings, self._sid("CA", person, n, 0), person.number,
                           person.where, number, self.directory.line(number))
        line = DatabaseLine.for_new_caller(self.session, caller, start, self.settings)
        line.directory = self.directory
        moment = self._call_steps(line, person, planned, start)
        line.at = self.clock.now = moment
        line.end(int((moment - start).total_seconds()))
        if line.row.case_id is not None:
            self._work(line.row.case_id, person, planned.casework, moment)

    def _call_steps(self, line: DatabaseLine, person: Person, planned: PlannedContact,
                    start: datetime) -> datetime:
        """The IVR's steps as the caller goes through them; returns when the call ends."""
        if not planned.finishes_intake:
            return start + timedelta(seconds=25)  # hung up during the language menu
        moment = self._step(line, start + timedelta(seconds=20))
        line.set(language=person.language)
        need = planned.need if planned.need in NEED_DIGITS else Need.OTHER
        moment = self._step(line, moment + timedelta(seconds=15))
        line.set(language=person.language, need=need, child=planned.child)
        if need is Need.INFORMATION:
            line.set(outcome=ContactOutcome.INFORMATION_GIVEN)
            if not planned.answers[-1]:  # listened, and did not ask for a person
                return moment + timedelta(seconds=90)
            moment += timedelta(seconds=90)
        return self._dial(line, person, planned, moment)

    def _step(self, line: DatabaseLine, moment: datetime) -> datetime:
        line.at = self.clock.now = moment
        return moment

    def _dial(self, line: DatabaseLine, person: Person, planned: PlannedContact,
              moment: datetime) -> datetime:
        """Ring the candidates in turn as the voice line does; nobody: queue and offer a
        call-back."""
        query = pipeline.query_for(line.row, moment)
        plans = pipeline.dial_plans(self.directory, query, self.settings.max_dial_attempts,
                                    lambda ids: duty.phones_to_ring(self.session,
                                                                    self.settings, ids))
        for attempt, dial in enumerate(plans):
            line.attempt(attempt, dial.slug, dial.reasons)
            answers = attempt < len(planned.answers) and planned.answers[attempt]
            if answers:
                line.accept(attempt)
                moment = self._step(line, moment + timedelta(seconds=planned.seconds))
                line.finish(attempt, "completed", True)
                return moment
            moment = self._step(line, moment + RING)
            line.finish(attempt, "no-answer", False)
        line.set(outcome=ContactOutcome.NO_RESPONDER)
        line.queue()
        if planned.callback:
            moment = self._step(line, moment + timedelta(seconds=15))
            line.callback(person.number)
            self.report.callbacks += 1
        return moment + timedelta(seconds=10)

    # --- operators --------------------------------------------------------------------

    def _work(self, case_id: uuid.UUID, person: Person, casework: Casework,
              moment: datetime) -> None:
        """A new case: an operator of its organisation will take it up (a repeat contact
        joining an open case changes nothing here)."""
        if case_id in self.worked or casework.abandoned:
            return
        self.worked.add(case_id)
        self.at(moment + casework.claim_after, partial(self.claim, case_id, person, casework))

    def operator(self, organisation_id: int, now: datetime) -> User:
        """The organisation's demo operator, created the first time it has a case. Nobody
        knows the password: an admin resets it to look through their eyes."""
        if organisation_id not in self.operators:
            slug = self._responder(organisation_id).slug
            username = f"demo-{slug}"
            user = self.session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                user = lifecycle.create(self.session, None, username,
                                        secrets.token_urlsafe(24), Role.OPERATOR, slug, now,
                                        one_time=True)
                self.report.operators += 1
            self.operators[organisation_id] = user
        return self.operators[organisation_id]

    def _responder(self, organisation_id: int) -> Responder:
        responder = self.directory.by_organisation_id(organisation_id)
        if responder is None:
            raise LookupError(f"organisation {organisation_id} is not in the directory")
        return responder

    def claim(self, case_id: uuid.UUID, person: Person, casework: Casework,
              now: datetime) -> None:
        case = self.session.get_one(Case, case_id)
        if case.status is CaseStatus.CLOSED:
            return
        user = self.operator(case.organisation_id, now)
        queue.claim(self.session, self.settings, user, case_id, now)
        if casework.completes_callback:
            for request in callbacks.view(self.session, self.settings, user, case, now):
                if request.pending:
                    callbacks.complete(self.session, self.settings, user, case, request.id,
                                       now)
        work.save_screening(self.session, self.settings, user, case,
                            self._form(person, case), now)
        work.set_reporting_consent(self.session, self.settings, user, case,
                                   casework.consent, now)
        target = self._referral_target(person, case, casework.refer)
        if casework.refer is not None and target is not None:
            work.refer(self.session, self.settings, user, case, target, casework.refer,
                       "Needs support where they come from.", False, now)
            self.report.referred += 1
            answer = now + timedelta(hours=2 + person.index % 30)
            self.at(answer, partial(self.answer_referral, case_id, casework))
            return
        self.at(now + casework.close_after, partial(self.close, case_id, CloseStatus.CLOSED))

    def answer_referral(self, case_id: uuid.UUID, casework: Casework, now: datetime) -> None:
        case = self.session.get_one(Case, case_id)
        user = self.operator(case.organisation_id, now)
        if casework.declined:
            referrals.decline(self.session, self.settings, user, case,
                              "No free place this month.", now)
            status = CloseStatus.CLOSED
        else:
            referrals.accept(self.session, user, case, now)
            status = CloseStatus.CLOSED_REFERRED
        self.at(now + casework.close_after, partial(self.close, case_id, status))

    def close(self, case_id: uuid.UUID, status: CloseStatus, now: datetime) -> None:
        case = self.session.get_one(Case, case_id)
        if case.status is CaseStatus.CLOSED:
            return
        user = self.operator(case.organisation_id, now)
        queue.claim(self.session, self.settings, user, case_id, now)
        work.close(self.session, self.settings, user, case, status, now, send_pending=False)
        self.report.closed += 1

    def _form(self, person: Person, case: Case) -> Form:
        """The screening as the operator fills it: some leave most of it unknown."""
        answers = person.screening
        if not answers.thorough:
            return Form(gender=answers.gender, citizenship=[person.citizenship])
        languages = self._responder(case.organisation_id).languages
        return Form(gender=answers.gender, age_band=answers.age_band,
                    citizenship=[person.citizenship],
                    country_of_exploitation=answers.exploited_in,
                    trafficking_status=answers.status,
                    exploitation_types=list(answers.exploitation),
                    control_methods=list(answers.control),
                    recruitment_method=answers.recruitment,
                    relationship_to_trafficker=answers.relationship,
                    ilo_indicators=list(answers.ilo), referral_made=None,
                    caller_type=answers.caller_type,
                    interpreter_used=person.language not in languages)

    def _referral_target(self, person: Person, case: Case,
                         service: ReferralType | None) -> str | None:
        """An organisation in the person's own country offering the service (a return
        home, across the border, most often), else any there; never the case's own."""
        if service is None:
            return None
        there = sorted((r for r in self.directory.responders
                        if r.country == person.citizenship and not r.is_hub
                        and r.organisation_id != case.organisation_id),
                       key=lambda r: r.slug)
        offering = [r for r in there if SERVICES[service].value in r.services] or there
        return offering[person.index % len(offering)].slug if offering else None

