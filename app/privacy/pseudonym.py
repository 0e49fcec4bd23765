"""Keyed pseudonyms for callers and writers.

A plain hash of a phone number is reversible by enumerating the number space, so the
pseudonym is HMAC-SHA256 under a secret key kept apart from the data. Destroying the
key unlinks every old pseudonym.
"""

import hashlib
import hmac
import secrets

import phonenumbers

from app.detection.country import is_withheld, parse_number, strip_channel

ANONYMOUS_PREFIX = "anon-"


def normalise_e164(address: str) -> str | None:
    """The number in E.164, or None when it is withheld or unparseable."""
    number = parse_number(address)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _digits_only(address: str) -> str | None:
    digits = "".join(ch for ch in strip_channel(address) if ch.isdigit())
    return "+" + digits if digits else None


def pseudonymise(address: str, key: str) -> str:
    """HMAC-SHA256 of the normalised number, as 64 hex characters.

    A withheld caller ID gets a fresh random pseudonym each time: withheld callers
    must not be linked to each other as if they were one person.
    """
    canonical = None if is_withheld(address) else (
        normalise_e164(address) or _digits_only(address))
    if canonical is None:
        return ANONYMOUS_PREFIX + secrets.token_hex(29)
    return _keyed(key, canonical)


def pseudonymise_id(namespace: str, identifier: str, key: str) -> str:
    """HMAC-SHA256 of an identifier that is not a phone number (a messenger's chat id),
    prefixed with its namespace so it can never equal a number's pseudonym."""
    return _keyed(key, f"{namespace}:{identifier}")


def _keyed(key: str, canonical: str) -> str:
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
