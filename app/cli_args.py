"""Argument types the ``hotline`` subcommands share, wherever they are defined (``app.cli``,
a channel's ``commands``)."""

import argparse
from collections.abc import Callable
from datetime import UTC, datetime


def aware(text: str) -> datetime:
    """An ISO time; no offset means UTC."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def bounded(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` (no upper bound without one)."""
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be from {low} to {high}" if high is not None else f"must be at least {low}")
        return value
    return parse


def language(text: str) -> str:
    from app.languages import normalise_language

    return normalise_language(text)


def split(text: str | None) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
