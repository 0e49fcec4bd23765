"""The hotline's twelve languages and how codes from outside are normalised.

Dari has its own ISO 639-3 code (``prs``) but is often written ``fa-AF``; both mean
the same language here. Codes are stored in the normalised form.
"""

from typing import NamedTuple


class Language(NamedTuple):
    code: str
    english_name: str
    native_name: str


LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (
    Language("ru", "Russian", "Русский"),
    Language("kk", "Kazakh", "Қазақша"),
    Language("ky", "Kyrgyz", "Кыргызча"),
    Language("tg", "Tajik", "Тоҷикӣ"),
    Language("uz", "Uzbek", "Oʻzbekcha"),
    Language("tk", "Turkmen", "Türkmençe"),
    Language("prs", "Dari", "دری"),
    Language("ps", "Pashto", "پښتو"),
    Language("fa", "Persian", "فارسی"),
    Language("az", "Azerbaijani", "Azərbaycanca"),
    Language("tr", "Turkish", "Türkçe"),
    Language("en", "English", "English"),
)}

ALIASES = {"fa-af": "prs", "fa_af": "prs", "uz-latn": "uz", "az-latn": "az", "tg-cyrl": "tg"}


def normalise_language(code: str) -> str:
    """Lower-case a language code and map aliases (``fa-AF`` -> ``prs``)."""
    lowered = code.strip().lower().replace("_", "-")
    return ALIASES.get(lowered, lowered)


def is_supported(code: str) -> bool:
    return normalise_language(code) in LANGUAGES
