"""Settings: generated development secrets, and a production mode that refuses defaults."""

import base64
import json
import secrets
import stat

import pytest
from cryptography.fernet import Fernet

from app.config import ConfigurationError, Settings, resolve
from tests.conftest import generated_secrets

GOOD = generated_secrets() | {"public_url": "https://hotline.example.org/"}
ZERO_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


def test_settings_are_read_from_hotline_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql+psycopg://db/hotline")
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "https://hotline.example.org/")
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url() == "postgresql+psycopg://db/hotline"
    assert settings.public_url == "https://hotline.example.org"


def test_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path):
    assert Settings(data_dir=tmp_path).effective_database_url() == (
        f"sqlite:///{tmp_path / 'hotline.db'}")


def test_development_secrets_are_generated_once_kept_private_and_reused(tmp_path):
    first = resolve(Settings(data_dir=tmp_path))
    second = resolve(Settings(data_dir=tmp_path))
    assert first.pseudonym_key and first.pseudonym_key == second.pseudonym_key
    assert first.encryption_key == second.encryption_key
    secrets_file = tmp_path / "dev-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert set(json.loads(secrets_file.read_text())) == {
        "twilio_auth_token", "pseudonym_key", "encryption_key", "audit_key",
        "telegram_webhook_secret"}


def test_a_secret_added_later_joins_an_existing_development_file(tmp_path):
    secrets_file = tmp_path / "dev-secrets.json"
    older = {"twilio_auth_token": "t" * 32, "pseudonym_key": "p" * 40,
             "encryption_key": Fernet.generate_key().decode()}
    secrets_file.write_text(json.dumps(older))
    settings = resolve(Settings(data_dir=tmp_path))
    assert settings.pseudonym_key == "p" * 40 and len(settings.audit_key) >= 32
    added = json.loads(secrets_file.read_text())
    assert added == older | {"audit_key": settings.audit_key,
                             "telegram_webhook_secret": added["telegram_webhook_secret"]}
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_explicit_secrets_win_over_generated_ones(tmp_path):
    settings = resolve(Settings(data_dir=tmp_path, pseudonym_key="q" * 40))
    assert settings.pseudonym_key == "q" * 40


def test_production_refuses_to_start_without_every_secret(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        resolve(Settings(env="production", data_dir=tmp_path))
    message = str(caught.value)
    for name in ("TWILIO_AUTH_TOKEN", "PSEUDONYM_KEY", "ENCRYPTION_KEY", "AUDIT_KEY"):
        assert f"HOTLINE_{name} is not set" in message
    assert not (tmp_path / "dev-secrets.json").exists()


@pytest.mark.parametrize(("override", "complaint"), [
    ({"pseudonym_key": "short"}, "PSEUDONYM_KEY must be at least 32 bytes"),
    ({"audit_key": "short"}, "AUDIT_KEY must be at least 32 bytes"),
    ({"encryption_key": "not-a-key"}, "ENCRYPTION_KEY must be a Fernet key"),
    ({"public_url": "http://hotline.example.org"}, "PUBLIC_URL must be the https://"),
    ({"twilio_auth_token": " "}, "TWILIO_AUTH_TOKEN is not set"),
    ({"twilio_auth_token": "t" * 32}, "TWILIO_AUTH_TOKEN looks typed"),
    ({"pseudonym_key": "p" * 40}, "PSEUDONYM_KEY looks typed"),
    ({"audit_key": "abab" * 10}, "AUDIT_KEY looks typed"),
    ({"encryption_key": ZERO_KEY}, "ENCRYPTION_KEY: too few different bytes"),
    ({"metrics_token": "m" * 40}, "METRICS_TOKEN looks typed"),
])
def test_production_refuses_weak_settings(tmp_path, override, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        resolve(Settings(env="production", data_dir=tmp_path, **(GOOD | override)))


def test_every_twilio_style_auth_token_is_accepted(tmp_path):
    # 32 hex digits, as Twilio issues them: the typed-secret check once refused one in 600
    # (so this loop failed nine times in ten).
    for _ in range(1500):
        token = secrets.token_hex(16)
        resolve(Settings(env="production", data_dir=tmp_path,
                         **(GOOD | {"twilio_auth_token": token})))
    for typed in ("0" * 32, "ab" * 16, "1234" * 8, "a" * 17 + "0123456789abcde"):
        with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN looks typed"):
            resolve(Settings(env="production", data_dir=tmp_path,
                             **(GOOD | {"twilio_auth_token": typed})))


def test_production_starts_with_real_keys(tmp_path):
    settings = resolve(Settings(env="production", data_dir=tmp_path, **GOOD))
    assert settings.is_production and not (tmp_path / "dev-secrets.json").exists()


def test_development_secrets_are_marked_and_refused_in_production(tmp_path):
    development = resolve(Settings(data_dir=tmp_path / "dev"))
    for name in ("twilio_auth_token", "pseudonym_key", "encryption_key", "audit_key"):
        copied = GOOD | {name: getattr(development, name)}
        with pytest.raises(ConfigurationError, match="development"):
            resolve(Settings(env="production", data_dir=tmp_path / "prod", **copied))


def test_a_secret_copied_from_an_unmarked_development_file_is_refused(tmp_path):
    # A development file from before the marks: production compares against it.
    old_key = Fernet.generate_key().decode()
    (tmp_path / "dev-secrets.json").write_text(json.dumps({"encryption_key": old_key}))
    with pytest.raises(ConfigurationError, match="ENCRYPTION_KEY is a development secret"):
        resolve(Settings(env="production", data_dir=tmp_path,
                         **(GOOD | {"encryption_key": old_key})))


@pytest.mark.parametrize(("env", "asked", "served"), [
    ("development", None, True), ("production", None, False), ("production", True, True)])
def test_api_docs_are_off_in_production_unless_asked_for(tmp_path, env, asked, served):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings = resolve(Settings(env=env, data_dir=tmp_path, api_docs=asked,
                                database_url=f"sqlite:///{tmp_path / 'h.db'}", **GOOD))
    client = TestClient(create_app(settings))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (client.get(path).status_code == 200) is served, path
