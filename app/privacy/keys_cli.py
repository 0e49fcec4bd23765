"""``hotline keys``: a new encryption key, and re-encrypting everything under it."""

import argparse

from cryptography.fernet import Fernet

from app import db
from app.config import Settings, add_dev_encryption_key, get_settings
from app.privacy import crypto, rotation


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = commands.add_parser("keys", help="encryption keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    key_commands.add_parser("new", help="print a new encryption key").set_defaults(
        handler=cmd_new_key)
    rotate = key_commands.add_parser(
        "rotate-encryption",
        help="re-encrypt every stored value under the first key of HOTLINE_ENCRYPTION_KEY "
             "(in development: add a new key ahead of the old one first)")
    rotate.add_argument("--batch", type=int, default=rotation.BATCH,
                        help="rows per transaction (default %(default)s)")
    rotate.set_defaults(handler=cmd_rotate)


def cmd_new_key(_args: argparse.Namespace) -> int:
    print(Fernet.generate_key().decode())
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    settings = get_settings()
    key = _key_to_rotate_to(settings)
    if key is None:
        print("HOTLINE_ENCRYPTION_KEY holds one key. Make a new one with `hotline keys new`, "
              "set HOTLINE_ENCRYPTION_KEY=<new key>,<current key> on every process, restart "
              "them, then run this again.")
        return 2
    url = settings.effective_database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        report = rotation.rotate(db.make_sessionmaker(engine), key, args.batch)
    finally:
        engine.dispose()
    for name in sorted(set(report.re_encrypted) | set(report.already_current)
                       | set(report.unreadable)):
        print(f"{name}: {report.re_encrypted.get(name, 0)} re-encrypted, "
              f"{report.already_current.get(name, 0)} already under the new key, "
              f"{report.unreadable.get(name, 0)} unreadable")
    print(f"re-encrypted {report.total(report.re_encrypted)} values; "
          f"{report.total(report.unreadable)} under no key given")
    if report.total(report.unreadable):
        return 1
    print("every value is under the first key: the older keys can now be dropped")
    return 0


def _key_to_rotate_to(settings: Settings) -> str | None:
    """Development secrets get a new key ahead of the old one; elsewhere the operator
    must already have put one ahead (the service cannot change its own environment)."""
    if len(crypto.keys_of(settings.encryption_key)) > 1:
        return settings.encryption_key
    if not settings.is_production and _key_is_from_dev_file(settings):
        get_settings.cache_clear()
        return add_dev_encryption_key(settings.data_dir / "dev-secrets.json")
    return None


def _key_is_from_dev_file(settings: Settings) -> bool:
    return not Settings().encryption_key  # not given in the environment
