"""The routing engine: who should this caller be connected to, in what order, and why.

A pure function of (directory snapshot, language, caller country, need, time). The order:

1. open responders relevant to the caller (in the caller's country, or speaking the
   caller's language), ranked by: same country > speaks the language > offers the
   need > priority (lower first);
2. open regional hubs that speak the language;
3. any other open regional hub, so nobody is left unanswered while a hub is open;
4. the same relevant responders and language hubs that are closed now, in the same
   order, for queues and callbacks that can wait for opening time.

Each candidate carries the reasons it was chosen, so coordinators can check their
directory with ``hotline route``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.routing.needs import NEED_SERVICES, Need
from app.routing.snapshot import DatedException, Directory, Responder


class Tier(StrEnum):
    LOCAL = "local"
    HUB_LANGUAGE = "hub_language"
    HUB_ANY = "hub_any"


class Reopening(StrEnum):
    """How soon someone is on duty again, when nobody is now. Relative and coarse: what a
    caller is told cannot be a clock time, as their own time zone is unknown (Russia alone
    has eleven)."""

    WITHIN_HOUR = "within_hour"
    WITHIN_HOURS = "within_hours"
    WITHIN_DAY = "within_day"


REOPENING_LIMITS = ((timedelta(hours=1), Reopening.WITHIN_HOUR),
                    (timedelta(hours=6), Reopening.WITHIN_HOURS),
                    (timedelta(days=1), Reopening.WITHIN_DAY))


@dataclass(frozen=True)
class Query:
    language: str | None
    country: str | None
    need: Need | None
    at: datetime


@dataclass(frozen=True)
class Candidate:
    responder: Responder
    is_open: bool
    tier: Tier
    reasons: tuple[str, ...]

    @property
    def slug(self) -> str:
        return self.responder.slug


def route(directory: Directory, query: Query) -> list[Candidate]:
    open_now = {r.slug: r.is_open(query.at) for r in directory.responders}
    locals_ = sorted((r for r in directory.responders if _is_relevant_local(r, query)),
                     key=lambda r: _local_rank(r, query))
    language_hubs = sorted((r for r in directory.responders if _is_language_hub(r, query)),
                           key=lambda r: (not _offers(r, query), r.priority, r.slug))
    other_hubs = sorted((r for r in directory.responders
                         if r.is_hub and not _is_language_hub(r, query) and open_now[r.slug]),
                        key=lambda r: (r.priority, r.slug))
    ordered = [
        *((r, Tier.LOCAL) for r in locals_ if open_now[r.slug]),
        *((r, Tier.HUB_LANGUAGE) for r in language_hubs if open_now[r.slug]),
        *((r, Tier.HUB_ANY) for r in other_hubs),
        *((r, Tier.LOCAL) for r in locals_ if not open_now[r.slug]),
        *((r, Tier.HUB_LANGUAGE) for r in language_hubs if not open_now[r.slug]),
    ]
    return [Candidate(r, open_now[r.slug], tier, _reasons(r, tier, open_now[r.slug], query))
            for r, tier in ordered]


def reopening(candidates: list[Candidate], at: datetime) -> Reopening | None:
    """When the first of these candidates opens, if within a day; None if one is open now,
    or none opens within a day."""
    if any(candidate.is_open for candidate in candidates):
        return None
    openings = [opening for candidate in candidates
                if (opening := candidate.responder.next_opening(at)) is not None]
    if not openings:
        return None
    wait = min(openings) - at
    return next((label for limit, label in REOPENING_LIMITS if wait <= limit), None)


def _speaks(responder: Responder, query: Query) -> bool:
    return query.language is not None and query.language in responder.languages


def _same_country(responder: Responder, query: Query) -> bool:
    return query.country is not None and responder.country == query.country


def _offers(responder: Responder, query: Query) -> bool:
    wanted = NEED_SERVICES[query.need] if query.need else frozenset()
    return bool(wanted & responder.services)


def _is_relevant_local(responder: Responder, query: Query) -> bool:
    return not responder.is_hub and (_same_country(responder, query) or _speaks(responder, query))


def _is_language_hub(responder: Responder, query: Query) -> bool:
    return responder.is_hub and _speaks(responder, query)


def _local_rank(responder: Responder, query: Query) -> tuple[bool, bool, bool, int, str]:
    return (not _same_country(responder, query), not _speaks(responder, query),
            not _offers(responder, query), responder.priority, responder.slug)


def _reasons(responder: Responder, tier: Tier, is_open: bool, query: Query) -> tuple[str, ...]:
    reasons = [_opening_reason(responder, is_open, query.at)]
    if tier is Tier.HUB_LANGUAGE:
        reasons.append(f"regional hub speaking {query.language}")
    elif tier is Tier.HUB_ANY:
        reasons.append("open regional hub, fallback so the caller is answered")
    if query.country:
        reasons.append(f"in the caller's country {responder.country}"
                       if _same_country(responder, query)
                       else f"in {responder.country}, not the caller's country")
    if query.language:
        verb = "speaks" if _speaks(responder, query) else "does not speak"
        reasons.append(f"{verb} {query.language}")
    if query.need and NEED_SERVICES[query.need]:
        verb = "offers" if _offers(responder, query) else "does not offer"
        reasons.append(f"{verb} {'/'.join(sorted(NEED_SERVICES[query.need]))}")
    reasons.append(f"priority {responder.priority}")
    return tuple(reasons)


def _opening_reason(responder: Responder, is_open: bool, at: datetime) -> str:
    exception = responder.exception_at(at)
    if is_open:
        if exception is not None:
            return f"open now: {exception.describe()}"
        return "open 24/7" if responder.always_open else "open now"
    state = f"closed: {exception.describe()}" if exception is not None else "closed now"
    opening = responder.next_opening(at)
    if opening is None:
        return state
    return f"{state}; opens {_when(opening, at, exception)} {responder.timezone}"


def _when(opening: datetime, at: datetime, exception: DatedException | None) -> str:
    # The weekday alone is ambiguous once an opening may lie past a long closure.
    if exception is None and opening - at < timedelta(days=6):
        return f"{opening:%a %H:%M}"
    return f"{opening:%a %Y-%m-%d %H:%M}"
