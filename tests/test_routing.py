"""The routing engine's ordering rules, as examples and as properties over random directories."""

from datetime import UTC, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

from app.routing.engine import Query, Tier, route
from app.routing.needs import NEED_SERVICES, Need
from app.routing.snapshot import Directory, Interval, Responder
from tests.factories import make_responder

# Monday 2026-11-23 at 11:00 in Almaty (UTC+5) and 09:00 in Moscow: offices are open.
WORKDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
# Sunday 2026-11-22 at 03:00 in Almaty: only 24/7 responders are open.
NIGHT = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)


def slugs(candidates: list) -> list[str]:
    return [c.slug for c in candidates]


def test_tajik_migrant_in_russia_gets_russian_responders_first_then_tajik_speakers():
    directory = Directory((
        make_responder("ru-ru-only", "RU", languages=("ru",), timezone="Europe/Moscow"),
        make_responder("ru-tg-legal", "RU", languages=("ru", "tg"), services=("legal_aid",),
                       timezone="Europe/Moscow"),
        make_responder("ru-tg-shelter", "RU", languages=("ru", "tg"), timezone="Europe/Moscow"),
        make_responder("tj-shelter", "TJ", languages=("tg",), timezone="Asia/Dushanbe"),
        make_responder("kz-hub", "KZ", languages=("ru", "tg"), hub=True, always_open=True),
        make_responder("tr-hub", "TR", languages=("tr",), hub=True, always_open=True),
        make_responder("az-other", "AZ", languages=("az",)),
    ))
    result = route(directory, Query("tg", "RU", Need.SHELTER, WORKDAY))
    assert slugs(result) == ["ru-tg-shelter", "ru-tg-legal", "ru-ru-only", "tj-shelter",
                             "kz-hub", "tr-hub"]
    assert [c.tier for c in result][-2:] == [Tier.HUB_LANGUAGE, Tier.HUB_ANY]
    assert "speaks tg" in result[0].reasons and "offers shelter" in result[0].reasons
    assert "does not speak tg" in result[2].reasons


def test_at_night_open_hubs_come_before_closed_local_responders():
    directory = Directory((
        make_responder("kz-office", "KZ", languages=("kk",)),
        make_responder("kz-hub", "KZ", languages=("kk",), hub=True, always_open=True),
    ))
    result = route(directory, Query("kk", "KZ", Need.LEGAL_AID, NIGHT))
    assert slugs(result) == ["kz-hub", "kz-office"]
    assert result[0].is_open and not result[1].is_open
    assert result[1].reasons[0] == "closed now; opens Mon 09:00 Asia/Almaty"


def test_overnight_shift_is_open_after_midnight_on_the_next_day():
    evening = (Interval(4, time(20), time(2)),)  # Friday 20:00 to Saturday 02:00
    responder = make_responder("ru-night", "RU", hours=evening, timezone="Europe/Moscow")
    saturday_0130_moscow = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)
    saturday_0230_moscow = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert responder.is_open(saturday_0130_moscow)
    assert not responder.is_open(saturday_0230_moscow)


def test_opening_hours_are_read_in_the_responders_own_time_zone():
    responder = make_responder("tj", "TJ", timezone="Asia/Dushanbe")  # UTC+5
    assert responder.is_open(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))  # 09:00 local
    assert not responder.is_open(datetime(2026, 11, 23, 3, 59, tzinfo=UTC))  # 08:59 local


def test_unknown_language_and_country_fall_back_to_open_hubs_only():
    directory = Directory((make_responder("kz-office", "KZ"),
                           make_responder("kz-hub", "KZ", hub=True, always_open=True)))
    assert slugs(route(directory, Query(None, None, None, WORKDAY))) == ["kz-hub"]


# --- properties ----------------------------------------------------------------------

COUNTRIES = ["KZ", "KG", "TJ", "RU", "TR"]
LANGUAGES = ["ru", "kk", "tg", "uz", "tr", "prs"]
SERVICES = ["shelter", "legal_aid", "psychosocial", "medical", "information"]
ZONES = ["Asia/Almaty", "Europe/Moscow", "Asia/Kabul", "Asia/Tehran", "UTC"]

clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))
intervals = st.builds(Interval, st.integers(0, 6), clock_times, clock_times)


@st.composite
def responders(draw: st.DrawFn, index: int) -> Responder:
    always_open = draw(st.booleans())
    return Responder(
        slug=f"org-{index}", name=f"org {index}", country=draw(st.sampled_from(COUNTRIES)),
        timezone=draw(st.sampled_from(ZONES)), always_open=always_open,
        is_hub=draw(st.booleans()), priority=draw(st.integers(0, 3)),
        services=frozenset(draw(st.sets(st.sampled_from(SERVICES), min_size=1))),
        languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1))),
        duty_numbers=("+77270000999",),
        hours=() if always_open else tuple(draw(st.lists(intervals, max_size=4))),
    )


directories = st.integers(0, 8).flatmap(
    lambda n: st.tuples(*(responders(i) for i in range(n))).map(Directory))
queries = st.builds(Query, st.none() | st.sampled_from(LANGUAGES),
                    st.none() | st.sampled_from(COUNTRIES), st.none() | st.sampled_from(Need),
                    st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31),
                                 timezones=st.just(UTC)))


def local_key(candidate, query: Query) -> tuple:
    r = candidate.responder
    wanted = NEED_SERVICES[query.need] if query.need else frozenset()
    return (r.country != query.country, query.language not in r.languages,
            not (wanted & r.services), r.priority)


@settings(max_examples=200, deadline=None)
@given(directories, queries)
def test_never_empty_while_a_24_7_hub_exists(directory: Directory, query: Query):
    if any(r.is_hub and r.always_open for r in directory.responders):
        result = route(directory, query)
        assert result and result[0].is_open


@settings(max_examples=200, deadline=None)
@given(directories, queries)
def test_open_candidates_come_first_and_each_appears_once(directory, query):
    result = route(directory, query)
    assert len(set(slugs(result))) == len(result)
    flags = [c.is_open for c in result]
    assert flags == sorted(flags, reverse=True)
    assert all(c.is_open == c.responder.is_open(query.at) for c in result)


@settings(max_examples=200, deadline=None)
@given(directories, queries)
def test_local_responders_ranked_country_language_need_priority(directory, query):
    result = route(directory, query)
    for is_open in (True, False):
        local = [c for c in result if c.tier is Tier.LOCAL and c.is_open is is_open]
        keys = [local_key(c, query) for c in local]
        assert keys == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(directories, queries)
def test_who_is_a_candidate(directory, query):
    result = {c.slug: c for c in route(directory, query)}
    for r in directory.responders:
        speaks = query.language in r.languages
        relevant = r.country == query.country or speaks
        if not r.is_hub:
            assert (r.slug in result) == relevant
        else:
            assert (r.slug in result) == (speaks or r.is_open(query.at))


@settings(max_examples=200, deadline=None)
@given(directories, queries)
def test_among_open_candidates_locals_then_language_hubs_then_any_hub(directory, query):
    tiers = [c.tier for c in route(directory, query) if c.is_open]
    order = [Tier.LOCAL, Tier.HUB_LANGUAGE, Tier.HUB_ANY]
    assert tiers == sorted(tiers, key=order.index)


@settings(max_examples=100, deadline=None)
@given(directories, queries)
def test_reasons_state_the_facts(directory, query):
    for c in route(directory, query):
        r = c.responder
        if query.language:
            speaks = query.language in r.languages
            assert (f"speaks {query.language}" in c.reasons) == speaks
            assert (f"does not speak {query.language}" in c.reasons) == (not speaks)
        if query.country:
            assert any(r.country in reason for reason in c.reasons)
        assert f"priority {r.priority}" in c.reasons
