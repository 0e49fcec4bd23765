"""National lines in the directory file, and `hotline directory export` reading back."""

import os

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app import countries, db
from app.config import get_settings
from app.organisations.models import NationalLine, OpeningException, OpeningHours, Organisation
from app.organisations.service import DEMO_DIRECTORY, DirectoryError, validate_directory
from app.routing import cache
from app.routing.snapshot import Directory, HotlineNumber
from tests.test_cli import hotline  # noqa: F401 - the fixture

LINE = {"number": "+77270000901", "country": "KZ", "languages": ["kk", "ru"]}


def demo(**changes: object) -> dict:
    raw = yaml.safe_load(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    return raw | changes


def problems(raw: dict) -> list[str]:
    with pytest.raises(DirectoryError) as raised:
        validate_directory(raw, source="lines.yaml")
    return raised.value.problems


def test_the_demo_has_one_line_per_country_with_its_languages_in_order():
    lines = validate_directory(demo()).lines
    assert sorted(line.country for line in lines) == sorted(countries.LIKELY_LANGUAGES)
    afghan = next(line for line in lines if line.country == "AF")
    assert afghan.languages[:2] == ["prs", "ps"]
    for line in lines:
        assert line.languages == list(countries.LIKELY_LANGUAGES[line.country])


@pytest.mark.parametrize(("line", "names"), [
    (LINE | {"number": "12345"}, ["lines[0] (number '12345')", "number", "international"]),
    (LINE | {"country": "XX"}, ["lines[0]", "country", "'XX'"]),
    (LINE | {"languages": ["kk", "de"]}, ["lines[0]", "languages", "'de'"]),
    (LINE | {"languages": []}, ["lines[0]", "languages"]),
    (LINE | {"sms_sender": "MG123"}, ["lines[0]", "sms_sender", "'MG123'"]),
])
def test_a_bad_line_is_refused_and_named(line, names):
    [problem] = problems(demo(lines=[line]))
    assert all(name in problem for name in names), problem


def test_a_number_given_twice_is_refused_even_written_differently():
    [problem] = problems(demo(lines=[LINE, LINE | {"number": "+7 727 000 0901"}]))
    assert "'+77270000901' appears twice" in problem


def test_a_line_may_reply_from_a_messaging_service_and_carry_a_label():
    service = "MG" + "a" * 32
    [line] = validate_directory(demo(lines=[LINE | {"sms_sender": service,
                                                    "label": "Almaty"}])).lines
    assert (line.sms_sender, line.label) == (service, "Almaty")


def test_the_saved_snapshot_keeps_the_lines(tmp_path):
    """A process started while the database is down still knows the lines."""
    line = HotlineNumber("+77270000901", "KZ", ("kk", "ru"), "MG" + "a" * 32, "Almaty")
    cache.write(tmp_path / "directory.json", Directory((), lines=(line,)))
    assert cache.read(tmp_path / "directory.json").line("+77270000901") == line


def directory_rows(url: str) -> list[tuple]:
    """Everything the directory file sets, without ids and timestamps."""
    engine = create_engine(url)
    with Session(engine) as session:
        orgs = [(o.slug, o.name, o.country, o.timezone, o.always_open, o.is_hub, o.priority,
                 o.services, o.languages, o.duty_numbers, o.ring_mode, o.active,
                 o.require_2fa,
                 [(h.weekday, h.opens_at, h.closes_at) for h in o.hours],
                 [(e.day, e.closed, e.intervals, e.name) for e in o.exceptions])
                for o in session.scalars(select(Organisation).order_by(Organisation.slug))]
        lines = [(n.number, n.country, n.languages, n.sms_sender, n.label, n.active)
                 for n in session.scalars(select(NationalLine).order_by(NationalLine.number))]
        counts = (len(list(session.scalars(select(OpeningHours)))),
                  len(list(session.scalars(select(OpeningException)))))
    engine.dispose()
    return [*orgs, *lines, counts]


def test_export_reads_back_unchanged(hotline, database_factory, tmp_path,  # noqa: F811
                                     monkeypatch):
    raw = demo()
    raw["organisations"][0] |= {"require_2fa": True, "ring": "in_order", "exceptions": {
        "2027-01-01": "closed", "2027-01-02": {"name": "Short day", "open": ["10:00-14:00"]},
        "2027-03-21/2027-03-22": {"closed": ["09:00-12:00"]}, "2027-05-01": ["20:00-02:00"],
        "2027-05-09": {"name": "Victory Day", "closed": True}}}
    raw["lines"].append(LINE | {"sms_sender": "+77270000902", "label": "Almaty test"})
    source = tmp_path / "source.yaml"
    source.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    first_url = os.environ["HOTLINE_DATABASE_URL"]
    assert hotline("migrate")[0] == 0
    assert hotline("directory", "import", str(source))[0] == 0
    exported = tmp_path / "exported.yaml"
    assert hotline("directory", "export", str(exported))[0] == 0

    second_url = database_factory.create()
    db.upgrade(second_url)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", second_url)
    get_settings.cache_clear()
    assert hotline("directory", "import", str(exported))[0] == 0
    code, again, _ = hotline("directory", "export")  # to stdout
    assert code == 0
    assert again == exported.read_text(encoding="utf-8")
    assert directory_rows(first_url) == directory_rows(second_url)
    [org] = [o for o in yaml.safe_load(again)["organisations"]
             if o["id"] == raw["organisations"][0]["id"]]
    assert (org["require_2fa"], org["ring"]) == (True, "in_order")
