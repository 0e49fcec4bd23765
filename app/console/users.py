"""Users in the console: the admins' list and per-user page (create, deactivate, reactivate,
reset a password, change a role), and everyone's own password page.

The work is app.users.lifecycle's, which scopes, refuses and audits; this module only turns
its refusals into pages. An organisation's admin sees and manages its own users only; a user
out of reach is the same 404 as no user, so names of other organisations do not leak.
A user with a one-time password is sent to the password page by app.console.auth until
they choose their own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.console import auth, flash
from app.console.errors import ConsoleRoute, ErrorPage
from app.console.pages import render
from app.db import MAX_INTEGER_ID
from app.deps import NowDep
from app.i18n import N_
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.users import lifecycle, two_factor
from app.users import service as users
from app.users.models import Role, User

router = APIRouter(route_class=ConsoleRoute)
USERS_PATH = "/console/admin/users"
UserId = Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]
Action = Callable[[datetime], object]  # one lifecycle change, at this time
MAX_PASSWORD_LENGTH = 200  # as the API's

NO_SUCH_USER = N_("There is no such user among those you manage.")
USERNAME_INVALID = N_("The username must have 1 to 64 characters, without spaces.")
ROLE_INVALID = N_("Choose a role.")
ORGANISATION_NEEDED = N_("An operator needs an organisation.")
ORGANISATION_UNKNOWN = N_("Choose an organisation from the list.")
CONFIRM_DEACTIVATION = N_("Tick the box to confirm the deactivation: nothing was changed.")
PASSWORD_TOO_LONG = N_("The password must have at most 200 characters.")
PASSWORD_WRONG = N_("The current password is wrong.")
PASSWORDS_DIFFER = N_("The two new passwords are not the same.")
PASSWORD_UNCHANGED = N_("Choose a password different from the current one.")
COORDINATORS_REFUSED = N_("coordinators see the whole hotline: ask a hotline admin")
# The services' refusals, so the catalog can translate them (a test checks they match).
SERVICE_REFUSALS = (N_("the password must have at least 12 characters"),
                    N_("you cannot deactivate yourself"),
                    N_("this is the hotline's last active admin: make another first"),
                    COORDINATORS_REFUSED, N_("an operator needs an organisation"))


@dataclass(frozen=True)
class Refused(Exception):
    """An action refused with a message for the page (a msgid or the service's words)."""

    status_code: int
    message: str


# ----- the list and the per-user page -------------------------------------------------------

def _scope(session: Session, admin: User) -> dict[str, object]:
    """What every users page needs: the admin's organisations to choose from, slugs, roles."""
    orgs = organisations.list_organisations(session, include_inactive=True)
    own = admin.organisation_id
    return {"org_slugs": {o.id: o.slug for o in orgs},
            "choices": [o for o in orgs if o.active and (own is None or o.id == own)],
            "hotline_admin": own is None,
            "roles": [r for r in Role if own is None or r is not Role.COORDINATOR]}


def _list_page(request: Request, session: Session, admin: User, *, status_code: int = 200,
               error: str | None = None, entered: dict[str, str] | None = None) -> Response:
    return render(request, "admin_users.html", viewer=auth.viewer(request),
                  status_code=status_code, users=lifecycle.manageable(session, admin),
                  error=error, entered=entered or {}, **_scope(session, admin))


def _user_page(request: Request, session: Session, admin: User, user: User, *,
               status_code: int = 200, error: str | None = None) -> Response:
    return render(request, "admin_user.html", viewer=auth.viewer(request),
                  status_code=status_code, user=user, error=error, **_scope(session, admin))


def _target(session: Session, admin: User, user_id: int) -> User:
    """The user, if this admin may manage them; the same 404 page otherwise."""
    user = session.get(User, user_id)
    try:
        if user is None:
            raise LookupError(user_id)
        return lifecycle.find(session, admin, user.username)
    except LookupError:
        raise ErrorPage(404, NO_SUCH_USER) from None


@router.get("/admin/users")
def users_page(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser) -> Response:
    return _list_page(request, session, admin)


@router.get("/admin/users/{user_id}")
def user_page(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser,
              user_id: UserId) -> Response:
    return _user_page(request, session, admin, _target(session, admin, user_id))


# ----- creating a user ----------------------------------------------------------------------

def _creation_problem(admin: User, username: str, role_value: str,
                      organisation: str) -> str | None:
    if not 1 <= len(username) <= 64 or any(c.isspace() for c in username):
        return USERNAME_INVALID
    if role_value not in {r.value for r in Role}:
        return ROLE_INVALID
    if admin.organisation_id is not None and role_value == Role.COORDINATOR:
        return COORDINATORS_REFUSED  # as lifecycle says when changing a role
    if role_value == Role.OPERATOR and not organisation:
        return ORGANISATION_NEEDED
    return None


def _own_slug(session: Session, admin: User) -> str:
    organisation = session.get(Organisation, admin.organisation_id)
    return organisation.slug if organisation else ""


@router.post("/admin/users")
def create_user(request: Request, session: auth.ConsoleDb, now: NowDep,
                admin: auth.AdminUser, form: auth.Form) -> Response:
    entered = {name: auth.field(form, name).strip()
               for name in ("username", "role", "organisation")}
    if admin.organisation_id is not None:  # an organisation's admin adds to it only
        entered["organisation"] = _own_slug(session, admin)
    problem = _creation_problem(admin, entered["username"], entered["role"],
                                entered["organisation"])
    if problem is None:
        try:
            # The admin typed the password and knows it: the user chooses their own at
            # first sign-in, as after a reset.
            lifecycle.create(session, admin, entered["username"], auth.field(form, "password"),
                             Role(entered["role"]), entered["organisation"] or None, now,
                             one_time=True)
        except users.UserError as exc:
            problem = str(exc)  # the service's own words; translated if the catalog has them
    if problem is not None:
        session.rollback()
        return _list_page(request, session, admin, status_code=422, error=problem,
                          entered=entered)
    return flash.redirect(USERS_PATH, done="user")


# ----- acting on one user -------------------------------------------------------------------

def _act(request: Request, session: Session, now: datetime, admin: User, user: User,
         done: str, action: Action) -> Response:
    """Run one lifecycle action; a refusal is the user's page again, nothing changed."""
    try:
        action(now)
    except Refused as refused:
        return _refused(request, session, admin, user, refused)
    except lifecycle.NotAllowed as exc:
        return _refused(request, session, admin, user, Refused(403, str(exc)))
    except users.UserError as exc:
        return _refused(request, session, admin, user, Refused(422, str(exc)))
    except LookupError:
        return _refused(request, session, admin, user, Refused(422, ORGANISATION_UNKNOWN))
    if user.id == admin.id and user.role is not Role.ADMIN:
        return flash.redirect(auth.HOME[user.role], done=done)  # no longer an admin
    return flash.redirect(f"{USERS_PATH}/{user.id}", done=done)


def _refused(request: Request, session: Session, admin: User, user: User,
             refused: Refused) -> Response:
    user_id = user.id
    session.rollback()
    return _user_page(request, session, admin, _target(session, admin, user_id),
                      status_code=refused.status_code, error=refused.message)


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(request: Request, session: auth.ConsoleDb, now: NowDep,
               admin: auth.AdminUser, form: auth.Form, user_id: UserId) -> Response:
    """Signs the user out everywhere; only with the box ticked, against a mis-tap."""
    user = _target(session, admin, user_id)

    def action(now: datetime) -> None:
        if auth.field(form, "confirm") != "yes":
            raise Refused(422, CONFIRM_DEACTIVATION)
        lifecycle.deactivate(session, admin, user, now)

    return _act(request, session, now, admin, user, "user-deactivated", action)


@router.post("/admin/users/{user_id}/reactivate")
def reactivate(request: Request, session: auth.ConsoleDb, now: NowDep,
               admin: auth.AdminUser, user_id: UserId) -> Response:
    user = _target(session, admin, user_id)
    return _act(request, session, now, admin, user, "user-reactivated",
                lambda now: lifecycle.reactivate(session, admin, user, now))


@router.post("/admin/users/{user_id}/two-factor/reset")
def reset_two_factor(request: Request, session: auth.ConsoleDb, now: NowDep,
                     admin: auth.AdminUser, user_id: UserId) -> Response:
    """After a lost phone: the user's sessions end and they enrol again at next sign-in."""
    user = _target(session, admin, user_id)
    return _act(request, session, now, admin, user, "user-two-factor",
                lambda now: two_factor.reset(session, admin, user, now))


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, session: auth.ConsoleDb, now: NowDep,
                   admin: auth.AdminUser, form: auth.Form, user_id: UserId) -> Response:
    """A one-time password the admin gives the user, who must replace it at sign-in."""
    user = _target(session, admin, user_id)
    password = auth.field(form, "password")

    def action(now: datetime) -> None:
        if len(password) > MAX_PASSWORD_LENGTH:
            raise Refused(422, PASSWORD_TOO_LONG)
        lifecycle.reset_password(session, admin, user, password, now, one_time=True)

    return _act(request, session, now, admin, user, "user-password", action)


@router.post("/admin/users/{user_id}/role")
def set_role(request: Request, session: auth.ConsoleDb, now: NowDep,
             admin: auth.AdminUser, form: auth.Form, user_id: UserId) -> Response:
    user = _target(session, admin, user_id)
    role_value, slug = auth.field(form, "role"), auth.field(form, "organisation").strip()

    def action(now: datetime) -> None:
        if role_value not in {r.value for r in Role}:
            raise Refused(422, ROLE_INVALID)
        role = Role(role_value)
        # A coordinator belongs to no organisation, whatever the form still had selected.
        lifecycle.set_role(session, admin, user, role,
                           None if role is Role.COORDINATOR else slug or None, now)

    return _act(request, session, now, admin, user, "user-role", action)


# ----- everyone's own password --------------------------------------------------------------

def _password_page(request: Request, user: User, *, status_code: int = 200,
                   error: str | None = None) -> Response:
    return render(request, "change_password.html", viewer=auth.viewer(request),
                  status_code=status_code, error=error, forced=user.must_change_password,
                  min_length=users.MIN_PASSWORD_LENGTH)


@router.get(auth.PASSWORD_PATH.removeprefix("/console"))
def password_page(request: Request, user: auth.SignedIn) -> Response:
    return _password_page(request, user)


def _own_password_problem(user: User, form: FormData) -> Refused | None:
    current, new = auth.field(form, "current_password"), auth.field(form, "new_password")
    if not users.password_matches(user, current[:MAX_PASSWORD_LENGTH]):
        return Refused(403, PASSWORD_WRONG)
    if new != auth.field(form, "new_password_again"):
        return Refused(422, PASSWORDS_DIFFER)
    if len(new) > MAX_PASSWORD_LENGTH:
        return Refused(422, PASSWORD_TOO_LONG)
    if new == current:
        return Refused(422, PASSWORD_UNCHANGED)
    return None


@router.post(auth.PASSWORD_PATH.removeprefix("/console"))
def change_password(request: Request, session: auth.ConsoleDb, now: NowDep,
                    user: auth.SignedIn, form: auth.Form) -> Response:
    """Choose one's own password: the way out of a one-time password, or any time."""
    problem = _own_password_problem(user, form)
    if problem is None:
        try:
            lifecycle.change_own_password(session, user, auth.field(form, "new_password"),
                                          now,
                                          keep_session=request.state.auth_token_id)
        except users.UserError as exc:  # too short
            problem = Refused(422, str(exc))
    if problem is not None:
        session.rollback()
        return _password_page(request, user, status_code=problem.status_code,
                              error=problem.message)
    return flash.redirect(auth.HOME[user.role], done="password")
