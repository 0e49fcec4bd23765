"""Gettext catalogs for the hotline's languages (Babel).

Catalogs live in ``locales/<locale>/LC_MESSAGES/<domain>.po`` at the repository root and
are compiled to ``.mo`` at install/start (``hotline i18n compile``). Dari is stored under
Babel's ``fa_AF`` locale and addressed everywhere else by its ISO 639-3 code ``prs``.

Two domains: ``messages``, what callers hear and read, complete in all twelve languages;
and ``console``, the operators' web console (English, Russian, Turkish, Persian and
Dari; the last three machine-made, awaiting native review), kept apart so
that a console string never leaves a caller catalog incomplete.
"""

import os
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from app import paths
from app.languages import LANGUAGES, normalise_language

LOCALES_DIR = paths.HOME / "locales"
DOMAIN = "messages"
CONSOLE_DOMAIN = "console"
BABEL_LOCALE = {code: code for code in LANGUAGES} | {"prs": "fa_AF"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def catalog_paths(domain: str = DOMAIN) -> list[Path]:
    """The .po catalogs of one domain (by default the callers' ``messages``)."""
    return sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{domain}.po"))


def compile_catalogs() -> list[Path]:
    """Compile every .po catalog of every domain to .mo; returns the files written."""
    written = []
    for po_path in sorted(LOCALES_DIR.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        # Written aside, then renamed: another process (a worker, a parallel test run) may
        # be reading the catalog at this moment, and must never see half a file.
        aside = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.tmp")
        with aside.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(aside, mo_path)
        written.append(mo_path)
    translations.cache_clear()
    domain_translations.cache_clear()
    return written


@cache
def translations(language: str) -> NullTranslations:
    locale = BABEL_LOCALE.get(normalise_language(language), "en")
    return Translations.load(str(LOCALES_DIR), [locale], DOMAIN)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


@cache
def domain_translations(domain: str, locale: str) -> NullTranslations:
    """One domain's catalog for a Babel locale (``en``, ``ru``, ``fa_AF``)."""
    return Translations.load(str(LOCALES_DIR), [locale], domain)
