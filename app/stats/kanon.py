"""k-anonymisation of a case-level export: full-domain generalisation plus row suppression.

Why: a case-level export (one row per case, for researchers or partners) can single out a
person through a rare combination of quasi-identifiers, say the only Turkmen girl aged 9-17
exploited in Turkey this year (the policy: docs/statistics.md). Before such rows leave the
server every combination of quasi-identifiers must be shared by at least k released rows.
Each quasi-identifier is coarsened to one level for all rows (full-domain generalisation:
gender to its CTDC group, age to minor/adult, countries to regions, or to "*"), and the few
rows still in classes smaller than k are withheld. The lattice of level vectors has only
162 points, so it is searched exhaustively for the least lossy one.

k-anonymity protects a single release only: two exports over overlapping windows differ
by the rows of the part that differs, which can be few. So the HTCDS file calls this once
per fixed block, a calendar quarter (``app.stats.export``): a union of k-anonymous blocks
is k-anonymous, and two files differ by whole blocks, each k-anonymous by itself.
"""

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

from app.cases.screening import GENDER_GROUPS, MINOR_AGE_BANDS, AgeBand, Gender

QUASI_IDENTIFIERS: tuple[str, ...] = (
    "gender", "age_band", "citizenship", "country_of_exploitation", "year")
SUPPRESSED = "*"

# ISO 3166-1 alpha-2 code -> region for level 1 of the country attributes; any other
# code is "Other", and an unknown country ("") stays unknown.
REGIONS: dict[str, str] = {
    **dict.fromkeys(("KZ", "KG", "TJ", "TM", "UZ"), "Central Asia"),
    **dict.fromkeys(("AF", "IR"), "Afghanistan and Iran"),
    **dict.fromkeys(("AZ", "TR", "GE", "AM"), "Caucasus and Turkey"),
    "RU": "Russia",
}
OTHER_REGION = "Other"

Row = dict[str, str]
Levels = tuple[int, ...]
Key = tuple[str, ...]


@dataclass(frozen=True)
class Anonymised:
    rows: list[dict[str, str]]  # released rows, QI columns generalised, input order kept
    levels: dict[str, int]  # chosen level per quasi-identifier
    achieved_k: int | None  # smallest class among released rows; None if none released
    suppressed: int  # rows withheld


def _gender_group(value: str) -> str:
    return GENDER_GROUPS[Gender(value)]


def _age_group(value: str) -> str:
    band = AgeBand(value)
    if band == AgeBand.UNKNOWN:
        return band.value
    return "0-17" if band in MINOR_AGE_BANDS else "18+"


def _region(code: str) -> str:
    return REGIONS.get(code, OTHER_REGION) if code else ""


# The intermediate levels (1, 2, ...) of each attribute, as functions of the recorded
# value; level 0 is the value itself and the level after the last step is "*".
_STEPS: dict[str, tuple[Callable[[str], str], ...]] = {
    "gender": (_gender_group,),
    "age_band": (_age_group,),
    "citizenship": (_region,),
    "country_of_exploitation": (_region,),
    "year": (),
}
MAX_LEVELS: dict[str, int] = {attr: len(_STEPS[attr]) + 1 for attr in QUASI_IDENTIFIERS}


def generalise(value: str, attribute: str, level: int) -> str:
    """``value`` of quasi-identifier ``attribute`` at generalisation ``level``."""
    if attribute not in _STEPS:
        raise ValueError(f"{attribute!r} is not a quasi-identifier")
    if not 0 <= level <= MAX_LEVELS[attribute]:
        raise ValueError(f"{attribute} has levels 0 to {MAX_LEVELS[attribute]}, not {level}")
    if level == MAX_LEVELS[attribute]:
        return SUPPRESSED
    return _STEPS[attribute][level - 1](value) if level else value


def _loss(levels: Levels) -> Fraction:
    """Information loss: the sum of each attribute's share of its way to "*"."""
    return sum((Fraction(level, MAX_LEVELS[attr])
                for attr, level in zip(QUASI_IDENTIFIERS, levels, strict=True)), Fraction(0))


# The whole lattice in the order it is searched: least generalised first, so the first
# admissible vectors found are the optimal ones. Ties in loss are broken by the level
# tuple, which keeps detail in the attributes listed first (gender before year).
_LATTICE: list[tuple[Fraction, Levels]] = sorted(
    (_loss(levels), levels)
    for levels in itertools.product(*(range(MAX_LEVELS[a] + 1) for a in QUASI_IDENTIFIERS)))
_TOP: Levels = tuple(MAX_LEVELS[attr] for attr in QUASI_IDENTIFIERS)


def _check(rows: Sequence[Row], k: int, max_suppressed_share: float) -> None:
    if k < 2:
        raise ValueError(f"k must be at least 2, not {k}")
    if not 0 <= max_suppressed_share <= 1:
        raise ValueError(f"max_suppressed_share must be in [0, 1], not {max_suppressed_share}")
    for index, row in enumerate(rows):
        for attr in QUASI_IDENTIFIERS:
            if attr not in row:
                raise ValueError(f"row {index} has no {attr!r} column")


def _columns(rows: Sequence[Row]) -> dict[str, list[list[str]]]:
    """Per attribute, per level, every row's generalised value (each distinct value once)."""
    columns = {}
    for attr in QUASI_IDENTIFIERS:
        recorded = [row[attr] for row in rows]
        distinct = set(recorded)
        levels = []
        for level in range(MAX_LEVELS[attr] + 1):
            mapping = {value: generalise(value, attr, level) for value in distinct}
            levels.append([mapping[value] for value in recorded])
        columns[attr] = levels
    return columns


def _keys(columns: dict[str, list[list[str]]], levels: Levels) -> Iterator[Key]:
    """Every row's generalised QI tuple at ``levels``."""
    return zip(*(columns[attr][level]
                 for attr, level in zip(QUASI_IDENTIFIERS, levels, strict=True)), strict=True)


def _suppressed(sizes: Counter[Key], k: int) -> int:
    return sum(size for size in sizes.values() if size < k)


def _choose(columns: dict[str, list[list[str]]], k: int, allowed: int) -> Levels:
    """The admissible level vector with the least loss, then the fewest suppressed rows.

    Loss comes first because withholding a handful of outliers (at most ``allowed``) keeps
    more detail than coarsening an attribute for every row, which is the point of
    allowing suppression at all; among equally coarse vectors fewer withheld rows win.
    """
    best: tuple[int, Levels] | None = None
    best_loss = Fraction(0)
    for loss, levels in _LATTICE:
        if best is not None and loss > best_loss:
            break
        suppressed = _suppressed(Counter(_keys(columns, levels)), k)
        if suppressed <= allowed and (best is None or suppressed < best[0]):
            best, best_loss = (suppressed, levels), loss
    # The all-"*" vector puts every row in one class, admissible whenever there are k rows.
    assert best is not None
    return best[1]


def anonymise(rows: list[dict[str, str]], k: int,
              max_suppressed_share: float = 0.05) -> Anonymised:
    """Generalise and suppress ``rows`` until every QI combination occurs at least k times.

    At most ``max_suppressed_share`` of the rows (rounded down) are withheld; with fewer
    than k rows in total nothing can be released.
    """
    _check(rows, k, max_suppressed_share)
    if len(rows) < k:
        return Anonymised([], dict(zip(QUASI_IDENTIFIERS, _TOP, strict=True)), None, len(rows))
    # The epsilon keeps e.g. 0.29 * 100 = 28.999999999999996 from rounding down to 28.
    allowed = math.floor(max_suppressed_share * len(rows) + 1e-9)
    columns = _columns(rows)
    levels = _choose(columns, k, allowed)
    keys = list(_keys(columns, levels))
    sizes = Counter(keys)
    released = [{**row, **dict(zip(QUASI_IDENTIFIERS, key, strict=True))}
                for row, key in zip(rows, keys, strict=True) if sizes[key] >= k]
    achieved = min((size for size in sizes.values() if size >= k), default=None)
    return Anonymised(released, dict(zip(QUASI_IDENTIFIERS, levels, strict=True)),
                      achieved, len(rows) - len(released))
