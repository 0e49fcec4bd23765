"""Which language the console speaks to this request, and its translations.

``?lang=ru`` chooses and is remembered in a cookie; otherwise the cookie; otherwise the
browser's Accept-Language (Babel's negotiation); otherwise English. Console strings come
from the ``console`` gettext domain, so the callers' twelve-language catalogs are untouched.

A console language is named by its Babel locale (``fa_AF`` for Dari, whose catalog lives
there), so that every Babel formatter accepts it as it is; ``prs``, Dari's ISO 639-3 code
that the rest of the service uses, is understood in ``?lang=`` and Accept-Language.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from babel.support import NullTranslations
from fastapi import Request
from markupsafe import Markup

from app import i18n
from app.cases.scrub import PLACEHOLDERS, Removed
from app.i18n import N_
from app.languages import LANGUAGES

CONSOLE_LANGUAGES = ("en", "ru", "tr", "fa", "fa_AF")
# The switcher, each language in its own name and script.
LANGUAGE_MENU = (("en", "English"), ("ru", "Русский"), ("tr", "Türkçe"), ("fa", "فارسی"),
                 ("fa_AF", "دری"))
RIGHT_TO_LEFT = frozenset({"fa", "fa_AF"})
ALIASES = {"prs": "fa_AF", "fa-af": "fa_AF", "fa_af": "fa_AF"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "hotline_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600


def _known(code: str | None) -> str | None:
    if not code:
        return None
    code = ALIASES.get(code.lower(), code)
    return code if code in CONSOLE_LANGUAGES else None


def chosen_in_query(request: Request) -> str | None:
    """A valid ``?lang=``: to use now and to remember in the cookie."""
    return _known(request.query_params.get("lang"))


def language_of(request: Request) -> str:
    asked = chosen_in_query(request)
    if asked:
        return asked
    remembered = _known(request.cookies.get(LANG_COOKIE))
    if remembered:
        return remembered
    return negotiate(request.headers.get("accept-language", ""))


def negotiate(accept_language: str) -> str:
    """The best console language for an Accept-Language header, by q-value.

    ``fa-AF`` and ``prs`` are Dari, not Persian: the exact locale is looked for before
    Babel falls back to the bare language."""
    preferred = [ALIASES.get(tag.lower(), tag) for tag in _preferences(accept_language)]
    found = Locale.negotiate(preferred, list(CONSOLE_LANGUAGES)) if preferred else None
    return str(found) if found else DEFAULT_LANGUAGE


def html_lang(ui: str) -> str:
    """The BCP 47 tag for ``<html lang>`` (``fa_AF`` -> ``fa-AF``)."""
    return ui.replace("_", "-")


def direction(ui: str) -> str:
    return "rtl" if ui in RIGHT_TO_LEFT else "ltr"


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


# Names as the region writes them, where CLDR has an older or outside name. Russian:
# Kyrgyzstan asks for "Кыргызстан"/"кыргызский" (CLDR: Киргизия, киргизский). Dari: CLDR's
# fa_AF already writes the language "قرغزی" but keeps Iran's "قرقیزستان" for the country;
# Afghan usage is "قرغزستان". Turkish and Persian names of the ten countries and twelve
# languages were checked and kept as CLDR has them.
COUNTRY_NAMES: dict[str, dict[str, str]] = {
    "ru": {"KG": "Кыргызстан"},
    "fa_AF": {"KG": "قرغزستان"},
}
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "ru": {"ky": "кыргызский"},
}


def language_name(code: str | None, ui_language: str) -> str:
    """A caller's language as the operator reads it (``kk`` -> "казахский")."""
    if not code:
        return "—"
    override = LANGUAGE_NAMES.get(ui_language, {}).get(code)
    if override:
        return override
    babel_code = i18n.BABEL_LOCALE.get(code, code)
    name = Locale.parse(ui_language).languages.get(babel_code)
    known = LANGUAGES.get(code)
    return name or (known.english_name if known else code)


def country_name(code: str | None, ui_language: str) -> str:
    if not code:
        return "—"
    override = COUNTRY_NAMES.get(ui_language, {}).get(code)
    if override:
        return override
    try:
        name: str = Locale.parse(ui_language).territories.get(code, code)  # babel: untyped
        return name
    except UnknownLocaleError:  # pragma: no cover - CONSOLE_LANGUAGES are all known
        return code


def zone_of(name: str | None) -> ZoneInfo:
    """An organisation's time zone; UTC for users without one (or a name tzdata lost)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime | None, zone: str | None = "UTC", ui_language: str = "en"
         ) -> Markup:
    """A time as the operator's wall clock shows it, in their language, with UTC on hover.

    ``<time datetime="2026-12-02T22:53:00Z" title="2026-12-02 22:53 UTC">3 Dec 2026,
    04:53</time>`` in Bishkek. Users without an organisation read UTC, and it is labelled
    so: they work across the region's five time zones."""
    if moment is None:
        return Markup("—")
    utc = moment.astimezone(UTC)
    tz = zone_of(zone)
    date = format_skeleton("yMMMd", utc, tzinfo=tz, locale=ui_language)
    time = format_skeleton("Hm", utc, tzinfo=tz, locale=ui_language)
    pattern = str(Locale.parse(ui_language).datetime_formats.get("medium", "{1} {0}"))
    shown = pattern.replace("{1}", date).replace("{0}", time)
    if tz.key == "UTC":
        shown += " UTC"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime("%Y-%m-%d %H:%M UTC"), shown)


def isolated(text: str | None) -> Markup:
    """A case reference (or any Latin-script code) kept whole and left-to-right inside
    right-to-left text: "HL-7K2M9Q" must not be reordered around its hyphen."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(text or "—")


# The scrub markers are stored in English in the note itself (the stored text is never
# rewritten); each reader sees them in their own language.
MARKERS: dict[Removed, str] = {
    Removed.PHONE: N_("[phone removed]"),
    Removed.EMAIL: N_("[e-mail removed]"),
    Removed.DOCUMENT: N_("[document number removed]"),
}


def translate_markers(text: str | None, translations: NullTranslations) -> str:
    """Scrubbed text with its "[phone removed]" markers in the reader's language."""
    if not text:
        return text or ""
    for kind, marker in PLACEHOLDERS.items():
        if marker in text:
            text = text.replace(marker, translations.gettext(MARKERS[kind]))
    return text
