"""Keywords a person can text at any time, and menu numbers in any script.

STOP/START/HELP are Twilio's own (with Advanced Opt-Out, Twilio also tells us which
one it saw in ``OptOutType``); LANG and ERASE are ours, in every catalog language, so
a caller can use the word in their language or the English one.
"""

import re
import unicodedata
from enum import StrEnum
from functools import cache

from app.i18n import gettext
from app.languages import LANGUAGES
from app.messaging.texts import ERASE_KEYWORD, LANG_KEYWORD


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    LANG = "lang"
    ERASE = "erase"


# Twilio's default opt-out, opt-in and help keywords (Advanced Opt-Out adds the same).
TWILIO_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                     "OPTOUT"), Keyword.STOP),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}
OPT_OUT_TYPES = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}


APOSTROPHES = re.compile("[\u02bb\u02bc'\u2018\u2019`]")


def normalise(text: str) -> str:
    """Upper-case, without punctuation or surrounding space: ' Stop! ' -> 'STOP'.

    Dotted and dotless I are one letter here (Turkish 'sil' must match 'SİL'), and
    apostrophes go (Uzbek 'O'CHIR' typed on any phone must match 'OʻCHIR').
    """
    cleaned = APOSTROPHES.sub("", unicodedata.normalize("NFC", text)).replace("\u0307", "")
    cleaned = re.sub(r"[^\w]+", " ", cleaned).strip().upper()
    return cleaned.replace("İ", "I")


def is_english_keyword(text: str) -> bool:
    """Whether the whole message is one of Twilio's keywords (HELP, INFO, STOP, START ...),
    all English words: whoever writes one reads English, whatever their number's country."""
    return normalise(text) in TWILIO_KEYWORDS


@cache
def catalog_keywords() -> dict[str, Keyword]:
    words: dict[str, Keyword] = {"LANG": Keyword.LANG, "ERASE": Keyword.ERASE}
    for language in LANGUAGES:
        words[normalise(gettext(language, LANG_KEYWORD))] = Keyword.LANG
        words[normalise(gettext(language, ERASE_KEYWORD))] = Keyword.ERASE
    return words


def keyword_of(text: str, extra_erase_words: list[str], opt_out_type: str | None, *,
               carrier_words: bool = True) -> Keyword | None:
    """The keyword this whole message is, if it is one. ``carrier_words``: the text came
    by SMS or WhatsApp, where STOP, START and their kin opt out and in (the carrier and
    Twilio enforce them). On a messenger they are ordinary words: a frightened person's
    "stop" must reach an operator, and leaving is blocking the bot."""
    if opt_out_type and opt_out_type.upper() in OPT_OUT_TYPES:
        return OPT_OUT_TYPES[opt_out_type.upper()]
    word = normalise(text)
    if word in {normalise(w) for w in extra_erase_words}:
        return Keyword.ERASE
    carrier = TWILIO_KEYWORDS.get(word)
    if carrier is not None and (carrier_words or carrier is Keyword.HELP):
        return carrier
    return catalog_keywords().get(word)


def menu_number(text: str) -> int | None:
    """'2', ' 2. ', '۲' (Persian) or '٢' (Arabic) -> 2; anything else -> None."""
    cleaned = normalise(text)
    if not cleaned or not all(ch.isdecimal() for ch in cleaned) or len(cleaned) > 2:
        return None
    return int("".join(str(unicodedata.decimal(ch)) for ch in cleaned))
