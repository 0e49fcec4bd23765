"""A hotline with a Telegram bot whose Bot API is a local fake (``tests.fake_telegram``)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from tests.channels.telegram.chat import telegram_settings
from tests.fake_telegram import FakeBotApi, fake_telegram


@pytest.fixture
def telegram() -> Iterator[FakeBotApi]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, audio_dir: Path, telegram: FakeBotApi) -> Settings:
    return telegram_settings(database_url, telegram.base_url, audio_dir_override=audio_dir)
