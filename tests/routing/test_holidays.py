"""Holidays, closures and special hours: dated exceptions to the weekly opening hours.

From the directory file to the snapshot (and its copy on disk), through the routing
engine, to what a caller hears and a texter reads when nobody is on duty, and what
``hotline route`` shows.
"""

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.cases.models import CallbackRequest, Case, Contact, ContactOutcome
from app.messaging import texts
from app.organisations import service as organisations
from app.organisations.models import OpeningException, Organisation
from app.organisations.service import DEMO_DIRECTORY, DirectoryError
from app.routing import cache
from app.routing.engine import Query, Reopening, reopening, route
from app.routing.needs import Need
from app.routing.snapshot import DatedException, Directory, Interval
from tests.channels.voice.calls import Caller, expected, spoken
from tests.factories import OFFICE_HOURS
from tests.factories import make_responder as plain_responder
from tests.messaging.texting import Texter
from tests.test_cli import hotline  # noqa: F401  (the fixture that runs the CLI)

NEW_YEAR = DatedException(date(2027, 1, 1), closed=True, name="New Year")


def make_responder(slug: str, country: str = "KZ", *,
                   exceptions: tuple[DatedException, ...] = (), **kwargs):
    return dataclasses.replace(plain_responder(slug, country, **kwargs), exceptions=exceptions)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def holiday(day: str, name: str | None = None) -> DatedException:
    return DatedException(date.fromisoformat(day), closed=True, name=name)


def hours_on(day: str, *intervals: tuple[int, int], closed: bool = False,
             name: str | None = None) -> DatedException:
    return DatedException(date.fromisoformat(day), closed,
                          tuple((time(opens), time(closes)) for opens, closes in intervals),
                          name)


# --- the snapshot and the engine --------------------------------------------------------


def test_a_holiday_closes_an_office_all_day_and_the_reason_says_which_and_until_when():
    office = make_responder("uz-office", "UZ", languages=("uz",), timezone="Asia/Tashkent",
                            services=("legal_aid",),
                            hours=(*OFFICE_HOURS, Interval(5, time(9), time(13))))
    closed = make_responder("uz-office", "UZ", languages=("uz",), timezone="Asia/Tashkent",
                            services=("legal_aid",), hours=office.hours,
                            exceptions=(holiday("2026-12-31", "New Year"), NEW_YEAR))
    morning = at("2026-12-31T10:00+05:00")
    assert office.is_open(morning) and not closed.is_open(morning)
    [candidate] = route(Directory((closed,)), Query("uz", "UZ", Need.LEGAL_AID, morning))
    assert not candidate.is_open
    assert candidate.reasons[0] == ("closed: New Year (holiday); "
                                    "opens Sat 2027-01-02 09:00 Asia/Tashkent")


def test_a_closure_during_given_hours_reopens_when_it_ends():
    office = make_responder("kg-office", "KG", timezone="Asia/Bishkek",
                            exceptions=(hours_on("2027-02-10", (9, 12), closed=True,
                                                 name="Staff training"),))
    assert not office.is_open(at("2027-02-10T10:00+06:00"))
    assert office.is_open(at("2027-02-10T12:00+06:00"))
    assert office.is_open(at("2027-02-11T10:00+06:00"))  # only that date
    assert office.next_opening(at("2027-02-10T10:00+06:00")) == at("2027-02-10T12:00+06:00")
    [candidate] = route(Directory((office,)), Query("ru", "KG", None,
                                                    at("2027-02-10T10:00+06:00")))
    assert candidate.reasons[0] == ("closed: Staff training (closure 09:00-12:00); "
                                    "opens Wed 2027-02-10 12:00 Asia/Bishkek")


def test_special_hours_open_a_day_that_is_otherwise_closed():
    office = make_responder("kz-office", "KZ", exceptions=(
        hours_on("2027-03-20", (10, 14), name="Saturday shift"),))  # a Saturday
    assert not office.is_open(at("2027-03-20T09:59+05:00"))
    assert office.is_open(at("2027-03-20T11:00+05:00"))
    assert not office.is_open(at("2027-03-20T14:00+05:00"))
    assert not office.is_open(at("2027-03-27T11:00+05:00"))  # the next Saturday as usual
    assert office.next_opening(at("2027-03-20T08:00+05:00")) == at("2027-03-20T10:00+05:00")
    [candidate] = route(Directory((office,)), Query("ru", "KZ", None,
                                                    at("2027-03-20T11:00+05:00")))
    assert candidate.is_open
    assert candidate.reasons[0] == "open now: Saturday shift (special hours 10:00-14:00)"


def test_special_hours_replace_the_weekdays_and_may_run_past_midnight():
    short_day = make_responder("kz-office", "KZ", exceptions=(hours_on("2026-12-31", (9, 13)),))
    assert short_day.is_open(at("2026-12-31T12:00+05:00"))
    assert not short_day.is_open(at("2026-12-31T14:00+05:00"))  # 09-18 on other Thursdays
    night = make_responder("kz-office", "KZ", exceptions=(hours_on("2027-01-02", (20, 2)),))
    assert night.is_open(at("2027-01-03T01:00+05:00"))
    assert not night.is_open(at("2027-01-03T02:00+05:00"))


MOSCOW_NIGHTS = tuple(Interval(day, time(20), time(2)) for day in range(5))  # Mon-Fri


def moscow_night_line(*exceptions: DatedException):
    return make_responder("ru-night", "RU", timezone="Europe/Moscow", hours=MOSCOW_NIGHTS,
                          exceptions=exceptions)


def test_an_overnight_shift_that_crosses_into_a_holiday_ends_at_midnight():
    usual, festive = moscow_night_line(), moscow_night_line(holiday("2026-12-31"))
    after_midnight = at("2026-12-31T00:30+03:00")  # Wednesday's shift, on Thursday's clock
    assert usual.is_open(after_midnight)
    assert festive.is_open(at("2026-12-30T23:30+03:00"))
    assert not festive.is_open(after_midnight)
    # The holiday has no shift of its own, not even the part past its midnight.
    assert not festive.is_open(at("2027-01-01T01:00+03:00"))
    assert festive.next_opening(after_midnight) == at("2027-01-01T20:00+03:00")


def test_a_closure_across_midnight_cuts_the_night_shift_on_both_dates():
    line = moscow_night_line(DatedException(date(2026, 12, 30), True, ((time(23), time(1)),)))
    assert line.is_open(at("2026-12-30T22:30+03:00"))
    assert not line.is_open(at("2026-12-31T00:30+03:00"))
    assert line.is_open(at("2026-12-31T01:30+03:00"))
    assert line.next_opening(at("2026-12-30T23:30+03:00")) == at("2026-12-31T01:00+03:00")
    early_shift = make_responder("ru-early", "RU", timezone="Europe/Moscow",
                                 hours=(Interval(3, time(0), time(6)),),  # Thursdays
                                 exceptions=(hours_on("2026-12-30", (22, 2), closed=True),))
    assert not early_shift.is_open(at("2026-12-31T01:00+03:00"))
    assert early_shift.is_open(at("2026-12-31T03:00+03:00"))


def nowruz_line(slug: str, timezone: str):
    """Open round the clock but on Nowruz, in its own time zone."""
    return make_responder(slug, always_open=True, timezone=timezone,
                          exceptions=(holiday("2027-03-21", "Nowruz"),))


def test_the_same_holiday_falls_at_different_instants_in_kabul_and_istanbul():
    kabul = nowruz_line("af-line", "Asia/Kabul")  # UTC+04:30
    istanbul = nowruz_line("tr-line", "Europe/Istanbul")  # UTC+03:00
    early = datetime(2027, 3, 20, 20, 0, tzinfo=UTC)  # 00:30 in Kabul, 23:00 in Istanbul
    assert not kabul.is_open(early) and istanbul.is_open(early)
    late = datetime(2027, 3, 21, 20, 30, tzinfo=UTC)  # 01:00 in Kabul, 23:30 in Istanbul
    assert kabul.is_open(late) and not istanbul.is_open(late)
    assert istanbul.next_opening(late) == datetime(2027, 3, 21, 21, 0, tzinfo=UTC)
    reasons = {c.slug: c.reasons[0] for c in route(Directory((kabul, istanbul)),
                                                   Query("ru", None, None, early))}
    assert reasons == {"tr-line": "open 24/7", "af-line": (
        "closed: Nowruz (holiday); opens Mon 2027-03-22 00:00 Asia/Kabul")}


def test_the_next_opening_is_found_after_a_closure_longer_than_a_week():
    office = make_responder("kz-office", "KZ", exceptions=tuple(
        holiday(f"2027-07-{day:02}", "Summer closure") for day in range(1, 21)))
    assert office.next_opening(at("2027-07-05T10:00+05:00")) == at("2027-07-21T09:00+05:00")


def test_open_hubs_still_answer_when_the_local_office_is_on_holiday():
    office = make_responder("tj-office", "TJ", languages=("tg",), timezone="Asia/Dushanbe",
                            exceptions=(NEW_YEAR,))
    hub = make_responder("kz-hub", "KZ", languages=("tg",), hub=True, always_open=True)
    result = route(Directory((office, hub)), Query("tg", "TJ", None, at("2027-01-01T10:00+05:00")))
    assert [(c.slug, c.is_open) for c in result] == [("kz-hub", True), ("tj-office", False)]
    assert reopening(result, at("2027-01-01T10:00+05:00")) is None  # someone is on duty


@pytest.mark.parametrize(("now", "back"), [
    ("2027-03-21T10:00+04:30", Reopening.WITHIN_DAY),  # the hub at midnight in Istanbul
    ("2027-03-21T20:00+04:30", Reopening.WITHIN_HOURS),
    ("2027-03-22T01:00+04:30", Reopening.WITHIN_HOUR),
])
def test_how_soon_someone_is_back_when_nobody_is_on_duty(now, back):
    directory = Directory((nowruz_line("tr-hub", "Europe/Istanbul"),))
    candidates = route(directory, Query("ru", None, None, at(now)))
    assert reopening(candidates, at(now)) is back


def test_nobody_back_within_a_day_is_not_promised_a_time():
    office = make_responder("tj-office", "TJ", timezone="Asia/Dushanbe",
                            exceptions=(holiday("2027-03-21"), holiday("2027-03-22")))
    now = at("2027-03-21T10:00+05:00")  # a Sunday; opens Tuesday 09:00
    assert reopening(route(Directory((office,)), Query("ru", "TJ", None, now)), now) is None


# Time zones without clock changes from 2020 to 2035, so every local time exists once.
ZONES = ["Asia/Almaty", "Asia/Kabul", "Europe/Istanbul", "Asia/Tashkent", "UTC"]
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))
weekly = st.lists(st.builds(Interval, st.integers(0, 6), clock_times, clock_times), max_size=4)
closures = st.lists(st.tuples(clock_times, clock_times), max_size=2).map(tuple)
special_hours = st.lists(st.tuples(clock_times, clock_times), min_size=1, max_size=2).map(tuple)
instants = st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC))


@st.composite
def exceptions_near(draw: st.DrawFn, around: date, offsets: range) -> tuple:
    days = draw(st.sets(st.sampled_from(list(offsets)), max_size=4))
    rules = []
    for offset in sorted(days):
        closed = draw(st.booleans())
        intervals = draw(closures if closed else special_hours)
        rules.append(DatedException(around + timedelta(days=offset), closed, intervals))
    return tuple(rules)


@settings(max_examples=300, deadline=None)
@given(st.data(), weekly, st.sampled_from(ZONES), st.booleans(), instants)
def test_exceptions_on_other_dates_change_nothing(data, hours, zone, always_open, now):
    plain = make_responder("org", timezone=zone, hours=hours, always_open=always_open)
    far = data.draw(exceptions_near(now.date(), range(10, 30)))
    with_far = make_responder("org", timezone=zone, hours=hours, always_open=always_open,
                              exceptions=far)
    assert with_far.is_open(now) == plain.is_open(now)
    if plain.next_opening(now) is not None:
        assert with_far.next_opening(now) == plain.next_opening(now)


@settings(max_examples=300, deadline=None)
@given(st.data(), weekly, st.sampled_from(ZONES), st.booleans(), instants)
def test_a_closed_responder_stays_closed_until_its_next_opening(data, hours, zone,
                                                                always_open, now):
    rules = data.draw(exceptions_near(now.date(), range(-2, 4)))
    responder = make_responder("org", timezone=zone, hours=hours, always_open=always_open,
                               exceptions=rules)
    opening = responder.next_opening(now)
    if responder.is_open(now) or opening is None:
        return
    assert opening > now and responder.is_open(opening)
    wait = opening - now
    for moment in [now + wait * k / 10 for k in range(1, 10)] + [opening - timedelta(minutes=1)]:
        assert not responder.is_open(moment), moment


# --- the saved snapshot -----------------------------------------------------------------


def test_the_saved_snapshot_keeps_exceptions_and_old_files_still_load(tmp_path):
    office = make_responder("uz-office", "UZ", timezone="Asia/Tashkent", exceptions=(
        NEW_YEAR, hours_on("2027-01-02", (10, 14), name="Saturday shift"),
        hours_on("2027-02-10", (9, 12), closed=True)))
    path = tmp_path / "directory.json"
    cache.write(path, Directory((office,)))
    assert cache.read(path).responders == (office,)
    old = [{k: v for k, v in item.items() if k != "exceptions"}  # as saved before
           for item in json.loads(path.read_text())["responders"]]  # exceptions and lines
    path.write_text(json.dumps(old))
    [read] = cache.read(path).responders
    assert read.exceptions == () and read.hours == office.hours
    assert read.is_open(at("2027-01-01T10:00+05:00"))


# --- the directory file -----------------------------------------------------------------

FILE = """
organisations:
  - id: uz-office
    name: Test office (demo)
    country: UZ
    timezone: Asia/Tashkent
    hours: {mon: ["09:00-18:00"], fri: ["09:00-18:00"]}
    services: [legal_aid]
    languages: [uz]
    duty_numbers: ["+77270000611"]
    exceptions:
      "2026-12-31": closed
      2027-01-01: {name: New Year, closed: true}
      "2027-01-02": ["10:00-14:00"]
      "2027-01-07": {closed: ["09:00-12:00"]}
      "2027-03-21/2027-03-23": {name: Navruz, closed: true}
      "2027-03-27": {name: Saturday shift, open: ["10:00-12:00", "13:00-15:00"]}
"""


def write(tmp_path, text: str):
    path = tmp_path / "directory.yaml"
    path.write_text(text)
    return path


def stored(session) -> list[tuple]:
    return [(e.day, e.closed, e.intervals, e.name)
            for e in session.scalars(select(OpeningException).order_by(OpeningException.day))]


def test_every_written_form_is_imported_and_routed_from(session, tmp_path):
    organisations.import_directory(session, organisations.read_directory_file(
        write(tmp_path, FILE)))
    assert stored(session) == [
        (date(2026, 12, 31), True, [], None),
        (date(2027, 1, 1), True, [], "New Year"),
        (date(2027, 1, 2), False, ["10:00-14:00"], None),
        (date(2027, 1, 7), True, ["09:00-12:00"], None),
        *((date(2027, 3, day), True, [], "Navruz") for day in (21, 22, 23)),
        (date(2027, 3, 27), False, ["10:00-12:00", "13:00-15:00"], "Saturday shift"),
    ]
    office = organisations.snapshot(session).by_slug("uz-office")
    assert not office.is_open(at("2026-12-31T10:00+05:00"))
    assert office.is_open(at("2027-01-02T11:00+05:00"))
    assert not office.is_open(at("2027-03-27T12:30+05:00"))
    assert office.is_open(at("2027-03-27T13:30+05:00"))


def test_importing_again_replaces_the_exceptions(session, tmp_path):
    organisations.import_directory(session, organisations.read_directory_file(
        write(tmp_path, FILE)))
    fewer = FILE.split("    exceptions:")[0] + '    exceptions: {"2027-01-01": closed}\n'
    organisations.import_directory(session, organisations.read_directory_file(
        write(tmp_path, fewer)))
    assert stored(session) == [(date(2027, 1, 1), True, [], None)]
    organisations.import_directory(session, organisations.read_directory_file(
        write(tmp_path, FILE.split("    exceptions:")[0])))
    assert stored(session) == []
    assert organisations.snapshot(session).by_slug("uz-office").exceptions == ()


@pytest.mark.parametrize(("exceptions", "message"), [
    ({"2027-02-30": "closed"}, "exceptions: '2027-02-30' is not a date like '2026-12-31'"),
    ({"2027-03-24/2027-03-21": "closed"}, "'2027-03-24/2027-03-21': a range goes from its "
                                          "first day to its last"),
    ({"2027-01-01": "shut"}, "'2027-01-01': write 'closed', a list of hours"),
    ({"2027-01-01": {"closed": True, "open": ["10:00-14:00"]}},
     "'2027-01-01': give either 'closed' or 'open'"),
    ({"2027-01-01": {"name": "New Year"}}, "'2027-01-01': give either 'closed' or 'open'"),
    ({"2027-01-01": {"name": "New Year", "clsoed": True}}, "'2027-01-01': unknown 'clsoed'"),
    ({"2027-01-01": {"closed": False}}, "'closed' is true (all day) or a list of hours"),
    ({"2027-01-02": ["10-14"]}, "'2027-01-02': '10-14' is not an interval like '09:00-18:00'"),
    ({"2027-01-02": {"open": []}}, "'2027-01-02': hours are a non-empty list"),
    ({"2027-03-21/2027-03-23": "closed", "2027-03-22": ["10:00-12:00"]},
     "2027-03-22 is given twice, in '2027-03-21/2027-03-23' and '2027-03-22'"),
])
def test_a_bad_exception_is_named_and_nothing_changes(session, tmp_path, exceptions, message):
    entry = yaml.safe_load(FILE)["organisations"][0] | {"exceptions": exceptions}
    path = write(tmp_path, yaml.safe_dump({"organisations": [entry]}))
    with pytest.raises(DirectoryError) as caught:
        organisations.read_directory_file(path)
    [problem] = caught.value.problems
    assert "organisations[0] (id 'uz-office'): exceptions" in problem and message in problem
    assert organisations.list_organisations(session) == []


def test_the_demo_directory_shows_holidays_in_each_organisations_own_calendar(session):
    organisations.load_demo_if_empty(session)
    directory = organisations.snapshot(session)
    tashkent = directory.by_slug("uz-tashkent-legal")
    assert not tashkent.is_open(at("2026-12-31T10:00+05:00"))
    tehran = directory.by_slug("ir-tehran-support")
    assert [e.day for e in tehran.exceptions if e.name == "Nowruz"] == [
        date(2027, 3, day) for day in (21, 22, 23, 24)]
    assert directory.by_slug("kz-almaty-hub").exceptions == ()  # hubs answer every day


# --- callers when nobody is on duty -------------------------------------------------------

# Nowruz, Sunday 21 March 2027, 10:00 in Kabul (08:30 in Istanbul). The office works
# Saturday to Thursday and the hub round the clock, but both keep the holiday.
NOWRUZ_MORNING = at("2027-03-21T10:00+04:30")
NEXT_MORNING = at("2027-03-22T10:00+04:30")
AFGHAN_CALLER = "+93700000611"
AFGHAN_TEXTER = "+93700000612"
CLOSED_FOR_NOWRUZ = {"organisations": [
    {"id": "af-office", "name": "Kabul office (test)", "country": "AF",
     "timezone": "Asia/Kabul", "hours": {day: ["08:00-16:00"] for day in
                                         ("sat", "sun", "mon", "tue", "wed", "thu")},
     "services": ["legal_aid", "shelter"], "languages": ["prs", "ps"],
     "duty_numbers": ["+77270000621"], "exceptions": {"2027-03-21": "closed"}},
    {"id": "tr-hub", "name": "Istanbul hub (test)", "country": "TR",
     "timezone": "Europe/Istanbul", "hours": "24/7", "hub": True,
     "services": ["legal_aid", "shelter"], "languages": ["prs", "tr", "en"],
     "duty_numbers": ["+77270000622"],
     "exceptions": {"2027-03-21": {"name": "Nowruz", "closed": True}}},
]}


@pytest.fixture
def nowruz(app, session):
    """The app, routing from CLOSED_FOR_NOWRUZ, at a time the test sets."""
    organisations.import_directory(session, organisations.validate_directory(CLOSED_FOR_NOWRUZ))
    session.commit()
    app.state.directory.refresh()

    def set_time(moment: datetime) -> None:
        app.state.clock = lambda: moment
    return set_time


def test_a_call_on_a_holiday_hears_closed_emergency_number_and_callback_offer(
        nowruz, client, settings, session):
    nowruz(NOWRUZ_MORNING)
    caller = Caller(client, settings, AFGHAN_CALLER)
    caller.call()
    caller.press("1")  # Dari
    offer = caller.press("2")  # legal help
    assert offer.dialled_numbers() == []
    assert spoken(offer.root) == [expected("prs", "closed"),
                                  expected("prs", "back_within_day"),
                                  expected("prs", "emergency", number="119")]
    assert spoken(offer.find("Gather")) == [expected("prs", "callback_offer")]
    done = caller.press("1")
    assert done.verbs()[-1] == "Hangup"
    assert session.scalars(select(CallbackRequest)).one() is not None
    contact = session.scalars(select(Contact)).one()
    assert contact.outcome is ContactOutcome.CALLBACK_REQUESTED
    case = session.scalars(select(Case)).one()
    assert session.get(Organisation, case.organisation_id).slug == "af-office"


def test_the_day_after_the_holiday_the_call_is_put_through(nowruz, client, settings):
    nowruz(NEXT_MORNING)
    caller = Caller(client, settings, AFGHAN_CALLER)
    caller.call()
    caller.press("1")
    assert caller.press("2").dialled_numbers() == ["+77270000621"]


def test_a_text_on_a_holiday_is_told_nobody_is_on_duty_and_someone_will_write(
        nowruz, client, settings, session):
    nowruz(NOWRUZ_MORNING)
    texter = Texter(client, settings, AFGHAN_TEXTER)
    assert texter.send("سلام، من به کمک ضرورت دارم") == texts.text("prs", "need")
    texter.send("2")  # legal help
    reply = texter.send("2")  # no child
    assert reply == texts.closed_text("prs", "119", Reopening.WITHIN_DAY)
    assert "119" in reply and reply != texts.text("prs", "confirmed", number="119")
    case = session.scalars(select(Case)).one()
    assert session.get(Organisation, case.organisation_id).slug == "af-office"


def test_a_text_on_a_working_day_gets_the_usual_confirmation(nowruz, client, settings):
    nowruz(NEXT_MORNING)
    texter = Texter(client, settings, AFGHAN_TEXTER)
    for body in ("سلام، من به کمک ضرورت دارم", "2"):
        texter.send(body)
    assert texter.send("2") == texts.text("prs", "confirmed", number="119")


# --- hotline route --at -------------------------------------------------------------------


def route_at(hotline, *args: str) -> dict[str, dict]:  # noqa: F811
    code, out, _ = hotline("route", *args)
    assert code == 0
    return {c["id"]: c for c in json.loads(out)["candidates"]}


def test_route_shows_an_organisation_closed_for_a_holiday(hotline):  # noqa: F811
    hotline("directory", "import", str(DEMO_DIRECTORY))
    query = ("--language", "uz", "--country", "UZ", "--need", "legal_aid")
    usual = route_at(hotline, *query, "--at", "2026-12-30T10:00+05:00")["uz-tashkent-legal"]
    assert usual["open"] and usual["reasons"][0] == "open now"
    festive = route_at(hotline, *query, "--at", "2026-12-31T10:00+05:00")["uz-tashkent-legal"]
    assert not festive["open"]
    assert festive["reasons"][0] == ("closed: New Year (holiday); "
                                     "opens Sat 2027-01-02 09:00 Asia/Tashkent")


def test_route_shows_the_night_shift_ending_at_the_holidays_midnight(hotline):  # noqa: F811
    hotline("directory", "import", str(DEMO_DIRECTORY))
    query = ("--language", "ru", "--country", "RU", "--need", "legal_aid")
    evening = route_at(hotline, *query, "--at", "2026-12-30T23:30+03:00")["ru-moscow-legal"]
    assert evening["open"]
    night = route_at(hotline, *query, "--at", "2026-12-31T00:30+03:00")["ru-moscow-legal"]
    assert not night["open"] and night["reasons"][0] == (
        "closed: New Year holidays (holiday); opens Sat 2027-01-09 11:00 Europe/Moscow")


def test_import_refuses_a_bad_exception_through_the_cli(hotline, tmp_path):  # noqa: F811
    entry = yaml.safe_load(FILE)["organisations"][0] | {"exceptions": {"2027-13-01": "closed"}}
    code, _, err = hotline("directory", "import",
                           str(write(tmp_path, yaml.safe_dump({"organisations": [entry]}))))
    assert code == 1 and "exceptions: '2027-13-01' is not a date" in err
