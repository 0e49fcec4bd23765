"""Differencing over a filter: a partner holding both the dashboard (everyone) and a
consented export (only cases with reporting consent, and their contacts) subtracts one
from the other. The difference is the people who did not consent; where it is 1 to k-1 it
must stay as uncertain as any withheld cell."""

from datetime import date

import pytest

from app.stats import service
from tests.stats.people import add_people
from tests.stats.test_intervals import (
    LEVEL,
    OTHER,
    SOURCES,
    TOTAL,
    _below,
    _extreme,
    _listed,
    _margins,
    _shared,
    _width,
    bounds_of,
)

pytestmark = pytest.mark.usefixtures("demo_directory")
TODAY = date(2026, 4, 15)
# (country, language) -> (people who consented, people who did not); all in March.
PEOPLE = {("KZ", "kk"): (14, 2), ("UZ", "uz"): (20, 0), ("TJ", "tg"): (15, 12)}
CONSENTED = " (consented)"


def released(session, settings, group_by: str, consented: bool) -> dict:
    query = service.parse(group_by, date(2026, 3, 1), date(2026, 3, 31), None, TODAY,
                          settings.stats_max_months, settings.stats_settle_days)
    found = service.release(session, query, settings, consented_only=consented)
    names = query.dimensions
    suffix = CONSENTED if consented else ""
    return {(names, source + suffix): found["tables"][source]["rows"] for source in SOURCES}


def differences(tables: dict, k: int) -> dict:
    """Each figure of everyone less the consented figure of the same cell, as narrow as an
    attacker's linear programme over both releases gets it."""
    cells, bounds = {}, []
    for (dims, source), rows in tables.items():
        for row in rows:
            cells[(dims, source, row["period"], tuple(row[d] for d in dims))] = len(bounds)
            bounds.append(bounds_of(row, k))
    equal, upper = [], []
    for cell in list(cells):
        equal += _margins(cell, cells) + _shared(cell, cells)
        dims, source, period, key = cell
        upper += _below(cell, cells)
        cases_of = (dims, "contacts" + CONSENTED, period, key)  # cases <= contacts here too
        if source == "cases" + CONSENTED and cases_of in cells and OTHER not in key:
            upper.append(({cell: 1, cases_of: -1}, 0))
        # A consented table lists the categories everyone's lists: at least k people
        # there, any number here.
        upper += [] if source.endswith(CONSENTED) else _listed(cell, cells, k)
        twin = (dims, source.removesuffix(CONSENTED), period, key)
        if source.endswith(CONSENTED) and twin in cells and OTHER not in key:
            gap = ("gap", *twin)
            cells[gap] = len(bounds)
            bounds.append((0, None))
            equal.append(({gap: 1, twin: -1, cell: 1}, 0))
    return {cell[1:]: tuple(_extreme(index, sign, cells, bounds, equal, upper)
                            for sign in (-1, 1))
            for cell, index in cells.items() if cell[0] == "gap"}


def add(session, people: dict = PEOPLE) -> None:
    for (country, language), (agreed, refused) in people.items():
        add_people(session, agreed, day="2026-03-10", country=country, language=language,
                   consent=True)
        add_people(session, refused, day="2026-03-11", country=country, language=language)
    session.commit()


@pytest.mark.parametrize("group_by", ["country", "language", "country,language"])
def test_a_consented_export_and_the_dashboard_do_not_give_away_who_did_not_consent(
        session, settings, group_by):
    add(session)
    tables = {**released(session, settings, group_by, consented=False),
              **released(session, settings, group_by, consented=True)}
    if group_by != "country":  # the table by country is released with every table
        tables.update(released(session, settings, "country", consented=False))
        tables.update(released(session, settings, "country", consented=True))
    names = tuple(group_by.split(","))
    found = differences(tables, settings.stats_k)
    narrow = {}
    for (dims, source, _period, key), span in found.items():
        refused = _true_refused(dims, key)
        if dims == names and 0 < refused < settings.stats_k and _width(span) < LEVEL - 1:
            narrow[(source, key)] = (refused, span)
    assert narrow == {}
    # Not withheld wholesale: everyone's figures are shown, and the consented ones where
    # everyone consented (20 Uzbek speakers in Uzbekistan).
    for source in ("cases", "cases" + CONSENTED):
        shown = [row["value"] for row in tables[(names, source)] if row["withheld"] is None]
        assert 20 in shown, (source, tables[(names, source)])


def _true_refused(dims: tuple[str, ...], key: tuple[str, ...]) -> int:
    wanted = dict(zip(dims, key, strict=True))
    return sum(refused for (country, language), (_, refused) in PEOPLE.items()
               if wanted.get("country", TOTAL) in (country, TOTAL)
               and wanted.get("language", TOTAL) in (language, TOTAL))


@pytest.mark.parametrize("group_by", ["country", "language"])
def test_a_consented_figure_beside_a_withheld_one_of_everyones_is_withheld(
        session, settings, group_by):
    """Seven Russian speakers in Russia, five of whom consented: everyone's figure is
    withheld (fewer than 10), and a consented figure shown beside it would bound it from
    below. So is every figure of everyone's withheld for a complementary reason."""
    add(session, {**PEOPLE, ("RU", "ru"): (5, 2)})
    tables = {**released(session, settings, group_by, consented=False),
              **released(session, settings, group_by, consented=True)}
    dims = (group_by,)
    for source in SOURCES:
        consented = {row[group_by]: row for row in tables[(dims, source + CONSENTED)]}
        withheld = [row for row in tables[(dims, source)] if row["withheld"]]
        assert withheld
        for row in withheld:
            twin = consented[row[group_by]]
            assert twin["withheld"] or twin["value"] == 0, (source, row, twin)
