"""The routing engine: who should this caller be connected to, in what order, and why.

A pure function of (directory snapshot, language, caller country, need, time).

Candidates: every responder in the caller's country or speaking the caller's language,
regional hubs included, and any other regional hub while it is open, so nobody is left
unanswered while a hub is open. Open candidates come first, then the closed ones in the
same order (for queues and callbacks that can wait; the other hubs only while open).

The order depends on the need. Legal aid is bound to the law of the country the caller
is in, so for it:

1. in the caller's country and offers legal aid;
2. in the caller's country, does not;
3. abroad, speaks the language, offers legal aid, nearest first;
4. abroad, speaks the language, does not, nearest first.

For every other need (a safe place first of all: danger, shelter) help on the ground
counts, and after that being understood:

1. in the caller's country: speaking the language first, then offering the need;
2. abroad, speaks the language, nearest first, then offering the need.

Last come the other open hubs, nearest first. In the caller's country those who speak the
language come before those who do not (for legal aid, within each group); within a group,
a responder comes before a hub (hubs are everyone's fallback), then lower ``priority``.
"Nearest" is capital to capital (``geography``); a country without a known distance ranks
after those with one.

Each candidate carries the reasons it was chosen, so coordinators can check their
directory with ``hotline route``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from app.routing.geography import distance_km
from app.routing.needs import NEED_SERVICES, Need
from app.routing.snapshot import DatedException, Directory, OpenAt, Responder

# Needs where the caller's country's law decides what help is possible.
JURISDICTION_NEEDS = frozenset({Need.LEGAL_AID})


class Tier(StrEnum):
    """Why a candidate is one: a responder in the caller's country or speaking the
    language; a hub speaking it; a hub in the caller's country that does not; or any
    other open hub."""

    LOCAL = "local"
    HUB_LANGUAGE = "hub_language"
    HUB_COUNTRY = "hub_country"
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


class Candidate(NamedTuple):
    # A named tuple, as route() makes hundreds per call: a third of a frozen dataclass's cost.
    responder: Responder
    is_open: bool
    tier: Tier
    query: Query

    @property
    def slug(self) -> str:
        return self.responder.slug

    @property
    def reasons(self) -> tuple[str, ...]:
        # Worked out when read: routing ranks hundreds, a call reads a few.
        return _reasons(self.responder, self.tier, self.is_open, self.query)


Ranked = tuple[tuple[Responder, Tier], ...]


def route(directory: Directory, query: Query) -> list[Candidate]:
    ranked = directory.remember(("route", query.country, query.language, query.need),
                                lambda: _ranked(directory, query))
    is_open = OpenAt(query.at)
    opened: list[Candidate] = []
    closed: list[Candidate] = []
    for responder, tier in ranked:
        if is_open(responder):
            opened.append(Candidate(responder, True, tier, query))
        elif tier is not Tier.HUB_ANY:
            closed.append(Candidate(responder, False, tier, query))
    return opened + closed


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


def _ranked(directory: Directory, query: Query) -> Ranked:
    """Every possible candidate in order, open or not: it depends on the time only through
    who is open, so the snapshot keeps it per country, language and need."""
    index = directory.remember("route index", lambda: _Index(directory.responders))
    tiers = ((r, _tier(r, query)) for r in index.possible(query))
    possible = [(r, tier) for r, tier in tiers if tier is not None]
    key = _rank_key(query)
    return tuple(sorted(possible, key=lambda pair: key(pair[0])))


class _Index:
    """Responders by country and by language, so ranking for one caller looks only at
    those who could be their candidates, not at the whole directory."""

    def __init__(self, responders: tuple[Responder, ...]) -> None:
        self.by_country: dict[str, list[Responder]] = {}
        self.by_language: dict[str, list[Responder]] = {}
        for r in responders:
            self.by_country.setdefault(r.country, []).append(r)
            for language in r.languages:
                self.by_language.setdefault(language, []).append(r)
        self.hubs = [r for r in responders if r.is_hub]

    def possible(self, query: Query) -> list[Responder]:
        found = [*self.by_country.get(query.country or "", ()),
                 *self.by_language.get(query.language or "", ()), *self.hubs]
        return list({id(r): r for r in found}.values())  # by id: hashing a Responder is slow


def _tier(responder: Responder, query: Query) -> Tier | None:
    if not responder.is_hub:
        return Tier.LOCAL if _relevant(responder, query) else None
    if _speaks(responder, query):
        return Tier.HUB_LANGUAGE
    return Tier.HUB_COUNTRY if _same_country(responder, query) else Tier.HUB_ANY


RankKey = tuple[bool | int | str | tuple[bool, float], ...]


def _rank_key(query: Query) -> Callable[[Responder], RankKey]:
    jurisdiction = query.need in JURISDICTION_NEEDS

    def key(r: Responder) -> RankKey:
        home, speaks, offers = _same_country(r, query), _speaks(r, query), _offers(r, query)
        distance = distance_km(query.country, r.country)
        far = (distance is None, distance or 0.0)
        fallback = not (home or speaks)  # a hub nobody would pick but for being open
        if jurisdiction and not fallback:
            return (False, not home, not offers, not speaks, far, r.is_hub, r.priority, r.slug)
        return (fallback, not home, not speaks, far, not offers, r.is_hub, r.priority, r.slug)

    return key


def _speaks(responder: Responder, query: Query) -> bool:
    return query.language is not None and query.language in responder.languages


def _same_country(responder: Responder, query: Query) -> bool:
    return query.country is not None and responder.country == query.country


def _offers(responder: Responder, query: Query) -> bool:
    wanted = NEED_SERVICES[query.need] if query.need else frozenset()
    return bool(wanted & responder.services)


def _relevant(responder: Responder, query: Query) -> bool:
    return _same_country(responder, query) or _speaks(responder, query)


def _reasons(responder: Responder, tier: Tier, is_open: bool, query: Query) -> tuple[str, ...]:
    reasons = [_opening_reason(responder, is_open, query.at)]
    if tier is Tier.HUB_LANGUAGE:
        reasons.append(f"regional hub speaking {query.language}")
    elif tier is Tier.HUB_COUNTRY:
        reasons.append("regional hub in the caller's country")
    elif tier is Tier.HUB_ANY:
        reasons.append("open regional hub, fallback so the caller is answered")
    if query.country:
        reasons.append(_country_reason(responder, query.country))
    if query.language:
        verb = "speaks" if _speaks(responder, query) else "does not speak"
        reasons.append(f"{verb} {query.language}")
    if query.need and NEED_SERVICES[query.need]:
        verb = "offers" if _offers(responder, query) else "does not offer"
        reasons.append(f"{verb} {'/'.join(sorted(NEED_SERVICES[query.need]))}")
    reasons.append(f"priority {responder.priority}")
    return tuple(reasons)


def _country_reason(responder: Responder, country: str) -> str:
    if responder.country == country:
        return f"in the caller's country {country}"
    distance = distance_km(country, responder.country)
    away = f", {distance:,.0f} km from {country}" if distance is not None else ""
    return f"in {responder.country}, not the caller's country{away}"


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
