"""Per-country facts the hotline speaks: likely languages and emergency numbers.

Emergency numbers should be confirmed by each country's partners before go-live;
112 reaches emergency services from any GSM mobile in the region.
"""

from app.languages import LANGUAGES

# The languages a caller from this country most likely speaks, most likely first.
LIKELY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "KZ": ("kk", "ru", "uz"),
    "KG": ("ky", "ru", "uz"),
    "TJ": ("tg", "ru"),
    "TM": ("tk", "ru"),
    "UZ": ("uz", "ru", "tg"),
    "AF": ("prs", "ps"),
    "AZ": ("az", "ru"),
    "IR": ("fa", "az", "prs"),
    "RU": ("ru", "uz", "tg", "ky"),
    "TR": ("tr", "az", "prs", "fa"),
}
# The hotline's ten countries: their national number formats are recognised as phone
# numbers wherever text is scrubbed (case notes, log lines).
HOTLINE_COUNTRIES: tuple[str, ...] = tuple(LIKELY_LANGUAGES)
DEFAULT_LIKELY = ("ru", "en", "tr", "fa")
DEFAULT_ORDER = ("ru", "en", "tr", "fa", "prs", "ps", "uz", "tg", "kk", "ky", "tk", "az")

EMERGENCY_NUMBERS: dict[str, str] = {
    "KZ": "112", "KG": "112", "TJ": "112", "UZ": "112", "TM": "02",
    "AF": "119", "AZ": "112", "IR": "110", "RU": "112", "TR": "112",
}
DEFAULT_EMERGENCY_NUMBER = "112"

# Where most callers are migrants at their destination, they hear about their rights;
# where they are about to leave, about safe migration. Everyone hears how to get help.
# These generic sets apply where the directory has no messages of the country's own
# in the caller's language (its ``information`` section).
DESTINATION_COUNTRIES = frozenset({"RU", "KZ", "TR"})
INFO_FOR_DESTINATION = ("info_rights", "info_help", "info_dangers")
INFO_FOR_ORIGIN = ("info_legal", "info_dangers", "info_help")


def likely_languages(country: str | None) -> tuple[str, ...]:
    return LIKELY_LANGUAGES.get(country or "", DEFAULT_LIKELY)


def language_menu_order(country: str | None) -> tuple[str, ...]:
    """All twelve languages, the country's likely ones first."""
    first = likely_languages(country)
    return first + tuple(code for code in DEFAULT_ORDER if code not in first)


def emergency_number(country: str | None) -> str:
    return EMERGENCY_NUMBERS.get(country or "", DEFAULT_EMERGENCY_NUMBER)


def information_prompts(country: str | None) -> tuple[str, ...]:
    return INFO_FOR_DESTINATION if country in DESTINATION_COUNTRIES else INFO_FOR_ORIGIN


assert set(DEFAULT_ORDER) == set(LANGUAGES)
