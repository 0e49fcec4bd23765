"""Interval audit of a release: what an attacker can narrow every withheld cell down to.

Cell-by-cell suppression (``disclosure``) stops a withheld cell from being solved exactly
within its own table, but an attacker reads everything one request returns together: every
table, source and period of a dashboard page, an API answer or an export file. This module
writes down everything such a reader knows as a linear programme and asks SciPy's HiGHS
(``scipy.optimize.linprog``) for the smallest and largest value of every withheld cell:

- every shown figure, exactly; a ``<k`` cell is 1 to k-1; an ``x`` cell is at least k
  (complementary cells are only ever chosen among shown non-zero cells, which are all at
  least k once the small ones are withheld); any other withheld mark is at least 0;
- margins are the sums of their parts (cells are sums of "atoms": the finest categories
  the release distinguishes, so ``other`` in one table and a listed category in the next
  stay consistent);
- several answers per person (citizenship, exploitation): every answer count is at most
  the people counted, and together they are at least that;
- tables counting the same people (same source, period and filters) have the same total;
- per person, everyone counted in the cases table is counted in the contacts table with the
  same categories and period (cases <= contacts, cell by cell);
- a category listed by name has at least k people in the period, one folded into
  ``other`` at most k-1 (the rule for rare categories).

A relation enters the programme only where the true figures satisfy it (a person's first
case can carry another language than their first contact, say): an attacker assuming a
false relation narrows towards a wrong value, not towards the truth, and the programme stays
feasible.

**The protection level** ``P`` (``HOTLINE_STATS_PROTECTION``, default ``k - 1``): the
feasible range of every withheld cell must hold at least ``P`` whole numbers, that is
``max - min >= P - 1``. With the default a ``<k`` cell must stay anywhere from 1 to k-1,
exactly what its label claims, and an ``x`` cell must be as uncertain (for example 14 to
22). It is at most k-1, the width of the ``<k`` label itself. Ranges are those of the
linear relaxation, rounded inwards to whole numbers (what an attacker with the same solver
gets; an integer programme could in principle be tighter on tables that are not totally
unimodular, which two-way tables with margins are).

Where a cell's range is narrower, suppression is extended: the smallest shown non-zero
cell in a relation with it (inner cells before margins) is withheld as ``x``, and the
release is audited again, until every range is wide enough. A cell that could not reach
the level even with every figure the audit may touch withheld (figures of ``fixed``
context pin it, or two ``<k`` cells make up a ``<k`` total) is taken as far as it can go,
and counted in ``Outcome.unprotected``; its table is named in ``Outcome.pinned``, so
that the caller can fold the table's categories where naming them is what pins it
(``app.stats.service._fold``) and audit again.

**Hidden marks.** Context is released as it is in every release, so a line whose total
context shows can be pinned by its own marks whatever is withheld (11 people of unknown
country as ``<10`` and ``x``: 1 and 10), and so can shown zeros beside a category that
must hold k people. Such cells lose their marks (``hidden``: any number, zero included),
the cell alone where that is enough, else its line, else the same line in the other
sources' tables too, else with those tables' zeros, else both its lines, else its tables
of the period whole (``_options``); the rest is counted as above.

Results are cached in process by the release's figures (hashed), so a page viewed again
does not solve again.
"""

import hashlib
import logging
import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from app.stats.disclosure import OTHER, TOTAL, UNKNOWN, Key, Withheld, mark_range

logger = logging.getLogger(__name__)

Atom = tuple[Hashable, ...]   # (part name, block per axis) or (part name, PERSONS)
CellId = tuple[Hashable, Key]  # (part name, key)
PERSONS = "__persons__"        # the people counted in a table of several answers per person
REST = "__rest__"              # categories no part of the question lists by name
TOLERANCE = 1e-6
CACHE_SIZE = 1024
PUSHES = 4  # rounds of joint programmes before one per cell
LINES_PER_ROUND = 2  # a small cell usually needs a partner in its row and in its column


@dataclass
class Part:
    """One table of a release, for one source and period, as the audit sees it."""

    name: Hashable               # unique in the release
    group: tuple[str, ...]       # the dimensions: parts of one name share categories
    source: str                  # parts of one source and period count the same people
    period: str
    fine: Mapping[Key, int]      # people per category before rare ones fold into other
    table: Mapping[Key, int]     # shown cells and margins, true values
    categories: list[list[str]]  # listed per axis; OTHER stands for everything unlisted
    additive: bool = True        # False: several answers per person, total given apart
    folded: bool = True          # rare categories folded into other (no noise)
    withheld: dict[Key, Withheld] = field(default_factory=dict)  # extended in place
    fixed: bool = False          # already released as it is: context, never extended


@dataclass(frozen=True)
class Release:
    """Everything one request returns together, and which sources count a subset of whom:
    ``below`` pairs (smaller, larger), e.g. ("cases", "contacts")."""

    parts: list[Part]
    below: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    added: dict[CellId, Withheld]  # cells withheld by the audit, or marked as in context
    shown: frozenset[CellId]       # cells shown because context shows the same figure
    unprotected: int               # cells still too narrow with nothing left to withhold
    cached: bool = False
    pinned: frozenset[Hashable] = frozenset()  # audited parts holding such cells


@dataclass(frozen=True)
class Relation:
    """``low <= sum(coefficient * atom) <= high``."""

    terms: tuple[tuple[Atom, int], ...]
    low: float
    high: float


@dataclass
class Model:
    truth: dict[Atom, int] = field(default_factory=dict)
    cells: dict[CellId, tuple[Atom, ...]] = field(default_factory=dict)
    values: dict[CellId, int] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    fixed: set[Hashable] = field(default_factory=set)  # parts whose cells stay as shown
    mirrors: dict[CellId, CellId] = field(default_factory=dict)  # same figure, fixed part
    kin: dict[Hashable, list[Hashable]] = field(default_factory=dict)  # other sources' parts


def protection_level(k: int, configured: int | None) -> int:
    """Whole numbers a withheld cell's range must hold: k-1 unless configured lower."""
    return min(configured or k - 1, k - 1)


_cache: OrderedDict[str, Outcome] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every audited release (benchmarks time the solver this way)."""
    with _cache_lock:
        _cache.clear()


def protect(release: Release, k: int, level: int) -> Outcome:
    """Extend the parts' suppression until every withheld cell's feasible range holds at
    least ``level`` whole numbers; the parts' ``withheld`` maps are updated in place."""
    key = _digest(release, k, level)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
    if found is not None:
        _apply(release, found.added, found.shown)
        return replace(found, cached=True)
    outcome = _extend(release, k, level)
    with _cache_lock:
        _cache[key] = outcome
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return outcome


def _digest(release: Release, k: int, level: int) -> str:
    """The audit's whole input (true figures included), hashed: nothing is kept in clear."""
    parts = [(repr(p.name), repr(p.group), p.source, p.period, sorted(p.fine.items()),
              sorted(p.table.items()), p.categories, p.additive, p.folded, p.fixed,
              sorted((key, kind.value) for key, kind in p.withheld.items()))
             for p in release.parts]
    text = repr((k, level, release.below, parts))
    return hashlib.sha256(text.encode()).hexdigest()


def _apply(release: Release, added: Mapping[CellId, Withheld],
           shown: Iterable[CellId] = ()) -> None:
    by_name = {part.name: part for part in release.parts}
    for name, key in shown:
        by_name[name].withheld.pop(key, None)
    for (name, key), kind in added.items():
        by_name[name].withheld[key] = kind


def _extend(release: Release, k: int, level: int) -> Outcome:
    model = build(release, k)
    added, shown = _harmonise(release, model)
    _apply(release, added, shown)
    # Withholding a cell only relaxes the programme (a fixed value becomes a range), so a
    # cell found wide stays wide: later rounds look only at the others.
    settled: set[CellId] = set()
    left: set[CellId] = set()  # narrow with nothing near them left to withhold
    checked: set[CellId] = set()
    targets: dict[CellId, int] = {}  # cells that can never reach the level: their best
    while True:
        withheld = _withheld(release)
        narrow, fallback = audit(model, withheld, k, level, settled, targets)
        settled.update(c for c in withheld if c not in narrow)
        new = [c for c in narrow if c not in checked]
        checked.update(new)
        best = {c: n for c, n in _reachable(model, withheld, new, k).items() if n < level}
        chosen: list[CellId] = []
        stuck: list[CellId] = []
        if best:
            blurred = _blur(model, withheld, best, k, level)
        else:
            chosen, stuck = (fallback, []) if fallback else _partners(model, withheld, narrow)
            # nothing near them to withhold, but their marks may go
            blurred = _blur(model, withheld, stuck, k, level, saturated=False)
        if blurred:  # marks said too much: audit again without them; what each cell
            # can reach at best may have grown, so it is worked out afresh
            added.update(blurred)
            _apply(release, blurred)
            checked.clear()
            targets.clear()
            left.clear()
            continue
        if best:  # audit these again against what they can reach at best
            targets.update(best)
            left.update(best)
            continue
        settled.update(stuck)  # nothing near them to withhold: not solved again
        left.update(stuck)
        if not chosen:
            left.update(narrow)
            if left:  # nothing shown is left near them (three <k cells and their <k
                # total, say): as wide as the table allows; how many, never which
                logger.info("interval audit: %d cells as wide as their tables allow, "
                            "narrower than the protection level", len(left))
            pinned = frozenset(name for name, _ in left if name not in model.fixed)
            return Outcome(added, frozenset(shown), len(left), pinned=pinned)
        update = dict.fromkeys(chosen, Withheld.COMPLEMENTARY)
        added.update(update)
        _apply(release, update)


def _reachable(model: Model, withheld: Mapping[CellId, Withheld], cells: list[CellId],
               k: int, saturated: bool = True) -> dict[CellId, int]:
    """Whole numbers each cell's range holds with every figure the audit may withhold
    withheld (or, not ``saturated``, as things stand): fewer than the level where context
    pins it (the table by country shows a row total, say), and then the most suppression
    can do for it."""
    if not cells:
        return {}
    every = dict(withheld)
    if saturated:
        every.update({c: Withheld.COMPLEMENTARY for c in model.cells
                      if c not in withheld and model.values[c] > 0
                      and c[0] not in model.fixed and c not in model.mirrors})
    wanted = set(cells)
    found: dict[CellId, int] = {}
    for group, relations in _components(model, every):
        if not wanted.intersection(group):
            continue
        programme = _Programme(model, group, relations, every, k)
        for position, cell in enumerate(programme.unknown):
            if cell in wanted:
                high, low = (programme.solve(position, sign)[0] for sign in (1, -1))
                if not math.isinf(high):  # unbounded: reaches any level
                    found[cell] = (math.floor(high + TOLERANCE)
                                   - math.ceil(low - TOLERANCE) + 1)
    return found


def _blur(model: Model, withheld: Mapping[CellId, Withheld], cells: Iterable[CellId],
          k: int, level: int, saturated: bool = True) -> dict[CellId, Withheld]:
    """Cells to show as ``hidden`` (any number, zero included) for cells that no further
    ``x`` can widen but hiding can (``_options``, least first).

    A ``<k`` or ``x`` mark says something (1 to k-1, at least k), and so does a shown
    zero; beside a total released elsewhere, they can pin a line (unknown country, 11
    people: ``<10`` and ``x`` are 1 and 10; 18 people: ``<10`` and ``<10`` are 9 and 9).
    Without them each cell is anywhere from 0 to the total. Where even hiding whole
    tables leaves the rules pinning it (a month of 11 people with a named category, at
    least k), hiding would only cost figures: the marks stay."""
    blurred: dict[CellId, Withheld] = {}
    for cell in cells:
        options = _options(model, withheld, cell)
        if blurred and options:  # what was hidden for an earlier cell may have widened it
            options.insert(0, {})
        for hidden in options:
            reach = _reachable(model, {**withheld, **blurred, **hidden}, [cell], k,
                               saturated)
            if reach.get(cell, level) >= level:
                blurred.update(hidden)
                break
    return blurred


def _options(model: Model, withheld: Mapping[CellId, Withheld], cell: CellId
             ) -> list[dict[CellId, Withheld]]:
    """What may be hidden for a cell, least first. For a figure of context: the cells
    adding up to it in the tables being audited, then the same in the other sources'
    tables, then those tables whole. For a cell being audited: itself; its lines whose
    total context releases; the same lines in the other sources' tables; with the shown
    zeros of those tables; both its lines in full; its tables whole."""
    hide = Withheld.HIDDEN
    if cell[0] in model.fixed:
        members = {c: hide for mirror in _stand_ins(model, cell)
                   for c in _members(model, mirror) if _hideable(model, withheld, c)}
        if not members:
            return []
        return [members, {**members, **_kin_lines(model, withheld, members)},
                _whole_tables(model, withheld, members)]
    if not _hideable(model, withheld, cell):
        return []
    own = _lines_to_hide(model, withheld, cell)
    lines = {**own, **_kin_lines(model, withheld, own)}
    cross = {c: hide for axis in range(len(cell[1])) for c in _line(model, cell, axis)
             if _hideable(model, withheld, c)}
    whole = _whole_tables(model, withheld, {cell: hide})
    zeros = {c: hide for c in whole if c not in withheld and model.values[c] == 0}
    return [{cell: hide}, own, lines, {**lines, **zeros},
            {**cross, **_kin_lines(model, withheld, cross), **zeros}, whole]


def _whole_tables(model: Model, withheld: Mapping[CellId, Withheld],
                  cells: Mapping[CellId, Withheld]) -> dict[CellId, Withheld]:
    """Every cell of the tables holding ``cells``, and of the other sources' tables of
    the same shape: where its lines leave a cell pinned by the lines crossing them (a
    channel that no country but "unknown" uses: its shown zeros elsewhere and the rule
    that a named category has at least k people pin it)."""
    names = {name for name, _ in cells}
    names |= {kin for name in list(names) for kin in model.kin[name]}
    return {c: Withheld.HIDDEN for c in model.cells
            if c[0] in names and _hideable(model, withheld, c)}


def _hideable(model: Model, withheld: Mapping[CellId, Withheld], cell: CellId) -> bool:
    """Whether a cell may lose its mark: it belongs to a table being audited, is not a
    figure context gives (a mirror), and is not hidden already."""
    return (cell[0] not in model.fixed and cell not in model.mirrors
            and withheld.get(cell) is not Withheld.HIDDEN)


def _line(model: Model, cell: CellId, axis: int) -> list[CellId]:
    """The cells of the cell's table equal to it except along ``axis``, itself included."""
    name, key = cell
    return [other for other in model.cells if other[0] == name
            and other[1][:axis] == key[:axis] and other[1][axis + 1:] == key[axis + 1:]]


def _members(model: Model, margin: CellId) -> list[CellId]:
    """The cells a margin adds up, along each of its total axes."""
    return [other for axis, category in enumerate(margin[1]) if category == TOTAL
            for other in _line(model, margin, axis) if other != margin]


def _kin_lines(model: Model, withheld: Mapping[CellId, Withheld],
               lines: Mapping[CellId, Withheld]) -> dict[CellId, Withheld]:
    """The same cells in the other sources' tables (cases beside contacts): a ``<k`` case
    still says its contact is at least 1."""
    return {(kin, key): Withheld.HIDDEN for name, key in lines for kin in model.kin[name]
            if (kin, key) in model.cells and _hideable(model, withheld, (kin, key))}


def _lines_to_hide(model: Model, withheld: Mapping[CellId, Withheld], cell: CellId
                   ) -> dict[CellId, Withheld]:
    """The cell and the cells of each of its lines whose total context releases."""
    name, key = cell
    line = [cell]
    for axis, category in enumerate(key):
        margin = (name, (*key[:axis], TOTAL, *key[axis + 1:]))
        if category != TOTAL and margin in model.mirrors:
            line += _line(model, cell, axis)
    return {c: Withheld.HIDDEN for c in line if _hideable(model, withheld, c)}


def _harmonise(release: Release, model: Model) -> tuple[dict[CellId, Withheld], set[CellId]]:
    """A figure that context already releases is shown, or withheld, as context has it:
    withholding it again protects nothing, showing what context withholds gives it away."""
    withheld = _withheld(release)
    added = {cell: withheld[twin] for cell, twin in model.mirrors.items() if twin in withheld}
    shown = {cell for cell, twin in model.mirrors.items()
             if twin not in withheld and cell in withheld}
    return added, shown


def _withheld(release: Release) -> dict[CellId, Withheld]:
    return {(part.name, key): kind for part in release.parts
            for key, kind in part.withheld.items()}


# --- the model ------------------------------------------------------------------------

def build(release: Release, k: int) -> Model:
    """Atoms, cells as sums of atoms, and every public relation the true figures satisfy."""
    model = Model()
    blocks = _blocks(release.parts)
    for part in release.parts:
        _add_part(model, part, blocks[part.group])
    model.fixed = {part.name for part in release.parts if part.fixed}
    model.kin = {part.name: [other.name for other in release.parts if other is not part
                             and (other.group, other.period) == (part.group, part.period)]
                 for part in release.parts}
    atoms = _atoms_by_part(model)
    _add_below(model, release, atoms)
    _add_same_people(model, release.parts)
    _add_margins(model, release.parts, atoms)
    _add_rare_rule(model, release.parts, blocks, atoms, k)
    model.relations = [r for r in model.relations if _holds(r, model.truth)]
    return model


def _blocks(parts: list[Part]) -> dict[tuple[str, ...], list[list[str]]]:
    """Per dimension: each category some part lists by name, then REST; per question, its
    dimensions' blocks. Tables by the same dimension share blocks, so that their figures
    can be related atom by atom."""
    named: dict[str, set[str]] = defaultdict(set)
    for part in parts:
        for dimension, listed in zip(part.group, part.categories, strict=True):
            named[dimension].update(c for c in listed if c != OTHER)
    return {part.group: [[*sorted(named[d]), REST] for d in part.group] for part in parts}


def _covered(listed: list[str], blocks: list[str]) -> dict[str, list[str]]:
    """The blocks each listed category stands for: itself, or (OTHER) every block not
    listed; TOTAL all of them."""
    mapping = {c: [c] for c in listed if c != OTHER}
    if OTHER in listed:
        mapping[OTHER] = [b for b in blocks if b not in mapping]
    mapping[TOTAL] = [b for names in mapping.values() for b in names]
    return mapping


def _add_part(model: Model, part: Part, blocks: list[list[str]]) -> None:
    covers = [_covered(listed, axis) for listed, axis in zip(part.categories, blocks,
                                                             strict=True)]
    for key, n in part.fine.items():
        atom = (part.name, *[c if c in b else REST for c, b in zip(key, blocks, strict=True)])
        model.truth[atom] = model.truth.get(atom, 0) + n
    total = (TOTAL,) * len(blocks)
    persons = (part.name, PERSONS)
    for key, value in part.table.items():
        if not part.additive and key == total:
            atoms: list[Atom] = [persons]
            model.truth[persons] = value
        else:
            atoms = [(part.name, *combo) for combo in _product(
                [cover.get(c, []) for cover, c in zip(covers, key, strict=True)])]
        for atom in atoms:
            model.truth.setdefault(atom, 0)
        model.cells[(part.name, key)] = tuple(atoms)
        model.values[(part.name, key)] = value
    if not part.additive:  # each answer at most everyone, all answers at least everyone
        answers = [a for a in model.truth if a[0] == part.name and a != persons]
        model.relations += [Relation(((a, 1), (persons, -1)), -math.inf, 0) for a in answers]
        model.relations.append(Relation(((persons, 1), *[(a, -1) for a in answers]),
                                        -math.inf, 0))


def _product(axes: list[list[str]]) -> list[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for axis in axes:
        combos = [(*combo, value) for combo in combos for value in axis]
    return combos


def _atoms_by_part(model: Model) -> dict[Hashable, list[Atom]]:
    found: dict[Hashable, list[Atom]] = defaultdict(list)
    for atom in model.truth:
        found[atom[0]].append(atom)
    return found


def _add_below(model: Model, release: Release, atoms: Mapping[Hashable, list[Atom]]) -> None:
    """Cases <= contacts, atom by atom and in total, for the same question and scope."""
    index = {(p.group, p.period, p.source): p for p in release.parts}
    for part in release.parts:
        for smaller, larger in release.below:
            if part.source != smaller:
                continue
            other = index.get((part.group, part.period, larger))
            if other is None:
                continue
            for atom in atoms[part.name]:
                twin = (other.name, *atom[1:])
                if twin in model.truth:
                    model.relations.append(Relation(((atom, 1), (twin, -1)), -math.inf, 0))
            model.relations.append(_difference(model, _total(part), _total(other),
                                               -math.inf, 0))


def _total(part: Part) -> CellId:
    return (part.name, (TOTAL,) * len(part.categories))


def _difference(model: Model, first: CellId, second: CellId, low: float,
                high: float) -> Relation:
    """``low <= first - second <= high`` over their atoms."""
    terms: dict[Atom, int] = defaultdict(int)
    for atom in model.cells.get(first, ()):
        terms[atom] += 1
    for atom in model.cells.get(second, ()):
        terms[atom] -= 1
    return Relation(tuple((a, c) for a, c in terms.items() if c), low, high)


def _add_same_people(model: Model, parts: list[Part]) -> None:
    """Tables of one source and period count the same people: the same total."""
    by_scope: dict[tuple[str, str], list[Part]] = defaultdict(list)
    for part in parts:
        by_scope[(part.source, part.period)].append(part)
    for same in by_scope.values():
        for first, second in pairwise(same):
            model.relations.append(_difference(model, _total(first), _total(second), 0, 0))


def _add_margins(model: Model, parts: list[Part], atoms: Mapping[Hashable, list[Atom]]) -> None:
    """Tables of the same people that share dimensions have the same margins over them: a
    table by country is the margin of one by country and language, and the tables by
    country and language and by language and need both give the people per language."""
    for first, second in _sharing(parts):
        common = [d for d in first.group if d in second.group]
        by_first = _by_common(first, common, atoms)
        by_second = _by_common(second, common, atoms)
        for categories in by_first.keys() | by_second.keys():
            terms = [(a, 1) for a in by_first.get(categories, [])]
            terms += [(a, -1) for a in by_second.get(categories, [])]
            model.relations.append(Relation(tuple(terms), 0, 0))
        if first.fixed != second.fixed:
            fixed, other = (first, second) if first.fixed else (second, first)
            _add_mirrors(model, fixed, other, {first.name: by_first, second.name: by_second})


def _sharing(parts: list[Part]) -> list[tuple[Part, Part]]:
    return [(first, second) for i, first in enumerate(parts) for second in parts[i + 1:]
            if first.source == second.source and first.period == second.period
            and first.additive and second.additive and first.group != second.group
            and set(first.group) & set(second.group)]


def _by_common(part: Part, common: list[str], atoms: Mapping[Hashable, list[Atom]]
               ) -> dict[tuple[Hashable, ...], list[Atom]]:
    """The part's atoms by their categories of the ``common`` dimensions."""
    axes = [part.group.index(d) for d in common]
    found: dict[tuple[Hashable, ...], list[Atom]] = defaultdict(list)
    for atom in atoms[part.name]:
        found[tuple(atom[1 + i] for i in axes)].append(atom)
    return found


def _add_mirrors(model: Model, fixed: Part, other: Part,
                 by_common: Mapping[Hashable, dict[tuple[Hashable, ...], list[Atom]]]) -> None:
    """Cells of a part being audited that are the same figure as a cell of a fixed one:
    both the sum of everyone in the same categories of the dimensions they share
    (``by_common``: each part's atoms by those categories)."""
    def margins(part: Part) -> dict[frozenset[tuple[Hashable, ...]], list[Key]]:
        groups = by_common[part.name]
        common_of = {atom: common for common, members in groups.items() for atom in members}
        found: dict[frozenset[tuple[Hashable, ...]], list[Key]] = defaultdict(list)
        for key in sorted(part.table, key=lambda key: key in part.withheld):  # shown first
            mine = model.cells[(part.name, key)]
            over = frozenset(map(common_of.__getitem__, mine))
            if len(mine) == sum(len(groups[c]) for c in over):  # all of them: a margin
                found[over].append(key)
        return found

    shown = margins(fixed)
    for over, keys in margins(other).items():
        for key in keys:
            twin = next((t for t in shown.get(over, [])
                         if fixed.table[t] == other.table[key]), None)
            if twin is not None:
                model.mirrors.setdefault((other.name, key), (fixed.name, twin))


def _add_rare_rule(model: Model, parts: list[Part],
                   blocks: Mapping[tuple[str, ...], list[list[str]]],
                   atoms: Mapping[Hashable, list[Atom]], k: int) -> None:
    """In a period, a category listed by name has at least k people; one that a table
    folds into other (another table of the question lists it) at most k-1."""
    series: dict[tuple[tuple[str, ...], str, str], list[Part]] = defaultdict(list)
    for part in parts:
        if part.folded:
            series[(part.group, part.source, part.period)].append(part)
    for (group, _, _), members in series.items():
        for axis, axis_blocks in enumerate(blocks[group]):
            per_block: dict[Hashable, list[Atom]] = defaultdict(list)
            for part in members:
                for atom in atoms[part.name]:
                    if atom[1] != PERSONS:
                        per_block[atom[axis + 1]].append(atom)
            for block in axis_blocks:
                if block in (REST, UNKNOWN) or not per_block[block]:
                    continue
                listed = block in members[0].categories[axis]
                model.relations.append(Relation(tuple((a, 1) for a in per_block[block]),
                                                k if listed else 0,
                                                math.inf if listed else k - 1))


def _holds(relation: Relation, truth: Mapping[Atom, int]) -> bool:
    value = sum(c * truth.get(a, 0) for a, c in relation.terms)
    return relation.low <= value <= relation.high


# --- the audit ------------------------------------------------------------------------

def audit(model: Model, withheld: Mapping[CellId, Withheld], k: int, level: int,
          settled: Set[CellId] = frozenset(), targets: Mapping[CellId, int] | None = None
          ) -> tuple[list[CellId], list[CellId]]:
    """Withheld cells whose feasible range holds fewer than ``level`` whole numbers (those
    ``settled`` wide already are not checked), and shown cells to withhold outright where a
    programme has no solution (fail closed)."""
    narrow: list[CellId] = []
    fallback: list[CellId] = []
    for cells, relations in _components(model, withheld):
        if all(c in settled for c in cells if c in withheld):
            continue
        try:
            narrow += _audit_component(model, cells, relations, withheld, k, level,
                                       settled, targets or {})
        except Infeasible:
            logger.error("interval audit: the figures fit no table; withholding the rest "
                         "of the component")
            narrow += [c for c in cells if c in withheld]
            fallback += [c for c in cells if c not in withheld and model.values[c] > 0
                         and c[0] not in model.fixed]
    return narrow, fallback


def _components(model: Model, withheld: Mapping[CellId, Withheld]
                ) -> list[tuple[list[CellId], list[Relation]]]:
    """Cells and relations of parts that relations join, grouped; only groups with a
    withheld cell. Parts, not atoms, are joined: a part's total is the sum of all its
    atoms (of several answers per person, each answer is at most its persons), so its
    cells are one group already, and joining tens of thousands of atoms one by one was
    a third of an audit's time."""
    parent: dict[Hashable, Hashable] = {}

    def find(name: Hashable) -> Hashable:
        root = name
        while parent.get(root, root) != root:
            root = parent[root]
        while name != root:
            name, parent[name] = parent.get(name, name), root
        return root

    for relation in model.relations:
        names = {atom[0] for atom, _ in relation.terms}
        if len(names) > 1:
            first, *rest = [find(name) for name in names]
            for root in rest:
                if root != first:
                    parent[root] = first
    root_of = {name: find(name) for name in {atom[0] for atom in model.truth}}
    groups: dict[Hashable, tuple[list[CellId], list[Relation]]] = defaultdict(lambda: ([], []))
    for cell, atoms in model.cells.items():
        if atoms:
            groups[root_of[cell[0]]][0].append(cell)
    for relation in model.relations:
        if relation.terms:
            groups[root_of[relation.terms[0][0][0]]][1].append(relation)
    return [group for group in groups.values() if any(c in withheld for c in group[0])]


def _bounds(kind: Withheld | None, value: int, k: int) -> tuple[float, float]:
    return (value, value) if kind is None else mark_range(kind, k)


class Infeasible(RuntimeError):
    """The shown figures and relations admit no table: the model is wrong somewhere."""


class _Programme:
    """One component as ``linprog`` wants it (sparse); extremes of withheld cells."""

    def __init__(self, model: Model, cells: list[CellId], relations: list[Relation],
                 withheld: Mapping[CellId, Withheld], k: int) -> None:
        atoms = sorted({a for c in cells for a in model.cells[c]}
                       | {a for r in relations for a, _ in r.terms}, key=repr)
        self.index = {a: i for i, a in enumerate(atoms)}
        self.unknown = [c for c in cells if c in withheld]
        rows: list[tuple[Iterable[tuple[Atom, int]], float, float]] = [
            ([(a, 1) for a in model.cells[c]], *_bounds(withheld.get(c), model.values[c], k))
            for c in cells]
        rows += [(r.terms, r.low, r.high) for r in relations]
        equal: list[tuple[Iterable[tuple[Atom, int]], float]] = []
        upper: list[tuple[Iterable[tuple[Atom, int]], float, int]] = []
        for terms, low, high in rows:
            if low == high:
                equal.append((terms, low))
                continue
            if high < math.inf:
                upper.append((terms, high, 1))
            if low > -math.inf:
                upper.append((terms, -low, -1))
        self.a_eq, self.b_eq = self._matrix([(t, 1) for t, _ in equal], [b for _, b in equal])
        self.a_ub, self.b_ub = self._matrix([(t, s) for t, _, s in upper],
                                            [b for _, b, _ in upper])
        self.objectives = self._matrix([([(a, 1) for a in model.cells[c]], 1)
                                        for c in self.unknown], [0.0] * len(self.unknown))[0]
        self.truth = np.array([model.truth[a] for a in atoms], dtype=float)

    def _matrix(self, rows: list[tuple[Iterable[tuple[Atom, int]], int]],
                bounds: list[float]) -> tuple[Any, Any]:
        if not rows:
            return None, None
        data, columns, pointers = [], [], [0]
        for terms, sign in rows:
            for atom, coefficient in terms:
                data.append(sign * coefficient)
                columns.append(self.index[atom])
            pointers.append(len(data))
        matrix = csr_matrix((np.array(data, dtype=float), np.array(columns, dtype=np.int64),
                             np.array(pointers, dtype=np.int64)),
                            shape=(len(rows), len(self.index)))
        return matrix, np.array(bounds, dtype=float)

    def values(self, point: np.ndarray) -> np.ndarray:
        """Every withheld cell's value at a point, in ``unknown``'s order."""
        return np.asarray(self.objectives @ point)

    def solve_all(self, sign: int, which: list[bool]) -> np.ndarray | None:
        """A point where the chosen unknowns are together largest (1) or smallest (-1)."""
        weights = np.asarray(which, dtype=float)
        if not weights.any():
            return None
        objective = -sign * np.asarray(self.objectives.T @ weights).ravel()
        result = linprog(objective, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq,
                         b_eq=self.b_eq, bounds=(0, None), method="highs")
        return np.asarray(result.x) if result.status == 0 else None

    def solve(self, position: int, sign: int) -> tuple[float, np.ndarray | None]:
        """Largest (sign 1) or smallest (-1) value of the unknown at ``position``, and a
        point reaching it."""
        objective = -sign * self.objectives.getrow(position).toarray().ravel()
        result = linprog(objective, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq,
                         b_eq=self.b_eq, bounds=(0, None), method="highs")
        if result.status == 3:  # unbounded: no largest value
            return sign * math.inf, None
        if result.status != 0:
            raise Infeasible(str(result.message))
        return -sign * float(result.fun), np.asarray(result.x)


def _audit_component(model: Model, cells: list[CellId], relations: list[Relation],
                     withheld: Mapping[CellId, Withheld], k: int, level: int,
                     settled: Set[CellId] = frozenset(),
                     targets: Mapping[CellId, int] | None = None) -> list[CellId]:
    """Cells too narrow. Every solution found is a feasible table, so it widens what is
    known of every other cell too: most cells need neither of their two programmes."""
    programme = _Programme(model, cells, relations, withheld, k)
    levels = [(targets or {}).get(c, level) for c in programme.unknown]
    start = programme.values(programme.truth)
    low, high = start.copy(), start.copy()
    # Programmes that push every open cell at once, up then down, while they settle some:
    # far cheaper than two programmes per cell.
    for _ in range(PUSHES):
        open_ = [c not in settled and not _wide(lo, hi, n)
                 for c, lo, hi, n in zip(programme.unknown, low, high, levels, strict=True)]
        before = sum(open_)
        for sign in (1, -1):
            point = programme.solve_all(sign, open_)
            if point is not None:
                found = programme.values(point)
                low, high = np.minimum(low, found), np.maximum(high, found)
        after = sum(c not in settled and not _wide(lo, hi, n)
                    for c, lo, hi, n in zip(programme.unknown, low, high, levels, strict=True))
        if after == before or after == 0:
            break
    narrow = []
    for position, cell in enumerate(programme.unknown):
        if cell in settled:
            continue
        for sign in (1, -1):
            if _wide(low[position], high[position], levels[position]):
                break
            value, point = programme.solve(position, sign)
            if point is not None:
                found = programme.values(point)
                low, high = np.minimum(low, found), np.maximum(high, found)
            low[position], high[position] = (min(low[position], value),
                                             max(high[position], value))
        if not _wide(low[position], high[position], levels[position]):
            narrow.append(cell)
    return narrow


def _wide(low: float, high: float, level: int) -> bool:
    """The range, rounded inwards to whole numbers, holds at least ``level`` of them."""
    if math.isinf(high) or math.isinf(low):
        return True
    return bool(math.floor(high + TOLERANCE) - math.ceil(low - TOLERANCE) >= level - 1)


def _partners(model: Model, withheld: Mapping[CellId, Withheld],
              narrow: list[CellId]) -> tuple[list[CellId], list[CellId]]:
    """For each narrow cell, a shown non-zero cell of its closest line: the smallest
    margin summing it (its row before the grand total), or the same figure in the other
    source; inner cells before margins, then the smallest. One per line and round, so
    rows are extended side by side without withholding twice for one line."""
    atoms_of = {cell: frozenset(atoms) for cell, atoms in model.cells.items()}
    open_cells = [c for c in model.cells if c not in withheld and model.values[c] > 0
                  and c[0] not in model.fixed and c not in model.mirrors]
    twins = _twins(model)
    chosen: list[CellId] = []
    stuck: list[CellId] = []
    for cell in narrow:
        served = 0  # lines given a partner (or already given one this round)
        for subject, line in [(s, line) for s in _stand_ins(model, cell)
                              for line in _lines(s, atoms_of, twins)]:
            candidates = [c for c in open_cells if c != subject and (
                c in twins.get(subject, ()) or (c[0] == line[0]
                                                and atoms_of[c] <= atoms_of[line]
                                                and c != line))] + (
                [line] if line in open_cells else [])
            if not set(candidates).intersection(chosen) and candidates:
                chosen.append(min(candidates, key=lambda c: (TOTAL in c[1], model.values[c],
                                                             repr(c))))
            served += bool(candidates)
            if served == LINES_PER_ROUND:
                break
        if not served:
            stuck.append(cell)
    return chosen, stuck


def _stand_ins(model: Model, cell: CellId) -> list[CellId]:
    """The cell, or for a figure of context, the cells of the audited tables showing it:
    what context shows cannot change, but what surrounds it there can."""
    if cell[0] not in model.fixed:
        return [cell]
    return [mirror for mirror, twin in model.mirrors.items() if twin == cell]


def _lines(cell: CellId, atoms_of: Mapping[CellId, frozenset[Atom]],
           twins: Mapping[CellId, set[CellId]]) -> list[CellId]:
    """Margins of the cell's table that sum it, the smallest first (the cell itself first:
    its own twins and, for a margin, its members)."""
    mine = atoms_of[cell]
    enclosing = [c for c, atoms in atoms_of.items() if c[0] == cell[0] and mine <= atoms]
    enclosing += [t for twin in twins.get(cell, ()) for t in [twin]]
    return sorted(set(enclosing), key=lambda c: (len(atoms_of[c]), c != cell, repr(c)))


def _twins(model: Model) -> dict[CellId, set[CellId]]:
    """Cells of another part tied to a cell by a relation over the same categories (cases
    and contacts of one key, a table and its margin elsewhere)."""
    owner: dict[Atom, list[CellId]] = defaultdict(list)
    for cell, atoms in model.cells.items():
        if len(atoms) == 1:
            owner[atoms[0]].append(cell)
    twins: dict[CellId, set[CellId]] = defaultdict(set)
    for relation in model.relations:
        if len(relation.terms) != 2:
            continue
        (first, _), (second, _) = relation.terms
        for a in owner.get(first, []):
            for b in owner.get(second, []):
                twins[a].add(b)
                twins[b].add(a)
    return twins
