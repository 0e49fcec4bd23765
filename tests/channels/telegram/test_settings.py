"""HOTLINE_TELEGRAM_*: the webhook secret is generated in development like the other
secrets, and production refuses a bot without a good one."""

import pytest

from app.config import ConfigurationError, Settings, resolve
from tests.conftest import generated_secrets
from tests.fake_telegram import TOKEN

PRODUCTION = {"env": "production", "public_url": "https://hotline.example.org"}
GOOD_SECRET = "Zq3_x8-Kp2vLr7TnW4yB0cFh9mJd6sGa"


def production(tmp_path, **telegram: str) -> Settings:
    return resolve(Settings(data_dir=tmp_path, **PRODUCTION, **generated_secrets(),
                            **telegram))


def test_production_without_a_bot_needs_no_telegram_secret(tmp_path):
    assert production(tmp_path).telegram_webhook_secret == ""


def test_production_with_a_bot_starts_with_a_generated_secret(tmp_path):
    settings = production(tmp_path, telegram_bot_token=TOKEN,
                          telegram_webhook_secret=GOOD_SECRET)
    assert settings.telegram_api_url == "https://api.telegram.org"


@pytest.mark.parametrize(("secret", "complaint"), [
    ("", "HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set"),
    ("s" * 40, "HOTLINE_TELEGRAM_WEBHOOK_SECRET looks typed"),
    ("dev-" + GOOD_SECRET, "HOTLINE_TELEGRAM_WEBHOOK_SECRET is a development secret"),
    (GOOD_SECRET + "!/", "may hold only A-Z, a-z, 0-9, _ and -"),
])
def test_production_refuses_a_bot_without_a_good_secret(tmp_path, secret, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        production(tmp_path, telegram_bot_token=TOKEN, telegram_webhook_secret=secret)


def test_development_generates_the_secret_once_a_bot_is_set(tmp_path):
    assert resolve(Settings(data_dir=tmp_path)).telegram_webhook_secret == ""
    first = resolve(Settings(data_dir=tmp_path, telegram_bot_token=TOKEN))
    again = resolve(Settings(data_dir=tmp_path, telegram_bot_token=TOKEN))
    assert first.telegram_webhook_secret.startswith("dev-")
    assert first.telegram_webhook_secret == again.telegram_webhook_secret
    explicit = resolve(Settings(data_dir=tmp_path, telegram_bot_token=TOKEN,
                                telegram_webhook_secret=GOOD_SECRET))
    assert explicit.telegram_webhook_secret == GOOD_SECRET
