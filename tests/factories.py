"""Small builders for test data."""

from datetime import time

from app.routing.snapshot import Interval, Responder

OFFICE_HOURS = tuple(Interval(day, time(9), time(18)) for day in range(5))


def make_responder(slug: str, country: str = "KZ", *, languages: tuple[str, ...] = ("ru",),
                   services: tuple[str, ...] = ("shelter",), hub: bool = False,
                   always_open: bool = False, priority: int = 100,
                   hours: tuple[Interval, ...] = OFFICE_HOURS,
                   timezone: str = "Asia/Almaty") -> Responder:
    return Responder(slug=slug, name=f"{slug} (test)", country=country, timezone=timezone,
                     always_open=always_open, is_hub=hub, priority=priority,
                     services=frozenset(services), languages=frozenset(languages),
                     duty_numbers=("+77270000999",), hours=() if always_open else hours)
