"""Scrubbing operators' free-text case notes of phone numbers, e-mails and document numbers.

A scan runs five passes over the note; each pass claims spans, and a claimed span is
masked so that later passes can neither see it nor split it:

1. case references (``HL-XXXXXX``) are protected, then e-mail addresses are removed;
2. numbers whose shape or checksum makes them documents are removed: IBANs (mod 97),
   card numbers grouped by four or Luhn-valid, Kazakh IINs (birth date and check digit),
   Russian internal passports (``45 10 123456``);
3. dates, times, year ranges and money amounts next to a currency are protected;
4. phone numbers that ``phonenumbers`` finds for a region in ``regions`` are removed;
5. anything left that still looks like an identifier is removed: a run of digit groups
   (letters allowed, as in ``AB1234567``) with six digits or more.

Pass 5 is a safety net, because a missed identifier costs more than a lost number in a
note: phone numbers that ``phonenumbers`` misses (a 6-digit village number, one glued
to an age) are still removed, and reported as phones if they are valid numbers or
follow "тел."; a word such as "паспорт" before a number makes it a document. The net
keeps what is plainly not an identifier: thousands ending in ``000`` (``5 000 000``),
lists of years (``2022 2023``) and two short groups (``COVID-19 2020``).

Pure functions: no I/O, and the text is never logged. The offsets in ``Redaction``
refer to the original text and ``summary()`` gives counts only, never values.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from app.countries import HOTLINE_COUNTRIES

__all__ = ["DEFAULT_REGIONS", "PLACEHOLDERS", "Redaction", "Removed", "Scrubbed", "scrub"]

DEFAULT_REGIONS: tuple[str, ...] = HOTLINE_COUNTRIES


class Removed(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    DOCUMENT = "document"  # passport/ID/card/IBAN-like numbers


PLACEHOLDERS: dict[Removed, str] = {
    Removed.PHONE: "[phone removed]",
    Removed.EMAIL: "[e-mail removed]",
    Removed.DOCUMENT: "[document number removed]",
}


@dataclass(frozen=True)
class Redaction:
    kind: Removed
    start: int  # offsets in the ORIGINAL text
    end: int


@dataclass(frozen=True)
class Scrubbed:
    text: str
    removed: tuple[Redaction, ...]

    def summary(self) -> dict[str, int]:
        """How many of each kind were removed, e.g. ``{"phone": 2, "email": 1}``."""
        counts = Counter(redaction.kind for redaction in self.removed)
        return {kind.value: counts[kind] for kind in Removed if counts[kind]}


Span = tuple[int, int]

MASK = "|"  # stands in for claimed text: not a digit, letter or separator to any pass
_NOT_WORD = r"(?<![^\W_])"  # at the start of a word (letters and digits, not "_")
_END_WORD = r"(?![^\W_])"
_HSPACE = " \u00a0\u202f"  # space, no-break space, narrow no-break space

# --- 1. case references and e-mail addresses ------------------------------------------

CASE_REFERENCE = re.compile(_NOT_WORD + r"HL-[A-Z0-9]{6}" + _END_WORD, re.IGNORECASE)
# ASCII only on both sides so that an address glued to Cyrillic or Arabic text is found.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                   r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")

# --- 2. numbers that are documents by shape or checksum --------------------------------

IBAN_COMPACT = re.compile(_NOT_WORD + r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}" + _END_WORD)
IBAN_GROUPED = re.compile(_NOT_WORD + r"[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?"
                          + _END_WORD)
CARD_GROUPED = re.compile(r"(?<!\d)(?<!\d[ -])\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
                          r"(?!\d)(?![ -]\d)")
DIGITS_13_19 = re.compile(_NOT_WORD + r"\d{13,19}" + _END_WORD)
DIGITS_12 = re.compile(_NOT_WORD + r"\d{12}" + _END_WORD)
# Series (region code, two digits of the year of issue) and number, "45 10 123456".
RU_PASSPORT = re.compile(_NOT_WORD + r"(?<!\d[ -])\d{2} ?(\d{2}) (?:№ ?)?\d{6}" + _END_WORD
                         + r"(?![ -]\d)")

# --- 3. what operators write that is not an identifier ---------------------------------

_DATE_BEFORE = r"(?<!\d)(?<!\d[./])"
_DATE_AFTER = r"(?!\d)(?![./]\d)"
DATE_DMY = re.compile(_DATE_BEFORE + r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})" + _DATE_AFTER)
DATE_YMD = re.compile(_DATE_BEFORE + r"(\d{4})([./-])(\d{1,2})\2(\d{1,2})" + _DATE_AFTER)
MONTH_YEAR = re.compile(r"(?<!\d)(?<!\d[./-])(\d{1,2})[./](\d{4})(?!\d)(?![./-]\d)")
YEAR_MONTH = re.compile(r"(?<!\d)(?<!\d[./-])(\d{4})-(\d{2})(?!\d)(?![./-]\d)")
YEAR_RANGE = re.compile(r"(?<!\d)(?<!\d[./ -])(\d{4}) ?[-–—/] ?(\d{4}|\d{2})(?!\d)(?![./ -]\d)")
TIME = re.compile(r"(?<!\d)(?<!\d[:.])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?!\d)(?!:\d)")

_THOUSANDS_SEPARATOR = r"[" + _HSPACE + r".,'’]"
_AMOUNT = (  # not from the middle of a run of short groups, and without backtracking into it
    r"(?<![^\d]\d" + _THOUSANDS_SEPARATOR + r")(?<![^\d]\d\d" + _THOUSANDS_SEPARATOR + r")"
    r"(?<![^\d]\d\d\d" + _THOUSANDS_SEPARATOR + r")"
    r"(?:\d{1,3}(?:" + _THOUSANDS_SEPARATOR + r"\d{3})++|[1-9]\d{0,9}|0)(?:[.,]\d{1,2})?(?!\d)")
_CURRENCY_SIGN = r"[$€£₽₸₺₼؋﷼]"
_CURRENCY_CODE = r"(?:USD|EUR|GBP|RUB|KZT|UZS|KGS|TJS|TMT|AFN|AZN|IRR|IRT|TRY|TL)"
_CURRENCY_WORD = (
    r"(?:руб(?:л[а-яё]*)?\.?|р\.|тенге|теңге|тг\.?|сум(?:ов|а|ы)?|сўм|so['ʻ’]?m|"
    r"сом(?:ов|а|ы)?|сомони|сомонӣ|somoni|манат(?:ов|а|ы)?|manat|лир(?:а|ы)?|liras?|lira|"
    r"доллар[а-яё]*|долл\.?|dollars?|евро|euros?|rubles?|roubles?|tenge|soms?|afghanis?|"
    r"afs|rials?|tomans?|тыс\.?|млн\.?|thousand|million|bin|milyon|"
    r"افغانی|تومان|ریال|دالر|هزار|میلیون)"
)
_CURRENCY_AFTER = (r"(?:" + _CURRENCY_SIGN + r"|(?:" + _CURRENCY_CODE + r"|" + _CURRENCY_WORD
                   + r")" + _END_WORD + r")")
AMOUNT = re.compile(  # $300, USD 1500, 5000 rubles, 150 000 тг, 2 500 000 تومان
    _NOT_WORD + r"(?:" + _CURRENCY_SIGN + r"|" + _CURRENCY_CODE + r")[" + _HSPACE + r"]?"
    + r"(?<!\d)" + _AMOUNT
    + r"|" + _NOT_WORD + r"(?<!\d[.,])" + _AMOUNT + r"[" + _HSPACE + r"]?" + _CURRENCY_AFTER,
    re.IGNORECASE,
)

# --- 4. phone numbers ------------------------------------------------------------------

LOCAL_SEVEN_DIGITS = re.compile(r"\d{3}[- ]\d{2}[- ]\d{2}")  # 123-45-67, a city number
# A phone number is a piece of a longer run of digit groups if a group of 3 to 5 digits
# comes next to it (an IBAN, an account number), or any group joined by punctuation;
# a short group after a space is something else: "8 701 123 45 67 2 раза".
NEXT_GROUP = re.compile(r"[-./]\d|[ \u00a0]\(?\d{3,5}(?!\d)")
PREVIOUS_GROUP = re.compile(r"(?<!\d)\d{3,5}\)?[ \u00a0]$|\d[-./]$")
TRAILING_SHORT_GROUP = re.compile(r"[ -](\d{1,2})$")

# What the operator wrote just before a number says what it is: a bare nine-digit
# number is a Tajik mobile number or a Tajik passport number.
_PHONE_WORDS = (
    r"тел(?:\.|еф[а-яёӣ]*)?|tel(?:\.|efon\w*|ephone)?|phone|mobile|mob\.?|моб(?:\.|ильн\w*)?|"
    r"сотов\w*|whats ?app|ват[сc]ап\w*|вотсап\w*|viber|вайбер\w*|"
    r"تلفن|موبایل|تماس|واتساپ|واتس‌اپ"
)
_DOCUMENT_WORDS = (
    r"паспорт\w*|шиноснома\w*|passport\w*|pasaport\w*|pasport\w*|ID|IIN|ИИН|ЖСН|ИНН|СНИЛС|"
    r"SNILS|удостоверени\w*|куәлі\w*|kimlik|TC|card|карт[аыуео]\w*|kart\w*|IBAN|сч[её]т\w*|"
    r"hesap\w*|account|серии|серия|series|"
    r"گذرنامه|پاسپورت|تذکره|شناسنامه|کارت|حساب"
)
_NUMBER_WORDS = r"no|nr|number|numara\w*|номер\w*|нөмір\w*|рақам\w*|شماره"
_GAP = r"[^\w\n|]{0,3}"  # ": ", " № ", " - "
LABEL = re.compile(  # "паспорт: ", "passport no. ", "тел. ", "شماره پاسپورت "
    _NOT_WORD + r"(?:(?P<phone>" + _PHONE_WORDS + r")|(?P<document>" + _DOCUMENT_WORDS + r"))"
    + _END_WORD + _GAP + r"(?:(?:" + _NUMBER_WORDS + r")" + _END_WORD + _GAP + r")?$",
    re.IGNORECASE)
LOOK_BACK = 40  # characters before a number searched for a label

# --- 5. anything else that looks like an identifier ------------------------------------

_PIECE = r"(?=[^\W_]*\d)[^\W_]++"  # a whole word containing a digit
_SEPARATOR = (r"(?:[" + _HSPACE + r"]?[-‐‑‒–—―−./()][" + _HSPACE + r"]?|[" + _HSPACE + r"])")
DIGIT_RUN = re.compile(r"(?:\+|" + _NOT_WORD + r")" + _PIECE + r"(?:" + _SEPARATOR + _PIECE + r")*")
WORD = re.compile(r"[^\W_]+")
DIGITS = re.compile(r"\d")
LONG_DIGITS = re.compile(r"\d{6}")
THOUSANDS = re.compile(r"[1-9]\d{0,2}([" + _HSPACE + r".])\d{3}(?:\1\d{3})*")
MIN_DOCUMENT_DIGITS = 6


def scrub(text: str, regions: Iterable[str] = DEFAULT_REGIONS) -> Scrubbed:
    """The text with phone numbers, e-mails and document numbers replaced by placeholders.

    Scanning is repeated on its own output until nothing more is found, so scrubbing a
    scrubbed note removes nothing: what ``phonenumbers`` finds depends on the text
    around a number, and a placeholder is different surroundings from what it replaced.
    Each further scan removes some of the digits or "@" the last one left, so this ends,
    usually after the first scan.
    """
    regions = tuple(regions)
    removed: list[Redaction] = []
    scrubbed = text
    while found := _scan(scrubbed, regions):
        removed = _merge(removed, [_to_original(redaction, removed) for redaction in found])
        scrubbed = _render(text, removed)
    return Scrubbed(scrubbed, tuple(removed))


def _scan(text: str, regions: tuple[str, ...]) -> list[Redaction]:
    """One scan: each pass claims spans; a claimed span is masked from the later passes."""
    claims = _Claims(text)
    claims.add(_matches(CASE_REFERENCE, text), None)
    claims.add(_matches(EMAIL, text), Removed.EMAIL)
    claims.add(_documents(claims.masked), Removed.DOCUMENT)
    claims.add(_not_identifiers(claims.masked), None)
    claims.add(_phones(claims.masked, regions), Removed.PHONE)
    for start, end, kind in _leftovers(claims.masked, regions):
        claims.add([(start, end)], kind)
    return sorted((Redaction(kind, start, end) for start, end, kind in claims.spans if kind),
                  key=lambda redaction: redaction.start)


def _to_original(redaction: Redaction, removed: list[Redaction]) -> Redaction:
    """A redaction of the text rendered from ``removed``, in offsets of the original.

    A placeholder it touches is covered in full: the new redaction swallows the old one.
    """
    shift, start, end = 0, None, None  # shift: original offset minus rendered offset
    for old in removed:
        placeholder_start = old.start - shift
        placeholder_end = placeholder_start + len(PLACEHOLDERS[old.kind])
        if start is None and redaction.start < placeholder_end:
            start = min(old.start, redaction.start + shift)
        if redaction.end <= placeholder_start:
            end = redaction.end + shift
            break
        if redaction.end <= placeholder_end:
            end = old.end
            break
        shift += (old.end - old.start) - len(PLACEHOLDERS[old.kind])
    if start is None:
        start = redaction.start + shift
    if end is None:
        end = redaction.end + shift
    return Redaction(redaction.kind, start, end)


def _merge(removed: list[Redaction], found: list[Redaction]) -> list[Redaction]:
    kept = [old for old in removed
            if not any(new.start <= old.start and old.end <= new.end for new in found)]
    return sorted(kept + found, key=lambda redaction: redaction.start)


def _render(text: str, removed: list[Redaction]) -> str:
    parts, position = [], 0
    for redaction in removed:
        parts += [text[position:redaction.start], PLACEHOLDERS[redaction.kind]]
        position = redaction.end
    parts.append(text[position:])
    return "".join(parts)


class _Claims:
    """Spans of the text already taken, by a kind to remove or None to keep."""

    def __init__(self, text: str) -> None:
        self.spans: list[tuple[int, int, Removed | None]] = []
        self._chars = list(text)
        self._taken = bytearray(len(text))

    @property
    def masked(self) -> str:
        return "".join(self._chars)

    def add(self, spans: Iterable[Span], kind: Removed | None) -> None:
        for start, end in spans:
            if start >= end or any(self._taken[start:end]):
                continue  # overlaps an earlier claim, which wins
            self.spans.append((start, end, kind))
            self._chars[start:end] = MASK * (end - start)
            self._taken[start:end] = b"\x01" * (end - start)


def _matches(pattern: re.Pattern[str], text: str,
             accept: Callable[[re.Match[str]], bool] = lambda _: True) -> Iterator[Span]:
    return (match.span() for match in pattern.finditer(text) if accept(match))


# --- 2. documents by shape or checksum -------------------------------------------------

def _documents(text: str) -> Iterator[Span]:
    yield from _ibans(text)
    yield from _matches(CARD_GROUPED, text)
    yield from _matches(DIGITS_13_19, text, lambda match: _luhn(match.group()))
    yield from _matches(DIGITS_12, text, lambda match: _kazakh_iin(match.group()))
    yield from _matches(RU_PASSPORT, text, lambda match: _issue_year(match.group(1)))


def _ibans(text: str) -> Iterator[Span]:
    """IBANs whose check digits are right; a grouped one may be followed by capitals."""
    for pattern in (IBAN_COMPACT, IBAN_GROUPED):
        for match in pattern.finditer(text):
            start, end = match.span()
            while end - start >= 15:
                if _iban_checksum(text[start:end]) and not text[end:end + 1].isalnum():
                    yield start, end
                    break
                end = text.rfind(" ", start, end) if " " in text[start:end] else start


def _iban_checksum(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _luhn(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _kazakh_iin(number: str) -> bool:
    """Twelve digits: birth date YYMMDD, century and sex, serial, check digit."""
    digits = [int(char) for char in number]
    month, day = digits[2] * 10 + digits[3], digits[4] * 10 + digits[5]
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1 <= digits[6] <= 6):
        return False
    for weights in (range(1, 12), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        check = sum(digit * weight for digit, weight in zip(digits, weights, strict=False)) % 11
        if check != 10:
            return check == digits[11]
    return False


def _issue_year(two_digits: str) -> bool:
    """Russian passports have been issued since 1997; the series ends with the year."""
    year = int(two_digits)
    return year >= 97 or year <= 30


# --- 3. dates, times, years, amounts ---------------------------------------------------

def _not_identifiers(text: str) -> Iterator[Span]:
    yield from _matches(DATE_DMY, text, _valid_dmy)
    yield from _matches(DATE_YMD, text, lambda match: _valid_date(
        int(match.group(1)), int(match.group(3)), int(match.group(4))))
    yield from _matches(MONTH_YEAR, text, lambda match: _year(int(match.group(2)))
                        and 1 <= int(match.group(1)) <= 12)
    yield from _matches(YEAR_MONTH, text, lambda match: _year(int(match.group(1)))
                        and 1 <= int(match.group(2)) <= 12)
    yield from _matches(YEAR_RANGE, text, _valid_year_range)
    yield from _matches(TIME, text)
    yield from _matches(AMOUNT, text)


def _year(year: int) -> bool:
    """Gregorian, or solar Hijri as written in Iran and Afghanistan (1402 = 2023)."""
    return 1900 <= year <= 2099 or 1300 <= year <= 1499


def _valid_date(year: int, month: int, day: int) -> bool:
    return _year(year) and 1 <= month <= 12 and 1 <= day <= 31


def _valid_dmy(match: re.Match[str]) -> bool:
    first, separator, second, year = match.groups()
    if len(year) == 2:
        if separator == "-":
            return False  # 12-03-24 is more often the end of a phone number than a date
        year = "20" + year
    day_first = _valid_date(int(year), int(second), int(first))
    return day_first or _valid_date(int(year), int(first), int(second))


def _valid_year_range(match: re.Match[str]) -> bool:
    first, second = match.group(1), match.group(2)
    if len(second) == 2:
        second = first[:2] + second
    return _year(int(first)) and _year(int(second)) and int(first) < int(second)


# --- 4. phone numbers ------------------------------------------------------------------

def _phones(text: str, regions: tuple[str, ...]) -> Iterator[Span]:
    """Matches for any region that pass ``_phone_span``, overlapping ones merged.

    A match that is only a possible number gives way to a valid one it overlaps.
    """
    valid: list[Span] = []
    possible: list[Span] = []
    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE)
        for match in matcher:
            if found := _phone_span(text, match.start, match.end, regions):
                (valid if found[2] else possible).append(found[:2])
    candidates = valid + [(start, end) for start, end in possible
                          if not any(start < v_end and v_start < end for v_start, v_end in valid)]
    merged: list[list[int]] = []
    for start, end in sorted(candidates):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return ((start, end) for start, end in merged)


def _phone_span(text: str, start: int, end: int,
                regions: tuple[str, ...]) -> tuple[int, int, bool] | None:
    """The span of a phone number in this match and whether it is valid, or None.

    The match must not be glued to letters or digits, nor be a piece of a longer run
    of digit groups (an IBAN or account number, left to pass 5). Then it is a phone
    number if it is valid for one of the regions, if dropping a trailing group of one or
    two digits makes it valid (``8 701 123 45 67 2 раза``), or if it is only possible
    but long enough.
    """
    if text[start] == "(" and ")" not in text[start:end]:
        start += 1  # "(87011234567)": the parenthesis around it stays
    raw = text[start:end]
    international = raw.startswith("+")
    glued_before = raw[0].isdigit() and start and text[start - 1].isalnum()
    if text[end:end + 1].isalnum() or glued_before:
        return None
    if NEXT_GROUP.match(text, end) or (
            not international and PREVIOUS_GROUP.search(text, max(0, start - LOOK_BACK), start)):
        return None
    digits = len(DIGITS.findall(raw))
    if digits < 7 or (not international and _label(text, start) is Removed.DOCUMENT):
        return None
    if _valid(raw, regions):
        return start, end, True
    tail = TRAILING_SHORT_GROUP.search(raw)
    if tail and digits - len(tail.group(1)) >= 7 and _valid(raw[:tail.start()], regions):
        return start, start + tail.start(), True
    if raw.isdigit():
        return None  # an unbroken run of digits that is no valid number is left to pass 5
    if _not_a_number(raw):
        return None
    if digits >= 8 or international or LOCAL_SEVEN_DIGITS.fullmatch(raw):
        return start, end, False
    return None


def _label(text: str, start: int) -> Removed | None:
    """PHONE or DOCUMENT if a word saying which comes just before ``start``."""
    label = LABEL.search(text, max(0, start - LOOK_BACK), start)
    if label is None:
        return None
    return Removed.PHONE if label.group("phone") else Removed.DOCUMENT


def _valid(raw: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        # "000 0000 17" parses as 17, valid in Tajikistan: leading zeros are dropped.
        significant = phonenumbers.national_significant_number(number)
        if len(significant) >= 7 and phonenumbers.is_valid_number(number):
            return True
    return False


# --- 5. the safety net -----------------------------------------------------------------

def _not_a_number(run: str) -> bool:
    """5 000 000 or 1.500.000, an amount without its currency, or years: 2021 2022 2023."""
    if run.endswith("000") and THOUSANDS.fullmatch(run):
        return True
    words = WORD.findall(run)
    return all(len(word) == 4 and word.isdigit() and _year(int(word)) for word in words)


def _leftovers(text: str, regions: tuple[str, ...]) -> Iterator[tuple[int, int, Removed]]:
    """Runs of digit groups that look like identifiers: documents unless labelled phones.

    A run is also a phone if it is a valid number and a group of one or two digits:
    ``phonenumbers`` misses ``+7 771 000 0000 ۱۷ ساله`` (a phone number and an age).
    """
    for match in DIGIT_RUN.finditer(text):
        run, (start, end) = match.group(), match.span()
        if not _identifier(run):
            continue
        label = _label(text, start)
        tail = TRAILING_SHORT_GROUP.search(run)
        if (label is not Removed.DOCUMENT and tail and not any(char.isalpha() for char in run)
                and _valid(run[:tail.start()], regions)):
            label, end = Removed.PHONE, start + tail.start()
        yield start, end, label or Removed.DOCUMENT


def _identifier(run: str) -> bool:
    words = WORD.findall(run)
    digits = [len(DIGITS.findall(word)) for word in words]
    total = sum(digits)
    if total < MIN_DOCUMENT_DIGITS:
        return False
    if _not_a_number(run):
        return False
    letters = sum(len(word) for word in words) - total
    if letters > total and not LONG_DIGITS.search(run):
        return False  # words with some digits in them, Tashkent2023Samarkand2024
    return max(digits) >= 5 or len(words) >= 3 or total >= 8
