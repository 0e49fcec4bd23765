"""The console in its five languages: choosing the language, and complete catalogs."""

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from app import i18n
from app.cases.screening_labels import LABELS
from app.console import flash, language
from app.console.screening_form import CHECKBOXES, SELECTS
from app.console.terms import TERMS
from app.users.models import AuthToken
from tests.console.helpers import HOME, case_url, login_post, make_user, sign_in
from tests.factories import make_case

pytestmark = pytest.mark.usefixtures("demo_directory")


@pytest.mark.parametrize(("header", "expected"), [
    ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
    ("en-GB,en;q=0.9,ru;q=0.8", "en"),
    ("kk-KZ, ru;q=0.5", "ru"),  # Kazakh first, but the console has Russian
    ("en;q=0.3, ru;q=0.8", "ru"),  # by quality, not by position
    ("de-DE,fr;q=0.9", "en"),
    ("ru;q=0, en;q=0.1", "en"),
    ("", "en"),
    ("*;q=0.5, ;;q=abc, ru;q=abc, ru;q=nan", "en"),
    ("en;level=1;q=0.2, ru;q=0.5", "ru"),
])
def test_accept_language_is_negotiated_by_quality(header, expected):
    assert language.negotiate(header) == expected


def test_lang_in_the_query_switches_to_russian_and_is_remembered(client, session):
    response = client.get("/console/login?lang=ru")
    assert "Войти" in response.text and '<html lang="ru" dir="ltr">' in response.text
    assert "hotline_lang=ru" in response.headers["set-cookie"]
    make_user(session, "aigerim")
    failed = login_post(client, "aigerim", "wrong")  # no ?lang= any more: the cookie
    assert "Неверное имя пользователя или пароль." in failed.text
    english = client.get("/console/login?lang=en")
    assert "Sign in" in english.text and "Войти" not in english.text


def test_the_browser_language_is_used_without_a_choice(client):
    russian = client.get("/console/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Войти" in russian.text and "hotline_lang" not in russian.headers.get(
        "set-cookie", "")
    other = client.get("/console/login", headers={"Accept-Language": "de-DE"})
    assert "Sign in" in other.text
    bogus = client.get("/console/login?lang=xx", headers={"Accept-Language": "ru"})
    assert "Войти" in bogus.text and "hotline_lang" not in bogus.headers.get("set-cookie", "")


def test_the_case_page_in_russian_has_russian_screening_labels(app, session):
    case = make_case(session, HOME, priority="urgent")
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    aigerim.post(case_url(case, "/claim"))
    aigerim.post(case_url(case, "/notes"), {"text": "тел. +7 701 123 45 67 и 8 701 765 43 21"})
    notes = aigerim.get(case_url(case, "?lang=ru")).text
    for shown in (f'Случай <bdi dir="ltr">{case.reference}</bdi>',
                  "Индикаторы принудительного труда МОТ",
                  "Удержание документов, удостоверяющих личность", "Принудительный труд",
                  "Возраст неизвестен", "срочный", "казахский", "Казахстан",
                  "удалено: 2 номера телефона", "Непосредственная опасность"):
        assert shown in notes, shown
    assert "Forced labour" not in notes and "Not assessed" not in notes


def test_two_languages_at_once_do_not_mix(app, session):
    make_case(session, HOME)
    session.commit()
    russian = sign_in(app, session, "aigerim")
    english = sign_in(app, session, "dana")
    assert "Очередь" in russian.get("/console?lang=ru").text
    assert "Queue" in english.get("/console?lang=en").text
    assert "Очередь" in russian.get("/console").text and "Queue" in english.get("/console").text
    assert len(session.scalars(select(AuthToken)).all()) == 2


def console_catalog(locale: str):
    with (i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "console.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("locale", ["en", "ru", "tr", "fa", "fa_AF"])
def test_the_console_catalogs_are_complete_and_match_the_template(locale):
    with (i18n.LOCALES_DIR / "console.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    catalog = console_catalog(locale)
    assert {m.id for m in catalog if m.id} == template
    assert [m.id for m in catalog if m.id and (not all(
        m.string if isinstance(m.string, tuple) else [m.string]) or m.fuzzy)] == []


def test_every_console_string_is_in_the_catalog():
    """Labels the pages show through variables, which extraction cannot see if unmarked."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in console_catalog("ru") if m.id}
    shown = [text for labels in LABELS.values() for text in labels.values()]
    shown += [text for terms in TERMS.values() for text in terms.values()]
    shown += [*flash.DONE.values(), *flash.ERRORS.values()]
    shown += [pair[0] for pair in flash.REMOVED_KINDS.values()]
    shown += [title for _, title in [*SELECTS.values(), *CHECKBOXES.values()]]
    assert sorted(set(shown) - ids) == []


def test_the_callers_catalogs_stay_in_their_own_domain():
    assert {p.name for p in i18n.catalog_paths()} == {"messages.po"}
    assert {p.parent.parent.name for p in i18n.catalog_paths("console")} == {
        "en", "ru", "tr", "fa", "fa_AF"}
    compiled = {p.name for p in i18n.compile_catalogs()}
    assert compiled == {"messages.mo", "console.mo"}
