"""The caller's country, from the number first and Twilio's ``FromCountry`` only as a hint.

Country calling codes are shared (+7 is Russia and Kazakhstan), so an unresolvable
number stays unknown rather than defaulting to the largest country: a Kazakh caller
routed to Russia is worse than one routed by language alone.
"""

import functools
from dataclasses import dataclass

import phonenumbers

# Values Twilio puts in ``From`` when caller ID is withheld (they spell ANONYMOUS,
# RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE on a keypad), and the textual forms.
WITHHELD_NUMBERS = frozenset({
    "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253",
    "anonymous", "restricted", "blocked", "unknown", "unavailable", "",
})
CHANNEL_PREFIXES = ("whatsapp:", "sms:", "client:")


@dataclass(frozen=True)
class CountryGuess:
    country: str | None
    source: str  # "number", "hint" or "unknown"


def strip_channel(address: str) -> str:
    """``whatsapp:+7701...`` -> ``+7701...``"""
    lowered = address.strip()
    for prefix in CHANNEL_PREFIXES:
        if lowered.lower().startswith(prefix):
            return lowered[len(prefix):]
    return lowered


def channel_prefix(address: str) -> str | None:
    """``whatsapp:+7701...`` -> ``whatsapp``; a bare number -> None."""
    lowered = address.strip().lower()
    return next((p.rstrip(":") for p in CHANNEL_PREFIXES if lowered.startswith(p)), None)


def is_withheld(address: str) -> bool:
    return strip_channel(address).lower() in WITHHELD_NUMBERS


def parse_number(address: str) -> phonenumbers.PhoneNumber | None:
    if is_withheld(address):
        return None
    try:
        return phonenumbers.parse(strip_channel(address), None)
    except phonenumbers.NumberParseException:
        return None


@functools.lru_cache(maxsize=256)
def line_number(address: str | None) -> str | None:
    """The hotline number a call or text came in on (``To``), as E.164 without the channel
    (``whatsapp:+7717…`` -> ``+7717…``); None if it is not a phone number. Remembered:
    the hotline's own few numbers, parsed again on every webhook step otherwise."""
    number = parse_number(address or "")
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def caller_country(address: str, from_country_hint: str | None = None) -> CountryGuess:
    number = parse_number(address)
    if number is None:
        return CountryGuess(None, "unknown")
    code = number.country_code  # always set by parse(); without one there are no regions
    regions = [] if code is None else [
        r for r in phonenumbers.region_codes_for_country_code(code) if r != "001"]
    if phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number)
        if region and region != "001":
            return CountryGuess(region, "number")
    if len(regions) == 1:
        return CountryGuess(regions[0], "number")
    hint = (from_country_hint or "").strip().upper()
    if hint in regions:
        return CountryGuess(hint, "hint")
    return CountryGuess(None, "unknown")
