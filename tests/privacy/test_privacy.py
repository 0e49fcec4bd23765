"""Keyed pseudonyms and encryption of contact details."""

import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet

from app.privacy import crypto
from app.privacy.pseudonym import pseudonymise

KEY = "k" * 40


def test_pseudonym_is_hmac_sha256_of_the_e164_number():
    expected = hmac.new(KEY.encode(), b"+77010000000", hashlib.sha256).hexdigest()
    assert pseudonymise("+77010000000", KEY) == expected


def test_the_same_number_written_differently_gets_the_same_pseudonym():
    forms = ["+77010000000", "+7 701 000 00 00", "whatsapp:+77010000000", "+7 (701) 000-0000"]
    assert len({pseudonymise(form, KEY) for form in forms}) == 1


def test_another_key_or_number_gives_another_pseudonym():
    base = pseudonymise("+77010000000", KEY)
    assert pseudonymise("+77010000000", "x" * 40) != base
    assert pseudonymise("+77010000001", KEY) != base


def test_withheld_callers_are_never_linked_to_each_other():
    first, second = pseudonymise("+266696687", KEY), pseudonymise("+266696687", KEY)
    assert first != second and first.startswith("anon-") and len(first) <= 64


def test_pseudonym_does_not_contain_the_number():
    assert "7010000000" not in pseudonymise("+77010000000", KEY)


def test_encryption_round_trip_and_wrong_key():
    key = Fernet.generate_key().decode()
    token = crypto.encrypt(key, "+77010000000")
    assert "7010000000" not in token
    assert crypto.decrypt(key, token) == "+77010000000"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(Fernet.generate_key().decode(), token)
