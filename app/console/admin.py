"""The admins' page: the responder directory, a link to the users (app.console.users),
blocked callers (blocking from a case reference, lifting), the audit log."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.blocklist import service as blocklist
from app.config import Settings
from app.console import auth, flash
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.db import MAX_INTEGER_ID
from app.deps import NowDep, SettingsDep
from app.i18n import N_
from app.organisations import service as organisations
from app.users.models import User

router = APIRouter(route_class=ConsoleRoute)
AUDIT_ENTRIES = 50
# The blocklist service's refusals, so the catalog can translate them (a test checks
# they match the service's).
BLOCK_REFUSALS = (N_("no case has this reference"),
                  N_("the caller's number was withheld: there is no caller to block"),
                  N_("this caller is already blocked: lift that block first to change it"),
                  N_("the period must be from 1 to 365 days"), N_("a reason is required"),
                  N_("the reason must have at most 500 characters"), N_("no such block"),
                  N_("this block has already ended"))
BLOCK_FIELDS = ("case_reference", "days", "reason")
REFUSED_STATUS = {blocklist.NotFound: 404, blocklist.Conflict: 409, blocklist.Invalid: 422}


def _admin_page(request: Request, session: Session, settings: Settings, now: datetime,
                admin: User, *, status_code: int = 200, block_error: str | None = None,
                block_entered: dict[str, str] | None = None) -> Response:
    orgs = organisations.list_organisations(session, include_inactive=True)
    blocks = blocklist.active_blocks(session, settings, now)
    entries = audit.entries(admin, session, limit=AUDIT_ENTRIES)
    return render(request, "admin.html", viewer=auth.viewer(request), status_code=status_code,
                  organisations=orgs, audit_entries=entries, blocks=blocks,
                  block_error=block_error, block_entered=block_entered or {})


@router.get("/admin")
def admin_page(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
               admin: auth.AdminUser) -> Response:
    return _admin_page(request, session, settings, now, admin)


@router.post("/admin/blocks")
def block_caller(request: Request, session: auth.ConsoleDb, settings: SettingsDep,
                 now: NowDep, admin: auth.AdminUser, form: auth.Form) -> Response:
    """Block the caller of a case (by its reference), hotline-wide, for a number of days."""
    entered = {name: auth.field(form, name).strip() for name in BLOCK_FIELDS}
    try:
        blocklist.block(session, settings, admin, entered["case_reference"],
                        _days(entered["days"]), entered["reason"], now)
    except blocklist.BlockError as exc:
        session.rollback()
        return _admin_page(request, session, settings, now, admin,
                           status_code=REFUSED_STATUS[type(exc)],
                           block_error=str(exc), block_entered=entered)
    return flash.redirect("/console/admin", done="blocked")


def _days(text: str) -> int:
    # Anything but a plain number is 0, which the service refuses in its own words.
    return int(text) if text.isdecimal() and len(text) < 6 else 0


@router.post("/admin/blocks/{block_id}/lift")
def lift_block(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
               admin: auth.AdminUser,
               block_id: Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]) -> Response:
    try:
        blocklist.lift(session, admin, block_id, now)
    except blocklist.BlockError as exc:
        session.rollback()
        return _admin_page(request, session, settings, now, admin,
                           status_code=REFUSED_STATUS[type(exc)],
                           block_error=str(exc))
    return flash.redirect("/console/admin", done="unblocked")
