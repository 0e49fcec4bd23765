"""The admins' page: the responder directory, users (and creating one), blocked callers
(blocking from a case reference, lifting), the audit log."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.blocklist import service as blocklist
from app.console import auth, flash
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.db import MAX_INTEGER_ID
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
# The blocklist service's refusals, likewise (a test checks they match the service's).
BLOCK_REFUSALS = (N_("no case has this reference"),
                  N_("the caller's number was withheld: there is no caller to block"),
                  N_("this caller is already blocked: lift that block first to change it"),
                  N_("the period must be from 1 to 365 days"), N_("a reason is required"),
                  N_("the reason must have at most 500 characters"), N_("no such block"),
                  N_("this block has already ended"))
BLOCK_FIELDS = ("case_reference", "days", "reason")
REFUSED_STATUS = {blocklist.NotFound: 404, blocklist.Conflict: 409, blocklist.Invalid: 422}


def _admin_page(request: Request, session: Session, *, status_code: int = 200,
                error: str | None = None, entered: dict[str, str] | None = None,
                block_error: str | None = None,
                block_entered: dict[str, str] | None = None) -> Response:
    orgs = organisations.list_organisations(session, include_inactive=True)
    blocks = blocklist.active_blocks(session, request.app.state.settings,
                                     request.app.state.clock())
    return render(request, "admin.html", viewer=auth.viewer(request), status_code=status_code,
                  organisations=orgs, org_slugs={o.id: o.slug for o in orgs},
                  users=users.list_users(session), roles=list(Role),
                  audit_entries=audit.entries(session, limit=AUDIT_ENTRIES),
                  error=error, entered=entered or {}, blocks=blocks,
                  block_error=block_error, block_entered=block_entered or {})


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


@router.post("/admin/blocks")
def block_caller(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser,
                 form: auth.Form) -> Response:
    """Block the caller of a case (by its reference), hotline-wide, for a number of days."""
    entered = {name: auth.field(form, name).strip() for name in BLOCK_FIELDS}
    try:
        blocklist.block(session, request.app.state.settings, admin, entered["case_reference"],
                        _days(entered["days"]), entered["reason"], request.app.state.clock())
    except blocklist.BlockError as exc:
        session.rollback()
        return _admin_page(request, session, status_code=REFUSED_STATUS[type(exc)],
                           block_error=str(exc), block_entered=entered)
    return flash.redirect("/console/admin", done="blocked")


def _days(text: str) -> int:
    # Anything but a plain number is 0, which the service refuses in its own words.
    return int(text) if text.isdecimal() and len(text) < 6 else 0


@router.post("/admin/blocks/{block_id}/lift")
def lift_block(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser,
               block_id: Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]) -> Response:
    try:
        blocklist.lift(session, admin, block_id, request.app.state.clock())
    except blocklist.BlockError as exc:
        session.rollback()
        return _admin_page(request, session, status_code=REFUSED_STATUS[type(exc)],
                           block_error=str(exc))
    return flash.redirect("/console/admin", done="unblocked")
