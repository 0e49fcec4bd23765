"""Importing the responder directory: the demo file, validation messages, and atomicity."""

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.languages import LANGUAGES
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.organisations.service import DEMO_DIRECTORY, DirectoryError

COUNTRIES = {"KZ", "KG", "TJ", "TM", "UZ", "AF", "AZ", "IR", "RU", "TR"}


def entry(**overrides) -> dict:
    return {"id": "kz-test", "name": "Test org (demo)", "country": "KZ",
            "timezone": "Asia/Almaty", "hours": {"mon": ["09:00-18:00"]},
            "services": ["shelter"], "languages": ["kk", "ru"],
            "duty_numbers": ["+77270000555"]} | overrides


def write(tmp_path: Path, data: object, name: str = "directory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    return path


def test_demo_directory_covers_every_country_language_and_need():
    directory = organisations.read_directory_file(DEMO_DIRECTORY)
    orgs = directory.organisations
    assert {o.country for o in orgs} == COUNTRIES
    assert set(LANGUAGES) <= {lang for o in orgs for lang in o.languages}
    for country in COUNTRIES:
        services = {s for o in orgs if o.country == country for s in o.services}
        assert {"shelter", "legal_aid"} <= services, country
    assert any(o.hub and o.hours == "24/7" for o in orgs)
    numbers = [n for o in orgs for n in o.duty_numbers]
    assert len(numbers) == len(set(numbers))
    assert all("000" in n for n in numbers), "demo numbers must be visibly fictitious"


def test_import_creates_then_updates_without_duplicates(session, tmp_path):
    organisations.import_directory(session, organisations.read_directory_file(DEMO_DIRECTORY))
    count = len(organisations.list_organisations(session))
    report = organisations.import_directory(
        session, organisations.read_directory_file(DEMO_DIRECTORY))
    assert report.created == [] and len(report.updated) == count
    assert len(organisations.list_organisations(session)) == count


def test_import_stores_hours_languages_and_normalised_numbers(session, tmp_path):
    path = write(tmp_path, {"organisations": [entry(
        languages=["fa-AF", "ps"], duty_numbers=["+7 727 000 0555"],
        hours={"mon": ["09:00-13:00", "14:00-18:00"], "fri": ["20:00-02:00"]})]})
    organisations.import_directory(session, organisations.read_directory_file(path))
    org = session.scalars(select(Organisation).where(Organisation.slug == "kz-test")).one()
    assert org.languages == ["prs", "ps"]
    assert org.duty_numbers == ["+77270000555"]
    assert [(h.weekday, h.opens_at.hour, h.closes_at.hour) for h in org.hours] == [
        (0, 9, 13), (0, 14, 18), (4, 20, 2)]


def test_json_directories_are_accepted(session, tmp_path):
    path = write(tmp_path, {"organisations": [entry(hours="24/7", hub=True)]}, "dir.json")
    organisations.import_directory(session, organisations.read_directory_file(path))
    org = session.scalars(select(Organisation)).one()
    assert org.always_open and org.is_hub and org.hours == []


@pytest.mark.parametrize(("bad", "expected"), [
    ({"country": "XX"}, "organisations[1] (id 'kz-bad'): country: 'XX' is not an ISO 3166-1"),
    ({"timezone": "Asia/Nowhere"}, "timezone: 'Asia/Nowhere' is not an IANA time zone"),
    ({"languages": ["klingon"]}, "languages: not ISO 639 language codes: 'klingon'"),
    ({"duty_numbers": ["0727 000 0555"]}, "duty_numbers.0: '0727 000 0555' is not an intern"),
    ({"services": ["massage"]}, "services.0: Input should be 'shelter'"),
    ({"hours": {"mon": ["9-18"]}}, "hours: '9-18' is not an interval like '09:00-18:00'"),
    ({"hours": {"monday": ["09:00-18:00"]}}, "hours: unknown weekdays ['monday']"),
    ({"phone": "+77270000555"}, "phone: Extra inputs are not permitted"),
])
def test_a_bad_entry_is_named_with_its_field_and_nothing_changes(session, tmp_path, bad,
                                                                  expected):
    good = entry(id="kz-good")
    path = write(tmp_path, {"organisations": [good, entry(id="kz-bad") | bad]})
    with pytest.raises(DirectoryError) as caught:
        organisations.read_directory_file(path)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert organisations.list_organisations(session) == []


def test_duplicate_ids_and_unparseable_files_are_refused(tmp_path):
    path = write(tmp_path, {"organisations": [entry(), entry()]})
    with pytest.raises(DirectoryError, match="'kz-test' appears twice"):
        organisations.read_directory_file(path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("organisations: [\n")
    with pytest.raises(DirectoryError, match="not valid YAML"):
        organisations.read_directory_file(broken)


def test_replace_deactivates_organisations_missing_from_the_file(session, tmp_path):
    both = write(tmp_path, {"organisations": [entry(id="kz-one"), entry(id="kz-two")]})
    organisations.import_directory(session, organisations.read_directory_file(both))
    only_one = write(tmp_path, {"organisations": [entry(id="kz-one")]}, "one.yaml")
    report = organisations.import_directory(
        session, organisations.read_directory_file(only_one), replace=True)
    assert report.deactivated == ["kz-two"]
    assert [o.slug for o in organisations.list_organisations(session)] == ["kz-one"]
    assert [r.slug for r in organisations.snapshot(session).responders] == ["kz-one"]


def test_snapshot_reflects_the_database(session):
    organisations.load_demo_if_empty(session)
    directory = organisations.snapshot(session)
    hub = directory.by_slug("kz-almaty-hub")
    assert hub is not None and hub.is_hub and hub.always_open
    assert organisations.load_demo_if_empty(session) is None  # not loaded twice
