"""Local times, the region's own names, translated scrub markers, and the console in
Turkish, Persian and Dari."""

import re
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from app import i18n
from app.cases.casework import CaseNote
from app.console import language
from app.console.pages import ENVIRONMENT, helpers
from app.privacy import crypto
from app.users.models import Role
from tests.console.helpers import HOME, case_url, login_post, make_user, sign_in
from tests.factories import make_case

pytestmark = pytest.mark.usefixtures("demo_directory")

LATE_EVENING = datetime(2026, 12, 2, 22, 53, tzinfo=UTC)  # 04:53 next day in Bishkek
BISHKEK = "kg-bishkek-shelter"


def test_a_time_is_shown_on_the_organisations_wall_clock_with_utc_on_hover():
    shown = language.when(LATE_EVENING, "Asia/Bishkek", "en")
    assert str(shown) == ('<time datetime="2026-12-02T22:53:00Z" title="2026-12-02 22:53 UTC">'
                          "Dec 3, 2026, 04:53</time>")
    assert ">3 дек. 2026\u202fг., 04:53<" in language.when(LATE_EVENING, "Asia/Bishkek", "ru")
    assert ">3 Ara 2026 04:53<" in language.when(LATE_EVENING, "Asia/Bishkek", "tr")
    assert "دسامبر" in language.when(LATE_EVENING, "Asia/Tehran", "fa")  # 02:23 on 3 Dec
    assert ">2 дек. 2026\u202fг., 22:53 UTC<" in language.when(LATE_EVENING, "UTC", "ru")
    assert language.when(None, "Asia/Bishkek", "en") == "—"


def test_a_zone_the_directory_no_longer_knows_falls_back_to_labelled_utc():
    assert ">Dec 2, 2026, 22:53 UTC<" in language.when(LATE_EVENING, "Mars/Olympus", "en")


def test_times_inside_translated_sentences_keep_their_markup():
    template = ENVIRONMENT.from_string('{{ _("until %(time)s", time=when(moment)) }}')
    translations = language.translations("ru")
    html = template.render(moment=LATE_EVENING, translations=translations,
                           **helpers("ru", translations, "Asia/Bishkek"))
    assert html.startswith('до <time datetime="2026-12-02T22:53:00Z"'), html


def test_the_case_page_shows_times_in_the_organisations_zone(app, session):
    case = make_case(session, BISHKEK, created_at=LATE_EVENING)
    session.commit()
    bishkek = sign_in(app, session, "aibek", organisation=BISHKEK)
    page = bishkek.get(case_url(case)).text
    opened = re.search(r"<dd><time [^>]*>([^<]*)</time>", page)
    assert opened and opened.group(1) == "Dec 3, 2026, 04:53", page
    assert 'title="2026-12-02 22:53 UTC"' in page
    assert "22:53" not in opened.group(1)


def test_a_note_is_dated_in_local_time(app, session):
    app.state.clock = lambda: LATE_EVENING
    case = make_case(session, BISHKEK, created_at=LATE_EVENING)
    session.commit()
    bishkek = sign_in(app, session, "aibek", organisation=BISHKEK)
    bishkek.post(case_url(case, "/claim"))
    bishkek.post(case_url(case, "/notes"), {"text": "Called back, safe now"})
    page = bishkek.get(case_url(case, "?lang=ru")).text
    note = page[page.index('class="note"'):]
    assert ">3 дек. 2026\u202fг., 04:53</time>" in note[:400], note[:400]


def test_users_without_an_organisation_read_utc_labelled(app, session):
    app.state.clock = lambda: LATE_EVENING
    admin = sign_in(app, session, "root", Role.ADMIN)
    page = admin.get("/console/admin/users").text
    assert ">Dec 2, 2026, 22:53 UTC</time>" in page  # the admin's own last sign-in


@pytest.mark.parametrize(("ui", "kind", "code", "name"), [
    ("ru", "country", "KG", "Кыргызстан"),
    ("ru", "language", "ky", "кыргызский"),
    ("ru", "country", "TM", "Туркменистан"),
    ("fa_AF", "country", "KG", "قرغزستان"),
    ("fa_AF", "language", "ky", "قرغزی"),
    ("fa_AF", "language", "prs", "دری"),
    ("tr", "country", "KG", "Kırgızistan"),
    ("fa", "language", "prs", "دری"),
    ("en", "country", "TR", "Türkiye"),
])
def test_names_are_written_as_the_region_writes_them(ui, kind, code, name):
    found = (language.country_name if kind == "country" else language.language_name)(code, ui)
    assert found == name


def test_the_russian_case_page_says_kyrgyzstan_not_kirgizia(app, session):
    case = make_case(session, BISHKEK)
    case.caller_country, case.language = "KG", "ky"
    session.commit()
    page = sign_in(app, session, "aibek", organisation=BISHKEK).get(
        case_url(case, "?lang=ru")).text
    assert "Кыргызстан" in page and "кыргызский" in page
    assert "Киргизия" not in page and "киргизский" not in page


def test_scrub_markers_are_translated_when_shown_and_stored_as_they_were(app, session):
    case = make_case(session, HOME)
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    aigerim.post(case_url(case, "/claim"))
    aigerim.post(case_url(case, "/notes"),
                 {"text": "тел. +7 701 123 45 67, почта a.b@example.org, паспорт N1234567"})
    russian = aigerim.get(case_url(case, "?lang=ru")).text
    for marker in ("[телефон удалён]", "[e-mail удалён]", "[номер документа удалён]"):
        assert marker in russian, marker
    assert "[phone removed]" not in russian
    assert "[telefon kaldırıldı]" in aigerim.get(case_url(case, "?lang=tr")).text
    assert "[phone removed]" in aigerim.get(case_url(case, "?lang=en")).text
    note = session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).one()
    stored = crypto.decrypt(app.state.settings.encryption_key, note.text_encrypted)
    assert stored.count("removed]") == 3 and "[phone removed]" in stored


def test_a_marker_typed_by_hand_is_text_not_markup():
    translations = language.translations("fa")
    shown = language.translate_markers("<b>[phone removed]</b>", translations)
    assert shown == "<b>[تلفن حذف شد]</b>"  # a plain str: the template escapes it
    assert not hasattr(shown, "__html__")


@pytest.mark.parametrize(("header", "expected"), [
    ("tr-TR,tr;q=0.9,en;q=0.5", "tr"),
    ("fa-IR,fa;q=0.9", "fa"),
    ("fa-AF,fa;q=0.9,en;q=0.5", "fa_AF"),
    ("prs", "fa_AF"),
    ("prs-AF, ru;q=0.5", "ru"),  # no such tag: the next choice
    ("fa;q=0.9, prs", "fa_AF"),
    ("ps-AF, fa;q=0.8", "fa"),  # Pashto first, but the console has Persian
])
def test_the_new_languages_are_negotiated(header, expected):
    assert language.negotiate(header) == expected


@pytest.mark.parametrize(("header", "html", "sign_in_text"), [
    ("tr-TR", '<html lang="tr" dir="ltr">', "Oturum aç"),
    ("fa-IR", '<html lang="fa" dir="rtl">', "ورود"),
    ("fa-AF", '<html lang="fa-AF" dir="rtl">', "ورود"),
    ("prs", '<html lang="fa-AF" dir="rtl">', "ورود"),
])
def test_the_login_page_speaks_the_browsers_language(client, header, html, sign_in_text):
    page = client.get("/console/login", headers={"Accept-Language": header}).text
    assert html in page and f"<button>{sign_in_text}</button>" in page


def test_dari_is_chosen_as_prs_and_remembered(client, session):
    chosen = client.get("/console/login?lang=prs")
    assert '<html lang="fa-AF" dir="rtl">' in chosen.text
    assert "hotline_lang=fa_AF" in chosen.headers["set-cookie"]
    make_user(session, "nadia", organisation="af-kabul-support")
    failed = login_post(client, "nadia", "wrong")
    assert 'dir="rtl"' in failed.text and "Wrong username" not in failed.text


def test_the_switcher_offers_five_languages_each_in_its_own_name(client):
    page = client.get("/console/login?lang=fa").text
    for code, name in (("en", "English"), ("ru", "Русский"), ("tr", "Türkçe"),
                       ("fa", "فارسی"), ("fa_AF", "دری")):
        assert f'href="/console/login?lang={code}"' in page and f">{name}</a>" in page
    assert 'lang="fa-AF"' in page


def test_a_reference_inside_persian_text_is_isolated(app, session):
    case = make_case(session, HOME, reference="HL-7K2M9Q")
    session.commit()
    aigerim = sign_in(app, session, "aigerim")
    case_page = aigerim.get(case_url(case, "?lang=fa")).text
    assert '<h1>پروندهٔ <bdi dir="ltr">HL-7K2M9Q</bdi></h1>' in case_page
    assert '<bdi dir="ltr">HL-7K2M9Q</bdi></a>' in aigerim.get("/console?lang=fa_AF").text


@pytest.mark.parametrize("locale", ["tr", "fa", "fa_AF"])
def test_the_machine_made_catalogs_say_so_in_their_header(locale):
    path = i18n.LOCALES_DIR / locale / "LC_MESSAGES" / "console.po"
    text = path.read_text(encoding="utf-8")
    assert "MACHINE-MADE" in text.split('msgid ""')[0]
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert "MACHINE-MADE" in catalog.language_team


@pytest.mark.parametrize("ui", ["tr", "fa", "fa_AF"])
def test_every_page_renders_in_the_new_languages(app, session, ui):
    case = make_case(session, HOME)
    session.commit()
    operator = sign_in(app, session, "aigerim")
    operator.post(case_url(case, "/claim"))
    admin = sign_in(app, session, "root", Role.ADMIN)
    coordinator = sign_in(app, session, "coord", Role.COORDINATOR)
    direction = "rtl" if ui != "tr" else "ltr"
    for console, path in ((operator, "/console"), (operator, case_url(case)),
                          (operator, "/console/search?reference=" + case.reference),
                          (admin, "/console/admin"), (coordinator, "/console/stats")):
        page = console.get(f"{path}{'&' if '?' in path else '?'}lang={ui}")
        assert page.status_code == 200, (path, page.text)
        assert f'lang="{language.html_lang(ui)}" dir="{direction}"' in page.text, path
        assert "Sign out" not in page.text, path  # the header is translated
