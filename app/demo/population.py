"""Who contacts the demo hotline, when, how and about what: a plan from a seed alone.

No database here. ``plan`` draws every fictitious person and every contact they make,
each person from their own ``random.Random`` (seed and person number), so a seed gives
the same history whatever else changes, and ``app.demo.seed`` only plays it.

The proportions are illustrative, not data: labour migrants from Uzbekistan, Tajikistan
and Kyrgyzstan in Russia and Kazakhstan are most of the people, Afghans in Iran and
Türkiye the next group; their families at home call too. Work abroad has seasons, and so
do the calls: construction and services peak in spring and autumn, harvests in summer,
and the winter (New Year at home) is quiet.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.cases.models import Channel
from app.cases.screening import (
    AgeBand,
    CallerType,
    ControlMethod,
    ExploitationType,
    Gender,
    IloIndicator,
    RecruitmentMethod,
    ReferralType,
    RelationshipToTrafficker,
    TraffickingStatus,
)
from app.demo.numbers import fictitious_number
from app.routing.needs import Need

Weighted = tuple[tuple[str, float], ...]

# Month factors, January first.
CONSTRUCTION = (0.6, 0.7, 1.2, 1.5, 1.4, 1.1, 1.0, 1.0, 1.3, 1.3, 0.9, 0.6)
HARVEST = (0.4, 0.5, 0.8, 1.1, 1.4, 1.7, 1.7, 1.5, 1.3, 0.9, 0.5, 0.4)
STEADY = (0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 0.9)
# Local hours, midnight first: few at night, most after the working day.
HOURS = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 9, 9, 8, 5, 2)
# Hours ahead of UTC where the person's phone is (no daylight saving in the region).
UTC_OFFSETS = {"RU": 3.0, "KZ": 5.0, "UZ": 5.0, "TJ": 5.0, "KG": 6.0, "TM": 5.0,
               "AF": 4.5, "IR": 3.5, "TR": 3.0, "AZ": 4.0}
LABOUR = (("ForcedLabour", 6.0), ("Servitude", 1.0), ("ForcedBegging", 0.3),
          ("SexualExploitation", 0.7), ("Other", 0.5))
SEXUAL = (("SexualExploitation", 6.0), ("ForcedMarriage", 1.5), ("ForcedLabour", 1.0),
          ("Servitude", 1.0))


@dataclass(frozen=True)
class Profile:
    """A group of people alike enough to draw from the same proportions."""

    weight: float
    citizenship: str
    where: Weighted  # the country of their phone number: where they are, mostly
    languages: Weighted
    channels: Weighted
    season: tuple[float, ...]
    exploitation: Weighted
    women: float  # the share of women
    family: float = 0.05  # the share of calls made by family or friends, not the person


PROFILES: dict[str, Profile] = {
    "uz-in-ru": Profile(20, "UZ", (("RU", 0.75), ("UZ", 0.25)), (("uz", 0.8), ("ru", 0.2)),
                        (("whatsapp", 0.35), ("telegram", 0.3), ("voice", 0.25), ("sms", 0.1)),
                        CONSTRUCTION, LABOUR, 0.25),
    "tj-in-ru": Profile(14, "TJ", (("RU", 0.75), ("TJ", 0.25)), (("tg", 0.8), ("ru", 0.2)),
                        (("whatsapp", 0.3), ("telegram", 0.3), ("voice", 0.3), ("sms", 0.1)),
                        CONSTRUCTION, LABOUR, 0.2),
    "kg-in-ru": Profile(8, "KG", (("RU", 0.8), ("KG", 0.2)), (("ky", 0.65), ("ru", 0.35)),
                        (("whatsapp", 0.35), ("telegram", 0.3), ("voice", 0.25), ("sms", 0.1)),
                        CONSTRUCTION, LABOUR, 0.35),
    "uz-in-kz": Profile(9, "UZ", (("KZ", 0.8), ("UZ", 0.2)), (("uz", 0.85), ("ru", 0.15)),
                        (("whatsapp", 0.4), ("voice", 0.35), ("sms", 0.15), ("telegram", 0.1)),
                        HARVEST, LABOUR, 0.3),
    "kg-in-kz": Profile(5, "KG", (("KZ", 0.85), ("KG", 0.15)), (("ky", 0.7), ("ru", 0.3)),
                        (("whatsapp", 0.4), ("voice", 0.35), ("sms", 0.15), ("telegram", 0.1)),
                        HARVEST, LABOUR, 0.3),
    "kz-home": Profile(5, "KZ", (("KZ", 1.0),), (("kk", 0.5), ("ru", 0.5)),
                       (("voice", 0.4), ("whatsapp", 0.3), ("telegram", 0.2), ("sms", 0.1)),
                       STEADY, SEXUAL, 0.7),
    "af-in-ir": Profile(12, "AF", (("IR", 0.85), ("AF", 0.15)),
                        (("prs", 0.7), ("fa", 0.15), ("ps", 0.15)),
                        (("whatsapp", 0.45), ("voice", 0.4), ("sms", 0.15)),
                        HARVEST, LABOUR, 0.3),
    "af-in-tr": Profile(7, "AF", (("TR", 0.85), ("AF", 0.15)),
                        (("prs", 0.6), ("ps", 0.3), ("fa", 0.1)),
                        (("whatsapp", 0.5), ("voice", 0.3), ("telegram", 0.1), ("sms", 0.1)),
                        HARVEST, LABOUR, 0.2),
    "tm-in-tr": Profile(5, "TM", (("TR", 0.9), ("TM", 0.1)), (("tk", 0.7), ("ru", 0.3)),
                        (("whatsapp", 0.45), ("voice", 0.3), ("telegram", 0.15), ("sms", 0.1)),
                        STEADY, LABOUR, 0.45),
    "women-to-tr": Profile(4, "UZ", (("TR", 0.7), ("UZ", 0.3)), (("uz", 0.6), ("ru", 0.4)),
                           (("whatsapp", 0.5), ("telegram", 0.3), ("voice", 0.2)),
                           STEADY, SEXUAL, 0.95),
    "tj-families": Profile(4, "TJ", (("TJ", 1.0),), (("tg", 0.9), ("ru", 0.1)),
                           (("voice", 0.6), ("whatsapp", 0.3), ("sms", 0.1)),
                           CONSTRUCTION, LABOUR, 0.3, family=0.8),
    "uz-families": Profile(4, "UZ", (("UZ", 1.0),), (("uz", 0.9), ("ru", 0.1)),
                           (("voice", 0.6), ("whatsapp", 0.3), ("sms", 0.1)),
                           CONSTRUCTION, LABOUR, 0.3, family=0.8),
    "az": Profile(3, "AZ", (("AZ", 0.6), ("RU", 0.4)), (("az", 0.7), ("ru", 0.3)),
                  (("whatsapp", 0.4), ("voice", 0.4), ("telegram", 0.2)),
                  STEADY, LABOUR, 0.4),
}
NEEDS: Weighted = (("danger", 0.2), ("legal_aid", 0.35), ("information", 0.25),
                   ("other", 0.2))


@dataclass(frozen=True)
class Screening:
    """What the operator learns of the person, as the HTCDS screening form has it."""

    gender: Gender
    age_band: AgeBand
    status: TraffickingStatus
    exploitation: tuple[ExploitationType, ...]
    control: tuple[ControlMethod, ...]
    recruitment: RecruitmentMethod
    relationship: RelationshipToTrafficker
    ilo: tuple[IloIndicator, ...]
    caller_type: CallerType
    exploited_in: str | None
    thorough: bool  # False: the operator left most of the form unknown


@dataclass(frozen=True)
class Casework:
    """What the operators do if this contact opens a case."""

    claim_after: timedelta
    close_after: timedelta  # after the claim (or after the receiver accepted a referral)
    consent: bool  # to be counted beyond the hotline (exports)
    refer: ReferralType | None  # to an organisation in the person's own country
    declined: bool  # the receiver sends the referral back
    completes_callback: bool
    abandoned: bool  # nobody gets to it: the case waits (a backlog the queue shows)


@dataclass(frozen=True)
class PlannedContact:
    at: datetime  # UTC
    channel: Channel
    need: Need
    child: bool
    finishes_intake: bool  # answers every menu (texts), stays on the line (calls)
    answers: tuple[bool, ...]  # per responder rung: does it answer and accept?
    callback: bool  # agrees to be called back when nobody answers
    seconds: int  # how long a call lasts
    casework: Casework


@dataclass(frozen=True)
class Person:
    index: int
    profile: str
    citizenship: str
    where: str  # the country of their phone number
    language: str
    number: str  # fictitious (app.demo.numbers)
    chat_id: str  # Telegram's id of their chat with the bot, fictitious
    screening: Screening
    contacts: tuple[PlannedContact, ...]


def pick(rng: random.Random, weighted: Weighted) -> str:
    values = [value for value, _ in weighted]
    return rng.choices(values, [weight for _, weight in weighted])[0]


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def months_back(moment: datetime, months: int) -> datetime:
    """The first day of the month ``months`` before the month of ``moment``."""
    index = moment.year * 12 + moment.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def plan(people: int, months: int, end: datetime, seed: int) -> list[Person]:
    """``people`` fictitious people contacting the hotline from the first day of the month
    ``months`` months before ``end`` until ``end``."""
    start = months_back(end, months)
    profiles = list(PROFILES)
    chooser = random.Random(f"demo:{seed}:profiles")
    chosen = chooser.choices(profiles, [PROFILES[p].weight for p in profiles], k=people)
    per_country: Counter[str] = Counter()
    persons = []
    for index, name in enumerate(chosen):
        rng = random.Random(f"demo:{seed}:person:{index}")
        person = _person(rng, index, name, start, end, per_country)
        persons.append(person)
    return persons


def _person(rng: random.Random, index: int, name: str, start: datetime, end: datetime,
            per_country: Counter[str]) -> Person:
    profile = PROFILES[name]
    where = pick(rng, profile.where)
    number = fictitious_number(where, per_country[where])
    per_country[where] += 1
    child = rng.random() < 0.05
    screening = _screening(rng, profile, where, child)
    first = _moment(rng, profile.season, where, start, end)
    contacts = [_contact(rng, profile, first, child, pick(rng, profile.channels), None)]
    at = first
    while rng.random() < (0.35 if len(contacts) == 1 else 0.3) and len(contacts) < 4:
        gap = timedelta(minutes=10) + timedelta(days=rng.expovariate(1 / 6))
        at = (at + gap).replace(microsecond=0)
        if at >= end:
            break
        same = rng.random() < 0.8
        channel = contacts[0].channel.value if same else pick(rng, profile.channels)
        contacts.append(_contact(rng, profile, at, child, channel, contacts[0].need))
    return Person(index=index, profile=name, citizenship=profile.citizenship, where=where,
                  language=pick(rng, profile.languages), number=number,
                  chat_id=str(9_000_000_000 + index), screening=screening,
                  contacts=tuple(contacts))


def _moment(rng: random.Random, season: tuple[float, ...], where: str, start: datetime,
            end: datetime) -> datetime:
    """A moment in [start, end), more likely in the profile's busy months and in the
    evening where the person is."""
    span = (end - start).total_seconds()
    top = max(season)
    offset = timedelta(hours=UTC_OFFSETS[where])
    while True:
        day = start + timedelta(seconds=rng.random() * span)
        if rng.random() > season[day.month - 1] / top:
            continue
        local_day = (day + offset).replace(hour=0, minute=0, second=0, microsecond=0)
        hour = rng.choices(range(24), HOURS)[0]
        moment = local_day + timedelta(hours=hour, seconds=rng.randrange(3600)) - offset
        if start <= moment < end:
            return moment.replace(microsecond=0)


def _contact(rng: random.Random, profile: Profile, at: datetime, child: bool, channel: str,
             earlier: Need | None) -> PlannedContact:
    need = earlier if earlier is not None and rng.random() < 0.7 else Need(pick(rng, NEEDS))
    return PlannedContact(
        at=at, channel=Channel(channel), need=need, child=child,
        finishes_intake=rng.random() < 0.9,
        answers=tuple(rng.random() < 0.4 for _ in range(3)),
        callback=rng.random() < 0.6, seconds=rng.randrange(60, 1200),
        casework=_casework(rng))


def _casework(rng: random.Random) -> Casework:
    quick = rng.random() < 0.7
    claim = timedelta(minutes=rng.randrange(5, 120) if quick else rng.randrange(120, 4320))
    referred = rng.random() < 0.22
    service = pick(rng, (("Shelter", 3), ("Legal", 3), ("SocialCare", 2), ("Health", 1),
                         ("Livelihood", 1))) if referred else None
    return Casework(claim_after=claim,
                    close_after=timedelta(hours=rng.randrange(1, 24 * 21)),
                    consent=rng.random() < 0.6,
                    refer=ReferralType(service) if service else None,
                    declined=rng.random() < 0.1, completes_callback=rng.random() < 0.85,
                    abandoned=rng.random() < 0.03)


def _screening(rng: random.Random, profile: Profile, where: str, child: bool) -> Screening:
    woman = rng.random() < profile.women
    status = TraffickingStatus(pick(rng, (
        ("PossibleVictimOfTrafficking", 0.5), ("ActualVictimOfTrafficking", 0.15),
        ("NotAVictimOfTrafficking", 0.2), ("NotAssessed", 0.15))))
    victim = status in (TraffickingStatus.POSSIBLE_VICTIM, TraffickingStatus.ACTUAL_VICTIM)
    exploitation = tuple(sorted({ExploitationType(pick(rng, profile.exploitation))
                                 for _ in range(rng.choice((1, 1, 2)))})) if victim else ()
    return Screening(
        gender=Gender.FEMININE if woman else Gender.MASCULINE,
        age_band=AgeBand.AGE_9_17 if child else AgeBand(pick(rng, (
            ("18-20", 1), ("21-23", 2), ("24-26", 3), ("27-29", 3), ("30-38", 5),
            ("39-47", 3), ("48+", 1), ("Unknown", 2)))),
        status=status, exploitation=exploitation,
        control=tuple(sorted({ControlMethod(pick(rng, (
            ("WithholdsDocuments", 4), ("TakesEarnings", 4), ("DebtBondage", 2),
            ("ThreatsLawEnforcement", 3), ("PhysicalThreats", 1), ("FalsePromises", 3),
            ("ExcessiveWorkingHours", 2)))) for _ in range(rng.choice((1, 2, 3)))}))
        if victim else (),
        recruitment=RecruitmentMethod(pick(rng, (
            ("ThroughFriendsOrSocialEvents", 4), ("ThroughFamilyOrFamilyEvents", 2),
            ("ThroughOnlineSocialNetworks", 3), ("ThroughAnOnlineAdvertisement", 1),
            ("AtWork", 1), ("Unknown", 2)))),
        relationship=RelationshipToTrafficker(pick(rng, (
            ("Acquainted", 4), ("Unacquainted", 3), ("Familial", 1), ("Unknown", 2)))),
        ilo=tuple(sorted({IloIndicator(pick(rng, (
            ("deception", 3), ("retention_of_identity_documents", 4),
            ("withholding_of_wages", 4), ("debt_bondage", 2), ("excessive_overtime", 2),
            ("abusive_working_and_living_conditions", 3), ("intimidation_and_threats", 1))))
            for _ in range(rng.choice((1, 2, 3)))})) if victim else (),
        caller_type=CallerType.FAMILY_OR_FRIEND if rng.random() < profile.family else (
            CallerType(pick(rng, (("PotentialVictim", 0.93), ("CommunityMember", 0.04),
                                  ("Professional", 0.03))))),
        exploited_in=where if where != profile.citizenship else None,
        thorough=rng.random() < 0.8)
