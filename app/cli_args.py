"""Argument types the ``hotline`` subcommands share, wherever they are defined (``app.cli``,
a channel's ``commands``)."""

from datetime import UTC, datetime


def aware(text: str) -> datetime:
    """An ISO time; no offset means UTC."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def positive(text: str) -> int:
    """A whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def language(text: str) -> str:
    from app.languages import normalise_language

    return normalise_language(text)


def split(text: str | None) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
