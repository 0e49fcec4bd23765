"""What a statistics table may be grouped by, and each dimension's fixed categories.

Categories are fixed lists (not "whatever values occur") so that a differentially
private release can add noise to every cell, zeros included, and so that a value never
seen before cannot single anyone out. Raw database values are mapped to these
categories by ``category``; anything unrecorded is ``unknown``.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.cases.models import CaseStatus, Channel, ContactOutcome
from app.cases.screening import AgeBand, ExploitationType, Gender, gender_group
from app.countries import LIKELY_LANGUAGES
from app.languages import LANGUAGES
from app.routing.needs import Need
from app.stats.disclosure import OTHER, UNKNOWN


class Source(StrEnum):
    CONTACTS = "contacts"  # people who called or wrote, once per period
    CASES = "cases"        # people whose contact opened a case, once per period
    BLOCKED = "blocked"    # blocked callers turned away, once per period: not in contacts


class Period(StrEnum):
    MONTH = "month"
    WEEK = "week"  # labelled by its Monday


COUNTRIES = tuple(LIKELY_LANGUAGES)  # the hotline's ten countries
GENDER_GROUPS = ("Woman", "Man", "Trans/Transgender/NonConforming")


@dataclass(frozen=True)
class Dimension:
    name: str
    multi: bool = False      # several values per person: one-way tables only
    screening: bool = False  # recorded on the case's screening


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("country"), Dimension("language"), Dimension("channel"), Dimension("need"),
    Dimension("outcome"), Dimension("child"), Dimension("organisation"), Dimension("line"),
    Dimension("gender", screening=True), Dimension("age_band", screening=True),
    Dimension("citizenship", multi=True, screening=True),
    Dimension("exploitation", multi=True, screening=True),
)}


def categories(name: str, source: Source, organisations: list[str],
               lines: list[str] | None = None) -> list[str]:
    """The fixed category list of a dimension, ``other`` and ``unknown`` last; ``lines``
    are the directory's national line numbers (the hotline's own, not callers')."""
    fixed: dict[str, list[str]] = {
        "country": [*COUNTRIES, OTHER], "citizenship": [*COUNTRIES, OTHER],
        "language": list(LANGUAGES), "channel": [c.value for c in Channel],
        "need": [n.value for n in Need], "child": ["yes", "no"],
        "outcome": _outcomes(source),
        "organisation": organisations, "line": [*(lines or []), OTHER],
        "gender": list(GENDER_GROUPS),
        "age_band": [a.value for a in AgeBand if a is not AgeBand.UNKNOWN],
        "exploitation": [e.value for e in ExploitationType if e is not ExploitationType.UNKNOWN]
        + ["none"],
    }
    return [*fixed[name], UNKNOWN]


def _outcomes(source: Source) -> list[str]:
    """Blocked contacts are counted in their own table only."""
    if source is Source.CASES:
        return [s.value for s in CaseStatus]
    blocked = ContactOutcome.BLOCKED
    return [o.value for o in ContactOutcome if (o is blocked) == (source is Source.BLOCKED)]


def category(name: str, raw: Any, organisations: dict[int, str],
             lines: frozenset[str] = frozenset()) -> str:
    """A raw column value as one of the dimension's categories."""
    if raw is None:
        return UNKNOWN
    if name == "line":  # a number not (or no longer) in the directory: other
        return raw if raw in lines else OTHER
    if name == "child":
        return "yes" if raw else "no"
    if name == "organisation":
        return organisations.get(raw, OTHER)
    if name == "gender":
        group = gender_group(Gender(raw))
        return group if group in GENDER_GROUPS else UNKNOWN
    if name in ("country", "citizenship"):
        return raw if raw in COUNTRIES else OTHER
    value = raw.value if isinstance(raw, StrEnum) else str(raw)
    return UNKNOWN if value in ("Unknown", "") else value


def multi_categories(name: str, raw: list[str] | None) -> list[str]:
    """A multi-select value as categories; an empty list of exploitation types is 'none'."""
    if not raw:
        return ["none"] if name == "exploitation" and raw == [] else [UNKNOWN]
    return sorted({category(name, value, {}) for value in raw})
