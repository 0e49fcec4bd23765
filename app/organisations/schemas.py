"""The responder directory file (YAML or JSON): its schema and validation.

Every entry is validated before anything is written, and errors name the entry and
field, so a coordinator can fix a file without reading code.
"""

import re
from datetime import time
from functools import cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.languages import LANGUAGES, normalise_language
from app.organisations.models import Service

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
ALWAYS = "24/7"


@cache
def _territories() -> frozenset[str]:
    return frozenset(code for code in Locale("en").territories if len(code) == 2)


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


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not an international number (+country code)") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class OrganisationEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug = Field(description="stable identifier, e.g. 'kz-almaty-shelter'")
    name: str = Field(min_length=2, max_length=200)
    country: str
    timezone: str
    hours: Literal["24/7"] | dict[str, list[str]]
    services: list[Service] = Field(min_length=1)
    languages: list[str] = Field(min_length=1)
    duty_numbers: list[Annotated[str, AfterValidator(_e164)]] = Field(min_length=1,
                                                                       max_length=10)
    hub: bool = False
    priority: int = Field(default=100, ge=0, le=1000,
                          description="lower is tried first among equals")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in _territories():
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code

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


class DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisations: list[OrganisationEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "DirectoryFile":
        seen: set[str] = set()
        for entry in self.organisations:
            if entry.id in seen:
                raise ValueError(f"organisation id {entry.id!r} appears twice")
            seen.add(entry.id)
        return self
