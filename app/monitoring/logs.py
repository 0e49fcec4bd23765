"""The service's logs: one JSON object a line in production, and never a phone number.

``logging_config`` is the one configuration, used for uvicorn's loggers (access lines
included) and the application's alike. The code never logs a number; every handler
still carries ``ScrubPhoneNumbers`` for the day a library, an exception message or a
query string someone typed does. Uvicorn's access line holds the path and the query
string; Twilio sends its fields in the form body and the hotline's own TwiML URLs carry
only a language, a step and a contact's random id.
"""

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from app.config import LogFormat
from app.countries import HOTLINE_COUNTRIES

PLACEHOLDER = "[phone]"
# "+7 701 000-00-00", and "%2B77010000000" as it looks URL-encoded in a query string.
INTERNATIONAL = re.compile(r"(?:\+|%2[bB])\d(?:[ \u00a0()-]{0,2}\d){6,14}")
# 9 to 15 digits on their own: a number without its "+". Not the inside of a longer
# token (a UUID, a hash, an account SID) nor the decimals of a figure.
BARE_DIGITS = re.compile(r"(?<![\w-])(?<!\d\.)\d{9,15}(?![\w-]|\.\d)")
# Digit groups in a national format ("8 701 000 00 00"); removed if phonenumbers finds a
# valid number of one of the hotline's countries. Nine digits at least, and never just
# before a ":", so that a date, or a date and the hour of a time, is left alone.
GROUPED = re.compile(r"(?<![\w+-])\(?\d+(?:[ \u00a0()-]{1,2}\d+)+(?![\w:-]|\.\d)")
MIN_GROUPED_DIGITS = 9
STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "color_message"}  # the last is uvicorn's coloured duplicate


def scrub_phone_numbers(text: str) -> str:
    """``text`` with everything that looks like a phone number replaced by ``[phone]``."""
    text = INTERNATIONAL.sub(PLACEHOLDER, text)
    text = BARE_DIGITS.sub(PLACEHOLDER, text)
    return GROUPED.sub(lambda m: PLACEHOLDER if _national_number(m.group()) else m.group(),
                       text)


def _national_number(candidate: str) -> bool:
    if sum(char.isdigit() for char in candidate) < MIN_GROUPED_DIGITS:
        return False
    for region in HOTLINE_COUNTRIES:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


class ScrubPhoneNumbers(logging.Filter):
    """Removes phone numbers from a record's message, arguments and traceback.

    Arguments are scrubbed one by one, not merged into the message, because uvicorn's
    access formatter reads them separately.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_phone_numbers(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _scrub_value(arg) for key, arg in record.args.items()}
        _merge_if_still_leaking(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_phone_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_phone_numbers(record.stack_info)
        return True


def _scrub_value(value: object) -> object:
    if isinstance(value, str):
        return scrub_phone_numbers(value)
    if isinstance(value, int | float) or value is None:
        return value  # "%d" needs a number; a phone number in one is caught by the merge
    text = str(value)  # an exception or any object: replaced by its text only if need be
    scrubbed = scrub_phone_numbers(text)
    return value if scrubbed == text else scrubbed


def _merge_if_still_leaking(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return  # the logging call itself is wrong; logging reports that on its own
    scrubbed = scrub_phone_numbers(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and what was passed in
    ``extra``; uvicorn's access lines also get their request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {key: value for key, value in record.__dict__.items()
                  if key not in STANDARD_ATTRIBUTES and not key.startswith("_")}
        entry |= _access_fields(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _access_fields(record: logging.LogRecord) -> dict[str, object]:
    if record.name != "uvicorn.access" or not (
            isinstance(record.args, tuple) and len(record.args) == 5):
        return {}
    client, method, path, http_version, status = record.args
    return {"client": client, "method": method, "path": path, "http_version": http_version,
            "status": status}


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the application."""
    if log_format is LogFormat.JSON:
        default = access = {"()": f"{__name__}.JsonFormatter"}
    else:
        default = {"()": "uvicorn.logging.DefaultFormatter",
                   "fmt": "%(asctime)s %(levelprefix)s %(name)s: %(message)s"}
        access = {"()": "uvicorn.logging.AccessFormatter",
                  "fmt": '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" '
                         '%(status_code)s'}
    scrub = ["scrub_phone_numbers"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub_phone_numbers": {"()": f"{__name__}.ScrubPhoneNumbers"}},
        "formatters": {"default": default, "access": access},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                        "formatter": "default", "filters": scrub},
            "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                       "formatter": "access", "filters": scrub},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            # At INFO SQLAlchemy logs every statement and its parameters, and Alembic two
            # lines for each readiness probe.
            "sqlalchemy": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
        },
        "root": {"handlers": ["default"], "level": level},
    }


def configure(log_format: LogFormat) -> None:
    logging.config.dictConfig(logging_config(log_format))
