"""The responder directory file (YAML or JSON): its schema and validation.

Every entry is validated before anything is written, and errors name the entry and
field, so a coordinator can fix a file without reading code.
"""

import re
from datetime import date, time, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.languages import LANGUAGES, normalise_language
from app.organisations.models import RingMode
from app.routing.needs import Service
from app.routing.snapshot import DatedException
from app.segments import FOLDED_LANGUAGES, segments, sms_safe

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MESSAGING_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")  # a Twilio Messaging Service SID
INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
ALWAYS = "24/7"
CLOSED = "closed"
MAX_RANGE_DAYS = 366
EXCEPTION_FORMS = ("'closed', a list of hours like ['10:00-14:00'], or a mapping with an "
                   "optional 'name' and either 'closed' (true or hours) or 'open' (hours)")


@cache
def _territories() -> frozenset[str]:
    # babel types the mapping's keys loosely (str | int | None); territory codes are str.
    return frozenset(code for code in Locale("en").territories
                     if isinstance(code, str) and len(code) == 2)


@cache
def _iso639() -> frozenset[str]:
    return frozenset(Locale("en").languages) | frozenset(LANGUAGES)


def parse_interval(text: str) -> tuple[time, time]:
    match = INTERVAL.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an interval like '09:00-18:00'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h2 == 24 and m2 == 0:
        h2 = 0  # "-24:00" closes at midnight
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"{text!r} has an impossible time") from exc


def format_interval(opens: time, closes: time) -> str:
    return f"{opens:%H:%M}-{closes:%H:%M}"


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not an international number (+country code)") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if code not in _territories():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _dates(key: str) -> list[date]:
    """'2027-01-01' or an inclusive range '2027-03-21/2027-03-24'."""
    first, _, last = key.partition("/")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(f"{key!r} is not a date like '2026-12-31' or a range like "
                         f"'2027-03-21/2027-03-24'") from None
    if not start <= end <= start + timedelta(days=MAX_RANGE_DAYS - 1):
        raise ValueError(f"{key!r}: a range goes from its first day to its last, "
                         f"{MAX_RANGE_DAYS} days at most")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _intervals(key: str, texts: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"{key!r}: hours are a non-empty list like ['10:00-14:00']")
    try:
        return tuple(sorted({parse_interval(text) for text in texts}))
    except ValueError as exc:
        raise ValueError(f"{key!r}: {exc}") from None


def _rule(key: str, value: Any) -> tuple[bool, tuple[tuple[time, time], ...], str | None]:
    """(closed, intervals, name) of one exception in any of its written forms."""
    if value == CLOSED:
        return True, (), None
    if isinstance(value, list):
        return False, _intervals(key, value), None
    if not isinstance(value, dict):
        raise ValueError(f"{key!r}: write {EXCEPTION_FORMS}")
    unknown = sorted(map(str, set(value) - {"name", "closed", "open"}))
    if unknown:
        raise ValueError(f"{key!r}: unknown {', '.join(map(repr, unknown))}; write "
                         f"{EXCEPTION_FORMS}")
    name = value.get("name")
    if name is not None and not (isinstance(name, str) and 1 <= len(name.strip()) <= 100):
        raise ValueError(f"{key!r}: name is a text of 1 to 100 characters")
    name = name.strip() if name else None
    if ("closed" in value) == ("open" in value):
        raise ValueError(f"{key!r}: give either 'closed' or 'open'")
    if "open" in value:
        return False, _intervals(key, value["open"]), name
    if value["closed"] is True:
        return True, (), name
    if not isinstance(value["closed"], list):
        raise ValueError(f"{key!r}: 'closed' is true (all day) or a list of hours")
    return True, _intervals(key, value["closed"]), name


def dated_exceptions(raw: dict[str, Any]) -> list[DatedException]:
    """Every date of the written exceptions, in date order; a date given twice is refused."""
    by_day: dict[date, tuple[str, DatedException]] = {}
    for key, value in raw.items():
        closed, intervals, name = _rule(key, value)
        for day in _dates(key):
            if day in by_day:
                raise ValueError(f"{day} is given twice, in {by_day[day][0]!r} and {key!r}")
            by_day[day] = key, DatedException(day, closed, intervals, name)
    return [exception for _, exception in sorted(by_day.values(), key=lambda v: v[1].day)]


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class OrganisationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug = Field(description="stable identifier, e.g. 'kz-almaty-shelter'")
    name: str = Field(min_length=2, max_length=200)
    country: str
    timezone: str
    hours: Literal["24/7"] | dict[str, list[str]]
    exceptions: dict[str, Any] = Field(
        default_factory=dict, description="dated holidays, closures and special hours, in "
        "the organisation's time zone: {'2027-01-01': 'closed', ...}")
    services: list[Service] = Field(min_length=1)
    languages: list[str] = Field(min_length=1)
    duty_numbers: list[Annotated[str, AfterValidator(_e164)]] = Field(min_length=1,
                                                                       max_length=10)
    ring: RingMode = Field(default=RingMode.SIMULTANEOUS,
                           description="duty numbers rung 'simultaneous'ly or 'in_order', "
                           "or 'on_duty': the on-duty operators' phones at once, the duty "
                           "numbers while nobody is on duty")
    hub: bool = False
    priority: int = Field(default=100, ge=0, le=1000,
                          description="lower is tried first among equals")
    require_2fa: bool = Field(default=False, description="its operators must sign in with "
                              "a second factor too (admins and coordinators always must)")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return _country_code(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone such as 'Asia/Almaty'")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        codes = [normalise_language(value) for value in values]
        unknown = [value for value, code in zip(values, codes, strict=True)
                   if code not in _iso639()]
        if unknown:
            raise ValueError(f"not ISO 639 language codes: {', '.join(map(repr, unknown))}")
        return list(dict.fromkeys(codes))

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | dict[str, list[str]]) -> str | dict[str, list[str]]:
        if isinstance(value, str):
            return value
        bad_days = sorted(set(value) - set(WEEKDAYS))
        if bad_days:
            raise ValueError(f"unknown weekdays {bad_days}; use {', '.join(WEEKDAYS)}")
        for intervals in value.values():
            for interval in intervals:
                parse_interval(interval)
        if not any(value.values()):
            raise ValueError("no opening interval at all; give hours or '24/7'")
        return value

    @field_validator("exceptions", mode="before")
    @classmethod
    def _exception_keys(cls, value: Any) -> Any:
        # YAML reads an unquoted 2027-01-01 as a date: take it as the text it was.
        if isinstance(value, dict):
            return {key.isoformat() if isinstance(key, date) else key: rule
                    for key, rule in value.items()}
        return value

    @field_validator("exceptions")
    @classmethod
    def _exceptions(cls, value: dict[str, Any]) -> dict[str, Any]:
        dated_exceptions(value)
        return value

    @model_validator(mode="after")
    def _services_unique(self) -> "OrganisationEntry":
        self.services = list(dict.fromkeys(self.services))
        return self

    def weekly_intervals(self) -> list[tuple[int, time, time]]:
        if self.hours == ALWAYS or isinstance(self.hours, str):
            return []
        intervals = {(WEEKDAYS.index(day), *parse_interval(text))
                     for day, texts in self.hours.items() for text in texts}
        return sorted(intervals)

    def dated_exceptions(self) -> list[DatedException]:
        return dated_exceptions(self.exceptions)


def _sms_sender(value: str) -> str:
    """A number replies leave from, or a Twilio Messaging Service (``MG`` + 32 hex)."""
    if MESSAGING_SERVICE.match(value.strip()):
        return value.strip()
    return _e164(value)


def _hotline_language(value: str) -> str:
    code = normalise_language(value)
    if code not in LANGUAGES:
        raise ValueError(f"{value!r} is not a language the hotline speaks; use one of "
                         f"{', '.join(LANGUAGES)}")
    return code


class LineEntry(BaseModel):
    """One of the hotline's own numbers: the country it serves, the languages its menu
    offers first (in that order), and what replies to texts sent to it leave from."""

    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, AfterValidator(_e164)]
    country: Annotated[str, AfterValidator(_country_code)]
    languages: list[Annotated[str, AfterValidator(_hotline_language)]] = Field(min_length=1)
    sms_sender: Annotated[str, AfterValidator(_sms_sender)] | None = Field(
        default=None, description="the number (or Messaging Service 'MG…') replies leave "
        "from; the line's own number when left out")
    label: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


MAX_INFORMATION_MESSAGES = 6  # a caller listens to them all before the menu comes back
MAX_INFORMATION_SEGMENTS = 2  # each is also one SMS reply


def _information_message(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError("a message is empty")
    return text


def _fits_one_reply(where: str, language: str, text: str) -> None:
    """Measured as the SMS goes out (GSM-7 wherever the language allows it)."""
    sent = sms_safe(text, fold_letters=language in FOLDED_LANGUAGES)
    if segments(sent) > MAX_INFORMATION_SEGMENTS:
        raise ValueError(f"{where}: {text[:40]!r}… is longer than {MAX_INFORMATION_SEGMENTS} "
                         f"SMS segments ({len(text)} characters); shorten it or split it "
                         f"in two")


InformationMessages = Annotated[
    list[Annotated[str, AfterValidator(_information_message)]],
    Field(min_length=1, max_length=MAX_INFORMATION_MESSAGES)]


def _information(value: dict[str, dict[str, list[str]]]
                 ) -> dict[str, dict[str, list[str]]]:
    """Country codes and languages normalised; one written twice (``kz`` and ``KZ``) is
    refused rather than one silently winning."""
    countries: dict[str, dict[str, list[str]]] = {}
    for country, by_language in value.items():
        code = _country_code(country)
        if code in countries:
            raise ValueError(f"country {code!r} appears twice")
        languages: dict[str, list[str]] = {}
        for language, messages in by_language.items():
            try:
                lang = _hotline_language(language)
            except ValueError as exc:
                raise ValueError(f"{code}: {exc}") from None
            if lang in languages:
                raise ValueError(f"{code}: language {lang!r} appears twice")
            for number, text in enumerate(messages, 1):
                _fits_one_reply(f"{code} {lang} message {number}", lang, text)
            languages[lang] = messages
        countries[code] = languages
    return countries


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisations: list[OrganisationEntry] = Field(min_length=1)
    lines: list[LineEntry] = Field(default_factory=list, description="the hotline's own "
                                   "numbers; a call or text to one not listed is taken as "
                                   "before (the caller's number alone)")
    information: Annotated[dict[str, dict[str, InformationMessages]],
                           AfterValidator(_information)] = Field(
        default_factory=dict, description="per country and language, the messages the "
        "information line speaks and texts, in order: {'KZ': {'ru': ['…', '…']}}; a "
        "country with none in the caller's language gets the generic ones. A country "
        "listed replaces all its messages; '{}' removes them")

    @model_validator(mode="after")
    def _unique_ids(self) -> "DirectoryFile":
        seen: set[str] = set()
        for entry in self.organisations:
            if entry.id in seen:
                raise ValueError(f"organisation id {entry.id!r} appears twice")
            seen.add(entry.id)
        numbers: set[str] = set()
        for line in self.lines:
            if line.number in numbers:
                raise ValueError(f"line number {line.number!r} appears twice")
            numbers.add(line.number)
        return self
