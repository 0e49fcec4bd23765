"""Blocking an abusive caller by pseudonym: from a case, for a period, audited; the caller
hears or reads one neutral sentence and is not routed; statistics count them apart."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import countries
from app.audit.models import AuditEvent
from app.blocklist.models import CallerBlock
from app.cases.models import Case, Channel, Contact, ContactOutcome, RoutingAttempt
from app.messaging import texts
from app.messaging.models import Conversation, Message
from app.privacy.pseudonym import pseudonymise
from app.stats import rollup, sources
from app.stats.dimensions import COUNTRIES, Period, Source
from app.users.models import Role
from tests.channels.voice.calls import Caller, expected, spoken
from tests.channels.voice.test_voice_safety import dump_all_tables
from tests.conftest import WEEKDAY_MORNING
from tests.console.helpers import sign_in, texted_case, without_own_script
from tests.factories import make_case
from tests.messaging.texting import Texter
from tests.stats.people import add_people
from tests.users.people import make_person
from tests.webhooks.test_degraded_mode import hotline  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("demo_directory")
NUMBER = "+77010000701"  # Kazakhstan: the voice line speaks Kazakh first
OTHER = "+77010000702"
REASON = "Threatened the operator twice"


@pytest.fixture
def admin(client, session):
    return make_person(client, session, "root", Role.ADMIN)


@pytest.fixture
def case(client, session, settings) -> Case:
    """A case opened by someone texting from NUMBER: what an operator tells the admin."""
    found, _ = texted_case(client, session, settings, NUMBER)
    return found


def block(client, admin, reference: str, days: int = 7, reason: str = REASON):
    return client.post("/api/blocklist", headers=admin.headers,
                       json={"case_reference": reference, "days": days, "reason": reason})


def blocked_reply(language: str, country: str) -> str:
    return texts.text(language, "unavailable", number=countries.emergency_number(country))


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


# --- the API -------------------------------------------------------------------------------


def test_an_admin_blocks_from_a_case_and_the_list_never_shows_the_pseudonym(
        client, session, admin, case):
    response = block(client, admin, case.reference.lower(), reason=" Called from "
                     "+77011234567 to insult the operator ")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["case_reference"] == case.reference
    assert body["reason"] == "Called from [phone removed] to insult the operator"
    assert body["removed"] == {"phone": 1}
    assert body["until"].startswith("2026-11-30T08:00")
    assert (body["created_by"], body["lifted_at"]) == ("root", None)
    listed = client.get("/api/blocklist", headers=admin.headers)
    assert [b["id"] for b in listed.json()] == [body["id"]]
    assert case.caller_pseudonym not in response.text + listed.text
    row = session.get(CallerBlock, body["id"])
    assert row.caller_pseudonym == case.caller_pseudonym and row.case_id == case.id
    assert "insult" not in row.reason_encrypted  # stored encrypted, like case notes


@pytest.mark.parametrize(("days", "reason", "status"), [
    (0, REASON, 422), (366, REASON, 422), (7, "", 422), (7, "x" * 501, 422)])
def test_the_period_is_bounded_and_the_reason_required(client, session, admin, case, days,
                                                       reason, status):
    assert block(client, admin, case.reference, days, reason).status_code == status
    assert count(session, CallerBlock) == 0


def test_blank_reason_unknown_case_double_block_and_withheld_numbers_are_refused(
        client, session, settings, admin, case):
    blank = block(client, admin, case.reference, reason="   ")
    assert (blank.status_code, blank.json()["detail"][0]["msg"]) == (422, "a reason is required")
    assert block(client, admin, "HL-NOSUCH").status_code == 404
    assert block(client, admin, case.reference).status_code == 201
    again = block(client, admin, case.reference)
    assert again.status_code == 409 and "already blocked" in again.json()["detail"]
    anonymous = make_case(session, "kz-almaty-shelter")  # a caller who withheld the number
    anonymous.caller_pseudonym = pseudonymise("anonymous", settings.pseudonym_key)
    session.commit()
    withheld = block(client, admin, anonymous.reference)
    assert withheld.status_code == 409 and "withheld" in withheld.json()["detail"]
    assert count(session, CallerBlock) == 1


def test_operators_and_coordinators_cannot_block_list_or_lift(client, session, admin, case):
    made = block(client, admin, case.reference).json()
    for role in (Role.OPERATOR, Role.COORDINATOR):
        person = make_person(client, session, f"not-{role}", role)
        assert block(client, person, case.reference).status_code == 403
        assert client.get("/api/blocklist", headers=person.headers).status_code == 403
        lift = client.post(f"/api/blocklist/{made['id']}/lift", headers=person.headers)
        assert lift.status_code == 403
    assert session.get(CallerBlock, made["id"]).lifted_at is None
    assert client.get("/api/blocklist").status_code == 401


def test_block_and_lift_are_audited_without_the_pseudonym(client, session, admin, case):
    made = block(client, admin, case.reference).json()
    lifted = client.post(f"/api/blocklist/{made['id']}/lift", headers=admin.headers)
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "root"
    assert client.post(f"/api/blocklist/{made['id']}/lift",
                       headers=admin.headers).status_code == 409
    assert client.post("/api/blocklist/999999/lift", headers=admin.headers).status_code == 404
    entries = session.scalars(select(AuditEvent).where(AuditEvent.action.like("caller.%"))
                              .order_by(AuditEvent.id)).all()
    assert [(e.action, e.username, e.case_id, e.detail["block_id"]) for e in entries] == [
        ("caller.block", "root", case.id, made["id"]),
        ("caller.unblock", "root", case.id, made["id"])]
    assert entries[0].detail["days"] == 7
    assert all(case.caller_pseudonym not in json.dumps(e.detail) and REASON not in
               json.dumps(e.detail) for e in entries)
    assert client.get("/api/blocklist", headers=admin.headers).json() == []


# --- voice ---------------------------------------------------------------------------------


def test_a_blocked_caller_hears_one_neutral_sentence_and_is_not_routed(
        client, session, settings, admin, case):
    """Blocked from an SMS case, the same number is turned away on the voice line too."""
    block(client, admin, case.reference)
    cases_before = count(session, Case)
    caller = Caller(client, settings, NUMBER)
    heard = caller.call()
    assert heard.verbs()[-1] == "Hangup"
    assert not heard.findall(".//Gather") and not heard.findall(".//Dial"), heard.text
    assert spoken(heard.root) == [expected("kk", "unavailable"),
                                  expected("kk", "emergency", number="112")]
    caller.status("completed", 4)
    contact = session.scalars(select(Contact).where(Contact.twilio_sid == caller.sid)).one()
    assert (contact.outcome, contact.case_id) == (ContactOutcome.BLOCKED, None)
    assert count(session, RoutingAttempt, RoutingAttempt.contact_id == contact.id) == 0
    assert count(session, Case) == cases_before
    # Someone else calling at the same moment gets the language menu.
    assert Caller(client, settings, OTHER).call().find("Gather") is not None


def test_a_block_ends_by_itself_at_until_and_at_once_when_lifted(app, client, session,
                                                                  settings, admin, case):
    made = block(client, admin, case.reference, days=7).json()
    assert Caller(client, settings, NUMBER).call().find("Gather") is None
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(days=7, seconds=1)
    assert Caller(client, settings, NUMBER).call().find("Gather") is not None
    admin = make_person(client, session, "root-next-week", Role.ADMIN)  # a new sign-in
    assert client.get("/api/blocklist", headers=admin.headers).json() == []
    assert client.post(f"/api/blocklist/{made['id']}/lift",
                       headers=admin.headers).status_code == 409  # already over

    again = block(client, admin, case.reference, days=30).json()
    assert Caller(client, settings, NUMBER).call().find("Gather") is None
    client.post(f"/api/blocklist/{again['id']}/lift", headers=admin.headers)
    menu = Caller(client, settings, NUMBER).call()
    assert menu.find("Gather") is not None
    assert count(session, Contact, Contact.outcome == ContactOutcome.BLOCKED) == 2


def test_while_the_database_is_down_a_blocked_caller_gets_through(hotline):  # noqa: F811
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        with database.session() as session:  # closed: SQLite has one writer at a time
            admin = make_person(client, session, "root", Role.ADMIN)
        with database.session() as session:
            reference = texted_case(client, session, settings, NUMBER)[0].reference
        assert block(client, admin, reference).status_code == 201
        assert Caller(client, settings, NUMBER).call().find("Gather") is None
        database.down()
        outage = Caller(client, settings, NUMBER)
        assert outage.call().find("Gather") is not None  # the block cannot be checked
        database.up()
        time.sleep(settings.journal_retry_seconds)  # webhooks then try the database again
        assert Caller(client, settings, NUMBER).call().find("Gather") is None


# --- SMS and WhatsApp ----------------------------------------------------------------------


def test_a_blocked_sender_reads_the_neutral_text_once_and_nothing_is_kept(
        client, session, settings, admin, case):
    block(client, admin, case.reference)
    before = {model: count(session, model) for model in (Case, Conversation, Message)}
    texter = Texter(client, settings, NUMBER)
    assert texter.send("Здравствуйте, мне нужна помощь") == blocked_reply("ru", "KZ")
    assert texter.send("2") is None
    assert texter.send("Я вам ещё раз пишу") is None
    assert {model: count(session, model) for model in before} == before  # nothing routed
    turned_away = session.scalars(select(Contact).where(
        Contact.outcome == ContactOutcome.BLOCKED)).one()
    assert (turned_away.channel, turned_away.language, turned_away.case_id) == (
        Channel.SMS, "ru", None)


def test_a_blocked_whatsapp_sender_is_answered_on_its_own_channel_once(
        client, session, settings, admin, case):
    block(client, admin, case.reference)
    whatsapp = Texter(client, settings, f"whatsapp:{NUMBER}")
    assert whatsapp.send("Сәлеметсіз бе") == blocked_reply("kk", "KZ")
    assert whatsapp.send("Сәлеметсіз бе") is None
    sms = Texter(client, settings, NUMBER)
    assert sms.send("Сәлеметсіз бе") == blocked_reply("kk", "KZ")
    channels = session.scalars(select(Contact.channel).where(
        Contact.outcome == ContactOutcome.BLOCKED)).all()
    assert sorted(channels) == [Channel.SMS, Channel.WHATSAPP]


def test_after_lifting_the_senders_messages_reach_the_operators_again(
        app, client, session, settings, admin, case):
    made = block(client, admin, case.reference).json()
    texter = Texter(client, settings, NUMBER)
    texter.send("Сәлеметсіз бе")
    on_case = count(session, Message, Message.case_id == case.id)
    client.post(f"/api/blocklist/{made['id']}/lift", headers=admin.headers)
    assert texter.send("Мен әлі күтіп отырмын") is None  # the open case: operators answer
    assert count(session, Message, Message.case_id == case.id) == on_case + 1
    # A new block, later, tells them again, once.
    app.state.clock = lambda: WEEKDAY_MORNING + timedelta(minutes=5)
    block(client, admin, case.reference)
    assert texter.send("Сәлеметсіз бе") == blocked_reply("kk", "KZ")


# --- the console ---------------------------------------------------------------------------


def test_an_admin_blocks_and_lifts_in_the_console_with_csrf(app, client, session, case):
    boss = sign_in(app, session, "boss", Role.ADMIN)
    reason = REASON + " <script>alert(1)</script>"
    form = {"case_reference": case.reference, "days": "30", "reason": reason}
    before = dump_all_tables(session)
    one_off = boss.csrf[:-1] + ("y" if boss.csrf.endswith("x") else "x")
    for csrf in (None, "", "forged-token", one_off):
        assert boss.post("/console/admin/blocks", form, csrf=csrf).status_code == 403
    assert dump_all_tables(session) == before
    done = boss.post("/console/admin/blocks", form)
    assert done.status_code == 303 and done.headers["location"].endswith("done=blocked")
    page = boss.get(done.headers["location"]).text
    assert case.reference in page and "The caller is blocked." in page
    assert REASON + " &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in without_own_script(page)
    assert case.caller_pseudonym not in page
    # On a phone the header row is hidden: the cells a date alone would not explain say
    # what they are (console.css shows data-label before them).
    assert '<td data-label="Until">' in page and '<td data-label="Blocked by">boss, ' in page
    made = session.scalars(select(CallerBlock)).one()
    lift = f"/console/admin/blocks/{made.id}/lift"
    before = dump_all_tables(session)
    for csrf in (None, "forged-token", one_off):
        assert boss.post(lift, csrf=csrf).status_code == 403
    assert dump_all_tables(session) == before
    lifted = boss.post(lift)
    assert lifted.status_code == 303 and lifted.headers["location"].endswith("done=unblocked")
    session.refresh(made)
    assert made.lifted_at is not None
    assert "No caller is blocked." in boss.get("/console/admin").text
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("caller.%")).order_by(AuditEvent.id)).all()
    assert actions == ["caller.block", "caller.unblock"]


def test_console_refusals_are_said_in_the_admins_language_and_operators_are_refused(
        app, session, case):
    boss = sign_in(app, session, "boss", Role.ADMIN)
    boss.get("/console/admin?lang=ru")
    refused = boss.post("/console/admin/blocks",
                        {"case_reference": case.reference, "days": "400", "reason": REASON})
    assert refused.status_code == 422
    assert "срок должен быть от 1 до 365 дней" in refused.text
    assert REASON in refused.text  # what was typed is kept in the form
    missing = boss.post("/console/admin/blocks",
                        {"case_reference": "HL-NOSUCH", "days": "7", "reason": REASON})
    assert missing.status_code == 404 and "случая с таким кодом нет" in missing.text
    operator = sign_in(app, session, "aigerim")
    form = {"case_reference": case.reference, "days": "7", "reason": REASON}
    assert operator.post("/console/admin/blocks", form).status_code == 403
    assert count(session, CallerBlock) == 0


def test_every_refusal_of_the_service_is_in_the_console_catalog():
    from app.blocklist import service
    from app.console.admin import BLOCK_REFUSALS

    said = {service.NO_CASE, service.WITHHELD, service.ALREADY, service.BAD_DAYS,
            service.NO_REASON, service.LONG_REASON, service.NO_BLOCK, service.ENDED}
    assert said == set(BLOCK_REFUSALS)


# --- statistics ----------------------------------------------------------------------------


MARCH = "from=2026-03-01&to=2026-04-30"


def figures(body, table: str) -> dict[tuple[str, str], str]:
    return {(row["period"], row["language"]): row["display"]
            for row in body["tables"][table]["rows"]}


def test_blocked_callers_are_counted_apart_and_never_as_people_served(client, session):
    coordinator = make_person(client, session, "stats", Role.COORDINATOR)
    served = add_people(session, 20, language="kk")
    add_people(session, 12, language="ru", outcome="blocked", case=False, contacts_each=3)
    add_people(session, 1, language="kk", outcome="blocked", case=False,
               pseudonyms=served[:1], day="2026-03-10T10:00")  # served, then blocked
    add_people(session, 3, language="ru", outcome="blocked", case=False, day="2026-04-02")
    session.commit()
    body = client.get(f"/api/stats?group_by=language&{MARCH}",
                      headers=coordinator.headers).json()
    contacts, blocked = figures(body, "contacts"), figures(body, "blocked")
    assert contacts[("2026-03", "total")] == "20"  # not 33: the blocked are not people served
    assert ("2026-03", "ru") not in contacts
    assert blocked[("2026-03", "total")] == "13"  # 12 + the one also served
    assert blocked[("2026-04", "total")] == "<10"  # the same disclosure control
    quality = client.get(f"/api/stats/quality?{MARCH}", headers=coordinator.headers).json()
    assert quality["overall"]["calls"]["display"] == "20"  # no call to answer, either


@pytest.fixture
def mid_may(monkeypatch):
    """As in tests/stats/test_rollup.py: May is settled up to 11:00 on the 20th."""
    moment = datetime(2026, 5, 20, 12, 30, tzinfo=UTC)
    monkeypatch.setattr(rollup, "clock", lambda: moment)


@pytest.mark.usefixtures("mid_may")
def test_stored_monthly_figures_agree_with_the_live_count_with_blocked_contacts(session):
    window = sources.Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    add_people(session, 10, day="2026-03-05", language="ru")
    add_people(session, 4, day="2026-03-06", language="ru", outcome="blocked", case=False)
    # Blocked before May's cutoff, then (block lifted) served after it: a person the
    # stored part never counted must still be counted live, once.
    turned = add_people(session, 2, day="2026-05-20T09:00", language="uz",
                        outcome="blocked", case=False)
    add_people(session, 2, day="2026-05-20T11:30", language="uz", pseudonyms=turned)
    session.flush()
    for source in (Source.CONTACTS, Source.BLOCKED):
        stored = sources.count(session, source, ["country", "language"], Period.MONTH,
                               window, [], {})
        live = sources.count(session, source, ["country", "language"], Period.MONTH,
                             window, list(COUNTRIES), {})
        assert stored == live, source
    contacts = sources.count(session, Source.CONTACTS, ["language"], Period.MONTH, window,
                             [], {})
    blocked = sources.count(session, Source.BLOCKED, ["language"], Period.MONTH, window, [],
                            {})
    assert (contacts[("2026-03", "ru")], blocked[("2026-03", "ru")]) == (10, 4)
    assert (contacts[("2026-05", "uz")], blocked[("2026-05", "uz")]) == (2, 2)
