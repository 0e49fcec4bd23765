"""An immutable, in-memory picture of the responder directory.

The routing engine reads only this, never the database, so it stays a pure function
and can keep answering from the last snapshot if the database is unreachable.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(name: str) -> ZoneInfo:
    """ZoneInfo itself keeps only the last eight zones in use; the directory has more, and
    routing walks them in the same order every time, so each was read again from tzdata:
    three quarters of the time routing a call took."""
    return ZoneInfo(name)


@dataclass(frozen=True)
class Interval:
    weekday: int  # 0 = Monday, in the organisation's own time zone
    opens: time
    closes: time  # at or before ``opens``: runs past midnight into the next day

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens

    def contains(self, local: datetime) -> bool:
        clock = local.time().replace(tzinfo=None)
        today = local.weekday()
        if not self.overnight:
            return self.weekday == today and self.opens <= clock < self.closes
        yesterday = (today - 1) % 7
        return (self.weekday == today and clock >= self.opens) or (
            self.weekday == yesterday and clock < self.closes
        )


@dataclass(frozen=True)
class Responder:
    slug: str
    name: str
    country: str
    timezone: str
    always_open: bool
    is_hub: bool
    priority: int
    services: frozenset[str]
    languages: frozenset[str]
    duty_numbers: tuple[str, ...]
    hours: tuple[Interval, ...] = field(default=())

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        local = at.astimezone(zone(self.timezone))
        return any(interval.contains(local) for interval in self.hours)

    def next_opening(self, at: datetime) -> datetime | None:
        """The next local time this responder opens, looking a week ahead."""
        if self.always_open or not self.hours:
            return None
        local = at.astimezone(zone(self.timezone))
        starts = [
            datetime.combine(local.date() + timedelta(days=offset), interval.opens, local.tzinfo)
            for offset in range(8)
            for interval in self.hours
            if (local.weekday() + offset) % 7 == interval.weekday
        ]
        future = [start for start in starts if start > local]
        return min(future) if future else None


@dataclass(frozen=True)
class Directory:
    responders: tuple[Responder, ...]
    loaded_at: datetime | None = None

    def by_slug(self, slug: str) -> Responder | None:
        return next((r for r in self.responders if r.slug == slug), None)
