"""An immutable, in-memory picture of the responder directory.

The routing engine reads only this, never the database, so it stays a pure function
and can keep answering from the last snapshot if the database is unreachable.
"""

from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, cached_property
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
Span = tuple[datetime, datetime]  # [start, end) in local wall-clock time, no tzinfo
DAY_US = 86_400_000_000
WEEK_US = 7 * DAY_US
T = TypeVar("T")


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

    def week_spans(self) -> list[tuple[int, int]]:
        """The same hours as [start, end) microseconds since Monday 00:00, an overnight
        shift on Sunday split at the week's end."""
        start = self.weekday * DAY_US + _time_us(self.opens)
        end = self.weekday * DAY_US + _time_us(self.closes) + (DAY_US if self.overnight else 0)
        if end <= WEEK_US:
            return [(start, end)]
        return [(start, WEEK_US), (0, end - WEEK_US)]


def _time_us(clock: time) -> int:
    return ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1_000_000 + clock.microsecond


def week_time(local: datetime) -> int:
    """A local time as microseconds since that week's Monday 00:00."""
    return local.weekday() * DAY_US + _time_us(local.time())


@dataclass(frozen=True)
class DatedException:
    """One date's exception to the weekly hours, in the organisation's own time zone.

    ``closed``: closed during ``intervals`` on that date's clock, or, with none, a holiday:
    no shift starts that day, and one that began the evening before ends at midnight. Not
    ``closed``: that date's shifts are ``intervals`` instead of the weekday's (a Saturday
    shift, a short day); like weekly hours, an interval that ends at or before it starts
    runs past midnight.
    """

    day: date
    closed: bool
    intervals: tuple[tuple[time, time], ...] = ()
    name: str | None = None

    @property
    def all_day(self) -> bool:
        return self.closed and not self.intervals

    def describe(self) -> str:
        """E.g. 'New Year (holiday)', 'Staff meeting (closure 09:00-12:00)'."""
        if self.all_day:
            kind = "holiday"
        else:
            hours = ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in self.intervals)
            kind = f"{'closure' if self.closed else 'special hours'} {hours}"
        return f"{self.name} ({kind})" if self.name else kind


def _whole_day(day: date) -> Span:
    return datetime.combine(day, time()), datetime.combine(day + DAY, time())


def _span(day: date, opens: time, closes: time) -> Span:
    start, end = datetime.combine(day, opens), datetime.combine(day, closes)
    return start, end if end > start else end + DAY


def _subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    for cut_start, cut_end in cuts:
        spans = [piece for start, end in spans
                 for piece in ((start, min(end, cut_start)), (max(start, cut_end), end))
                 if piece[0] < piece[1]]
    return spans


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
    languages: tuple[str, ...]  # in the directory's order: the first is its main language
    duty_numbers: tuple[str, ...]
    ring_in_order: bool = False  # duty numbers one after another, not all at once
    ring_on_duty: bool = False  # the on-duty operators' phones, else the duty numbers
    hours: tuple[Interval, ...] = field(default=())
    exceptions: tuple[DatedException, ...] = field(default=())
    # The row's id, so recording a dial needs no lookup; None in snapshots saved before it.
    organisation_id: int | None = None

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(zone(self.timezone))
        if not self.exceptions:  # the common case, kept cheap
            return self.always_open or self.open_in_week(week_time(local))
        wall = local.replace(tzinfo=None)
        return any(start <= wall < end for day in (wall.date() - DAY, wall.date())
                   for start, end in self._shifts(day))

    def next_opening(self, at: datetime) -> datetime | None:
        """The next local time this responder opens, or None if it never closes or never
        opens. Past the last exception the week repeats, so a week beyond it is enough."""
        special = any(not exception.closed for exception in self.exceptions)
        if (self.always_open and not self.exceptions) or not (
                self.hours or self.always_open or special):
            return None
        local = at.astimezone(zone(self.timezone))
        wall = local.replace(tzinfo=None)
        horizon = max([wall.date(), *self._by_day]) + timedelta(days=8)
        day, best = wall.date() - DAY, None  # yesterday's shift may resume after a closure
        # A day's shifts start on that day or later: once past the best start, stop.
        while day <= horizon and (best is None or datetime.combine(day, time()) <= best):
            for start, _ in self._shifts(day):
                if start > wall and (best is None or start < best):
                    best = start
            day += DAY
        return best.replace(tzinfo=local.tzinfo) if best else None

    def exception_at(self, at: datetime) -> DatedException | None:
        """The exception that shapes this moment: a closure over it (perhaps yesterday's,
        run past midnight), else whatever exception the local date has."""
        wall = at.astimezone(zone(self.timezone)).replace(tzinfo=None)
        for day in (wall.date(), wall.date() - DAY):
            if any(start <= wall < end for start, end in self._closures(day)):
                return self._by_day[day]
        return self._by_day.get(wall.date())

    def open_in_week(self, moment: int) -> bool:
        """Whether the weekly ``hours`` hold ``moment`` (``week_time`` of the local time);
        exceptions and ``always_open`` are the caller's to check."""
        starts, ends = self._week
        i = bisect_right(starts, moment) - 1
        return i >= 0 and moment < ends[i]

    @cached_property
    def _week(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        # Merged, so one bisection answers: routing asks this of every candidate per call.
        merged: list[list[int]] = []
        for start, end in sorted(s for i in self.hours for s in i.week_spans()):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return tuple(s for s, _ in merged), tuple(e for _, e in merged)

    @cached_property
    def _by_day(self) -> dict[date, DatedException]:
        return {exception.day: exception for exception in self.exceptions}

    def _closures(self, day: date) -> list[Span]:
        exception = self._by_day.get(day)
        if exception is None or not exception.closed:
            return []
        if exception.all_day:
            return [_whole_day(day)]
        return [_span(day, opens, closes) for opens, closes in exception.intervals]

    def _shifts(self, day: date) -> list[Span]:
        """The open spans that start on ``day``, after that date's special hours and the
        closures of the days they touch. A holiday has no shift of its own, not even one
        that would have run past its midnight."""
        # Routing asks this of every candidate with exceptions at every call, and a day's
        # spans never change within a snapshot (bench/routing.py: 40% of a decision).
        memo = self._shifts_of_day
        known = memo.get(day)
        if known is None:
            if len(memo) >= SHIFTS_KEPT:  # a long-running snapshot asked about many days
                memo.clear()
            known = memo[day] = self._work_out_shifts(day)
        return known

    @cached_property
    def _shifts_of_day(self) -> dict[date, list[Span]]:
        return {}

    def _work_out_shifts(self, day: date) -> list[Span]:
        exception = self._by_day.get(day)
        if exception is not None and exception.all_day:
            return []
        if exception is not None and not exception.closed:
            spans = [_span(day, opens, closes) for opens, closes in exception.intervals]
        elif self.always_open:
            spans = [_whole_day(day)]
        else:
            spans = [_span(day, i.opens, i.closes) for i in self.hours
                     if i.weekday == day.weekday()]
        closures = [cut for near in (day - DAY, day, day + DAY) for cut in self._closures(near)]
        return _subtract(spans, closures)


SHIFTS_KEPT = 64


@dataclass(frozen=True)
class HotlineNumber:
    """One of the hotline's own numbers (a national line): the ``To`` of a call or text."""

    number: str  # E.164
    country: str
    languages: tuple[str, ...]  # in the order its callers hear them
    sms_sender: str | None = None  # None: replies leave from ``number`` itself
    label: str | None = None


@dataclass(frozen=True)
class Directory:
    responders: tuple[Responder, ...]
    loaded_at: datetime | None = None
    lines: tuple[HotlineNumber, ...] = ()
    # (country, language) -> the information line's messages for callers there, in order
    country_information: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def information(self, country: str | None, language: str) -> tuple[str, ...]:
        """The country's own information messages in this language; () when it has none,
        and the generic ones apply."""
        return self.country_information.get((country or "", language), ())

    def line(self, number: str | None) -> HotlineNumber | None:
        """The national line with this E.164 number, if it is one; None for anything else
        (a responder's phone on the whisper leg, a number not in the directory)."""
        return next((line for line in self.lines if line.number == number), None) \
            if number else None

    def by_slug(self, slug: str) -> Responder | None:
        return next((r for r in self.responders if r.slug == slug), None)

    def by_organisation_id(self, organisation_id: int) -> Responder | None:
        return next((r for r in self.responders if r.organisation_id == organisation_id), None)

    def remember(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, kept for this snapshot under ``key``: for what depends only on the
        directory and the key (routing's order per caller country, language and need), so
        each call does not sort the whole directory again. A new snapshot starts empty."""
        memo = self._memo
        known = memo.get(key, _MISSING)  # one read: another thread may clear it meanwhile
        if known is not _MISSING:
            return cast(T, known)
        value = build()  # two threads may both build it: the same value, no lock needed
        if len(memo) >= MEMO_LIMIT:  # bounded: countries and languages are many
            memo.clear()
        memo[key] = value
        return value

    @cached_property
    def _memo(self) -> dict[Hashable, Any]:
        return {}


MEMO_LIMIT = 4096
_MISSING = object()


class OpenAt:
    """``Responder.is_open`` at one moment for many responders, each time zone's clock
    read once rather than once per responder."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._clocks: dict[str, int] = {}

    def __call__(self, responder: Responder) -> bool:
        if responder.exceptions:
            return responder.is_open(self.at)
        if responder.always_open:
            return True
        moment = self._clocks.get(responder.timezone)
        if moment is None:
            moment = week_time(self.at.astimezone(zone(responder.timezone)))
            self._clocks[responder.timezone] = moment
        return responder.open_in_week(moment)
