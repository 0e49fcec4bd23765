"""Every automatic reply fits in two SMS segments in its own script."""

import pytest

from app import countries
from app.cases.models import Channel
from app.languages import LANGUAGES
from app.messaging import texts
from app.messaging.conversations import for_channel
from app.messaging.keywords import Keyword, catalog_keywords, keyword_of, menu_number
from app.segments import (
    FOLDED_LANGUAGES,
    LOOK_ALIKES,
    TURKIC_LETTERS,
    encoding,
    is_gsm7,
    segments,
    sms_safe,
)

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


def render(language: str, key: str) -> str:
    """A catalog reply with the longest values its placeholders take, as sent by SMS."""
    if key == "help":
        reply = texts.help_text(language, LONGEST_EMERGENCY)
    else:
        reply = texts.text(language, key, number=LONGEST_EMERGENCY)
    return for_channel(reply, Channel.SMS, language)


def test_segments_per_reply_per_language(capsys):
    """The table `pytest -s` prints: what each reply costs by SMS, in each language."""
    table = {(language, key): render(language, key)
             for language in LANGUAGES for key in texts.TEXTS}
    with capsys.disabled():
        print("\nsegments and encoding by SMS, per reply (rows) and language (columns)")
        print(f"{'':20}" + "".join(f"{language:>6}" for language in LANGUAGES))
        for key in texts.TEXTS:
            print(f"{key:20}" + "".join(
                f"{segments(table[language, key]):>5}{encoding(table[language, key])[0]}"
                for language in LANGUAGES))
    assert all(segments(reply) <= 2 for reply in table.values())
    assert all(is_gsm7(table["uz", key]) for key in texts.TEXTS)  # o' and g', not U+02BB
    for (language, _key), reply in table.items():
        if language in FOLDED_LANGUAGES:  # GSM-7, or already one segment with its letters
            assert is_gsm7(reply) or segments(reply) == 1, (language, reply)


def test_gsm7_rendering_keeps_what_it_cannot_save_on():
    assert sms_safe("Maʼlumot: «oʻchir» — 2\u00a0ta…") == 'Ma\'lumot: "o\'chir" - 2 ta...'
    russian = "Ваши сообщения удалены — «стоп»"
    assert sms_safe(russian, fold_letters=True) == russian  # UCS-2 anyway: untouched
    turkish = "Teşekkürler. Yardım hattından biri size buradan yazacak, lütfen bekleyin."
    assert segments(turkish) == 2
    assert sms_safe(turkish) == turkish  # letters are folded only when asked
    folded = sms_safe(turkish, fold_letters=True)
    assert folded == "Tesekkürler. Yardim hattindan biri size buradan yazacak, lütfen bekleyin."
    assert segments(folded) == 1
    short = "Yardım hattı burada."  # one segment either way: its letters stay
    assert sms_safe(short, fold_letters=True) == short
    assert sms_safe("Sağ ol 😊", fold_letters=True) == "Sağ ol 😊"  # the emoji needs UCS-2


def folded(text: str) -> str:
    """A text as the menu may send it: punctuation and Turkic letters in GSM-7."""
    return text.translate(LOOK_ALIKES).translate(TURKIC_LETTERS)


@pytest.mark.parametrize("country", [*countries.LIKELY_LANGUAGES, None])
def test_the_language_menu_says_how_to_choose_and_fits_two_segments_a_message(country):
    from app.messaging.models import Conversation
    from app.pipeline.intake import _language_menu

    conversation = Conversation(caller_country=country, channel=Channel.SMS)
    messages = _language_menu(conversation, ())
    lines = [folded(line) for line in "\n".join(messages).splitlines()]
    likely = countries.likely_languages(country) if country else ("ru",)
    assert lines[0] == folded(texts.text(likely[0], "choose_language"))  # the first line
    for language in (*likely, "en"):
        assert folded(texts.text(language, "choose_language")) in lines
    items = dict(line.split(" ", 1) for line in lines if line.split(" ", 1)[0].isdecimal())
    by_name = {folded(language.native_name): code for code, language in LANGUAGES.items()}
    # Every language once, numbered 1 to 12 as the conversation will read the answer.
    assert [by_name[items[str(n)]] for n in range(1, len(LANGUAGES) + 1)] == \
        conversation.menu.split(",")
    assert all(segments(message) <= 2 for message in messages), messages
    assert sum(map(segments, messages)) <= 4


def test_the_language_menu_is_one_message_on_whatsapp():
    from app.messaging.models import Conversation
    from app.pipeline.intake import _language_menu

    messages = _language_menu(Conversation(caller_country="TJ", channel=Channel.WHATSAPP), ())
    assert len(messages) == 1 and "Oʻzbekcha" in messages[0]  # as written: no segments


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
