"""The screening form: every ``Screening`` field as a select or checkboxes, and back.

Unknown is always a choice and the default. Without JavaScript a ticked "Unknown" box
cannot untick itself when the operator ticks a real value, so "Unknown" together with
other values means those values; nothing ticked means "none" (``[]``), as in the model.
Citizenship and the country of exploitation offer the hotline's ten countries, plus a
text box for any other ISO code, which keeps the page small on a slow connection.
"""

from dataclasses import dataclass
from enum import StrEnum

from starlette.datastructures import FormData

from app.cases.screening import (
    UNKNOWN,
    AgeBand,
    CallerType,
    ControlMethod,
    ExploitationType,
    Gender,
    IloIndicator,
    RecruitmentMethod,
    ReferralType,
    RelationshipToTrafficker,
    Screening,
    TraffickingStatus,
)
from app.countries import LIKELY_LANGUAGES
from app.i18n import N_

HOTLINE_COUNTRIES: tuple[str, ...] = tuple(LIKELY_LANGUAGES)
UNKNOWN_VALUE = "unknown"  # the citizenship box; [] in the model
NO_REFERRAL = "none"

SELECTS: dict[str, tuple[type[StrEnum], str]] = {
    "gender": (Gender, N_("Gender")),
    "age_band": (AgeBand, N_("Age")),
    "trafficking_status": (TraffickingStatus, N_("Trafficking status")),
    "recruitment_method": (RecruitmentMethod, N_("Recruitment")),
    "relationship_to_trafficker": (RelationshipToTrafficker,
                                   N_("Relationship to the trafficker")),
    "caller_type": (CallerType, N_("Who contacted the hotline")),
}
CHECKBOXES: dict[str, tuple[type[StrEnum], str]] = {
    "exploitation_types": (ExploitationType, N_("Types of exploitation")),
    "control_methods": (ControlMethod, N_("Methods of control")),
    "ilo_indicators": (IloIndicator, N_("ILO indicators of forced labour")),
}
YES_NO = {"": N_("Unknown"), "yes": N_("Yes"), "no": N_("No")}


@dataclass(frozen=True)
class Option:
    value: str
    chosen: bool
    member: StrEnum | None = None   # shown by its screening label
    country: str | None = None      # shown by the country's name
    text: str | None = None         # a msgid


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    multiple: bool
    options: list[Option]
    other: str | None = None  # the "other country codes" box, where there is one


def _enum_options(enum: type[StrEnum], chosen: set[str]) -> list[Option]:
    members = [UNKNOWN[enum], *(m for m in enum if m != UNKNOWN[enum])]  # unknown first
    return [Option(m.value, m.value in chosen, member=m) for m in members]


def _country_field(name: str, title: str, codes: list[str], multiple: bool) -> Field:
    unknown = Option(UNKNOWN_VALUE if multiple else "", not codes, text=N_("Unknown"))
    options = [Option(c, c in codes, country=c) for c in HOTLINE_COUNTRIES]
    other = " ".join(c for c in codes if c not in HOTLINE_COUNTRIES)
    return Field(name, title, multiple, [unknown, *options], other=other)


def fields(screening: Screening) -> list[Field]:
    """The form, filled in with the stored answers, in the order an interview goes."""
    values = screening.model_dump(mode="json")
    selects = {name: Field(name, title, False, _enum_options(enum, {values[name]}))
               for name, (enum, title) in SELECTS.items()}
    boxes = {name: Field(name, title, True, _enum_options(enum, set(values[name])))
             for name, (enum, title) in CHECKBOXES.items()}
    referral = [Option(NO_REFERRAL, values["referral_made"] is None,
                       text=N_("No referral made")),
                *_enum_options(ReferralType, {values["referral_made"]})]
    interpreter = {True: "yes", False: "no", None: ""}[values["interpreter_used"]]
    return [
        selects["caller_type"], selects["gender"], selects["age_band"],
        _country_field("citizenship", N_("Citizenship"), values["citizenship"], True),
        _country_field("country_of_exploitation", N_("Country of exploitation"),
                       [c for c in [values["country_of_exploitation"]] if c], False),
        selects["trafficking_status"], boxes["exploitation_types"],
        boxes["control_methods"], selects["recruitment_method"],
        selects["relationship_to_trafficker"], boxes["ilo_indicators"],
        Field("referral_made", N_("Referral made"), False, referral),
        Field("interpreter_used", N_("Interpreter used"), False,
              [Option(v, v == interpreter, text=t) for v, t in YES_NO.items()]),
    ]


def _ticked(form: FormData, name: str, unknown: str) -> list[str]:
    values = [v for v in form.getlist(name) if isinstance(v, str)]
    real = [v for v in dict.fromkeys(values) if v != unknown]
    if real:
        return real
    return [unknown] if unknown in values else []


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.replace(",", " ").split() if c.strip()]


def parse(form: FormData) -> Screening:
    """The screening the form describes; raises ValueError (pydantic's too) if invalid."""
    def one(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    answers: dict[str, object] = {name: one(name) or UNKNOWN[enum].value
                                  for name, (enum, _) in SELECTS.items()}
    for name, (enum, _) in CHECKBOXES.items():
        answers[name] = _ticked(form, name, UNKNOWN[enum].value)
    citizenship = [c for c in _ticked(form, "citizenship", UNKNOWN_VALUE) if c != UNKNOWN_VALUE]
    answers["citizenship"] = list(dict.fromkeys(citizenship + _codes(one("citizenship_other"))))
    exploitation = _codes(one("country_of_exploitation_other")) or [one("country_of_exploitation")]
    if len(exploitation) > 1:
        raise ValueError("one country of exploitation only")
    answers["country_of_exploitation"] = exploitation[0] or None
    referral = one("referral_made") or ReferralType.UNKNOWN.value
    answers["referral_made"] = None if referral == NO_REFERRAL else referral
    answers["interpreter_used"] = {"yes": True, "no": False}.get(one("interpreter_used"))
    return Screening.model_validate(answers)
