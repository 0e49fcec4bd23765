"""Disclosure control: nothing counted leaves the server before passing through here.

A table is one period's counts over at most two dimensions, with its margins (row,
column and grand totals), following the policy in ``docs/statistics.md``:
rare categories collapse into "other", non-zero cells below k are withheld (shown
``<k``), and further cells are withheld until no withheld cell can be worked out from
what is shown, neither by solving the totals as equations nor by narrowing bounds
(a ``<k`` cell is between 1 and k-1; a cell withheld to protect it is at least k,
because zeros and small cells are never chosen for that).
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

TOTAL = "total"
OTHER = "other"
UNKNOWN = "unknown"
NOT_ANSWERED = frozenset({UNKNOWN})

Key = tuple[str, ...]  # one value per dimension; TOTAL in a margin


class Withheld(StrEnum):
    SMALL = "small"                  # 0 < count < k
    COMPLEMENTARY = "complementary"  # withheld so that a small cell cannot be recovered
    HIDDEN = "hidden"                # any number, zero included (``intervals``, "blur")


@dataclass(frozen=True)
class Figure:
    value: int | None  # None when withheld
    display: str
    withheld: Withheld | None = None
    percent: float | None = None


@dataclass(frozen=True)
class Constraint:
    """``sum(members) == total``: one row, column or margin of an additive table."""

    total: Key
    members: tuple[Key, ...]


def collapse_rare(counts: Mapping[Key, int], k: int) -> tuple[dict[Key, int], list[set[str]]]:
    """Merge categories with fewer than k in the whole window into OTHER, per dimension."""
    width = len(next(iter(counts), ()))
    rare: list[set[str]] = []
    for axis in range(width):
        totals: dict[str, int] = {}
        for key, value in counts.items():
            totals[key[axis]] = totals.get(key[axis], 0) + value
        rare.append({name for name, total in totals.items()
                     if 0 < total < k and name not in (OTHER, UNKNOWN)})
    return into_other(counts, lambda axis, name: name in rare[axis]), rare


def into_other(counts: Mapping[Key, int], folded: Callable[[int, str], bool]
               ) -> dict[Key, int]:
    """The counts with every category ``folded(axis, category)`` merged into OTHER."""
    merged: dict[Key, int] = {}
    for key, value in counts.items():
        new = tuple(OTHER if folded(axis, part) else part for axis, part in enumerate(key))
        merged[new] = merged.get(new, 0) + value
    return merged


def with_margins(cells: Mapping[Key, int], categories: list[list[str]],
                 total: int | None = None) -> tuple[dict[Key, int], list[Constraint]]:
    """The full table (cells over every category pair, margins) and its additivity.
    ``total`` is given for a multi-select table, whose cells do not add up to it."""
    if not categories:
        return {(): sum(cells.values())}, []
    if len(categories) == 1:
        keys: list[Key] = [(c,) for c in categories[0]]
        table: dict[Key, int] = {key: cells.get(key, 0) for key in keys}
        table[(TOTAL,)] = sum(table.values()) if total is None else total
        return table, [Constraint((TOTAL,), tuple(keys))]
    rows, cols = categories
    table = {(r, c): cells.get((r, c), 0) for r in rows for c in cols}
    for r in rows:
        table[(r, TOTAL)] = sum(table[(r, c)] for c in cols)
    for c in cols:
        table[(TOTAL, c)] = sum(table[(r, c)] for r in rows)
    table[(TOTAL, TOTAL)] = sum(table[(r, TOTAL)] for r in rows)
    constraints = [Constraint((r, TOTAL), tuple((r, c) for c in cols)) for r in rows]
    constraints += [Constraint((TOTAL, c), tuple((r, c) for r in rows)) for c in cols]
    constraints.append(Constraint((TOTAL, TOTAL), tuple((r, TOTAL) for r in rows)))
    constraints.append(Constraint((TOTAL, TOTAL), tuple((TOTAL, c) for c in cols)))
    return table, constraints


def suppress(table: Mapping[Key, int], constraints: list[Constraint],
             k: int) -> dict[Key, Withheld]:
    """Primary suppression, then complementary suppression until nothing is exposed."""
    withheld = {key: Withheld.SMALL for key, value in table.items() if 0 < value < k}
    while True:
        exposed = exposed_cells(table, constraints, withheld, k)
        if not exposed:
            return withheld
        partner = _partner(table, constraints, withheld, exposed)
        if partner is None:  # every line through the exposed cells is already withheld
            return withheld
        # A zero withheld as x would claim at least k: it is shown as any number instead.
        withheld[partner] = Withheld.COMPLEMENTARY if table[partner] else Withheld.HIDDEN


def _partner(table: Mapping[Key, int], constraints: list[Constraint],
             withheld: Mapping[Key, Withheld], exposed: set[Key]) -> Key | None:
    """A shown cell in a line through an exposed cell: non-zero ones first, then inner
    cells before margins (totals stay visible where possible), then the cell that gives
    the most lines a second withheld cell (closing a rectangle), then the smallest. A
    zero comes last: where only zeros are shown beside it (a row of 0, <10, 0), one of
    them must go too."""
    lines = [(*line.members, line.total) for line in constraints]
    lonely = [keys for keys in lines if sum(key in withheld for key in keys) == 1]
    candidates: list[tuple[bool, bool, int, int, Key]] = []
    for keys in lines:
        if exposed.intersection(keys):
            candidates += [(table[key] == 0, TOTAL in key,
                            -sum(key in other for other in lonely), table[key], key)
                           for key in keys if key not in withheld]
    return min(candidates)[4] if candidates else None


def exposed_cells(table: Mapping[Key, int], constraints: list[Constraint],
                  withheld: Mapping[Key, Withheld], k: int) -> set[Key]:
    """Withheld cells that what is shown pins to a single value."""
    equations = _equations(table, constraints, withheld)
    return _solved(equations) | _pinned(equations, withheld, k)


Equation = tuple[dict[Key, int], int]  # coefficients of withheld cells, constant


def _equations(table: Mapping[Key, int], constraints: list[Constraint],
               withheld: Mapping[Key, Withheld]) -> list[Equation]:
    equations = []
    for line in constraints:
        coefficients: dict[Key, int] = {}
        constant = 0
        for key, sign in [(m, 1) for m in line.members] + [(line.total, -1)]:
            if key in withheld:
                coefficients[key] = coefficients.get(key, 0) + sign
            else:
                constant -= sign * table[key]
        if coefficients:
            equations.append((coefficients, constant))
    return equations


def _solved(equations: list[Equation]) -> set[Key]:
    """Cells the equations determine alone (Gauss-Jordan elimination over rationals)."""
    unknowns = sorted({key for coefficients, _ in equations for key in coefficients})
    index = {key: i for i, key in enumerate(unknowns)}
    rows = []
    for coefficients, _ in equations:
        row = [Fraction(0)] * len(unknowns)
        for key, value in coefficients.items():
            row[index[key]] = Fraction(value)
        rows.append(row)
    pivot_rows = _reduce(rows, len(unknowns))
    return {unknowns[col] for col, row in pivot_rows
            if all(v == 0 for j, v in enumerate(row) if j != col)}


def _reduce(rows: list[list[Fraction]], width: int) -> list[tuple[int, list[Fraction]]]:
    pivots: list[tuple[int, list[Fraction]]] = []
    remaining = rows
    for col in range(width):
        pivot = next((r for r in remaining if r[col] != 0), None)
        if pivot is None:
            continue
        remaining = [r for r in remaining if r is not pivot]
        pivot = [v / pivot[col] for v in pivot]
        remaining = [_eliminate(r, pivot, col) for r in remaining]
        pivots = [(c, _eliminate(r, pivot, col)) for c, r in pivots]
        pivots.append((col, pivot))
    return pivots


def _eliminate(row: list[Fraction], pivot: list[Fraction], col: int) -> list[Fraction]:
    factor = row[col]
    return row if factor == 0 else [a - factor * b for a, b in zip(row, pivot, strict=True)]


INFINITY = float("inf")


def _pinned(equations: list[Equation], withheld: Mapping[Key, Withheld],
            k: int) -> set[Key]:
    """Cells whose bounds, narrowed through every equation in turn, meet."""
    bounds = {key: mark_range(kind, k) for key, kind in withheld.items()}
    for _ in range(4 * len(equations) + 4):
        if not _narrow(equations, bounds):
            break
    return {key for key, (low, high) in bounds.items() if low >= high}


def mark_range(kind: Withheld, k: int) -> tuple[float, float]:
    """What a withheld cell's mark says of it: ``<k`` is 1 to k-1, ``x`` at least k,
    hidden any number from 0."""
    return {Withheld.SMALL: (1.0, k - 1.0), Withheld.COMPLEMENTARY: (float(k), INFINITY),
            Withheld.HIDDEN: (0.0, INFINITY)}[kind]


def _narrow(equations: list[Equation], bounds: dict[Key, tuple[float, float]]) -> bool:
    changed = False
    for coefficients, constant in equations:
        for key, sign in coefficients.items():
            rest = [(c, bounds[other]) for other, c in coefficients.items() if other != key]
            low = constant - sum(c * (hi if c > 0 else lo) for c, (lo, hi) in rest)
            high = constant - sum(c * (lo if c > 0 else hi) for c, (lo, hi) in rest)
            if sign < 0:
                low, high = -high, -low
            old_low, old_high = bounds[key]
            new = (max(old_low, low), min(old_high, high))
            if new != (old_low, old_high):
                bounds[key] = new
                changed = True
    return changed


def figures(table: Mapping[Key, int], withheld: Mapping[Key, Withheld],
            k: int) -> dict[Key, Figure]:
    """What leaves the server: withheld cells carry no value, percentages only over
    records that answered, and only where the denominator itself is shown."""
    shown: dict[Key, Figure] = {}
    for key, value in table.items():
        kind = withheld.get(key)
        if kind is None:
            shown[key] = Figure(value, f"{value:,}", None, _percent(table, withheld, key))
        else:
            shown[key] = Figure(None, f"<{k}" if kind is Withheld.SMALL else "x", kind)
    return shown


def _percent(table: Mapping[Key, int], withheld: Mapping[Key, Withheld],
             key: Key) -> float | None:
    """Share of the cell in its row (last dimension varying) among answered records."""
    if not key or key[-1] in NOT_ANSWERED or key[-1] == TOTAL:
        return None
    row_total = (*key[:-1], TOTAL)
    unknown = (*key[:-1], UNKNOWN)
    if row_total in withheld or unknown in withheld:
        return None
    denominator = table[row_total] - table.get(unknown, 0)
    return round(100 * table[key] / denominator, 1) if denominator > 0 else None


def protect(cells: Mapping[Key, int], categories: list[list[str]], k: int,
            additive: bool = True, total: int | None = None) -> dict[Key, Figure]:
    """One period's table, with margins, ready to leave the server."""
    table, constraints = with_margins(cells, categories, total)
    withheld = suppress(table, constraints if additive else [], k)
    return figures(table, withheld, k)


def shown_in_block(by_country: Mapping[str, int], countries: Collection[str], k: int) -> bool:
    """Whether one fixed block's (a month's) count for ``countries`` (every country if
    empty) may go into a sum over blocks. A sum of blocks shown only where each of its
    blocks would be shown differs from any other such sum by whole blocks, none small;
    and a country's figure in its block is shown only where the block's table by country
    shows it, so the whole less the countries shown is no small country either."""
    if not countries:
        return not 0 < sum(by_country.values()) < k
    if not any(by_country.get(c) for c in countries):
        return True  # zeros: they say nothing of the other countries
    figures = protect({(c,): n for c, n in by_country.items()}, [sorted(by_country)], k)
    return all(figures[(c,)].withheld is None for c in countries if (c,) in figures)


def categories_of(keys: Iterable[Key], width: int) -> list[list[str]]:
    """Categories present on each axis, in a stable order with other/unknown last."""
    found: list[set[str]] = [set() for _ in range(width)]
    for key in keys:
        for axis, part in enumerate(key):
            found[axis].add(part)
    return [sorted(values, key=lambda v: (v in (OTHER, UNKNOWN), v == UNKNOWN, v))
            for values in found]
