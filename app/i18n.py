"""Gettext catalogs for the hotline's languages (Babel).

Catalogs live in ``locales/<locale>/LC_MESSAGES/messages.po`` at the repository root and
are compiled to ``.mo`` at install/start (``hotline i18n compile``). Dari is stored under
Babel's ``fa_AF`` locale and addressed everywhere else by its ISO 639-3 code ``prs``.
"""

from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from app.languages import LANGUAGES, normalise_language

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
BABEL_LOCALE = {code: code for code in LANGUAGES} | {"prs": "fa_AF"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def catalog_paths() -> list[Path]:
    return sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogs() -> list[Path]:
    """Compile every .po catalog to .mo; returns the files written."""
    written = []
    for po_path in catalog_paths():
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    translations.cache_clear()
    return written


@cache
def translations(language: str) -> NullTranslations:
    locale = BABEL_LOCALE.get(normalise_language(language), "en")
    return Translations.load(str(LOCALES_DIR), [locale], DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)
