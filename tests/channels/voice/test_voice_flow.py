"""Whole calls through the voice line, as a caller and a responder experience them."""

import dataclasses

import pytest
from sqlalchemy import select

from app import countries
from app.cases.models import (
    AttemptResult,
    CallbackRequest,
    Case,
    CasePriority,
    Contact,
    ContactOutcome,
    RoutingAttempt,
)
from app.channels.voice.ivr import language_pages
from app.languages import LANGUAGES
from app.organisations.models import Organisation
from app.privacy import crypto
from app.routing.snapshot import Directory
from tests.channels.voice.calls import Caller, expected, spoken

pytestmark = pytest.mark.usefixtures("demo_directory")

TAJIK_NUMBER = "+992900000001"
RUSSIAN_NUMBER = "+79000000001"
KAZAKH_NUMBER = "+77010000001"
AFGHAN_NUMBER = "+93700000001"
NUMBER_FOR_COUNTRY = {"TJ": TAJIK_NUMBER, "RU": RUSSIAN_NUMBER, "KZ": KAZAKH_NUMBER,
                      "AF": AFGHAN_NUMBER, "TR": "+905320000001", "IR": "+989120000001",
                      "AZ": "+994500000001", "UZ": "+998900000001", "KG": "+996700000001",
                      "TM": "+99365000001"}


def caller(client, settings, number=TAJIK_NUMBER) -> Caller:
    return Caller(client, settings, number)


def menu_languages(twiml) -> list[str]:
    """The language each numbered option is announced in, in order."""
    gather = twiml.find("Gather")
    languages = []
    for child in gather:
        if child.tag == "Play" and "/lang_option-" in child.text:
            languages.append(child.text.split("/audio/")[1].split("/")[0])
        elif child.tag == "Say" and child.get("language") and child.text.startswith(
                ("Для русского", "For English", "Türkçe")):
            languages.append(child.get("language")[:2])
    return languages


@pytest.mark.parametrize(("country", "first"), [
    ("TJ", ["tg", "ru"]), ("RU", ["ru", "uz", "tg", "ky"]), ("AF", ["prs", "ps"]),
    ("KZ", ["kk", "ru", "uz"]), ("TR", ["tr", "az", "prs", "fa"]),
])
def test_language_menu_offers_the_countrys_likely_languages_first(client, settings, country,
                                                                   first):
    twiml = caller(client, settings, NUMBER_FOR_COUNTRY[country]).call()
    assert menu_languages(twiml) == first
    assert twiml.verbs() == [*twiml.verbs()[:-2], "Gather", "Redirect"]


def test_each_option_is_announced_in_its_own_language(client, settings):
    twiml = caller(client, settings, TAJIK_NUMBER).call()
    heard = spoken(twiml.find("Gather"))
    assert heard[0] == "tg/lang_option-1.espeak.wav"
    assert heard[1] == "Для русского языка нажмите 2."


def test_unknown_country_is_not_assumed_to_be_russia(client, settings, session):
    twiml = caller(client, settings, "+70000000001").call()
    assert menu_languages(twiml) == ["ru", "en", "tr", "fa"]
    contact = session.scalars(select(Contact)).one()
    assert contact.caller_country is None


def test_silence_repeats_the_menu_once_then_picks_the_first_language(client, settings):
    c = caller(client, settings, TAJIK_NUMBER)
    c.call()
    again = c.silence()
    assert menu_languages(again) == ["tg", "ru"]
    need_menu = c.silence()
    assert "tg/need_menu.espeak.wav" in spoken(need_menu.find("Gather"))


def test_star_repeats_and_nine_pages_to_the_other_languages(client, settings, session):
    c = caller(client, settings, TAJIK_NUMBER)
    c.call()
    assert menu_languages(c.press("*")) == ["tg", "ru"]
    second_page = c.press("9")
    assert menu_languages(second_page) == list(language_pages("TJ")[1])
    need_menu = c.press("2")  # the second language on page two
    assert need_menu.gather_action().endswith(f"/need?lang={language_pages('TJ')[1][1]}&t=1")
    assert session.scalars(select(Contact)).one().language == language_pages("TJ")[1][1]


def digits_for(country: str, language: str) -> list[str]:
    for page, languages in enumerate(language_pages(country)):
        if language in languages:
            return ["9"] * page + [str(languages.index(language) + 1)]
    raise AssertionError(language)


def choose(c: Caller, country: str, language: str, need_digit: str):
    c.call()
    for digit in digits_for(country, language):
        c.press(digit)
    return c.press(need_digit)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("need_digit", ["1", "2", "4", "5"])
def test_every_language_and_need_reaches_an_open_responder_who_can_help(
        client, settings, session, language, need_digit):
    c = caller(client, settings, RUSSIAN_NUMBER)
    dial = choose(c, "RU", language, need_digit)
    assert dial.dialled_numbers(), dial.text
    contact = session.scalars(select(Contact)).one()
    attempt = session.scalars(select(RoutingAttempt)).one()
    org = session.get(Organisation, attempt.organisation_id)
    assert contact.language == language
    assert contact.child is (need_digit == "5")
    assert dial.dialled_numbers() == org.duty_numbers[:10]
    assert language in org.languages or org.country == "RU"
    assert spoken(dial.root)[0] == expected(language, "connecting")


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_information_line_in_every_language(client, settings, session, language):
    c = caller(client, settings, TAJIK_NUMBER)
    info = choose(c, "TJ", language, "3")
    heard = spoken(info.find("Gather"))
    assert heard == [*(expected(language, key) for key in countries.information_prompts("TJ")),
                     expected(language, "emergency", number="112"),
                     expected(language, "info_menu")]
    assert session.scalars(select(Contact)).one().outcome is ContactOutcome.INFORMATION_GIVEN
    goodbye = c.silence()
    assert goodbye.verbs()[-1] == "Hangup"


def test_information_is_about_rights_at_destination_and_safe_migration_at_origin():
    assert "info_rights" in countries.information_prompts("RU")
    assert "info_legal" in countries.information_prompts("UZ")
    assert "info_rights" not in countries.information_prompts("UZ")


def test_information_caller_can_ask_for_a_person(client, settings):
    c = caller(client, settings, TAJIK_NUMBER)
    choose(c, "TJ", "tg", "3")
    assert c.press("1").dialled_numbers()


def test_responder_hears_a_whisper_and_the_call_connects_only_when_they_press_1(
        client, settings, session):
    c = caller(client, settings, KAZAKH_NUMBER)
    dial = choose(c, "KZ", "kk", "5")
    whisper = c.responder_whisper()
    said = " ".join(spoken(whisper.find("Gather")))
    assert "казах" in said.lower() or "kazakh" in said.lower()
    assert whisper.verbs() == ["Gather", "Hangup"]
    assert KAZAKH_NUMBER not in whisper.text and "7010000001" not in whisper.text
    accepted = c.responder_presses(whisper, "1")
    assert accepted.verbs() == []  # an empty response bridges the call
    assert c.dial_ends("completed").verbs() == ["Hangup"]
    contact = session.scalars(select(Contact)).one()
    assert contact.outcome is ContactOutcome.CONNECTED and contact.answered_at is not None
    assert dial.dialled_numbers()


@pytest.mark.parametrize("saved_before_ids", [False, True])
def test_dials_are_recorded_under_the_organisation_rung_from_any_snapshot(
        app, client, settings, session, monkeypatch, saved_before_ids):
    """Snapshots carry each organisation's id, so a dial needs no lookup; one saved before
    they did (a process started from an old directory file) still records the right one."""
    if saved_before_ids:
        current = app.state.directory.get()
        old = Directory(tuple(dataclasses.replace(r, organisation_id=None)
                              for r in current.responders), current.loaded_at)
        monkeypatch.setattr(app.state.directory, "get", lambda: old)
    c = caller(client, settings, KAZAKH_NUMBER)
    dial = choose(c, "KZ", "kk", "5")
    said = " ".join(spoken(c.responder_whisper().find("Gather")))
    assert "казах" in said.lower() or "kazakh" in said.lower()
    attempt = session.scalars(select(RoutingAttempt)).one()
    rung = session.get_one(Organisation, attempt.organisation_id)
    assert set(dial.dialled_numbers()) <= set(rung.duty_numbers)
    assert session.scalars(select(Contact)).one().language == "kk"


def test_declined_whisper_moves_on_to_the_next_responder(client, settings, session):
    c = caller(client, settings, KAZAKH_NUMBER)
    first = choose(c, "KZ", "kk", "1")
    whisper = c.responder_whisper()
    assert c.responder_presses(whisper, "2").verbs() == ["Hangup"]
    second = c.dial_ends("completed")  # answered, but never accepted
    assert second.dialled_numbers() and second.dialled_numbers() != first.dialled_numbers()
    results = [a.result for a in session.scalars(select(RoutingAttempt).order_by(
        RoutingAttempt.attempt))]
    assert results == [AttemptResult.DECLINED, AttemptResult.DIALLING]


def test_fallback_chain_then_callback_with_consent(client, settings, session):
    c = caller(client, settings, TAJIK_NUMBER)
    dialled = [choose(c, "TJ", "tg", "1").dialled_numbers()]
    for status in ("no-answer", "busy"):
        dialled.append(c.dial_ends(status).dialled_numbers())
    offer = c.dial_ends("failed")
    assert len({tuple(d) for d in dialled}) == settings.max_dial_attempts
    assert expected("tg", "no_responder") in spoken(offer.root)
    case = session.scalars(select(Case)).one()
    assert case.priority is CasePriority.URGENT and case.status.value == "queued"
    done = c.press("1")
    assert done.verbs()[-1] == "Hangup"
    request = session.scalars(select(CallbackRequest)).one()
    assert crypto.decrypt(settings.encryption_key, request.number_encrypted) == TAJIK_NUMBER
    assert request.purge_after > request.created_at
    results = [a.result.value for a in session.scalars(
        select(RoutingAttempt).order_by(RoutingAttempt.attempt))]
    assert results == ["no-answer", "busy", "failed"]
    assert session.scalars(select(Contact)).one().outcome is ContactOutcome.CALLBACK_REQUESTED


def test_without_consent_nothing_of_the_number_is_kept(client, settings, session):
    c = caller(client, settings, TAJIK_NUMBER)
    choose(c, "TJ", "ru", "5")
    for _ in range(settings.max_dial_attempts):
        c.dial_ends("no-answer")
    goodbye = c.press("2")
    assert "Мы не будем вам звонить" in " ".join(spoken(goodbye.root))
    assert session.scalars(select(CallbackRequest)).all() == []
    case = session.scalars(select(Case)).one()
    assert case.priority is CasePriority.CHILD and case.child


def test_repeat_caller_continues_their_open_case(client, settings, session):
    for _ in range(2):
        c = caller(client, settings, TAJIK_NUMBER)
        choose(c, "TJ", "tg", "2")
        for _ in range(settings.max_dial_attempts):
            c.dial_ends("no-answer")
    assert len(session.scalars(select(Contact)).all()) == 2
    assert len(session.scalars(select(Case)).all()) == 1


def test_status_callback_records_duration_and_abandonment(client, settings, session):
    c = caller(client, settings, TAJIK_NUMBER)
    c.call()
    c.status("completed", 42)
    contact = session.scalars(select(Contact)).one()
    assert contact.duration_seconds == 42 and contact.outcome is ContactOutcome.ABANDONED
