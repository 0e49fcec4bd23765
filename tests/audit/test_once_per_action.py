"""Every audited action leaves exactly one entry, whether the console or the API asked: the
services write the audit, never the routes (docs/architecture.md lists where)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import Case, CaseStatus
from app.operator_queue import service as queue_service
from app.users.models import Role, User
from tests.conftest import WEEKDAY_MORNING
from tests.console.helpers import PASSWORD, sign_in, texted_case
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
ABROAD = "ru-moscow-shelter"
PERIOD = "from=2026-01-01&to=2026-11-30"


@dataclass
class Desk:
    """One signed-in person, in the console or through the API, and the case at hand."""

    channel: str
    case: Case
    call: Callable[[str, str, dict[str, Any] | None], Any]  # method, path, body

    def console(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self.channel == "console"
        return self.call(method, path.format(case=self.case.id, ref=self.case.reference), body)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        assert self.channel == "api"
        return self.call(method, path.format(case=self.case.id, ref=self.case.reference), body)


@dataclass(frozen=True)
class Action:
    name: str  # the audit entry's action
    console: Callable[[Desk], Any]
    api: Callable[[Desk], Any] | None  # None: the console only (no such route)
    role: Role = Role.OPERATOR
    claimed: bool = False  # the person holds the case first


CASE = "/console/cases/{case}"
API = "/api/cases/{case}"
ACTIONS = [
    Action("queue.view", lambda d: d.console("GET", "/console"),
           lambda d: d.api("GET", "/api/cases")),
    Action("case.search", lambda d: d.console("GET", "/console/search?reference={ref}"),
           lambda d: d.api("GET", "/api/cases?reference={ref}")),
    Action("case.view", lambda d: d.console("GET", CASE), lambda d: d.api("GET", API)),
    Action("case.earlier.view", lambda d: d.console("GET", CASE),
           lambda d: d.api("GET", API)),
    Action("case.notes.view", lambda d: d.console("GET", CASE),
           lambda d: d.api("GET", API + "/notes")),
    Action("case.screening.view", lambda d: d.console("GET", CASE),
           lambda d: d.api("GET", API + "/screening")),
    Action("case.messages.view", lambda d: d.console("GET", CASE),
           lambda d: d.api("GET", API + "/messages")),
    Action("case.claim", lambda d: d.console("POST", CASE + "/claim"),
           lambda d: d.api("POST", API + "/claim")),
    Action("case.claim", lambda d: d.console("POST", "/console/claim-next"),
           lambda d: d.api("POST", "/api/cases/claim-next")),
    Action("case.release", lambda d: d.console("POST", CASE + "/release"),
           lambda d: d.api("POST", API + "/release"), claimed=True),
    Action("case.note", lambda d: d.console("POST", CASE + "/notes", {"text": "called"}),
           lambda d: d.api("POST", API + "/notes", {"text": "called"}), claimed=True),
    Action("case.screening",
           lambda d: d.console("POST", CASE + "/screening", {"gender": "Feminine"}),
           lambda d: d.api("PUT", API + "/screening", {"gender": "Feminine"}), claimed=True),
    Action("case.consent", lambda d: d.console("POST", CASE + "/consent", {"given": "on"}),
           lambda d: d.api("PUT", API + "/reporting-consent", {"given": True}), claimed=True),
    Action("case.reply", lambda d: d.console("POST", CASE + "/reply", {"body": "Сәлем"}),
           lambda d: d.api("POST", API + "/messages", {"body": "Сәлем"}), claimed=True),
    Action("case.refer",
           lambda d: d.console("POST", CASE + "/refer", {
               "organisation": ABROAD, "service": "Legal", "reason": "in Moscow"}),
           lambda d: d.api("POST", API + "/refer", {
               "organisation": ABROAD, "service": "Legal", "reason": "in Moscow"}),
           claimed=True),
    Action("case.close",
           lambda d: d.console("POST", CASE + "/close", {"status": "Closed", "pending": "send"}),
           lambda d: d.api("POST", API + "/close", {"status": "Closed"}), claimed=True),
    Action("stats.table", lambda d: d.console("GET", f"/console/stats/over_time.csv?{PERIOD}"),
           lambda d: d.api("GET", f"/api/stats.csv?{PERIOD}"), role=Role.COORDINATOR),
    Action("stats.quality", lambda d: d.console("GET", f"/console/stats?{PERIOD}"),
           lambda d: d.api("GET", f"/api/stats/quality?{PERIOD}"), role=Role.COORDINATOR),
    Action("stats.export", lambda d: d.console("GET", f"/console/stats/htcds.csv?{PERIOD}"),
           lambda d: d.api("GET", f"/api/stats/export/htcds.csv?{PERIOD}"),
           role=Role.COORDINATOR),
    Action("user.create", lambda d: d.console("POST", "/console/admin/users", {
        "username": "dana", "role": "operator", "organisation": "kz-almaty-shelter",
        "password": PASSWORD}), None, role=Role.ADMIN),
]
CASES = [pytest.param(action, channel, id=f"{action.name}-{channel}-{n}")
         for n, action in enumerate(ACTIONS)
         for channel in ("console", "api") if channel == "console" or action.api]


def desk(app, client, session, channel: str, role: Role, organisation: str, case: Case
         ) -> Desk:
    username = {Role.OPERATOR: "aigerim", Role.COORDINATOR: "gulnara", Role.ADMIN: "root"}[role]
    if channel == "console":
        person = sign_in(app, session, username, role, organisation)

        def by_form(method: str, path: str, body: dict[str, Any] | None) -> Any:
            return person.get(path) if method == "GET" else person.post(path, body)

        return Desk(channel, case, by_form)
    signed_in = make_person(client, session, username, role, organisation)

    def by_json(method: str, path: str, body: dict[str, Any] | None) -> Any:
        return client.request(method, path, json=body, headers=signed_in.headers)

    return Desk(channel, case, by_json)


def a_caller_who_came_before(session, case: Case) -> None:
    """Their earlier, closed case: the case page and the API show its reference."""
    session.add(Case(reference="HL-EARLY1", organisation_id=case.organisation_id,
                     caller_pseudonym=case.caller_pseudonym, language="kk",
                     status=CaseStatus.CLOSED, created_at=case.created_at))
    session.commit()


def entries(session, action: str, after: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.id > after)) or 0


@pytest.mark.parametrize(("action", "channel"), CASES)
def test_each_action_is_audited_once_whoever_asks(app, client, session, settings,
                                                  action: Action, channel: str):
    case, organisation = texted_case(client, session, settings)
    a_caller_who_came_before(session, case)
    person = desk(app, client, session, channel, action.role, organisation, case)
    if action.claimed:
        user = session.scalars(select(User).where(User.username == "aigerim")).one()
        queue_service.claim(session, settings, user, case.id, WEEKDAY_MORNING)
        session.commit()
    mark = session.scalar(select(func.max(AuditEvent.id))) or 0

    response = action.console(person) if channel == "console" else action.api(person)

    assert response.status_code < 400, response.text
    session.expire_all()
    assert entries(session, action.name, after=mark) == 1
