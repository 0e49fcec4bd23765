"""``hotline doctor``: each check passing and failing, and the exit code."""

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from twilio.rest import Client

from app import cli, db, doctor
from app.channels.voice import audio
from app.config import get_settings
from app.messaging.models import Outbox, OutboxKind, OutboxStatus
from app.organisations import lines as national_lines
from app.organisations.models import NationalLine
from app.twilio import setup as twilio_setup
from tests.conftest import WEEKDAY_MORNING, generated_secrets, make_settings
from tests.fake_twilio_rest import fake_twilio
from tests.test_cli import free_port

NOW = WEEKDAY_MORNING
LINE = "+77270000811"


def verdict(check: doctor.Check) -> tuple[doctor.Status, str]:
    return check.status, check.reason


def status_of(checks: list[doctor.Check], name: str) -> tuple[doctor.Status, str]:
    [check] = [c for c in checks if c.name == name]
    return verdict(check)


def production(database_url: str = "sqlite://", **overrides: object):
    return make_settings(database_url, env="production", **generated_secrets() | overrides)


def audio_folder(root: Path, leave_out: tuple[str, str] | None = None) -> Path:
    """Every prompt of every played language, as a recording (empty files will do)."""
    names = [name for name, _key, _params in audio.needed_prompts()]
    for language in audio.played_languages():
        (root / language).mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / language / f"{name}.mp3").write_bytes(b"ID3")
    if leave_out:
        language, name = leave_out
        (root / language / f"{name}.mp3").unlink()
    return root


# --- the public URL -------------------------------------------------------------------


@pytest.fixture
def serving(app) -> Iterator[str]:
    """The service on a loopback port, as a proxy would reach it: its http:// address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_service_answering_healthz_passes_reachable_and_plain_http_fails_https(serving):
    settings = make_settings("sqlite://", public_url=serving)
    assert doctor.check_reachable(settings).status is doctor.Status.OK
    https = doctor.check_https(settings)
    assert https.status is doctor.Status.FAIL and "https://" in https.reason


def test_an_https_address_nobody_answers_passes_https_and_fails_reachable():
    settings = make_settings("sqlite://", public_url=f"https://127.0.0.1:{free_port()}")
    assert doctor.check_https(settings).status is doctor.Status.OK
    reachable = doctor.check_reachable(settings)
    assert reachable.status is doctor.Status.FAIL and "ConnectError" in reachable.reason


def test_a_proxy_that_sends_healthz_elsewhere_fails_reachable():
    with fake_twilio() as elsewhere:  # any server that is not the hotline
        settings = make_settings("sqlite://", public_url=elsewhere.base_url)
        reachable = doctor.check_reachable(settings)
    assert reachable.status is doctor.Status.FAIL
    assert reachable.reason.endswith("answered 401, not 200")


# --- secrets ----------------------------------------------------------------------------


def test_generated_production_secrets_pass():
    assert doctor.check_secrets(production()).status is doctor.Status.OK


def test_development_and_typed_secrets_fail_even_outside_production():
    settings = make_settings("sqlite://", audit_key="dev-" + "x1y2z3" * 8)  # and typed ones
    status, reason = verdict(doctor.check_secrets(settings))
    assert status is doctor.Status.FAIL
    assert "HOTLINE_AUDIT_KEY is a development secret" in reason
    assert "HOTLINE_PSEUDONYM_KEY looks typed" in reason


def test_secrets_production_refuses_are_listed_once():
    settings = production(pseudonym_key="short", public_url="http://hotline.example.org")
    status, reason = verdict(doctor.check_secrets(settings))
    assert status is doctor.Status.FAIL
    assert reason.count("HOTLINE_PSEUDONYM_KEY must be at least 32 bytes") == 1
    assert "PUBLIC_URL" not in reason  # the https line says it


# --- the database -----------------------------------------------------------------------


def test_a_migrated_database_passes(session):
    assert doctor.check_migrations(session).status is doctor.Status.OK


def test_a_database_behind_the_code_fails_and_doctor_does_not_migrate_it(fresh_database_url):
    engine = db.make_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            checks = doctor.diagnose(make_settings(fresh_database_url), session,
                                     get=lambda url: (200, '{"status":"ok"}'), now=NOW)
        assert db.current_revision(engine) is None
    finally:
        engine.dispose()
    status, reason = status_of(checks, "migrations")
    assert status is doctor.Status.FAIL and "hotline migrate" in reason
    # The checks after it still ran, each saying what it could not read.
    assert status_of(checks, "directory")[0] is doctor.Status.FAIL
    assert status_of(checks, "outbox")[1].startswith("query failed")
    assert len(checks) == 10


def test_an_unreachable_database_fails_every_database_check_at_once():
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/hotline"
    engine = db.make_engine(url)
    started = time.monotonic()
    try:
        with Session(engine) as session:
            checks = doctor.diagnose(make_settings(url), session,
                                     get=lambda url: (200, '{"status":"ok"}'), now=NOW)
    finally:
        engine.dispose()
    assert time.monotonic() - started < 10
    for name in ("migrations", "directory", "lines", "twilio", "outbox"):
        status, reason = status_of(checks, name)
        assert status is doctor.Status.FAIL and reason.startswith("database unreachable")
    assert status_of(checks, "journal") == (doctor.Status.OK, "empty")  # the rest still ran


def test_an_empty_directory_fails_and_a_loaded_one_passes(session):
    status, reason = verdict(doctor.check_directory(session))
    assert status is doctor.Status.FAIL and "hotline directory import" in reason
    from app.organisations import service as organisations

    organisations.load_demo_if_empty(session)
    status, reason = verdict(doctor.check_directory(session))
    assert status is doctor.Status.OK and "active organisations" in reason


def test_without_an_active_line_the_lines_check_fails(session):
    session.add(NationalLine(number=LINE, country="KZ", languages=["kk"], active=False))
    session.flush()
    status, reason = verdict(doctor.check_lines(session))
    assert status is doctor.Status.FAIL and "`lines` section" in reason
    session.add(NationalLine(number="+77270000812", country="KG", languages=["ky"]))
    session.flush()
    assert doctor.check_lines(session) == doctor.ok("lines", "1 active: +77270000812")


def outbox_row(session: Session, age: timedelta, status: OutboxStatus) -> None:
    session.add(Outbox(kind=OutboxKind.ALERT, status=status, created_at=NOW - age,
                       next_attempt_at=NOW))
    session.flush()


def test_an_outbox_draining_passes_and_a_stuck_one_fails(session):
    assert doctor.check_outbox(session, NOW) == doctor.ok("outbox", "empty")
    outbox_row(session, timedelta(hours=5), OutboxStatus.SENT)  # done: not waiting
    outbox_row(session, timedelta(minutes=2), OutboxStatus.PENDING)
    assert doctor.check_outbox(session, NOW) == doctor.ok(
        "outbox", "1 waiting, the oldest for 2 min: draining")
    outbox_row(session, timedelta(minutes=40), OutboxStatus.SENDING)
    status, reason = verdict(doctor.check_outbox(session, NOW))
    assert status is doctor.Status.FAIL and reason.startswith("2 waiting, the oldest for 40 min")


# --- Twilio -----------------------------------------------------------------------------


@pytest.fixture
def account(monkeypatch):
    with fake_twilio() as fake:
        monkeypatch.setattr(twilio_setup, "twilio_client", lambda credentials: Client(
            credentials.account_sid, credentials.auth_token, http_client=fake.http_client()))
        yield fake


def test_twilio_is_skipped_without_credentials(session):
    settings = make_settings("sqlite://")  # a development token is no Twilio token
    assert doctor.check_twilio(settings, session).status is doctor.Status.SKIP


def test_twilio_numbers_not_pointing_here_fail_without_being_changed(session, account):
    session.add_all([NationalLine(number=LINE, country="KZ", languages=["kk"]),
                     NationalLine(number="+77270000812", country="KG", languages=["ky"])])
    session.flush()
    account.add_number(LINE)
    settings = make_settings("sqlite://", twilio_account_sid=account.account_sid,
                             twilio_auth_token=account.auth_token)
    status, reason = verdict(doctor.check_twilio(settings, session))
    assert status is doctor.Status.FAIL
    assert f"{LINE} voice_url, voice_fallback_url, status_callback, sms_url, " \
           "sms_fallback_url not pointing here" in reason
    assert "+77270000812 is not in the Twilio account" in reason
    assert reason.endswith("run `hotline twilio setup`")
    assert account.posts == []

    account.add_number("+77270000812")
    client = twilio_setup.twilio_client(twilio_setup.credentials_from_settings(settings))
    twilio_setup.setup(client, [LINE, "+77270000812"], settings.public_url, dry_run=False,
                       out=lambda _: None)
    assert doctor.check_twilio(settings, session) == doctor.ok(
        "twilio", "2 numbers in the account, all pointing here")


def test_twilio_refusing_the_credentials_fails(session, account):
    session.add(NationalLine(number=LINE, country="KZ", languages=["kk"]))
    session.flush()
    settings = make_settings("sqlite://", twilio_account_sid=account.account_sid,
                             twilio_auth_token="wrong-" + "4d" * 12)
    status, reason = verdict(doctor.check_twilio(settings, session))
    assert status is doctor.Status.FAIL and "HTTP 401" in reason


# --- files ------------------------------------------------------------------------------


def test_audio_for_every_prompt_passes_and_a_missing_one_is_named(tmp_path, audio_dir):
    rendered = make_settings("sqlite://", audio_dir_override=audio_dir)  # by render_all
    assert doctor.check_audio(rendered).status is doctor.Status.OK
    gap = audio_folder(tmp_path / "b", leave_out=("ky", "welcome"))
    status, reason = verdict(doctor.check_audio(make_settings("sqlite://", audio_dir_override=gap)))
    assert status is doctor.Status.FAIL
    assert ": ky 1 of " in reason and "kk " not in reason
    assert reason.endswith("run `hotline audio render`")
    empty = make_settings("sqlite://", audio_dir_override=tmp_path / "none")
    assert "kk " in doctor.check_audio(empty).reason


def test_the_journal_empty_or_draining_passes_and_stuck_fails(tmp_path):
    settings = make_settings("sqlite://", journal_dir_override=tmp_path / "journal")
    assert doctor.check_journal(settings, NOW) == doctor.ok("journal", "empty")
    (tmp_path / "journal").mkdir()
    waiting = tmp_path / "journal" / "host-1-1.jsonl"
    waiting.write_text('{"v":1}\n')
    os.utime(waiting, ((NOW - timedelta(minutes=1)).timestamp(),) * 2)
    status, reason = verdict(doctor.check_journal(settings, NOW))
    assert status is doctor.Status.OK and reason.endswith(": draining")
    os.utime(waiting, ((NOW - timedelta(minutes=30)).timestamp(),) * 2)
    status, reason = verdict(doctor.check_journal(settings, NOW))
    assert status is doctor.Status.FAIL and "oldest for 30 min" in reason


def test_records_set_aside_by_the_journal_fail_until_someone_looks(tmp_path):
    settings = make_settings("sqlite://", journal_dir_override=tmp_path)
    (tmp_path / "set-aside.failed").write_text('{"v":1}\n{"v":1}\n')
    status, reason = verdict(doctor.check_journal(settings, NOW))
    assert status is doctor.Status.FAIL and reason.startswith("2 records could not be replayed")


# --- all of it ------------------------------------------------------------------------


def test_a_ready_deployment_passes_every_check_and_exits_0(app, session, demo_directory,
                                                           tmp_path, account):
    numbers = national_lines.active_numbers(session)  # the demo directory's lines
    assert numbers
    for number in numbers:
        account.add_number(number)
    settings = production(app.state.settings.database_url,
                          audio_dir_override=audio_folder(tmp_path / "audio"),
                          twilio_account_sid=account.account_sid,
                          twilio_auth_token=account.auth_token)
    client = twilio_setup.twilio_client(twilio_setup.credentials_from_settings(settings))
    twilio_setup.setup(client, numbers, settings.public_url, dry_run=False, out=lambda _: None)
    with TestClient(app) as web:  # https://hotline.example.org/healthz, answered by the app
        checks = doctor.diagnose(settings, session, now=NOW,
                                 get=lambda url: (web.get(url).status_code, web.get(url).text))
    lines, code = doctor.report(checks)
    assert [c for c in checks if c.status is not doctor.Status.OK] == []
    assert code == 0 and lines[-1] == "all checks passed"
    assert lines[0] == "ok    https         https://hotline.example.org"


def test_hotline_doctor_prints_one_line_per_check_and_exits_1_on_a_failure(
        fresh_database_url, tmp_path, monkeypatch, capsys):
    for name in os.environ:
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    try:
        code = cli.main(["doctor"])
    finally:
        get_settings.cache_clear()
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    names = ["https", "reachable", "secrets", "migrations", "directory", "lines", "twilio",
             "outbox", "audio", "journal"]
    assert [line.split()[1] for line in lines[:-1]] == names
    assert {line.split()[0] for line in lines[:-1]} <= {"ok", "FAIL", "skip"}
    assert lines[0].startswith("FAIL  https") and lines[-1].endswith("checks failed")
    assert "development secret" in lines[2]  # generated for development: not for going live
    engine = db.make_engine(fresh_database_url)
    try:
        assert db.current_revision(engine) is None  # it looked, and migrated nothing
    finally:
        engine.dispose()
