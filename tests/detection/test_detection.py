"""Caller country from the number, with Twilio's FromCountry only as a hint."""

import pytest

from app.detection.country import caller_country


@pytest.mark.parametrize(("number", "hint", "country", "source"), [
    ("+77010000000", None, "KZ", "number"),       # +7 7xx: Kazakhstan
    ("+77010000000", "RU", "KZ", "number"),       # the number wins over the hint
    ("+79001234567", None, "RU", "number"),       # +7 9xx: Russia
    ("+992900000000", None, "TJ", "number"),
    ("+996700000000", None, "KG", "number"),
    ("+93700000000", None, "AF", "number"),
    ("+905320000000", None, "TR", "number"),
    ("whatsapp:+998901234567", None, "UZ", "number"),
    ("+70000000000", None, None, "unknown"),      # +7 but no valid range: never assume RU
    ("+70000000000", "KZ", "KZ", "hint"),         # the hint may pick among +7 countries
    ("+70000000000", "TR", None, "unknown"),      # a hint outside the calling code is ignored
    ("+266696687", "US", None, "unknown"),        # Twilio's withheld caller ID
    ("Anonymous", None, None, "unknown"),
    ("not a number", "KZ", None, "unknown"),
])
def test_caller_country(number, hint, country, source):
    guess = caller_country(number, hint)
    assert (guess.country, guess.source) == (country, source)
