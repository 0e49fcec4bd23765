"""Rotating HOTLINE_ENCRYPTION_KEY: a new key ahead of the old one, every stored value
re-encrypted under it, resumable, and the old key then unneeded."""

import json

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from app import db
from app.cases.casework import CaseNote
from app.config import check_secrets
from app.organisations import service as organisations
from app.privacy import crypto, rotation
from app.users import service as users
from app.users.models import Role
from tests.conftest import make_settings, production_environment
from tests.factories import make_case

NOTES = ("first note", "second note", "third note", "fourth note", "fifth note")


@pytest.fixture
def old_data(fresh_database_url):
    """A database whose notes and an operator's duty phone are under the old key."""
    db.upgrade(fresh_database_url)
    engine = db.make_engine(fresh_database_url)
    make_session = db.make_sessionmaker(engine)
    old = Fernet.generate_key().decode()
    with make_session() as session, session.begin():
        organisations.load_demo_if_empty(session)
        case = make_case(session, "kz-almaty-shelter")
        user = users.create_user(session, "aigerim", "a long passphrase 123", Role.OPERATOR,
                                 "kz-almaty-shelter")
        user.duty_phone_encrypted = crypto.encrypt(old, "+77010000555")
        session.flush()
        for text in NOTES:
            session.add(CaseNote(case_id=case.id, organisation_id=case.organisation_id,
                                 author_id=user.id, text_encrypted=crypto.encrypt(old, text)))
    yield make_session, old
    engine.dispose()


def _notes(make_session, key: str) -> list[str]:
    with make_session() as session:
        rows = session.scalars(select(CaseNote.text_encrypted).order_by(CaseNote.id))
        return [crypto.decrypt(key, token) for token in rows]


def test_a_new_key_ahead_reads_old_values_and_writes_new_ones(old_data):
    _, old = old_data
    new = Fernet.generate_key().decode()
    both = f"{new},{old}"
    written_before = crypto.encrypt(old, "+77010000555")
    assert crypto.decrypt(both, written_before) == "+77010000555"
    with pytest.raises(InvalidToken):
        crypto.decrypt(old, crypto.encrypt(both, "+77010000555"))  # written with the new key


def test_rotation_re_encrypts_everything_so_the_old_key_can_go(old_data):
    make_session, old = old_data
    new = Fernet.generate_key().decode()
    report = rotation.rotate(make_session, f"{new},{old}", batch=2)
    assert report.re_encrypted == {"case_notes.text_encrypted": 5,
                                   "users.duty_phone_encrypted": 1}
    assert report.total(report.unreadable) == 0
    assert _notes(make_session, new) == list(NOTES)  # the new key alone reads them


def test_an_interrupted_rotation_resumes_where_it_stopped(old_data, monkeypatch):
    make_session, old = old_data
    new = Fernet.generate_key().decode()
    real = rotation._rotate_value
    calls = {"n": 0}

    def crash_on_the_fourth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(rotation, "_rotate_value", crash_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(make_session, f"{new},{old}", batch=2)
    monkeypatch.setattr(rotation, "_rotate_value", real)
    report = rotation.rotate(make_session, f"{new},{old}", batch=2)
    # The first batch of two committed before the crash; the rest is done now.
    assert report.already_current["case_notes.text_encrypted"] == 2
    assert report.re_encrypted["case_notes.text_encrypted"] == 3
    assert _notes(make_session, new) == list(NOTES)
    again = rotation.rotate(make_session, f"{new},{old}")
    assert again.total(again.re_encrypted) == 0


def test_values_under_a_lost_key_are_reported_not_destroyed(old_data):
    make_session, _old = old_data
    unrelated = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    report = rotation.rotate(make_session, unrelated)
    assert report.unreadable["case_notes.text_encrypted"] == 5
    assert report.total(report.re_encrypted) == 0


def test_settings_accept_a_key_list_while_rotating(database_url):
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    check_secrets(make_settings(database_url, encryption_key=keys))
    with pytest.raises(Exception, match="ENCRYPTION_KEY"):
        check_secrets(make_settings(database_url, encryption_key=keys + ",not-a-key"))


def test_the_command_adds_a_development_key_and_rotates(fresh_database_url, tmp_path,
                                                        monkeypatch, capsys):
    from app import cli
    from app.config import get_settings

    monkeypatch.setenv("HOTLINE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HOTLINE_ENCRYPTION_KEY", raising=False)
    get_settings.cache_clear()
    first = get_settings().encryption_key
    try:
        assert cli.main(["keys", "rotate-encryption"]) == 0
    finally:
        get_settings.cache_clear()
    saved = json.loads((tmp_path / "dev-secrets.json").read_text())["encryption_key"]
    new, old = saved.split(",")
    assert old == first and new != first
    assert "re-encrypted 0 values" in capsys.readouterr().out


def test_the_command_in_production_asks_for_a_new_key_first(fresh_database_url, monkeypatch,
                                                            capsys):
    from app import cli
    from app.config import get_settings

    environment = production_environment(database_url=fresh_database_url)
    for name, value in environment.items():
        if name.startswith("HOTLINE_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert cli.main(["keys", "rotate-encryption"]) == 2
    finally:
        get_settings.cache_clear()
    assert "hotline keys new" in capsys.readouterr().out
