"""The responder directory edited in the console: validated as the import validates, routed
by at once, audited with before and after, and only by those allowed."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.events import bus
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.routing.engine import Query, route
from app.routing.needs import Need
from app.users.models import Role, User
from tests.channels.voice.calls import Caller
from tests.channels.voice.test_voice_flow import choose
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING, use_sessions
from tests.console.helpers import Console, sign_in

pytestmark = pytest.mark.usefixtures("demo_directory")

SHELTER = "kz-almaty-shelter"  # 24/7 in the demo directory; the first for a Kazakh in danger
OTHER = "ru-moscow-shelter"
LIST = "/console/admin/directory"
EDIT = f"{LIST}/{SHELTER}/edit"
SHELTER_PHONE = "+77270000111"
# WEEKDAY_MORNING is Monday 2026-11-23, 13:00 in Almaty.
MONDAY_AFTERNOON = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # 15:30 in Almaty
TUESDAY_AFTERNOON = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@pytest.fixture
def app(app, connection):
    """Sessions that carry the app's hub, as the app's own sessionmaker does: a commit
    delivers its events (directory.changed reloads the routing snapshot)."""
    hub = app.state.events
    use_sessions(app, lambda: Session(bind=connection, expire_on_commit=False,
                                      join_transaction_mode="create_savepoint",
                                      info={bus.HUB: hub}))
    return app


def fields(html: str) -> dict:
    """The form on an edit page as a browser would post it (checked boxes, selected
    options, every row's fields), without the CSRF token."""
    form: dict = {}
    for tag in re.finditer(r"<(input|textarea|select)\b([^>]*)>", html):
        kind, attributes = tag.group(1), tag.group(2)
        name = re.search(r'name="([^"]+)"', attributes).group(1)
        if name == "csrf_token":
            continue
        if kind == "textarea":
            value = html[tag.end():html.index("</textarea>", tag.end())]
        elif kind == "select":
            options = html[tag.end():html.index("</select>", tag.end())]
            chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
                r'<option value="([^"]*)"', options)
            value = chosen.group(1)
        elif 'type="checkbox"' in attributes:
            if " checked" not in attributes:
                continue
            found = re.search(r'value="([^"]*)"', attributes)
            value = found.group(1) if found else "on"
        else:
            value = re.search(r'value="([^"]*)"', attributes).group(1)
        value = value.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
        form.setdefault(name, []).append(value)
    return form


def edited(console: Console, path: str = EDIT, **changes) -> dict:
    form = fields(console.get(path).text)
    for name, value in changes.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value if isinstance(value, list) else [value]
    return form


def organisation(session, slug: str = SHELTER) -> Organisation:
    session.expire_all()
    return session.scalars(select(Organisation).where(Organisation.slug == slug)).one()


def first_for_a_kazakh_in_danger(app, at: datetime) -> str:
    """Who the app's routing snapshot (as it is now, not reloaded) puts first."""
    candidates = route(app.state.directory.current, Query("kk", "KZ", Need.DANGER, at))
    return next(c.slug for c in candidates if c.is_open)


def admin(app, session, username: str = "boss") -> Console:
    """A hotline admin, signed in (with two-factor login, as admins must)."""
    return sign_in(app, session, username, Role.ADMIN)


def org_admin(app, session, username: str, slug: str = SHELTER) -> Console:
    """An admin of one organisation (signed in as an admin, then given the organisation)."""
    console = admin(app, session, username)
    session.execute(update(User).where(User.username == username).values(
        organisation_id=organisation(session, slug).id))
    session.commit()
    return console


# --- hours and holidays, and routing follows them at once ---------------------------------


def test_new_hours_and_a_holiday_are_routed_by_at_once(app, client, session, settings):
    boss = admin(app, session)
    before = Caller(client, settings, "+77010000701")
    assert choose(before, "KZ", "kk", "1").dialled_numbers() == [SHELTER_PHONE]

    form = edited(boss, always_open=None, hours_mon="15:00-18:00",
                  hours_tue="15:00-18:00, 20:00-02:00",
                  exception_dates=["2026-11-24", "", "", ""],
                  exception_name=["Staff day", "", "", ""],
                  exception_kind=["holiday", "holiday", "holiday", "holiday"],
                  exception_hours=["", "", "", ""])
    response = boss.post(EDIT, form)
    assert (response.status_code, response.headers["location"]) == (
        303, f"{LIST}?done=organisation-saved")

    # The snapshot routing reads was reloaded by the save, not by waiting for its age.
    assert first_for_a_kazakh_in_danger(app, WEEKDAY_MORNING) != SHELTER  # 13:00: closed
    assert first_for_a_kazakh_in_danger(app, MONDAY_AFTERNOON) == SHELTER
    assert first_for_a_kazakh_in_danger(app, TUESDAY_AFTERNOON) != SHELTER  # the holiday
    after = Caller(client, settings, "+77010000702")
    assert SHELTER_PHONE not in choose(after, "KZ", "kk", "1").dialled_numbers()

    page = boss.get(EDIT).text
    assert 'name="hours_tue" value="15:00-18:00, 20:00-02:00"' in page
    assert 'name="exception_dates" value="2026-11-24"' in page
    listed = boss.get(f"{LIST}?done=organisation-saved").text
    assert "Saved: calls are routed by the new details from now on." in listed


def test_a_range_of_dates_is_stored_per_day_and_shown_as_the_range(app, session):
    boss = admin(app, session)
    rows = ["2027-03-21/2027-03-23", "2027-02-10", "2027-03-20", ""]
    form = edited(boss, exception_dates=rows, exception_name=["Nauryz", "Training", "", ""],
                  exception_kind=["holiday", "closure", "open", "holiday"],
                  exception_hours=["", "09:00-12:00", "10:00-14:00", ""])
    assert boss.post(EDIT, form).status_code == 303
    stored = [(e.day.isoformat(), e.closed, e.intervals, e.name)
              for e in organisation(session).exceptions]
    assert stored == [("2027-02-10", True, ["09:00-12:00"], "Training"),
                      ("2027-03-20", False, ["10:00-14:00"], None),
                      ("2027-03-21", True, [], "Nauryz"), ("2027-03-22", True, [], "Nauryz"),
                      ("2027-03-23", True, [], "Nauryz")]
    page = boss.get(EDIT).text
    assert 'value="2027-03-21/2027-03-23"' in page and 'value="2027-03-22"' not in page
    # Emptying a row's date removes that exception; the others stay.
    again = edited(boss, exception_dates=["2027-02-10", "", "2027-03-21/2027-03-23", "", "", ""])
    assert boss.post(EDIT, again).status_code == 303
    assert [e.day.isoformat() for e in organisation(session).exceptions] == [
        "2027-02-10", "2027-03-21", "2027-03-22", "2027-03-23"]


def test_the_list_says_who_is_open_now_and_how_they_are_rung(app, session):
    boss = admin(app, session)
    page = boss.get(LIST).text
    row = page[page.index(f'{LIST}/{SHELTER}/edit"'):]
    row = row[:row.index("</tr>")]
    assert 'data-label="Open now">yes<' in row
    assert "all duty numbers at once" in row
    assert 'data-label="Active">yes<' in row
    assert page.count('/edit"') == len(organisations.list_organisations(session, True))


# --- refused input: the schema's words, what was typed kept, nothing saved ----------------


@pytest.mark.parametrize(("change", "message"), [
    ({"duty_numbers": "+1 23"}, "'+1 23' is not a possible phone number"),
    ({"duty_numbers": "0727 000 0111"}, "is not an international number (+country code)"),
    ({"duty_numbers": ""}, "List should have at least 1 item after validation, not 0"),
    ({"hours_mon": "09:00-25:00", "always_open": None}, "'09:00-25:00' has an impossible time"),
    ({"hours_mon": "9-18", "always_open": None}, "'9-18' is not an interval like '09:00-18:00'"),
    ({"languages": "kk, klingon"}, "not ISO 639 language codes: 'klingon'"),
    ({"timezone": "Asia/Atlantis"}, "'Asia/Atlantis' is not an IANA time zone"),
    ({"country": "QQ"}, "'QQ' is not an ISO 3166-1 alpha-2 country code"),
    ({"services": None}, "List should have at least 1 item after validation, not 0"),
    ({"priority": "first"}, "Input should be a valid integer"),
    ({"exception_dates": ["2027-13-01", "", "", ""]}, "is not a date like '2026-12-31'"),
    ({"exception_dates": ["2027-01-01", "2027-01-01/2027-01-02", "", ""],
      "exception_kind": ["holiday"] * 4}, "2027-01-01 is given twice"),
    ({"exception_dates": ["2027-01-01", "", "", ""], "exception_kind": ["closure"] * 4,
      "exception_hours": ["", "", "", ""]}, "hours are a non-empty list"),
])
def test_refused_input_shows_the_schemas_message_keeps_what_was_typed_and_saves_nothing(
        app, session, change, message):
    boss = admin(app, session)
    snapshot_before = app.state.directory.get()
    form = edited(boss, name="Safe House Almaty, renamed", **change)
    before = dump_all_tables(session)
    response = boss.post(EDIT, form)
    assert response.status_code == 422
    assert "Nothing was saved: correct what is marked below." in response.text
    assert message.replace("'", "&#39;") in response.text, response.text
    assert 'value="Safe House Almaty, renamed"' in response.text  # kept, as typed
    assert dump_all_tables(session) == before
    assert app.state.directory.current is snapshot_before  # routing untouched


def test_a_new_organisation_is_validated_the_same_way(app, session):
    boss = admin(app, session)
    form = fields(boss.get(f"{LIST}/new").text) | {
        "id": ["KZ Shelter!"], "name": ["New shelter"], "country": ["KZ"],
        "timezone": ["Asia/Almaty"], "services": ["shelter"], "languages": ["kk"],
        "duty_numbers": ["+77270000999"], "always_open": ["on"]}
    before = dump_all_tables(session)
    refused = boss.post(f"{LIST}/new", form)
    assert refused.status_code == 422 and "String should match pattern" in refused.text
    taken = boss.post(f"{LIST}/new", form | {"id": [SHELTER]})
    assert taken.status_code == 422
    assert "An organisation with this id exists already." in taken.text
    assert dump_all_tables(session) == before


def test_a_new_organisation_is_routed_to_at_once(app, session):
    boss = admin(app, session)
    form = fields(boss.get(f"{LIST}/new").text) | {
        "id": ["kz-new-shelter"], "name": ["New Shelter Almaty"], "country": ["kz"],
        "timezone": ["Asia/Almaty"], "services": ["shelter", "medical"],
        "languages": ["kk ru"], "duty_numbers": ["+7 727 000 0999\n\n"], "ring": ["in_order"],
        "priority": ["1"], "always_open": ["on"]}
    response = boss.post(f"{LIST}/new", form)
    assert (response.status_code, response.headers["location"]) == (
        303, f"{LIST}?done=organisation-created")
    assert first_for_a_kazakh_in_danger(app, WEEKDAY_MORNING) == "kz-new-shelter"
    org = organisation(session, "kz-new-shelter")
    assert (org.country, org.languages, org.duty_numbers, org.ring_mode, org.active) == (
        "KZ", ["kk", "ru"], ["+77270000999"], "in_order", True)


def test_an_inactive_organisation_is_no_longer_routed_to(app, session):
    boss = admin(app, session)
    assert boss.post(EDIT, edited(boss, active=None)).status_code == 303
    assert organisation(session).active is False
    assert app.state.directory.current.by_slug(SHELTER) is None
    assert boss.post(EDIT, edited(boss, active="on")).status_code == 303
    assert app.state.directory.current.by_slug(SHELTER) is not None


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.COORDINATOR])
def test_operators_and_coordinators_are_refused(app, session, role):
    someone = sign_in(app, session, "someone", role)
    before = dump_all_tables(session)
    for path in (LIST, f"{LIST}/new", EDIT):
        page = someone.get(path)
        assert page.status_code == 403 and "not for your role" in page.text, path
    for path in (f"{LIST}/new", EDIT):
        assert someone.post(path, {"name": "Taken over"}).status_code == 403
    assert dump_all_tables(session) == before


def test_an_organisations_admin_edits_only_its_own(app, session):
    own = org_admin(app, session, "shelter-admin")
    listed = own.get(LIST).text
    assert f"{LIST}/{SHELTER}/edit" in listed and f"{LIST}/{OTHER}/edit" not in listed
    assert "Add an organisation" not in listed
    other = f"{LIST}/{OTHER}/edit"
    assert own.get(other).status_code == 404
    before = dump_all_tables(session)
    assert own.post(other, {"name": "Taken over"}).status_code == 404
    assert own.get(f"{LIST}/new").status_code == 403
    assert own.post(f"{LIST}/new", {"id": "kz-mine-too"}).status_code == 403
    assert dump_all_tables(session) == before

    page = own.get(EDIT).text
    assert 'name="hub"' not in page and 'name="priority"' not in page
    # Posted anyway, hub and priority are not theirs to set; the rest is.
    form = edited(own, name="Safe House Almaty (our own name)", hub="on", priority="0")
    assert own.post(EDIT, form).status_code == 303
    org = organisation(session)
    assert (org.name, org.is_hub, org.priority) == ("Safe House Almaty (our own name)",
                                                    False, 20)


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(app, session):
    boss = admin(app, session)
    form = edited(boss, name="Renamed by another site")
    new = fields(boss.get(f"{LIST}/new").text) | {
        "id": ["kz-forged"], "name": ["Forged"], "country": ["KZ"], "timezone": ["Asia/Almaty"],
        "services": ["shelter"], "languages": ["kk"], "duty_numbers": ["+77270000998"],
        "always_open": ["on"]}
    before = dump_all_tables(session)
    for csrf in (None, "", "forged-token"):
        for path, data in ((EDIT, form), (f"{LIST}/new", new)):
            response = boss.post(path, data, csrf=csrf)
            assert response.status_code == 403 and "This form has expired" in response.text
    assert dump_all_tables(session) == before
    assert boss.post(EDIT, form).status_code == 303
    assert boss.post(f"{LIST}/new", new).status_code == 303
    assert dump_all_tables(session) != before


# --- audit and escaping -------------------------------------------------------------------


def directory_entries(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("directory.%"))
                                .order_by(AuditEvent.id)))


def test_every_change_is_audited_with_before_and_after_of_what_changed(app, session):
    boss = admin(app, session)
    form = edited(boss, name="Safe House Almaty (renamed)",
                  duty_numbers="+77270000111\n+77270000112", always_open=None,
                  hours_mon="09:00-18:00",
                  exception_dates=["2027-01-01", "", "", ""], exception_name=["", "", "", ""],
                  exception_kind=["holiday"] * 4, exception_hours=["", "", "", ""])
    assert boss.post(EDIT, form).status_code == 303
    [entry] = directory_entries(session)
    assert (entry.action, entry.username, entry.detail["organisation"]) == (
        "directory.organisation.updated", "boss", SHELTER)
    assert entry.detail["before"] == {
        "name": "Safe House Almaty (demo)", "duty_numbers": ["+77270000111"],
        "hours": "24/7", "exceptions": {}}
    assert entry.detail["after"] == {
        "name": "Safe House Almaty (renamed)", "duty_numbers": ["+77270000111", "+77270000112"],
        "hours": {"mon": "09:00-18:00"}, "exceptions": {"2027-01-01": "holiday"}}

    # Saved again unchanged: nothing to audit.
    assert boss.post(EDIT, edited(boss)).status_code == 303
    assert len(directory_entries(session)) == 1

    new = fields(boss.get(f"{LIST}/new").text) | {
        "id": ["kz-audited"], "name": ["Audited Shelter"], "country": ["KZ"],
        "timezone": ["Asia/Almaty"], "services": ["shelter"], "languages": ["kk"],
        "duty_numbers": ["+77270000997"], "hours_fri": ["10:00-14:00"]}
    assert boss.post(f"{LIST}/new", new).status_code == 303
    created = directory_entries(session)[-1]
    assert created.action == "directory.organisation.created"
    assert created.detail["before"] == {}
    assert created.detail["after"]["hours"] == {"fri": "10:00-14:00"}
    assert created.detail["after"]["duty_numbers"] == ["+77270000997"]
    assert "Audited Shelter" in boss.get("/console/admin").text  # the admins' audit list


def test_a_hostile_name_is_escaped_on_every_directory_page(app, session):
    boss = admin(app, session)
    hostile = 'Evil <b onmouseover="x()"><script>alert(1)</script></b>'
    assert boss.post(EDIT, edited(boss, name=hostile)).status_code == 303
    refused = boss.post(EDIT, edited(boss, name=hostile + "<img src=x>", duty_numbers="+1"))
    assert refused.status_code == 422
    for html in (boss.get(LIST).text, boss.get(EDIT).text, refused.text,
                 boss.get("/console/admin").text):
        assert "Evil &lt;b onmouseover=&#34;x()&#34;&gt;&lt;script&gt;" in html
        assert "<b onmouseover" not in html and "<img src=x" not in html
        assert html.count("<script") == 1  # the console's own script only
