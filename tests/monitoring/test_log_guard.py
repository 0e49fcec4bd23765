"""The log guard (tests/log_guard.py) finds a test number in a log record, in any of its
written forms, and makes the run fail without printing the number."""

import logging
import subprocess
import sys
from pathlib import Path

from tests import log_guard
from tests.log_guard import LogGuard

LEAKED = "+77010000801"  # collected from this file by the guard of the real run
PROJECT = Path(__file__).resolve().parents[2]


def record(message: str, *args: object, name: str = "app.leaky",
           exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_record_with_a_number_is_reported_by_logger_and_count_not_number():
    guard = LogGuard([LEAKED, "+992900000801"])
    guard.check(record("caller %s wrote", LEAKED))
    guard.check(record("caller %s wrote", LEAKED))
    guard.check(record("nothing to see", name="app.fine"))
    report = guard.report()
    assert report is not None
    assert "2 log record(s)" in report and "'app.leaky'" in report and "app.fine" not in report
    assert LEAKED not in report and LEAKED[1:] not in report and "0000801" not in report


def test_every_written_form_of_the_number_is_found():
    guard = LogGuard([LEAKED])
    for text in ("+7 701 000 08 01", "%2B77010000801", "77010000801", "8 (701) 000-08-01",
                 "7010000801", "tel:+77010000801."):
        assert guard.number_in(f"number {text} here") == LEAKED, text


def test_a_number_in_a_traceback_is_found():
    guard = LogGuard([LEAKED])
    try:
        raise ValueError(f"bad number {LEAKED}")
    except ValueError:
        guard.check(record("webhook failed", exc_info=sys.exc_info()))
    assert guard.findings == {"app.leaky": 1}


def test_other_digits_are_not_mistaken_for_the_number():
    guard = LogGuard([LEAKED])
    for text in ("+77010000802", "2026-11-23 08:00:00", "contact 3f2a1b4c-1234-5678-9abc",
                 "CA00000000000000000000000000000801", "7701000080", "127.0.0.1:54321"):
        assert guard.number_in(text) is None, text


def test_the_numbers_are_collected_from_the_tests_but_public_ones():
    numbers = log_guard.numbers_in_sources()
    assert LEAKED in numbers
    assert "+77270009999" not in numbers  # the hotline's own number in tests/twilio.py


def test_a_run_that_logs_a_number_fails_without_showing_it(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_leak.py").write_text(
        "import logging\n\n"
        "def test_leaks():\n"
        f"    logging.getLogger('app.leaky').debug('caller %s', {LEAKED!r})\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.log_guard", "-p", "no:cacheprovider",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         str(tmp_path / "test_leak.py")],
        cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert "1 log record(s) carried a test phone number" in run.stdout
    assert "'app.leaky'" in run.stdout and LEAKED not in run.stdout + run.stderr


def test_identifiers_that_spell_a_number_by_chance_are_not_findings():
    guard = LogGuard(["+70000000000"])
    sid = "CA00007000" + "0" * 23 + "1"
    assert guard.number_in(f"SELECT … WHERE twilio_sid = '{sid}'") is None
    assert guard.number_in("contact 70000000-0000-4000-8000-700000000000") is None
    assert guard.number_in("From=+70000000000") == "+70000000000"
