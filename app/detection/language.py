"""The language of a caller's first SMS: the script first, py3langid for what it cannot tell.

First messages are short ("help, they took my passport"), so a statistical classifier
alone is unreliable: it confuses Kazakh with Kyrgyz, reads Turkish typed without Turkish
letters as Esperanto, and cannot tell Dari from Persian at all. Letters that only one of
the hotline's languages uses are decisive; the library then only chooses among the
languages the script leaves possible. Where phones lack those letters, everyday words and
grammar endings stand in (``markers``), first; the library decides only where no marker
word is found, and text in Latin letters is also read back into Cyrillic, because Russian
is often typed that way. The number's country breaks a tie between close languages and
lowers the library's bar for its own; it never overrides what the text says. When nothing
is sure, ``language`` is ``None`` and the SMS layer asks, offering ``candidates`` first.
Measured by ``bench/detection.py`` on a labelled corpus.

Nothing here logs or returns the message: ``reason`` is built from constants, language
codes, probabilities and single letters only.
"""

# ruff: noqa: RUF003 - the comments are about Cyrillic, Arabic and Turkic letters.

import copy
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from app.countries import LIKELY_LANGUAGES, likely_languages
from app.detection import markers
from app.languages import LANGUAGES

# Tuned on the corpus in tests/detection/test_language_detection.py. py3langid divides its scores
# by sqrt(length) before the softmax, so short texts get flatter, honest probabilities.
ACCEPT = 0.75            # the library's top language is taken at or above this ...
ACCEPT_LIKELY = 0.45     # ... or this, if the caller's country makes it likely anyway
PLAUSIBLE = 0.05         # below this a language is not offered as a candidate
LATIN_SURE = 0.9         # ASCII text this sure of a Latin language is not transliteration
TRANSLIT_SURE = 0.9      # ASCII text read as Cyrillic this sure of Russian is Russian
TRANSLIT_DOUBT = 0.75    # ... this sure of a Cyrillic-only language casts doubt on Latin
MIN_LETTERS = 3          # "ok", "да", "?" say nothing about the language

CYRILLIC_LANGUAGES = ("ru", "kk", "ky", "tg", "uz")
LATIN_LANGUAGES = ("en", "tr", "az", "uz", "tk")
ARABIC_LANGUAGES = ("prs", "fa", "ps")
ALL_LANGUAGES = tuple(LANGUAGES)
# Written only in Cyrillic, so in Latin letters they are transliterated.
CYRILLIC_ONLY = frozenset({"ru", "kk", "ky", "tg"})

# py3langid's "fa" stands for both Persian and Dari.
LIBRARY_CODES = {"fa": ("fa", "prs")}

# Letters used by exactly one of the hotline's Cyrillic languages.
KAZAKH_LETTERS = frozenset("әұһі")
TAJIK_LETTERS = frozenset("ӣӯҷ")
UZBEK_CYRILLIC_LETTERS = frozenset("ў")
# Shared letters: Kyrgyz has only ң ө ү, Kazakh also has them; ғ қ are Kazakh, Tajik and
# Uzbek; ҳ is Tajik and Uzbek (Kazakh writes һ). A text with both ғ/қ and ң/ө/ү is Kazakh.
KYRGYZ_KAZAKH_LETTERS = frozenset("ңөү")
KAZAKH_TAJIK_UZBEK_LETTERS = frozenset("ғқ")
TAJIK_UZBEK_LETTERS = frozenset("ҳ")
# Latin letters typed inside Cyrillic words: the Latin i stands for Kazakh і, which Russian
# keyboards lack; the others look like the Cyrillic letter and would break the n-grams.
CYRILLIC_LOOKALIKES = str.maketrans("aceiopxy", "асеіорху")

# Latin letters: ə is only Azerbaijani, ň ý ž only Turkmen, ñ ū only Kazakh (its 2021
# Latin alphabet); ä is Turkmen and Kazakh, which alone of the two also writes q ı ğ.
# ı ğ are Turkish, Azerbaijani and Kazakh; ç ş ö ü also Turkmen. Uzbek writes none of
# them (it uses oʻ gʻ sh ch).
AZERBAIJANI_LETTERS = frozenset("ə")
TURKMEN_LETTERS = frozenset("ňýž")
KAZAKH_LATIN_LETTERS = frozenset("ñū")
TURKMEN_KAZAKH_LETTERS = frozenset("ä")
NOT_TURKMEN_LETTERS = frozenset("qığ")
TURKISH_AZERBAIJANI_LETTERS = frozenset("ığ")
TURKIC_LATIN_LETTERS = frozenset("çşöü")
# Every language people type in Latin letters, their own script or not.
TYPED_IN_LATIN = ("en", "ru", "tr", "az", "tk", "uz", "kk", "ky", "tg", "fa", "prs")
# "I", "to me", "my" and "help" in Azerbaijani, Turkmen and Uzbek typed without their
# letters; Turkish says ben, bana, benim and yardım. The library takes such text for
# Turkish when Turkish letters are missing too.
NOT_TURKISH_WORDS = frozenset({"men", "mene", "menim", "menin", "menga", "komek"})
# Uzbek oʻ and gʻ; phones rarely offer ʻ, so people type any apostrophe-like mark.
UZBEK_APOSTROPHE = re.compile(r"[og][ʻʼ'`‘’](?=\w)")

# Pashto letters that Persian and Dari do not use.
PASHTO_LETTERS = frozenset("ټډړږښګڼېۍځڅ")
# Words Afghans write and Iranians do not (Iranian form in brackets); stems of four or
# more letters also match with suffixes (تیلفونم, پیسه‌ام).
DARI_WORDS = frozenset({
    "استم", "استی", "استیم", "استین", "استید",  # copula "I am" etc. (هستم)
    "تشکر",                                   # thank you (ممنون، مرسی)
    "تیلفون", "تلیفون",                       # telephone (تلفن)
    "مبایل",                                  # mobile (موبایل)
    "پولیس",                                  # police (پلیس)
    "تذکره",                                  # the Afghan identity card
    "موتر",                                   # car (ماشین)
    "پیسه", "پیسا",                            # money (پول)
    "ضرورت",                                  # need, ضرورت دارم (نیاز دارم)
    "قاچاقبر",                                # smuggler (قاچاقچی)
    "کمپنی",                                  # company (شرکت)
    "نمیفامم", "میفامم", "فامیدم",            # understand (فهمیدن)
    "بلی",                                    # yes (بله)
    "مه", "مره",                              # colloquial I, me (من، مرا)
})
DARI_STEM_LENGTH = 4
# Arabic code points that Persian keyboards replace; unified only to match Dari words, the
# library sees the original because they also tell Arabic from Persian.
ARABIC_TO_PERSIAN = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})

URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+", re.IGNORECASE)
# Removed inside words rather than turned into spaces: apostrophes (qo'yishdi), the
# zero-width non-joiner of Persian (می‌خواهم) and the Arabic tatweel.
JOINERS = frozenset("ʻʼ'`‘’\u200c\u200d\u0640")

# Latin -> Cyrillic, longest first, for the transliteration check. It follows how people
# type Russian on Latin keyboards, not a standard: j is ж (nujna), w is ш and x is х
# (Volapuk), c is ц. A lone y is й after a vowel (moy, zdravstvuyte), else ы (ty, vy).
TRANSLIT = {
    "shch": "щ", "sch": "щ", "zh": "ж", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш",
    "ya": "я", "yu": "ю", "yo": "ё", "ye": "е",
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х",
    "i": "и", "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
    "q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "ш", "x": "х",
    "z": "з",
}
TRANSLIT_TOKEN = re.compile("|".join(sorted(TRANSLIT, key=len, reverse=True)) + "|y")
VOWELS = frozenset("aeiouy")

Ranking = list[tuple[str, float]]
TOO_FEW_LETTERS = "too few letters"


@dataclass(frozen=True)
class Detection:
    language: str | None          # one of LANGUAGES, or None if unsure
    candidates: tuple[str, ...]   # still possible, most likely first; the menu's first entries
    reason: str                   # short, for logs and tests; never contains the message


def detect_language(text: str, country: str | None = None, hint: str | None = None
                    ) -> Detection:
    """The language ``text`` is written in, the sender's ``country`` breaking ties between
    close languages. ``hint``, the language the person set in their app (a messenger's),
    breaks a tie before the country does: a text clear by itself keeps its language, but
    one that only the country's main language would decide, or too short to tell, takes
    the hint if the text could be in it."""
    if hint not in LANGUAGES:
        return _detect(text, country)
    alone = _detect(text, None)
    if alone.language is not None:
        return _detect(text, country)  # clear without any prior: the hint changes nothing
    if alone.reason == TOO_FEW_LETTERS or hint in _written_in(text):
        return Detection(hint, (hint, *(c for c in alone.candidates if c != hint)),
                         f"app language hint {hint}; {alone.reason}")
    return _detect(text, country)


def _written_in(text: str) -> tuple[str, ...]:
    """The languages people write in the text's script."""
    script = _majority_script(_letters_only(_prepare(text)))
    return {"cyrillic": CYRILLIC_LANGUAGES, "latin": TYPED_IN_LATIN,
            "arabic": ARABIC_LANGUAGES}.get(script, ())


def _detect(text: str, country: str | None) -> Detection:
    country = country.upper() if country else None
    raw = _prepare(text)
    clean = _letters_only(raw)
    if sum(ch != " " for ch in clean) < MIN_LETTERS:
        return _unsure(country, ALL_LANGUAGES, [], TOO_FEW_LETTERS)
    script = _majority_script(clean)
    if script == "cyrillic":
        return _cyrillic(_fold_lookalikes(clean), country)
    if script == "latin":
        return _latin(raw, clean, country)
    if script == "arabic":
        return _arabic(clean, country)
    return _unsure(country, ALL_LANGUAGES, [], "script: other")


# --- normalisation ---------------------------------------------------------------------

def _prepare(text: str) -> str:
    """NFC, lower case, no URLs or e-mail addresses; punctuation still in place."""
    return URL.sub(" ", unicodedata.normalize("NFC", text).strip()).lower()


def _letters_only(text: str) -> str:
    """Letters and single spaces: digits, punctuation and emoji become spaces."""
    kept = []
    for ch in text:
        # Harakat and combining marks go too, such as the dot "İ".lower() leaves behind.
        if ch in JOINERS or unicodedata.category(ch) == "Mn":
            continue
        kept.append(ch if ch.isalpha() else " ")
    return " ".join("".join(kept).split())


def _script(ch: str) -> str:
    point = ord(ch)
    if 0x0400 <= point <= 0x052F:
        return "cyrillic"
    if 0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0xFB50 <= point <= 0xFEFF:
        return "arabic"
    if point < 0x0250 or point == 0x0259 or 0x1E00 <= point <= 0x1EFF:  # ə is IPA block
        return "latin"
    return "other"


def _majority_script(text: str) -> str:
    return Counter(_script(ch) for ch in text if ch != " ").most_common(1)[0][0]


def _fold_lookalikes(text: str) -> str:
    return " ".join(word.translate(CYRILLIC_LOOKALIKES)
                    if any(_script(ch) == "cyrillic" for ch in word) else word
                    for word in text.split())


# --- Cyrillic --------------------------------------------------------------------------

def _cyrillic(text: str, country: str | None) -> Detection:
    found = set(text)
    decisive = {lang: hits for lang, letters in (
        ("kk", KAZAKH_LETTERS), ("tg", TAJIK_LETTERS), ("uz", UZBEK_CYRILLIC_LETTERS))
        if (hits := found & letters)}
    turkic = found & (KYRGYZ_KAZAKH_LETTERS | KAZAKH_TAJIK_UZBEK_LETTERS)
    if decisive == {"kk": {"і"}} and not turkic:
        # і alone is as likely Ukrainian as Kazakh typed on a Russian keyboard. Ukrainian is
        # offered to the library so that it is not forced into Kazakh; if it wins, we ask.
        return _choose(text, ("kk", "ru", "uk"), country, "script: і, ")
    if len(decisive) == 1:
        lang, hits = decisive.popitem()
        return _certain(lang, f"script: {_name(lang)} letters {_show(hits)}")
    if decisive:  # letters of two languages: let the library weigh the rest of the text
        return _choose(text, tuple(decisive), country, "script: mixed letters, ")
    return _cyrillic_shared(text, found, country)


def _cyrillic_shared(text: str, found: set[str], country: str | None) -> Detection:
    """No letter of a single language: narrow down with letters two or three share."""
    if found & TAJIK_UZBEK_LETTERS:
        return _words_or_library(text, ("tg", "uz"), country, "script: ҳ, ")
    kyrgyz = found & KYRGYZ_KAZAKH_LETTERS
    if found & KAZAKH_TAJIK_UZBEK_LETTERS:
        if kyrgyz:
            return _certain("kk", "script: Kazakh letters ғ/қ with ң/ө/ү")
        return _words_or_library(text, ("kk", "tg", "uz"), country, "script: ғ/қ, ")
    if kyrgyz:
        # Kazakh typed with some of its letters (үйге) has ң ө ү without ә қ і.
        kazakh = markers.best(markers.cyrillic_counts(text), ("kk", "ky")) == ("kk",)
        if kazakh:
            return _certain("kk", f"script: letters {_show(kyrgyz)}, Kazakh words")
        return _certain("ky", f"script: Kyrgyz letters {_show(kyrgyz)}")
    return _words_or_library(text, CYRILLIC_LANGUAGES, country, "script: Cyrillic, ")


def _words_or_library(text: str, pool: tuple[str, ...], country: str | None,
                      prefix: str) -> Detection:
    """Cyrillic whose letters leave ``pool``: the language with most marker words, else
    the library. A Russian message quoting one Kazakh word has more Russian words."""
    ranked = _rank(pool, text)
    return (_by_words(markers.best(markers.cyrillic_counts(text), pool), ranked, country,
                      pool, prefix)
            or _decide(ranked, country, pool, prefix))


def _by_words(best: tuple[str, ...], ranked: Ranking, country: str | None,
              possible: tuple[str, ...], prefix: str) -> Detection | None:
    """The language whose marker words lead; between tied languages the main language of
    the caller's country, if it is one of them: the number is a prior between close
    languages, never a verdict against the text. Tied otherwise: ask, those first. No
    marker words at all: None, for the library to decide."""
    if not best:
        return None
    home = _home(country)
    lang = best[0] if len(best) == 1 else home if home in best else None
    if lang:
        return Detection(lang, _candidates(lang, ranked, country, possible),
                         f"{prefix}{_name(lang)} words")
    return Detection(None, tuple(dict.fromkeys(best + _candidates(None, ranked, country,
                                                                   possible))),
                     f"{prefix}mixed words")


# --- Latin -----------------------------------------------------------------------------

def _latin(raw: str, text: str, country: str | None) -> Detection:
    detection = _latin_rules(raw, text, country)
    if detection.language == "tr" and not NOT_TURKISH_WORDS.isdisjoint(text.split()):
        first = tuple(c for c in likely_languages(country) if c != "tr")
        return Detection(None, tuple(dict.fromkeys(first + detection.candidates)),
                         f"{detection.reason}, but words that are not Turkish")
    return detection


def _latin_rules(raw: str, text: str, country: str | None) -> Detection:
    found = set(text)
    letters = {"az": found & AZERBAIJANI_LETTERS, "tk": found & TURKMEN_LETTERS,
               "kk": found & KAZAKH_LATIN_LETTERS}
    if any(letters.values()):
        lang = max(letters, key=lambda code: len(letters[code]))
        return _certain(lang, f"script: {_name(lang)} letters {_show(letters[lang])}")
    if found & TURKMEN_KAZAKH_LETTERS:
        if found & NOT_TURKMEN_LETTERS:
            return _certain("kk", "script: Kazakh letters ä with q/ı/ğ")
        return _latin_words(text, ("tk", "kk"), country, "script: ä, ") or _certain(
            "tk", "script: Turkmen letters ä")
    if found & TURKISH_AZERBAIJANI_LETTERS:
        return (_latin_words(text, ("tr", "az", "kk"), country, "script: ı/ğ, ")
                or _choose(text, ("tr", "az"), country, "script: ı/ğ, "))
    if found & TURKIC_LATIN_LETTERS:
        return (_latin_words(text, ("tr", "az", "tk", "kk"), country, "script: ç/ş/ö/ü, ")
                or _choose(text, ("tr", "az", "tk"), country, "script: ç/ş/ö/ü, "))
    # Checked only now: Turkish writes apostrophes before suffixes (Kemerovo'da).
    if UZBEK_APOSTROPHE.search(raw):
        return _certain("uz", "script: Uzbek oʻ/gʻ")
    return _latin_words(text, TYPED_IN_LATIN, country, "Latin, ") or _plain_latin(
        text, country)


def _latin_words(text: str, pool: tuple[str, ...], country: str | None,
                 prefix: str) -> Detection | None:
    """The language of ``pool`` with most marker words or endings, or a tie's menu."""
    return _by_words(markers.best(markers.latin_counts(text), pool),
                     _rank(LATIN_LANGUAGES, text), country, pool, prefix)


def _plain_latin(text: str, country: str | None) -> Detection:
    """ASCII only: a Latin-script language, or a Cyrillic-only one typed in Latin letters.

    Both readings are classified: the text as it is among the Latin-script languages, and
    transliterated to Cyrillic among the Cyrillic ones.
    """
    as_cyrillic = transliterate(text)
    latin = _rank(LATIN_LANGUAGES, text)
    cyrillic = _rank(CYRILLIC_LANGUAGES, as_cyrillic)
    reading = _trusted_reading(latin[0], cyrillic[0], as_cyrillic)
    readings = "Latin {} {:.2f}, Cyrillic {} {:.2f}".format(*latin[0], *cyrillic[0])
    if reading == "unsure":
        return _unsure(country, ALL_LANGUAGES, latin + cyrillic,
                       f"maybe transliterated; {readings}")
    if reading != "latin":
        return Detection(reading, _candidates(reading, cyrillic, country, ALL_LANGUAGES),
                         f"transliterated {_name(reading)}; {readings}")
    detection = _decide(latin, country, ALL_LANGUAGES, "Latin, ")
    if detection.language:
        return detection
    # Unsure: a Cyrillic-only language typed in Latin letters stays on offer too.
    return _unsure(country, ALL_LANGUAGES, latin + cyrillic, detection.reason)


def _trusted_reading(latin: tuple[str, float], cyrillic: tuple[str, float],
                     as_cyrillic: str) -> str:
    """"latin", a transliterated language, or "unsure", from both readings' top languages."""
    (lang, prob), (cyr_lang, cyr_prob) = latin, cyrillic
    if cyr_lang == "ru" and cyr_prob >= TRANSLIT_SURE and prob < LATIN_SURE:
        return "ru"
    # Latin Uzbek is as sure of Kyrgyz or Tajik in Latin letters as of Uzbek, so its
    # certainty does not rule transliteration out; the others' does.
    if cyr_lang not in CYRILLIC_ONLY or (prob >= LATIN_SURE and lang != "uz"):
        return "latin"
    # Only Tajik words count: the Kazakh and Kyrgyz ones are Turkmen and Uzbek words too.
    if cyr_lang == "tg" and markers.best(
            markers.cyrillic_counts(as_cyrillic), CYRILLIC_LANGUAGES) == ("tg",):
        return "tg"
    return "unsure" if cyr_prob >= TRANSLIT_DOUBT else "latin"


def transliterate(text: str) -> str:
    """Russian typed in Latin letters back to Cyrillic (``privet`` -> ``привет``)."""
    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token != "y":
            return TRANSLIT[token]
        previous = text[match.start() - 1] if match.start() else " "
        return "й" if previous in VOWELS else "ы"
    return TRANSLIT_TOKEN.sub(replace, text)


# --- Arabic ----------------------------------------------------------------------------

def _arabic(text: str, country: str | None) -> Detection:
    hits = set(text) & PASHTO_LETTERS
    if hits:
        return _certain("ps", f"script: Pashto letters {_show(hits)}")
    # Pashto typed on a Persian keyboard still has its own words.
    if markers.pashto_count(text) > _dari_words(text):
        return Detection("ps", ("ps", "prs", "fa"), "script: Arabic, Pashto words")
    # Arabic and Urdu are offered so that they are not forced into Persian; if one wins,
    # or Pashto typed without its letters, the usual thresholds apply.
    ranked = _rank(("fa", "ps", "ar", "ur"), text)
    if ranked[0][0] != "fa":
        return _decide(ranked, country, ARABIC_LANGUAGES, "script: Arabic, ")
    # py3langid knows only "fa"; Dari and Persian differ in everyday words, not letters.
    if _dari_words(text):
        return _persian("prs", "script: Arabic, Dari words", ranked)
    if country == "AF":
        return _persian("prs", "script: Arabic, country AF", ranked)
    return _persian("fa", "script: Arabic, no Dari words", ranked)


def _dari_words(text: str) -> int:
    return sum(_matches(word, DARI_WORDS, DARI_STEM_LENGTH)
               for word in text.translate(ARABIC_TO_PERSIAN).split())


def _matches(word: str, words: frozenset[str], stem_length: int) -> bool:
    return word in words or any(
        word.startswith(known) for known in words if len(known) >= stem_length)


def _persian(lang: str, reason: str, ranked: Ranking) -> Detection:
    other = "fa" if lang == "prs" else "prs"
    pashto = ("ps",) if dict(ranked).get("ps", 0.0) >= PLAUSIBLE else ()
    return Detection(lang, (lang, other, *pashto), reason)


# --- the library -----------------------------------------------------------------------

# A burst of first messages after a start would otherwise have every webhook thread load
# its own copy of the model (a second of CPU each, under one GIL): voice calls included,
# the whole process stalled for tens of seconds. The others wait for the first instead.
_LOADING = threading.Lock()


@cache
def _model() -> LanguageIdentifier:
    """The full model, loaded once per process (under a second)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_model() -> None:
    """Load the model now, as the service starts: loaded by the first text's webhook step,
    it held up every step on the event loop for about 0.4 s (``app.webhooks.lane``)."""
    _model()


@cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """An identifier restricted to ``languages`` (sorted). ``set_languages`` mutates, so
    each set gets its own shallow copy; the copies share the model's arrays."""
    identifier = copy.copy(_model())
    identifier.set_languages(list(languages))
    return identifier


def _rank(languages: Iterable[str], text: str) -> Ranking:
    with _LOADING:
        identifier = _identifier(tuple(sorted(languages)))
    ranked: Ranking = identifier.rank(text)  # py3langid ships no types
    return ranked


# --- decisions -------------------------------------------------------------------------

def _choose(text: str, pool: tuple[str, ...], country: str | None, prefix: str) -> Detection:
    possible = tuple(lang for lang in pool if lang in LANGUAGES)
    return _decide(_rank(pool, text), country, possible, prefix)


def _decide(ranked: Ranking, country: str | None, possible: tuple[str, ...],
            prefix: str) -> Detection:
    lang, prob = ranked[0]
    if lang in LANGUAGES and _accepts(lang, prob, country):
        return Detection(lang, _candidates(lang, ranked, country, possible),
                         f"{prefix}langid {lang} {prob:.2f}")
    return _unsure(country, possible, ranked, f"{prefix}langid unsure, {lang} {prob:.2f}")


def _accepts(lang: str, prob: float, country: str | None) -> bool:
    # An unknown country is no evidence, so DEFAULT_LIKELY does not lower the bar.
    return prob >= ACCEPT or (
        lang in LIKELY_LANGUAGES.get(country or "", ()) and prob >= ACCEPT_LIKELY)


def _home(country: str | None) -> str | None:
    """The main language of a known country; an unknown one is no evidence."""
    likely = LIKELY_LANGUAGES.get(country or "")
    return likely[0] if likely else None


def _certain(lang: str, reason: str) -> Detection:
    return Detection(lang, (lang,), reason)


def _unsure(country: str | None, possible: tuple[str, ...], ranked: Ranking,
            reason: str) -> Detection:
    return Detection(None, _candidates(None, ranked, country, possible), reason)


def _candidates(lang: str | None, ranked: Ranking, country: str | None,
                possible: tuple[str, ...]) -> tuple[str, ...]:
    """The chosen language, or else the country's likely ones that the script allows; then
    every language the library finds plausible, most probable first."""
    plausible = [code for code, prob in sorted(ranked, key=lambda item: -item[1])
                 if prob >= PLAUSIBLE for code in LIBRARY_CODES.get(code, (code,))]
    first = (lang,) if lang else tuple(c for c in likely_languages(country) if c in possible)
    return tuple(dict.fromkeys(c for c in first + tuple(plausible) if c in LANGUAGES))


def _name(lang: str) -> str:
    return LANGUAGES[lang].english_name


def _show(letters: Iterable[str]) -> str:
    return " ".join(sorted(letters))
