"""A phone number as given (a caller's ``From``, a phone an operator typed) in E.164, or
nothing: never kept or shown as it was written.

phonenumbers digs a number out of almost any text (``+7701🆘`` parses as ``+7701``); here
only a leading ``+``, digits and the spaces, dots, dashes and brackets people write
numbers with are accepted. An emoji, a letter or an invisible direction mark (U+202E)
makes it no number at all, so what reaches the database, an operator's screen or
Twilio's <Dial> is always plain E.164.
"""

import re

import phonenumbers

WRITTEN = re.compile(r"\+[\d ().\-]{3,40}")


def e164(text: str, *, valid: bool = False) -> str | None:
    """``+7 701 000-00-00`` -> ``+77010000000``; None unless it is written as a number and
    has a possible length for its country code (``valid``: is a number in use there, by
    phonenumbers' metadata, which can lag behind new ranges)."""
    if not WRITTEN.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    usable = phonenumbers.is_valid_number if valid else phonenumbers.is_possible_number
    if not usable(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
