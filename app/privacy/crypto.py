"""Encryption at rest for the few contact details kept briefly to reply to a caller.

``key`` is ``HOTLINE_ENCRYPTION_KEY``: one Fernet key, or several separated by commas
during a rotation, the newest first. New values are always encrypted with the first;
values are decrypted with whichever key made them, so a key can be added ahead of the old
ones, every stored value re-encrypted (``app.privacy.rotation``), and only then the old
key dropped.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["InvalidToken", "decrypt", "encrypt", "keys_of", "primary_only"]


def keys_of(key: str) -> list[str]:
    return [part.strip() for part in key.split(",") if part.strip()]


@lru_cache(maxsize=16)
def _fernet(key: str) -> MultiFernet:
    # Cached: building the key objects costs more than encrypting a phone number.
    return MultiFernet([Fernet(part.encode()) for part in keys_of(key)])


def encrypt(key: str, plaintext: str) -> str:
    return _fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(key: str, token: str) -> str:
    return _fernet(key).decrypt(token.encode()).decode()


def primary_only(key: str) -> str:
    """The key new values are encrypted with."""
    return keys_of(key)[0]
