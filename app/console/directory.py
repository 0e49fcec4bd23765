"""The responder directory in the console: the list, an organisation's page, a new one.

The work is app.organisations.editing's: the form becomes a directory file's entry,
validated by the import's schema and stored by the import's code. A refused form comes
back with what was typed and the schema's messages next to their fields, nothing saved.
A hotline admin (no organisation) edits every organisation and adds new ones; an
organisation's admin edits only its own, and not what decides other organisations' calls
(regional hub, priority). An organisation out of reach is the same 404 as none.
"""

from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.console import auth, flash, language
from app.console.errors import ConsoleRoute, ErrorPage, forbidden
from app.console.pages import render
from app.deps import NowDep
from app.i18n import N_
from app.organisations import editing
from app.organisations import service as organisations
from app.organisations.models import Organisation, RingMode
from app.organisations.schemas import WEEKDAYS
from app.routing.needs import Need, Service
from app.users.models import User

router = APIRouter(route_class=ConsoleRoute)
DIRECTORY_PATH = "/console/admin/directory"
Slug = Annotated[str, Path(max_length=64)]

NO_SUCH_ORGANISATION = N_("There is no such organisation among those you manage.")
NOT_SAVED = N_("Nothing was saved: correct what is marked below.")
RING_LABELS = {RingMode.SIMULTANEOUS: N_("all duty numbers at once"),
               RingMode.IN_ORDER: N_("duty numbers one after another"),
               RingMode.ON_DUTY: N_("the phones of the operators on duty")}
EXCEPTION_LABELS = {editing.HOLIDAY: N_("closed all day (holiday)"),
                    editing.CLOSURE: N_("closed during these hours"),
                    editing.SPECIAL: N_("open these hours instead")}
CHECKBOXES = ("active", "hub", "always_open", "require_2fa")


def _hotline_admin(admin: User) -> bool:
    return admin.organisation_id is None


def _reachable(session: Session, admin: User, slug: str) -> Organisation:
    org = editing.find(session, slug)
    if org is None or not (_hotline_admin(admin) or org.id == admin.organisation_id):
        raise ErrorPage(404, NO_SUCH_ORGANISATION)
    return org


# ----- the list ---------------------------------------------------------------------------

@router.get("/admin/directory")
def directory_page(request: Request, session: auth.ConsoleDb, now: NowDep,
                   admin: auth.AdminUser) -> Response:
    orgs = [org for org in organisations.list_organisations(session, include_inactive=True)
            if _hotline_admin(admin) or org.id == admin.organisation_id]
    rows = [(org, org.active and organisations.to_responder(org).is_open(now)) for org in orgs]
    return render(request, "directory.html", viewer=auth.viewer(request), rows=rows,
                  ring_labels=RING_LABELS, hotline_admin=_hotline_admin(admin))


# ----- one organisation -------------------------------------------------------------------

@router.get("/admin/directory/new")
def new_page(request: Request, _session: auth.ConsoleDb, admin: auth.AdminUser) -> Response:
    if not _hotline_admin(admin):
        raise forbidden()
    return _form_page(request, admin, editing.OrganisationForm(), None)


@router.post("/admin/directory/new")
def create(request: Request, session: auth.ConsoleDb, now: NowDep, admin: auth.AdminUser,
           form: auth.Form) -> Response:
    if not _hotline_admin(admin):
        raise forbidden()
    entered = _entered(form)
    try:
        editing.create(session, admin, entered, now)
    except editing.Invalid as exc:
        session.rollback()
        return _form_page(request, admin, entered, None, exc.problems)
    return flash.redirect(DIRECTORY_PATH, done="organisation-created")


@router.get("/admin/directory/{slug}/edit")
def edit_page(request: Request, session: auth.ConsoleDb, admin: auth.AdminUser,
              slug: Slug) -> Response:
    org = _reachable(session, admin, slug)
    return _form_page(request, admin, editing.form_of(org), org)


@router.post("/admin/directory/{slug}/edit")
def update(request: Request, session: auth.ConsoleDb, now: NowDep, admin: auth.AdminUser,
           form: auth.Form, slug: Slug) -> Response:
    org = _reachable(session, admin, slug)
    entered = _entered(form)
    if not _hotline_admin(admin):
        # A regional hub takes others' callers, priority orders them: the hotline decides.
        entered.hub, entered.priority = org.is_hub, str(org.priority)
    try:
        editing.update(session, admin, org, entered, now)
    except editing.Invalid as exc:
        session.rollback()
        return _form_page(request, admin, entered, _reachable(session, admin, slug),
                          exc.problems)
    return flash.redirect(DIRECTORY_PATH, done="organisation-saved")


def _entered(form: FormData) -> editing.OrganisationForm:
    """The form's fields as typed (a checkbox is there or not)."""
    text = {name: auth.field(form, name) for name in (
        "id", "name", "country", "timezone", "priority", "languages", "duty_numbers", "ring")}
    rows = zip(*(form.getlist(f"exception_{part}") for part in ("dates", "name", "kind", "hours")),
               strict=False)
    return editing.OrganisationForm(
        slug=text["id"], name=text["name"], country=text["country"],
        timezone=text["timezone"], priority=text["priority"], languages=text["languages"],
        duty_numbers=text["duty_numbers"], ring=text["ring"],
        services=[value for value in form.getlist("services") if isinstance(value, str)],
        hours={day: auth.field(form, f"hours_{day}") for day in WEEKDAYS},
        exceptions=[editing.ExceptionRow(*(str(part) for part in row)) for row in rows],
        **{name: auth.field(form, name) == "on" for name in CHECKBOXES})


def _form_page(request: Request, admin: User, entered: editing.OrganisationForm,
               org: Organisation | None, problems: dict[str, list[str]] | None = None
               ) -> Response:
    ui = language.language_of(request)
    days = Locale.parse(ui).days["format"]["wide"]
    return render(request, "directory_edit.html", viewer=auth.viewer(request),
                  status_code=422 if problems else 200, org=org, form=entered.with_blank_rows(),
                  problems=problems or {}, not_saved=NOT_SAVED,
                  hotline_admin=_hotline_admin(admin),
                  weekdays=[(day, days[number]) for number, day in enumerate(WEEKDAYS)],
                  services=[(service.value, Need(service.value)) for service in Service],
                  ring_labels=RING_LABELS, exception_labels=EXCEPTION_LABELS)
