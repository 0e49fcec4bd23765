"""Every automatic reply fits in two SMS segments in its own script."""

import pytest

from app import countries
from app.languages import LANGUAGES
from app.messaging import texts
from app.messaging.keywords import Keyword, catalog_keywords, keyword_of, menu_number
from app.messaging.segments import is_gsm7, segments

LONGEST_EMERGENCY = max([*countries.EMERGENCY_NUMBERS.values(), "112"], key=len)


def test_segment_counting_follows_gsm_and_ucs2_limits():
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 306) == 2 and segments("a" * 307) == 3
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # escape: two septets each
    assert segments("ж" * 70) == 1 and segments("ж" * 71) == 2
    assert segments("ж" * 134) == 2 and segments("ж" * 135) == 3
    assert not is_gsm7("Yardıma ihtiyacım var")  # dotless i is not in the GSM alphabet
    assert is_gsm7("Hello, I need help")


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("key", list(texts.TEXTS))
def test_every_catalog_reply_fits_two_segments(language, key):
    def render(lang: str) -> str:
        if key == "help":
            return texts.help_text(lang, LONGEST_EMERGENCY)
        return texts.text(lang, key, number=LONGEST_EMERGENCY)

    reply = render(language)
    assert segments(reply) <= 2, (len(reply), reply)
    if language != "en":
        assert reply != render("en")  # translated


@pytest.mark.parametrize("country", [*countries.LIKELY_LANGUAGES, None])
def test_the_language_menu_fits_two_segments_for_every_country(country):
    from app.messaging.intake import _language_menu
    from app.messaging.models import Conversation

    menu = _language_menu(Conversation(caller_country=country), ())
    assert segments(menu) <= 2 and len(menu.splitlines()) == len(LANGUAGES)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_each_language_has_its_own_distinct_keywords(language):
    lang = texts.keyword(language, texts.LANG_KEYWORD)
    erase = texts.keyword(language, texts.ERASE_KEYWORD)
    assert lang != erase and " " not in lang and " " not in erase
    assert keyword_of(lang.lower(), [], None) is Keyword.LANG
    assert keyword_of(erase.lower(), [], None) is Keyword.ERASE


def test_keywords_never_collide_with_twilios_or_each_other():
    from app.messaging.keywords import TWILIO_KEYWORDS

    assert not set(catalog_keywords()) & set(TWILIO_KEYWORDS)


@pytest.mark.parametrize(("text", "keyword"), [
    (" stop ", Keyword.STOP), ("Unsubscribe", Keyword.STOP), ("start", Keyword.START),
    ("help", Keyword.HELP), ("sil", Keyword.ERASE), ("o'chir", Keyword.ERASE),
    ("Stop taking my passport", None), ("Помогите", None)])
def test_keywords_are_whole_messages_in_any_case(text, keyword):
    assert keyword_of(text, [], None) is keyword


@pytest.mark.parametrize(("text", "number"), [
    ("1", 1), (" 2. ", 2), ("۳", 3), ("٤", 4), ("12", 12), ("1 2", None), ("one", None),
    ("", None), ("123", None)])
def test_menu_numbers_in_any_script(text, number):
    assert menu_number(text) == number
