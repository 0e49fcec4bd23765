"""``hotline telegram setup`` against the local fake Bot API, and ``hotline simulate
telegram`` through the real webhook in-process."""

import os

import pytest

from app import cli
from app.config import get_settings
from app.messaging import texts
from tests.channels.telegram.chat import SECRET
from tests.conftest import configure_cli, make_settings
from tests.fake_telegram import TOKEN, error

PUBLIC = "https://hotline.example.org"


@pytest.fixture
def hotline(monkeypatch, capsys, tmp_path, telegram):
    """``hotline ...`` in-process, with a bot whose API is the fake; (code, out, err)."""
    for name in os.environ:
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("HOTLINE_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HOTLINE_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HOTLINE_TELEGRAM_API_URL", telegram.base_url)
    get_settings.cache_clear()

    def run(*argv: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def test_setup_sets_the_webhook_with_its_secret_and_never_prints_the_token(hotline,
                                                                          telegram):
    code, out, err = hotline("telegram", "setup")
    assert code == 0, err
    [call] = telegram.calls
    assert call.method == "setWebhook" and call.accepted
    assert call.payload == {"url": f"{PUBLIC}/telegram/webhook", "secret_token": SECRET,
                            "allowed_updates": ["message"], "drop_pending_updates": False}
    assert f"{PUBLIC}/telegram/webhook" in out
    assert TOKEN not in out + err and SECRET not in out + err


def test_setup_without_a_token_says_what_to_do_and_calls_nothing(hotline, telegram,
                                                                 monkeypatch):
    monkeypatch.delenv("HOTLINE_TELEGRAM_BOT_TOKEN")
    code, out, err = hotline("telegram", "setup")
    assert code == 1 and out == ""
    assert "HOTLINE_TELEGRAM_BOT_TOKEN is not set" in err and "@BotFather" in err
    assert telegram.calls == []


def test_setup_refuses_an_address_telegram_would_not_deliver_to(hotline, telegram,
                                                                monkeypatch):
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "http://127.0.0.1:8000")
    code, _, err = hotline("telegram", "setup")
    assert code == 1 and "https://" in err and telegram.calls == []


def test_a_refusal_by_telegram_is_reported_without_the_token(hotline, telegram):
    telegram.answer_next(error(401, "Unauthorized"))
    code, _, err = hotline("telegram", "setup")
    assert code == 1 and "telegram 401: Unauthorized" in err and TOKEN not in err


def test_in_development_the_webhook_secret_is_generated_and_kept(hotline, telegram,
                                                                 monkeypatch):
    monkeypatch.delenv("HOTLINE_TELEGRAM_WEBHOOK_SECRET")
    for _ in range(2):
        assert hotline("telegram", "setup")[0] == 0
    first, second = (call.payload["secret_token"] for call in telegram.calls)
    assert first == second and first.startswith("dev-")


def test_simulate_plays_a_chat_and_prints_what_the_outbox_sends(
        fresh_database_url, monkeypatch, capsys, tmp_path, audio_dir, telegram):
    configure_cli(monkeypatch, make_settings(fresh_database_url, data_dir=tmp_path))
    monkeypatch.setenv("HOTLINE_AUDIO_DIR", str(audio_dir))
    get_settings.cache_clear()
    try:
        code = cli.main(["simulate", "telegram", "--chat", "4242", "--language-code", "ru",
                         "Здравствуйте, мне нужна помощь", "1", "2",
                         "--operator-reply", "Мы здесь", "--at", "2026-11-23T11:00+05:00"])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith('chat 4242 writes: "Здравствуйте, мне нужна помощь"\n'
                          f"outbox sends to chat 4242:\n{texts.text('ru', 'need')}\n")
    assert f"outbox sends to chat 4242:\n{texts.text('ru', 'child')}" in out
    assert "case HL-" in out
    assert out.endswith('operator replies: "Мы здесь"\noutbox sends to chat 4242:\nМы здесь\n')
    assert telegram.calls == []  # nothing left the process
