"""The admins' page: the responder directory, users (and creating one), the audit log."""

from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.console import auth, flash
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.i18n import N_
from app.organisations import service as organisations
from app.users import service as users
from app.users.models import Role, User

router = APIRouter(route_class=ConsoleRoute)
AUDIT_ENTRIES = 50
# Username problems the console can say in the operator's language before the service.
USERNAME_INVALID = N_("The username must have 1 to 64 characters, without spaces.")
ROLE_INVALID = N_("Choose a role.")
ORGANISATION_NEEDED = N_("An operator needs an organisation.")
# The service's UserError for a short password, so the catalog can translate it.
N_("the password must have at least 12 characters")


def _admin_page(request: Request, session: Session, *, status_code: int = 200,
                error: str | None = None, entered: dict[str, str] | None = None) -> Response:
    orgs = organisations.list_organisations(session, include_inactive=True)
    return render(request, "admin.html", viewer=auth.viewer(request), status_code=status_code,
                  organisations=orgs, org_slugs={o.id: o.slug for o in orgs},
                  users=users.list_users(session), roles=list(Role),
                  audit_entries=audit.entries(session, limit=AUDIT_ENTRIES),
                  error=error, entered=entered or {})


@router.get("/admin")
def admin_page(request: Request, session: auth.ConsoleDb, _admin: auth.AdminUser) -> Response:
    return _admin_page(request, session)


def _problem(username: str, role_value: str, organisation: str) -> str | None:
    if not 1 <= len(username) <= 64 or any(c.isspace() for c in username):
        return USERNAME_INVALID
    if role_value not in {r.value for r in Role}:
        return ROLE_INVALID
    if role_value == Role.OPERATOR and not organisation:
        return ORGANISATION_NEEDED
    return None


@router.post("/admin/users")
def create_user(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser,
                form: auth.Form) -> Response:
    entered = {name: auth.field(form, name).strip()
               for name in ("username", "role", "organisation")}
    problem = _problem(entered["username"], entered["role"], entered["organisation"])
    if problem is None:
        try:
            user = users.create_user(session, entered["username"], auth.field(form, "password"),
                                     Role(entered["role"]), entered["organisation"] or None)
        except users.UserError as exc:
            problem = str(exc)  # the service's own words; translated if the catalog has them
    if problem is not None:
        session.rollback()
        return _admin_page(request, session, status_code=422, error=problem, entered=entered)
    _audit_created(session, admin, user, request.app.state.clock())
    return flash.redirect("/console/admin", done="user")


def _audit_created(session: Session, admin: User, user: User, now: datetime) -> None:
    audit.record(session, admin, "user.create", now, user_id=user.id, role=user.role.value)
