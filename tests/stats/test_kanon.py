"""k-anonymisation of case-level exports: what a released file guarantees."""

import math
import random
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cases.screening import AgeBand, Gender
from app.stats.kanon import QUASI_IDENTIFIERS, REGIONS, Anonymised, anonymise, generalise

GENDERS = [gender.value for gender in Gender]
AGE_BANDS = [band.value for band in AgeBand]
COUNTRIES = ["KZ", "KG", "TJ", "TM", "UZ", "AF", "IR", "AZ", "TR", "GE", "AM", "RU", "DE", ""]
YEARS = ["2025", "2026"]


def case(number: int, **fields: str) -> dict[str, str]:
    row = {"case": str(number), "gender": "Feminine", "age_band": "21-23",
           "citizenship": "KZ", "country_of_exploitation": "RU", "year": "2026",
           "exploitation": "ForcedLabour"}
    return row | fields


def random_cases(rnd: random.Random, count: int) -> list[dict[str, str]]:
    """Skewed like a helpline's cases: mostly Central Asian citizens exploited in Russia."""
    return [case(number, gender=rnd.choice(GENDERS[:2] * 4 + GENDERS),
                 age_band=rnd.choice(AGE_BANDS),
                 citizenship=rnd.choice(["KZ", "UZ", "TJ"] * 5 + COUNTRIES),
                 country_of_exploitation=rnd.choice(["RU", "KZ", "TR"] * 3 + COUNTRIES),
                 year=rnd.choice(YEARS), exploitation=rnd.choice(["A", "B", "C"]))
            for number in range(count)]


def allowed(share: float, count: int) -> int:
    return math.floor(share * count + 1e-9)


def qi(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[attr] for attr in QUASI_IDENTIFIERS)


def assert_k_anonymous(rows: list[dict[str, str]], k: int, share: float,
                       result: Anonymised) -> None:
    sizes = Counter(qi(row) for row in result.rows)
    assert all(size >= k for size in sizes.values())
    assert result.achieved_k == min(sizes.values(), default=None)
    assert result.suppressed + len(result.rows) == len(rows)
    if result.rows:
        assert result.suppressed <= allowed(share, len(rows))
    # Released rows are input rows (numbered in input order), in input order, with only
    # their QI columns generalised.
    numbers = [int(row["case"]) for row in result.rows]
    assert numbers == sorted(set(numbers))
    by_case = {row["case"]: row for row in rows}
    for released in result.rows:
        original = by_case[released["case"]]
        assert released == original | {
            attr: generalise(original[attr], attr, result.levels[attr])
            for attr in QUASI_IDENTIFIERS}


@pytest.mark.parametrize(("attribute", "value", "levels"), [
    ("gender", "Feminine", ["Feminine", "Woman", "*"]),
    ("gender", "TransgenderMasculine", ["TransgenderMasculine",
                                        "Trans/Transgender/NonConforming", "*"]),
    ("gender", "NonSpecifiedUnknown", ["NonSpecifiedUnknown", "Unknown", "*"]),
    ("age_band", "0-8", ["0-8", "0-17", "*"]),
    ("age_band", "9-17", ["9-17", "0-17", "*"]),
    ("age_band", "18-20", ["18-20", "18+", "*"]),
    ("age_band", "48+", ["48+", "18+", "*"]),
    ("age_band", "Unknown", ["Unknown", "Unknown", "*"]),
    ("citizenship", "TM", ["TM", "Central Asia", "*"]),
    ("citizenship", "IR", ["IR", "Afghanistan and Iran", "*"]),
    ("citizenship", "GE", ["GE", "Caucasus and Turkey", "*"]),
    ("citizenship", "RU", ["RU", "Russia", "*"]),
    ("citizenship", "DE", ["DE", "Other", "*"]),
    ("citizenship", "", ["", "", "*"]),
    ("country_of_exploitation", "TR", ["TR", "Caucasus and Turkey", "*"]),
    ("country_of_exploitation", "", ["", "", "*"]),
    ("year", "2026", ["2026", "*"]),
])
def test_generalisation_hierarchies(attribute: str, value: str, levels: list[str]) -> None:
    assert [generalise(value, attribute, level) for level in range(len(levels))] == levels
    with pytest.raises(ValueError, match="levels"):
        generalise(value, attribute, len(levels))


def test_region_map_covers_the_hotlines_countries() -> None:
    assert set(REGIONS) == {"KZ", "KG", "TJ", "TM", "UZ", "AF", "IR", "AZ", "TR", "GE", "AM", "RU"}


def test_generalise_rejects_unknown_attributes_and_values() -> None:
    with pytest.raises(ValueError, match="exploitation"):
        generalise("ForcedLabour", "exploitation", 1)
    with pytest.raises(ValueError):
        generalise("female", "gender", 1)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [2, 5, 10])
def test_random_exports_are_k_anonymous(seed: int, k: int) -> None:
    rnd = random.Random(seed)
    rows = random_cases(rnd, rnd.randrange(1, 400))
    share = rnd.choice([0.0, 0.05, 0.2])
    assert_k_anonymous(rows, k, share, anonymise(rows, k, share))


cases = st.lists(
    st.fixed_dictionaries({
        "gender": st.sampled_from(GENDERS), "age_band": st.sampled_from(AGE_BANDS),
        "citizenship": st.sampled_from(COUNTRIES),
        "country_of_exploitation": st.sampled_from(COUNTRIES), "year": st.sampled_from(YEARS),
        "notes": st.text(max_size=3)}),
    max_size=80)


@settings(max_examples=150, deadline=None)
@given(cases, st.integers(2, 12), st.sampled_from([0.0, 0.05, 0.1, 0.3]))
def test_any_export_is_k_anonymous(rows: list[dict[str, str]], k: int, share: float) -> None:
    rows = [row | {"case": str(number)} for number, row in enumerate(rows)]
    result = anonymise(rows, k, share)
    assert_k_anonymous(rows, k, share, result)
    # Nothing is generalised when suppression within the share is enough.
    recorded = Counter(qi(row) for row in rows)
    if len(rows) >= k and sum(n for n in recorded.values() if n < k) <= allowed(share, len(rows)):
        assert set(result.levels.values()) == {0}


def test_k_anonymous_data_comes_out_unchanged() -> None:
    rows = ([case(n) for n in range(5)] + [case(n, citizenship="TM") for n in range(5, 10)]
            + [case(n, gender="Masculine", year="2025") for n in range(10, 15)])
    result = anonymise(rows, 5)
    assert result == Anonymised(rows, dict.fromkeys(QUASI_IDENTIFIERS, 0), 5, 0)


def test_a_single_outlier_is_suppressed_when_the_share_allows() -> None:
    rows = [case(n) for n in range(30)] + [case(30, citizenship="TM")]
    result = anonymise(rows, 5)
    assert result.suppressed == 1
    assert result.levels == dict.fromkeys(QUASI_IDENTIFIERS, 0)
    assert result.rows == rows[:30]
    assert result.achieved_k == 30


def test_a_single_outlier_is_generalised_when_no_suppression_is_allowed() -> None:
    rows = [case(n) for n in range(30)] + [case(30, citizenship="TM")]
    result = anonymise(rows, 5, max_suppressed_share=0)
    assert result.suppressed == 0
    assert result.levels == dict.fromkeys(QUASI_IDENTIFIERS, 0) | {"citizenship": 1}
    assert [row["citizenship"] for row in result.rows] == ["Central Asia"] * 31
    assert result.achieved_k == 31


def test_very_few_rows_allow_no_suppression() -> None:
    # 5% of 19 rows rounds down to 0 rows, so the outlier is generalised instead.
    rows = [case(n) for n in range(18)] + [case(18, citizenship="TM")]
    assert anonymise(rows, 5).suppressed == 0
    rows.append(case(19))
    assert anonymise(rows, 5).suppressed == 1


def test_fewer_than_k_rows_releases_nothing() -> None:
    rows = [case(n) for n in range(4)]
    result = anonymise(rows, 5, max_suppressed_share=1)
    assert result.rows == []
    assert result.achieved_k is None
    assert result.suppressed == 4
    assert anonymise([], 5) == Anonymised([], result.levels, None, 0)


def test_other_columns_pass_through_and_order_is_kept() -> None:
    rows = [case(n, exploitation=f"note {n}", gender=gender)
            for n, gender in enumerate(["Feminine", "Masculine", "NonConforming"] * 3)]
    result = anonymise(rows, 4)
    assert result.levels["gender"] == 2
    assert [row["gender"] for row in result.rows] == ["*"] * 9
    assert [(row["case"], row["exploitation"]) for row in result.rows] == [
        (row["case"], row["exploitation"]) for row in rows]
    assert list(result.rows[0]) == list(rows[0])


@pytest.mark.parametrize("k", [1, 0, -3])
def test_k_below_two_is_rejected(k: int) -> None:
    with pytest.raises(ValueError, match="k must be at least 2"):
        anonymise([case(0), case(1)], k)


def test_rows_without_a_quasi_identifier_are_rejected() -> None:
    incomplete = case(1)
    del incomplete["country_of_exploitation"]
    with pytest.raises(ValueError, match="row 1 has no 'country_of_exploitation' column"):
        anonymise([case(0), incomplete], 2)


def test_ten_thousand_rows_take_well_under_a_second() -> None:
    rows = random_cases(random.Random(42), 10_000)
    started = time.perf_counter()
    result = anonymise(rows, 10)
    assert time.perf_counter() - started < 1
    assert result.achieved_k is not None
    assert result.achieved_k >= 10
