"""Per-country information messages in the directory file: validation, import, export,
and the routing snapshot that carries them to calls and texts."""

import os

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app import db
from app.config import get_settings
from app.organisations import export, information
from app.organisations import service as organisations
from app.organisations.models import CountryInformation
from app.organisations.service import DirectoryError, validate_directory
from app.routing import cache
from app.routing.snapshot import Directory
from tests.organisations.test_lines_directory import demo, directory_rows
from tests.test_cli import hotline  # noqa: F401 - the fixture

KZ = {"kk": ["Төтенше жағдайда 112 нөміріне қоңырау шалыңыз."],
      "ru": ["Экстренные службы: 112.", "Паспорт должен быть у вас."]}


def problems(info: object) -> list[str]:
    with pytest.raises(DirectoryError) as raised:
        validate_directory(demo(information=info), source="info.yaml")
    return raised.value.problems


@pytest.mark.parametrize(("info", "names"), [
    ({"XX": {"ru": ["a"]}}, ["information", "'XX'", "country code"]),
    ({"KZ": {"de": ["a"]}}, ["information", "KZ", "'de'", "language the hotline speaks"]),
    ({"KZ": {"ru": ["  "]}}, ["information.KZ.ru.0", "empty"]),
    ({"KZ": {"ru": ["ж" * 135]}}, ["KZ ru message 1", "2 SMS segments", "135"]),
    ({"KZ": {"ru": ["a"] * 7}}, ["information.KZ.ru", "at most 6"]),
    ({"KZ": {"ru": []}}, ["information.KZ.ru", "at least 1"]),
    ({"KZ": {"ru": "one text, not a list"}}, ["information.KZ.ru", "list"]),
    ({"kz": {"ru": ["a"]}, "KZ": {"ru": ["b"]}}, ["country 'KZ' appears twice"]),
    ({"KZ": {"fa-AF": ["a"], "prs": ["b"]}}, ["KZ", "'prs' appears twice"]),
])
def test_a_bad_information_section_is_refused_and_named(info, names):
    [problem] = problems(info)
    assert problem.startswith("info.yaml: information")
    assert all(name in problem for name in names), problem


def test_two_segments_are_measured_as_the_sms_goes_out():
    # 300 Latin letters fit two GSM-7 segments; 160 Cyrillic ones take three in UCS-2.
    assert validate_directory(demo(information={"TR": {"en": ["a" * 300]}}))
    assert problems({"KZ": {"ru": ["ж" * 160]}})
    # Turkish goes out without its dotless i when that keeps it in GSM-7.
    turkish = "Acil durumda 112'yi arayın. " * 9  # 252 letters: 4 segments as UCS-2
    assert validate_directory(demo(information={"TR": {"tr": [turkish]}}))
    [problem] = problems({"KZ": {"kk": ["Төтенше жағдайда 112 нөміріне қоңырау шалыңыз. " * 3]}})
    assert "KZ kk message 1" in problem


def test_codes_are_normalised_and_texts_trimmed():
    directory = validate_directory(demo(information={"kz": {"fa-AF": ["  Dari text  "]},
                                                     "TR": {}}))
    assert directory.information == {"KZ": {"prs": ["Dari text"]}, "TR": {}}


def test_the_demo_has_illustrative_messages_that_fit_the_rules():
    information_ = validate_directory(demo()).information
    assert set(information_) == {"RU", "TR"}
    assert set(information_["RU"]) == {"ru", "uz", "tg", "ky"}
    assert set(information_["TR"]) == {"tr", "az", "tk"}


def test_import_replaces_a_countrys_messages_and_keeps_the_others(session):
    organisations.import_directory(session, validate_directory(
        demo(information={"KZ": KZ, "TR": {"tr": ["Acil: 112."]}})))
    organisations.import_directory(session, validate_directory(
        demo(information={"KZ": {"ru": ["Новое сообщение."]}})))
    snapshot = organisations.snapshot(session)
    assert snapshot.information("KZ", "ru") == ("Новое сообщение.",)
    assert snapshot.information("KZ", "kk") == ()  # left out of KZ's new list: removed
    assert snapshot.information("TR", "tr") == ("Acil: 112.",)  # not in the file: kept

    organisations.import_directory(session, validate_directory(
        demo(information={"KZ": {}})))
    assert organisations.snapshot(session).information("KZ", "ru") == ()


def test_import_with_replace_removes_the_countries_the_file_leaves_out(session):
    organisations.import_directory(session, validate_directory(
        demo(information={"KZ": KZ, "TR": {"tr": ["Acil: 112."]}})))
    report = organisations.import_directory(
        session, validate_directory(demo(information={"KZ": KZ})), replace=True)
    assert report.information == ["KZ", "TR"]
    assert session.scalars(select(CountryInformation.country).distinct()).all() == ["KZ"]


def test_a_file_without_the_section_changes_no_message(session):
    organisations.import_directory(session, validate_directory(demo(information={"KZ": KZ})))
    raw = demo()
    del raw["information"]
    report = organisations.import_directory(session, validate_directory(raw))
    assert report.information == []
    assert organisations.snapshot(session).information("KZ", "ru") == tuple(KZ["ru"])


def test_the_snapshot_answers_by_country_and_language_in_order(session):
    organisations.import_directory(session, validate_directory(demo(information={"KZ": KZ})))
    snapshot = organisations.snapshot(session)
    assert snapshot.information("KZ", "ru") == ("Экстренные службы: 112.",
                                                "Паспорт должен быть у вас.")
    assert snapshot.information("KZ", "tr") == ()
    assert snapshot.information("UZ", "ru") == ()
    assert snapshot.information(None, "ru") == ()


def test_the_saved_snapshot_keeps_the_messages(tmp_path):
    """A process started while the database is down still tells callers the country's
    information."""
    directory = Directory((), country_information={("KZ", "ru"): ("Один.", "Два.")})
    cache.write(tmp_path / "directory.json", directory)
    assert cache.read(tmp_path / "directory.json").information("KZ", "ru") == ("Один.", "Два.")


def test_a_snapshot_saved_before_the_messages_existed_still_reads(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text('{"responders": [], "lines": []}', encoding="utf-8")
    assert cache.read(path).country_information == {}


def test_export_writes_the_section_only_when_there_are_messages(session):
    organisations.import_directory(session, validate_directory(
        demo(information={"RU": {}, "TR": {}})))
    assert "information" not in yaml.safe_load(export.export_directory(session))
    organisations.import_directory(session, validate_directory(demo(information={"KZ": KZ})))
    exported = yaml.safe_load(export.export_directory(session))
    assert exported["information"] == {"KZ": KZ}


def test_export_reads_back_unchanged_with_the_messages(hotline, database_factory,  # noqa: F811
                                                       tmp_path, monkeypatch):
    raw = demo()
    raw["information"]["KZ"] = KZ
    source = tmp_path / "source.yaml"
    source.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    first_url = os.environ["HOTLINE_DATABASE_URL"]
    assert hotline("migrate")[0] == 0
    code, out, _ = hotline("directory", "import", str(source))
    assert code == 0 and yaml.safe_load(out)["information"] == ["KZ", "RU", "TR"]
    exported = tmp_path / "exported.yaml"
    assert hotline("directory", "export", str(exported))[0] == 0
    assert yaml.safe_load(exported.read_text(encoding="utf-8"))["information"] == \
        validate_directory(raw).information

    second_url = database_factory.create()
    db.upgrade(second_url)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", second_url)
    get_settings.cache_clear()
    assert hotline("directory", "import", str(exported))[0] == 0
    code, again, _ = hotline("directory", "export")
    assert code == 0 and again == exported.read_text(encoding="utf-8")
    assert directory_rows(first_url) == directory_rows(second_url)
    assert stored_messages(first_url) == stored_messages(second_url)


def stored_messages(url: str) -> information.Messages:
    engine = create_engine(url)
    with Session(engine) as session:
        messages = information.load(session)
    engine.dispose()
    return messages
