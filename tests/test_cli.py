"""The ``hotline`` command as a coordinator and a newcomer use it."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx2 as httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from app import cli
from app.config import Environment, get_settings
from app.organisations.service import DEMO_DIRECTORY, read_directory_file
from tests.conftest import configure_cli, make_settings

WORKDAY_ALMATY = "2026-11-23T11:00+05:00"


@pytest.fixture
def hotline(fresh_database_url, monkeypatch, capsys, tmp_path, audio_dir):
    """Run ``hotline ...`` in-process against a fresh database; returns (code, out, err)."""
    settings = make_settings(fresh_database_url, data_dir=tmp_path)
    configure_cli(monkeypatch, settings)
    monkeypatch.setenv("HOTLINE_AUDIO_DIR", str(audio_dir))
    get_settings.cache_clear()

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def test_directory_import_then_list_and_route(hotline):
    code, out, _ = hotline("directory", "import", str(DEMO_DIRECTORY))
    assert code == 0 and "kz-almaty-hub" in json.loads(out)["created"]
    code, out, _ = hotline("directory", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and {row["country"] for row in listed} >= {"KZ", "TJ", "AF", "TR"}
    code, out, _ = hotline("route", "--language", "tg", "--country", "RU", "--need", "shelter",
                           "--at", WORKDAY_ALMATY)
    result = json.loads(out)
    assert code == 0 and result["query"]["language"] == "tg"
    first = result["candidates"][0]
    assert first["country"] == "RU" and first["open"] and "speaks tg" in first["reasons"]
    assert any(c["hub"] for c in result["candidates"])


def test_route_on_an_empty_directory_says_how_to_fill_it(hotline):
    code, out, err = hotline("route", "--language", "kk", "--country", "KZ")
    assert code == 1 and out == ""
    assert "directory is empty" in err and "hotline directory import" in err


def test_route_at_night_puts_the_24_7_responders_first(hotline):
    hotline("directory", "import", str(DEMO_DIRECTORY))
    _, out, _ = hotline("route", "--language", "kk", "--country", "KZ", "--need", "legal_aid",
                        "--at", "2026-11-22T03:00+05:00")
    candidates = json.loads(out)["candidates"]
    assert candidates[0]["open"] and "open 24/7" in candidates[0]["reasons"]


def test_a_bad_directory_file_is_reported_and_changes_nothing(hotline, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"organisations": [
        {"id": "kz-x", "name": "X (demo)", "country": "KZ", "timezone": "Asia/Almaty",
         "hours": "24/7", "services": ["shelter"], "languages": ["kk"],
         "duty_numbers": ["+77270000555"]},
        {"id": "kz-y", "name": "Y (demo)", "country": "QQ", "timezone": "Asia/Almaty",
         "hours": "24/7", "services": ["shelter"], "languages": ["kk"],
         "duty_numbers": ["+77270000556"]}]}))
    code, _, err = hotline("directory", "import", str(bad))
    assert code == 1
    assert "organisations[1] (id 'kz-y'): country: 'QQ' is not an ISO 3166-1" in err
    _, out, _ = hotline("directory", "list", "--json")
    assert json.loads(out) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(tmp_path: Path, port: int, *args: str) -> subprocess.Popen:
    """``hotline serve`` on its embedded defaults, in a data directory of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
        cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_serve_migrates_loads_the_demo_directory_and_becomes_ready(tmp_path):
    """What a newcomer does first: start the service on its embedded defaults."""
    port = free_port()
    process = serve(tmp_path, port)
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.json()["status"] == "ready"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    demo_size = len(read_directory_file(DEMO_DIRECTORY).organisations)
    assert f"loaded the demo directory: {demo_size} organisations" in output
    assert (tmp_path / "var" / "hotline.db").exists()
    assert (tmp_path / "var" / "dev-secrets.json").exists()


def test_serve_with_two_workers_runs_two_processes_that_answer(tmp_path):
    """``--workers 2``: one supervisor, two worker processes serving the same port."""
    port = free_port()
    process = serve(tmp_path, port, "--workers", "2")
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.json()["status"] == "ready"
        assert len(workers_of(process.pid)) == 2
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


def workers_of(pid: int) -> list[int]:
    """Child processes started by multiprocessing's spawn (not its resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
        if parent == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def test_serve_defaults_to_one_worker_per_core_in_production_only():
    assert cli.default_workers(SimpleNamespace(env=Environment.PRODUCTION)) == os.cpu_count()
    assert cli.default_workers(SimpleNamespace(env=Environment.DEVELOPMENT)) == 1


def test_serve_refuses_zero_workers(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--workers", "0"])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err


def wait_ready(url: str, process: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited early: {process.stdout.read()}")
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("server did not become ready in 30 s")


def test_simulate_call_prints_the_dialogue_and_keeps_nothing(hotline, session):
    code, out, _ = hotline("simulate", "call", "--from", "+992900000000", "--digits", "1,1",
                           "--responders", "no-answer,accept", "--at", "2026-11-23T11:00+03:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "caller +992900000000 dials the hotline"
    assert any("Барои забони тоҷикӣ 1-ро пахш кунед." in line for line in lines)
    dialled = [line for line in lines if line.startswith("hotline dials")]
    assert len(dialled) == 2 and "[tj-" in dialled[0]
    assert "responder presses 1" in lines and lines[-1] == "call ends"
    code, out, _ = hotline("directory", "list", "--json")
    assert json.loads(out) == []  # rolled back: the demo directory was not even kept


def test_simulate_call_into_the_callback_offer(hotline):
    _, out, _ = hotline("simulate", "call", "--from", "+77010000000", "--digits", "2,5,1",
                        "--responders", "busy,no-answer,failed", "--at",
                        "2026-11-23T11:00+03:00")
    assert "caller presses 1" in out and out.strip().endswith("call ends")
    assert out.count("hotline dials") == 3


@pytest.mark.parametrize(("caller", "heard", "end"), [
    ("answer-safe", "caller and operator are connected and talk",
     "call-back done: last outcome completed, 1 attempt(s) at the caller, number erased"),
    ("answer-not-safe", "caller stays silent",
     "call-back pending: last outcome not_safe, 1 attempt(s) at the caller, number kept "
     "encrypted"),
    ("no-answer", "caller: no answer",
     "call-back pending: last outcome no_answer, 1 attempt(s) at the caller, number kept "
     "encrypted"),
])
def test_simulate_callback_plays_the_masked_call_back(hotline, caller, heard, end):
    code, out, _ = hotline("simulate", "callback", "--from", "+992900000000", "--caller",
                           caller, "--at", "2026-11-23T11:00+03:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("caller +992900000000 asked to be called back (case HL-")
    assert "the console shows the number as +992 •• ••• •• 00" in lines
    assert "Twilio rings the operator's phone +10000000001; its display shows +10000000000" in lines
    assert any(line.startswith("operator hears (ru-RU, Twilio voice): \"Обратный звонок")
               for line in lines)
    assert "hotline dials the caller +992900000000; their display shows +10000000000" in lines
    if caller != "no-answer":
        assert "caller hears (tg, audio callback_question.espeak.wav)" in out
    assert heard in lines and lines[-1] == end
    code, out, _ = hotline("directory", "list", "--json")
    assert json.loads(out) == []  # rolled back


def test_simulate_callback_uses_fresh_sids(hotline, monkeypatch):
    from app.channels.voice import simulate_callback

    sids = []
    real = simulate_callback.new_sid
    monkeypatch.setattr(simulate_callback, "new_sid", lambda: sids.append(real()) or sids[-1])
    for _ in range(2):
        assert hotline("simulate", "callback", "--at", "2026-11-23T11:00+03:00")[0] == 0
    assert len(sids) >= 6 and len(set(sids)) == len(sids)


def test_two_kept_simulations_on_one_database_are_two_calls_and_two_texts(
        hotline, fresh_database_url):
    # With fixed SIDs the second run replayed the first: one contact, the same replies.
    for _ in range(2):
        assert hotline("simulate", "call", "--keep", "--from", "+992900000000", "--digits",
                       "1,1", "--at", "2026-11-23T11:00+03:00")[0] == 0
        assert hotline("simulate", "sms", "--keep", "--from", "+77010000000", "Сәлем",
                       "--at", "2026-11-23T11:00+03:00")[0] == 0
    engine = create_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            calls = connection.execute(text(
                "SELECT count(*) FROM contacts WHERE channel = 'voice'")).scalar_one()
            attempts = connection.execute(text("SELECT count(*) FROM routing_attempts")
                                          ).scalar_one()
            texts = connection.execute(text(
                "SELECT count(*) FROM messages WHERE direction = 'in'")).scalar_one()
    finally:
        engine.dispose()
    assert (calls, attempts) == (2, 2)  # each call rang a responder of its own
    assert texts == 2  # the second text goes on the same conversation, not replayed


def test_audio_render_reports_what_it_rendered(hotline, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_AUDIO_DIR", str(tmp_path / "audio"))
    get_settings.cache_clear()
    code, out, _ = hotline("audio", "render")
    report = json.loads(out)
    assert code == 0 and report["rendered"] > 300 and report["failed"] == []
    assert (tmp_path / "audio" / "kk" / "welcome.espeak.wav").exists()
    _, out, _ = hotline("audio", "render")
    assert json.loads(out)["rendered"] == 0  # nothing changed, nothing re-rendered


def test_simulate_sms_prints_the_exchange_and_the_outbox_send(hotline):
    code, out, _ = hotline("simulate", "sms", "--from", "+77010000000",
                           "Сәлеметсіз бе, маған көмек керек", "1", "2",
                           "--operator-reply", "Сәлем", "--at", "2026-11-23T11:00+03:00")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == 'caller +77010000000 writes: "Сәлеметсіз бе, маған көмек керек"'
    assert lines[1] == "hotline replies (2 segments, UCS-2):"  # what each reply costs
    assert lines[2].startswith("Жедел желі.")  # answered in Kazakh
    queued = next(line for line in lines if line.startswith("case HL-"))
    assert "[kz-" in queued and "priority urgent" in queued and "need danger" in queued
    assert lines[-1] == 'outbox sends to +77010000000 (1 segment, UCS-2): "Сәлем"'
    code, out, _ = hotline("directory", "list", "--json")
    assert json.loads(out) == []  # rolled back


def test_purge_reports_what_it_erased(hotline):
    code, out, _ = hotline("purge")
    assert code == 0
    assert json.loads(out) == {"numbers": 0, "bodies": 0, "callback_numbers": 0,
                               "webhook_replies": 0, "alerts": 0}


def test_user_create_reads_the_password_from_stdin_and_names_bad_organisations(
        hotline, monkeypatch):
    import io

    hotline("directory", "import", str(DEMO_DIRECTORY))
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    code, out, _ = hotline("user", "create", "--role", "operator", "--org", "kz-almaty-shelter",
                           "--password-stdin", "aigerim")
    assert code == 0 and json.loads(out)["organisation"] == "kz-almaty-shelter"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    code, _, err = hotline("user", "create", "--role", "operator", "--org", "kz-nowhere",
                           "--password-stdin", "daniyar")
    assert code == 1 and "no organisation 'kz-nowhere'" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    code, _, err = hotline("user", "create", "--role", "operator", "--org", "kz-almaty-shelter",
                           "--password-stdin", "aigerim")
    assert code == 1 and "already exists" in err
