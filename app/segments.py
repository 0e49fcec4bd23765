"""How many SMS segments a text costs (3GPP TS 23.038).

A text made only of the GSM 7-bit alphabet costs 160 characters in one segment, 153 a
segment when split (escape-table characters count twice). Anything else — Cyrillic,
Arabic script, and the Turkic Latin letters ı ş ğ ə ň — is sent as UCS-2: 70 UTF-16
units in one segment, 67 a segment when split.

``sms_safe`` is the last step of every text sent by SMS: it keeps a text in GSM-7 when
only look-alike punctuation (Uzbek's ʻ, typographic quotes) or, for Turkic Latin
languages, letters people commonly type without their diacritics stood in the way.
"""

import math

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def segments(text: str) -> int:
    if is_gsm7(text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


# Characters phones and keyboards put in for plain punctuation, and the GSM-7 ones that
# read the same. Uzbek's o' and g' are written with U+02BB but read as the apostrophe.
LOOK_ALIKES = str.maketrans({
    **dict.fromkeys("\u02bb\u02bc\u2018\u2019\u201b\u2032\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
    **dict.fromkeys("\t\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
                    "\u205f\u3000", " "),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff"),  # invisible: dropped
})
# The Turkic Latin letters outside GSM-7, as people write them on phones without them:
# Turkish dotless i, s and g and c with their marks, Azerbaijani schwa, Turkmen n, y and z
# with theirs (a-, o- and u-umlaut and capital C-cedilla are in GSM-7 and stay).
TURKIC_LETTERS = str.maketrans({
    "ı": "i", "İ": "I", "ş": "s", "Ş": "S", "ğ": "g", "Ğ": "G", "ç": "c",
    "ə": "e", "Ə": "E", "ň": "n", "Ň": "N", "ý": "y", "Ý": "Y", "ž": "z", "Ž": "Z",
    "â": "a", "Â": "A", "î": "i", "Î": "I", "û": "u", "Û": "U",
})
# Languages whose readers take the folded letters in their stride (see
# docs/calls-and-messages.md, "Segments"): Uzbek needs only its apostrophes.
FOLDED_LANGUAGES = frozenset({"tr", "az", "tk", "uz"})


def sms_safe(text: str, *, fold_letters: bool = False) -> str:
    """The text as it goes out by SMS: in GSM-7 when look-alike punctuation was all that
    kept it from it; with ``fold_letters``, also without Turkic diacritics, but only when
    that makes the whole text GSM-7 and saves a segment. Otherwise unchanged (UCS-2):
    nothing is folded that costs nothing to keep."""
    plain = text.translate(LOOK_ALIKES)
    if is_gsm7(plain):
        return plain
    if fold_letters:
        folded = plain.translate(TURKIC_LETTERS)
        if is_gsm7(folded) and segments(folded) < segments(text):
            return folded
    return text


def encoding(text: str) -> str:
    return "GSM-7" if is_gsm7(text) else "UCS-2"
