"""A pytest plugin: no log record of the whole run may carry a test phone number.

At the start of the session it collects every E.164 number written in the tests'
sources (all fictitious), sets the root logger to DEBUG and sees every log record any
logger creates, uvicorn's and SQLAlchemy's included, formatted with its traceback. At
the end the run fails if a record held one of those numbers, with "+" or without, in
groups, or as the national number. The report names the loggers and counts, never a
number in full.

Records are checked as they are created, through the log record factory, rather than
by a handler on the root logger: a handler misses loggers that do not propagate
(``uvicorn.access``) and loses its place when a server's ``dictConfig`` replaces the
handlers. Only the findings are kept, not the run's log.
"""

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import phonenumbers
import pytest

TESTS = Path(__file__).resolve().parent
E164 = re.compile(r"(?<![\w+])\+[1-9]\d{7,14}(?!\d)")
# Digits in groups as a number may be written: "+7 701 000-00-01", "(701) 000 0001".
DIGIT_RUN = re.compile(r"\d(?:[ \u00a0()-]{0,2}\d)*")
NON_DIGITS = re.compile(r"\D")
MIN_NATIONAL_DIGITS = 8  # shorter national numbers are too likely to be something else
FORMATTER = logging.Formatter("%(levelname)s %(name)s %(message)s")  # adds the traceback
# The root, and the libraries that set a level of their own: SQLAlchemy sets WARNING on
# import, which would hide its statements and parameters (INFO shows both; DEBUG adds the
# rows read back, which the table-dump tests check, at a fifth of the suite's time);
# uvicorn's config sets INFO.
LEVELS = {"": logging.DEBUG, "sqlalchemy": logging.INFO, "uvicorn": logging.DEBUG}


# Identifiers whose hex digits can spell a number by chance (a CallSid built from a process
# id 0x7000 and a counter holds "70000000000"): Twilio SIDs, UUIDs, hashes. A number is
# never written inside one.
IDENTIFIERS = re.compile(r"\b[A-Z]{2}[0-9a-fA-F]{32}\b|\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}"
                         r"-[0-9a-fA-F]{12}\b|\b[0-9a-fA-F]{16,}\b")


# Responders' duty numbers and the hotline's own number are public and stored in clear by
# design (the directory); the tests take them from the Almaty block +7 727 000 xxxx. The
# simulator writes to the placeholder hotline number +1 000 000 0000, which a contact
# records as the line it came in on. Both are left out of the sources' numbers and blanked
# in a record before it is read, so their digits cannot pass for a test number's.
PUBLIC_NUMBERS = re.compile(r"\+7727000\d{4}|\+10000000000(?!\d)")


def numbers_in_sources(root: Path = TESTS) -> set[str]:
    """Every E.164-looking string in the Python files under ``root``, but public ones."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        found.update(E164.findall(path.read_text(encoding="utf-8", errors="replace")))
    return {number for number in found if not PUBLIC_NUMBERS.fullmatch(number)}


def _national(number: str) -> str | None:
    try:
        national = phonenumbers.national_significant_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return national if len(national) >= MIN_NATIONAL_DIGITS else None


class LogGuard:
    """Finds test numbers in log records and keeps a count per logger."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self.numbers = sorted(set(numbers))
        self.international = {number[1:]: number for number in self.numbers}
        self.national = {national: number for number in self.numbers
                         if (national := _national(number))}
        self.findings: Counter[str] = Counter()
        self.examples: dict[str, str] = {}  # logger -> the first number it leaked
        self._lock = threading.Lock()

    def number_in(self, text: str) -> str | None:
        """The test number ``text`` holds in any of its written forms, if any."""
        for run in DIGIT_RUN.findall(PUBLIC_NUMBERS.sub(" ", IDENTIFIERS.sub(" ", text))):
            digits = NON_DIGITS.sub("", run)
            if len(digits) < MIN_NATIONAL_DIGITS:
                continue
            for international, number in self.international.items():
                if international in digits:
                    return number
            # A national number alone or after a trunk prefix: "8 701 000 0001".
            for start in range(3):
                if digits[start:] in self.national:
                    return self.national[digits[start:]]
        return None

    def check(self, record: logging.LogRecord) -> None:
        try:
            text = FORMATTER.format(record)
        except Exception:  # a malformed logging call; logging itself reports it
            text = f"{record.msg} {record.args}"
        number = self.number_in(text)
        if number is not None:
            with self._lock:
                self.findings[record.name] += 1
                self.examples.setdefault(record.name, number)

    def report(self) -> str | None:
        """What was found, without the numbers in full; None if nothing."""
        if not self.findings:
            return None
        lines = [f"log guard: {sum(self.findings.values())} log record(s) carried a test "
                 f"phone number (of {len(self.numbers)} collected from tests/), so the run "
                 "fails:"]
        lines += [f"  {count} from logger {name!r}, e.g. {mask(self.examples[name])}"
                  for name, count in self.findings.most_common()]
        return "\n".join(lines)


def mask(number: str) -> str:
    return f"{number[:3]}…{number[-2:]}"


class _Installed:
    def __init__(self, guard: LogGuard) -> None:
        self.guard = guard
        self.previous_factory: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
        self.previous_levels = {name: logging.getLogger(name).level for name in LEVELS}

    def factory(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record = self.previous_factory(*args, **kwargs)
        self.guard.check(record)
        return record

    def install(self) -> None:
        logging.setLogRecordFactory(self.factory)
        for name, level in LEVELS.items():
            logging.getLogger(name).setLevel(level)

    def uninstall(self) -> None:
        logging.setLogRecordFactory(self.previous_factory)
        for name, level in self.previous_levels.items():
            logging.getLogger(name).setLevel(level)


_KEY = pytest.StashKey[_Installed]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    installed = _Installed(LogGuard(numbers_in_sources()))
    installed.install()
    config.stash[_KEY] = installed
    if config.getoption("log_level", None) is None and not config.getini("log_level"):
        # DEBUG records now exist; pytest's per-test capture keeps, as before, WARNING and
        # up unless a test asks for more with caplog.set_level.
        config.option.log_level = "WARNING"


def pytest_sessionfinish(session: pytest.Session) -> None:
    installed = session.config.stash.get(_KEY, None)
    if installed is None:
        return
    installed.uninstall()
    if installed.guard.report() is not None:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    installed = config.stash.get(_KEY, None)
    report = installed.guard.report() if installed else None
    if report is not None:
        terminalreporter.section("phone numbers in logs", red=True)
        terminalreporter.write_line(report)
