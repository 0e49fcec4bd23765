"""Logs: JSON lines with level, logger and message; no phone number gets through the
filter; the URLs the hotline puts in its TwiML carry none either."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.error import URLError

import pytest

from app.config import Environment, LogFormat, Settings
from app.monitoring.logs import (
    JsonFormatter,
    ScrubPhoneNumbers,
    logging_config,
    scrub_phone_numbers,
)
from tests.channels.voice.calls import Caller

NUMBER = "+77010000901"
PROJECT = Path(__file__).resolve().parents[2]


def record(message: str, *args: object, name: str = "app.test", exc_info: object = None,
           **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize("text", [
    NUMBER, "+7 701 000 09 01", "+7 (701) 000-09-01", "%2B77010000901", "77010000901",
    "8 701 000 09 01", "8 (701) 000-09-01", "0532 000 00 01", "+992 90 000 0901",
])
def test_the_filter_removes_a_number_in_any_form(text):
    scrubbed = scrub_phone_numbers(f"caller {text} wrote.")
    assert scrubbed == "caller [phone] wrote."


@pytest.mark.parametrize("text", [
    '127.0.0.1:54321 - "POST /twilio/voice/dial?lang=ru&attempt=0 HTTP/1.1" 200',
    "GET /api/stats?from=2026-01-01&to=2026-06-30", "at 2026-11-23 08:00:00, 23.11.2026 08:00",
    "contact 3f2a1b4c-1234-5678-9abc-123456789012", "CA00000000000000000000000000000001",
    "outbox 12345: attempt 3 failed (21610)", "took 0.0123456789 s", "case HL-UTEY9Y",
])
def test_the_filter_leaves_what_is_not_a_number(text):
    assert scrub_phone_numbers(text) == text


def test_the_filter_scrubs_arguments_one_by_one_and_tracebacks():
    try:
        raise ValueError(f"The 'To' number {NUMBER} is not valid")
    except ValueError as exc:
        made = record("send to %s failed: %s", NUMBER, exc, exc_info=sys.exc_info())
    assert ScrubPhoneNumbers().filter(made)
    assert made.args == ("[phone]", "The 'To' number [phone] is not valid")
    assert NUMBER not in made.getMessage() and NUMBER not in made.exc_text
    assert "ValueError" in made.exc_text


def test_an_access_line_keeps_its_fields_for_uvicorn():
    made = record('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                  "/twilio/voice?From=%2B77010000901", "1.1", 200, name="uvicorn.access")
    ScrubPhoneNumbers().filter(made)
    assert made.args == ("127.0.0.1:5000", "GET", "/twilio/voice?From=[phone]", "1.1", 200)
    line = json.loads(JsonFormatter().format(made))
    assert line["path"] == "/twilio/voice?From=[phone]" and line["status"] == 200


def test_a_number_that_only_appears_once_formatted_is_caught_too():
    made = record("caller +7%d", 7010000901)  # an int argument: scrubbed after formatting
    ScrubPhoneNumbers().filter(made)
    assert made.getMessage() == "caller [phone]"


def test_a_json_line_parses_and_carries_level_logger_message_and_extras():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        made = record("purge erased %d numbers", 3, exc_info=sys.exc_info(),
                      purged={"numbers": 3})
    line = json.loads(JsonFormatter().format(made))
    assert line["level"] == "INFO" and line["logger"] == "app.test"
    assert line["message"] == "purge erased 3 numbers" and line["purged"] == {"numbers": 3}
    assert line["time"].endswith("+00:00") and "RuntimeError: boom" in line["exception"]


def test_json_in_production_text_in_development_unless_set():
    assert Settings(env=Environment.PRODUCTION).effective_log_format is LogFormat.JSON
    assert Settings().effective_log_format is LogFormat.TEXT
    assert Settings(log_format="json").effective_log_format is LogFormat.JSON
    assert Settings(env=Environment.PRODUCTION,
                    log_format="text").effective_log_format is LogFormat.TEXT


def test_every_handler_of_the_configuration_scrubs():
    for log_format in LogFormat:
        config = logging_config(log_format)
        assert all(handler["filters"] == ["scrub_phone_numbers"]
                   for handler in config["handlers"].values())
        assert config["loggers"]["sqlalchemy"]["level"] == "WARNING"  # no SQL at INFO


def test_configured_logging_writes_scrubbed_json_lines():
    """In a process of its own: configuring logging would replace pytest's handlers."""
    script = (
        "import logging\n"
        "from app.config import LogFormat\n"
        "from app.monitoring import logs\n"
        "logs.configure(LogFormat.JSON)\n"
        f"logging.getLogger('app.x').warning('caller %s', {NUMBER!r})\n"
        "logging.getLogger('uvicorn.access').info('%s - \"%s %s HTTP/%s\" %d', '127.0.0.1:1',"
        f" 'GET', '/healthz?From={NUMBER}', '1.1', 200)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    app_line, access_line = json.loads(run.stderr), json.loads(run.stdout)
    assert (app_line["level"], app_line["logger"], app_line["message"]) == (
        "WARNING", "app.x", "caller [phone]")
    assert access_line["logger"] == "uvicorn.access"
    assert access_line["path"] == "/healthz?From=[phone]"
    assert NUMBER[1:] not in run.stdout + run.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_server_writes_json_access_lines_without_numbers(tmp_path):
    """uvicorn as the Dockerfile runs it, on loopback, stopped by the test."""
    port = free_port()
    env = os.environ | {"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_LOG_FORMAT": "json",
                        "HOTLINE_PURGE_INTERVAL_MINUTES": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:serve_app", "--factory", "--host",
         "127.0.0.1", "--port", str(port)], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except (URLError, ConnectionError):
                time.sleep(0.2)
        with urllib.request.urlopen(f"{url}?From={NUMBER}", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    access = [json.loads(line) for line in out.splitlines()]
    assert any(line["path"] == "/healthz?From=[phone]" and line["status"] == 200
               for line in access), out
    assert all(json.loads(line)["level"] for line in err.splitlines()), err
    assert NUMBER[1:] not in out + err


@pytest.mark.usefixtures("demo_directory")
def test_the_twiml_urls_of_a_whole_call_carry_no_number(client, settings):
    c = Caller(client, settings, NUMBER)
    pages = [c.call(), c.press("2"), c.press("1")]  # Russian, danger: a responder is rung
    pages.append(c.dial_ends("no-answer"))
    pages.append(c.responder_whisper())
    urls = [value for page in pages for element in page.root.iter()
            for key, value in element.attrib.items() if key in ("action", "url")]
    urls += [element.text for page in pages for element in page.root.iter("Redirect")]
    assert len(urls) >= 5 and any("c=" in url for url in urls)  # the whisper's contact id
    for url in urls:
        assert scrub_phone_numbers(url) == url and NUMBER[4:] not in url
