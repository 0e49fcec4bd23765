"""Stored figures of settled months, so a statistics page reads a dozen rows, not millions.

Counting each person once per month means sorting every record of the window by caller,
seconds at a million cases, yet a month's figures stop changing once its calls are over.
So the figures of each month are stored the first time they are asked for, up to the
*cutoff* (the start of the previous hour: whatever started before it is over, whatever
started after it is counted live on every request). Past months are stored whole; the
current month up to the cutoff, extended by the hour just settled when the cutoff moves.

Stored figures stay exact. A month's figures are added to the live part's only where that
is additive: each person belongs to one month, and in the month the cutoff falls in, people
already seen before it are not counted again after it (``sources``). Database triggers
(migration 0007) count, per month, every insert, delete or change in a counted column of
a contact, case or routing attempt that started over 50 minutes ago (so possibly before a
cutoff); stored figures are used only while that count is the one read before they were
computed, so a late change, even one committed while they were being computed, is
recounted on the next request. Two requests computing the same month both use their own
figures and both store them (on PostgreSQL the second write waits for the first request to
commit); neither fails.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Result, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.stats.models import StatsChange, StatsRollup

SETTLE = timedelta(hours=1)
clock: Callable[[], datetime] = utcnow  # ``bench/stats.py`` sets its fixed "now"
Span = tuple[datetime, datetime]  # [start, end), UTC


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(moment: datetime) -> datetime:
    return (month_start(moment) + timedelta(days=32)).replace(day=1)


def cutoff() -> datetime:
    """Records that started before this are settled: the start of the previous hour."""
    return clock().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - SETTLE


@dataclass(frozen=True)
class Split:
    stored: dict[str, Span]  # "YYYY-MM" -> the part of that month whose figures are stored
    live: Span | None        # counted on every request
    seen: Span | None        # the stored part of the month the live span starts in, if any


def split(start: datetime, end: datetime) -> Split | None:
    """Whole months from start to end as stored months and a live rest; None if the span
    is not whole months."""
    if start != month_start(start) or end != month_start(end) or start >= end:
        return None
    settled, month = cutoff(), start
    stored: dict[str, Span] = {}
    while month < min(end, settled):
        stored[f"{month:%Y-%m}"] = (month, min(next_month(month), settled))
        month = next_month(month)
    live_start = max(start, settled)
    seen = ((month_start(settled), settled)
            if start < settled < end and month_start(settled) != settled else None)
    return Split(stored, (live_start, end) if live_start < end else None, seen)


def stored(session: Session, kind: str, months: dict[str, Span],
           compute: Callable[[Span, Span | None], Any],
           add: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """Each month's stored figures over its span. Missing or outdated months are computed
    whole by ``compute(span, None)``; a month stored up to an earlier cutoff (the current
    month, once an hour) is extended by ``compute(new part, part already stored)``, added."""
    if not months:
        return {}
    changes = dict(session.execute(select(StatsChange.month, StatsChange.changes)
                                   .where(StatsChange.month.in_(months))).all())
    # Typed here: the untyped JSON body leaves the select's row type unknown.
    rows: Result[str, datetime, int, Any] = session.execute(
        select(StatsRollup.month, StatsRollup.settled_until, StatsRollup.changes,
               StatsRollup.body)
        .where(StatsRollup.kind == kind, StatsRollup.month.in_(months)))
    found: dict[str, Any] = {}
    for month, until, seen_changes, body in rows:
        (start, end), now_changes = months[month], changes.get(month, 0)
        if seen_changes != now_changes:
            continue
        if until == end:
            found[month] = body
        elif start < until < end:
            found[month] = add(body, compute((until, end), (start, until)))
            _store(session, kind, month, end, now_changes, found[month])
    for month, span in months.items():
        if month not in found:
            found[month] = compute(span, None)
            _store(session, kind, month, span[1], changes.get(month, 0), found[month])
    return found


def _store(session: Session, kind: str, month: str, until: datetime, changes: int,
           body: Any) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(StatsRollup).values(month=month, kind=kind, settled_until=until,
                                                changes=changes, body=body, built_at=clock())
    session.execute(insert.on_conflict_do_update(
        index_elements=[StatsRollup.month, StatsRollup.kind],
        set_={name: insert.excluded[name]
              for name in ("settled_until", "changes", "body", "built_at")}))
