"""Which language the console speaks to this request, and its translations.

``?lang=ru`` chooses and is remembered in a cookie; otherwise the cookie; otherwise the
browser's Accept-Language (Babel's negotiation); otherwise English. Console strings come
from the ``console`` gettext domain, so the callers' twelve-language catalogs are untouched.
"""

from datetime import UTC, datetime

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations
from fastapi import Request

from app import i18n
from app.languages import LANGUAGES

CONSOLE_LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "hotline_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def chosen_in_query(request: Request) -> str | None:
    """A valid ``?lang=``: to use now and to remember in the cookie."""
    asked = request.query_params.get("lang")
    return asked if asked in CONSOLE_LANGUAGES else None


def language_of(request: Request) -> str:
    asked = chosen_in_query(request)
    if asked:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in CONSOLE_LANGUAGES:
        return remembered
    return negotiate(request.headers.get("accept-language", ""))


def negotiate(accept_language: str) -> str:
    """The best console language for an Accept-Language header, by q-value."""
    preferred = _preferences(accept_language)
    found = Locale.negotiate(preferred, list(CONSOLE_LANGUAGES)) if preferred else None
    return found.language if found else DEFAULT_LANGUAGE


def _preferences(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):  # a hostile header is capped
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = _quality(params)
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.replace("-", "_")))
    return [tag for *_, tag in sorted(ranked)]


def _quality(params: list[str]) -> float:
    for param in params:
        if param.startswith("q="):
            try:
                value = float(param[2:])
            except ValueError:
                return 0.0  # unreadable: ignore the language rather than guess
            return value if 0 <= value <= 1 else 0.0
    return 1.0


def translations(language: str) -> NullTranslations:
    return i18n.domain_translations(i18n.CONSOLE_DOMAIN, language)


def language_name(code: str | None, ui_language: str) -> str:
    """A caller's language as the operator reads it (``kk`` -> "казахский")."""
    if not code:
        return "—"
    babel_code = i18n.BABEL_LOCALE.get(code, code)
    name = Locale.parse(ui_language).languages.get(babel_code)
    known = LANGUAGES.get(code)
    return name or (known.english_name if known else code)


def country_name(code: str | None, ui_language: str) -> str:
    if not code:
        return "—"
    try:
        return Locale.parse(ui_language).territories.get(code, code)
    except UnknownLocaleError:  # pragma: no cover - CONSOLE_LANGUAGES are all known
        return code


def when(moment: datetime | None) -> str:
    """Times in UTC, stated as such: operators work across five time zones."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
