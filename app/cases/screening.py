"""A case's anonymised screening fields: HTCDS v2.0 vocabularies, validation, CTDC groupings.

Enum values are HTCDS value names, so an export writes them unchanged (column names in
``HTCDS_EXPORT_NAMES``); statistics use CTDC's coarser groups (``gender_group``,
``control_group``, ``is_minor``). Every vocabulary has an explicit "unknown" member
(``UNKNOWN``), which is also the default, so a partially filled form is valid. In a
multi-value field ``[<unknown>]`` (the default) means "not known" and ``[]`` means "none";
the unknown value cannot be combined with others. Unknown countries are ``None`` / ``[]``.
English labels, marked for translation, are in ``app.cases.screening_labels``.
"""

from enum import StrEnum
from functools import cache
from typing import TypeVar

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, field_validator


class Gender(StrEnum):
    """HTCDS prs_Gender."""

    FEMININE = "Feminine"
    MASCULINE = "Masculine"
    TRANSGENDER_FEMININE = "TransgenderFeminine"
    TRANSGENDER_MASCULINE = "TransgenderMasculine"
    NON_CONFORMING = "NonConforming"
    NON_SPECIFIED_UNKNOWN = "NonSpecifiedUnknown"


class AgeBand(StrEnum):
    """CTDC ``ageBroad`` (CTDC's own files write "0--8"; its unknown is "-99")."""

    AGE_0_8 = "0-8"
    AGE_9_17 = "9-17"
    AGE_18_20 = "18-20"
    AGE_21_23 = "21-23"
    AGE_24_26 = "24-26"
    AGE_27_29 = "27-29"
    AGE_30_38 = "30-38"
    AGE_39_47 = "39-47"
    AGE_48_PLUS = "48+"
    UNKNOWN = "Unknown"


class TraffickingStatus(StrEnum):
    """HTCDS vic_TraffickingStatus, plus the helplines' NotAssessed."""

    POSSIBLE_VICTIM = "PossibleVictimOfTrafficking"
    ACTUAL_VICTIM = "ActualVictimOfTrafficking"
    NOT_A_VICTIM = "NotAVictimOfTrafficking"
    NOT_ASSESSED = "NotAssessed"


class ExploitationType(StrEnum):
    """HTCDS vic_TypeOfExploitation (multi)."""

    FORCED_LABOUR = "ForcedLabour"
    SEXUAL_EXPLOITATION = "SexualExploitation"
    CHILD_LABOUR = "ChildLabour"
    FORCED_MARRIAGE = "ForcedMarriage"
    SERVITUDE = "Servitude"
    FORCED_MILITARY_BY_NON_STATE_ACTORS = "ForcedMilitaryByNonStateActors"
    ORGAN_REMOVAL = "OrganRemoval"
    FORCED_BEGGING = "ForcedBegging"
    FORCED_ADOPTION = "ForcedAdoption"
    SURROGACY = "Surrogacy"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class ControlMethod(StrEnum):
    """HTCDS vic_MethodsOfControl (multi)."""

    PHYSICAL_THREATS = "PhysicalThreats"
    THREATS_LAW_ENFORCEMENT = "ThreatsLawEnforcement"
    THREATENS_CHILDREN_FAMILY = "ThreatensChildrenFamily"
    DEBT_BONDAGE = "DebtBondage"
    FALSE_PROMISES = "FalsePromises"
    PHYSICAL_ABUSE = "PhysicalAbuse"
    SEXUAL_ABUSE = "SexualAbuse"
    TAKES_EARNINGS = "TakesEarnings"
    RESTRICTS_FINANCIAL_ACCESS = "RestrictsFinancialAccess"
    RESTRICTS_MEDICAL_CARE = "RestrictsMedicalCare"
    WITHHOLDS_NECESSITIES = "WithholdsNecessities"
    PSYCHOLOGICAL_ABUSE = "PsychologicalAbuse"
    PSYCHOACTIVE_SUBSTANCE = "PsychoactiveSubstance"
    EXCESSIVE_WORKING_HOURS = "ExcessiveWorkingHours"
    WITHHOLDS_DOCUMENTS = "WithholdsDocuments"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class RecruitmentMethod(StrEnum):
    """HTCDS vic_MethodOfRecruitment."""

    AT_A_PLACE_OF_BUSINESS = "AtAPlaceOfBusiness"
    AT_AN_EDUCATIONAL_INSTITUTION = "AtAnEducationalInstitution"
    AT_WORK = "AtWork"
    THROUGH_ONLINE_SOCIAL_NETWORKS = "ThroughOnlineSocialNetworks"
    THROUGH_AN_ONLINE_ADVERTISEMENT = "ThroughAnOnlineAdvertisement"
    THROUGH_A_TELEVISION_ADVERT = "ThroughATelevisionAdvert"
    THROUGH_A_NEWSPAPER_ADVERT = "ThroughANewspaperAdvert"
    THROUGH_FAMILY_OR_FAMILY_EVENTS = "ThroughFamilyOrFamilyEvents"
    THROUGH_FRIENDS_OR_SOCIAL_EVENTS = "ThroughFriendsOrSocialEvents"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class RelationshipToTrafficker(StrEnum):
    """HTCDS vic_RelationshipToTrafficker."""

    FAMILIAL = "Familial"
    ACQUAINTED = "Acquainted"
    UNACQUAINTED = "Unacquainted"
    UNKNOWN = "Unknown"


class IloIndicator(StrEnum):
    """The ILO's 11 indicators of forced labour (2012), as screening checkboxes (multi)."""

    ABUSE_OF_VULNERABILITY = "abuse_of_vulnerability"
    DECEPTION = "deception"
    RESTRICTION_OF_MOVEMENT = "restriction_of_movement"
    ISOLATION = "isolation"
    PHYSICAL_AND_SEXUAL_VIOLENCE = "physical_and_sexual_violence"
    INTIMIDATION_AND_THREATS = "intimidation_and_threats"
    RETENTION_OF_IDENTITY_DOCUMENTS = "retention_of_identity_documents"
    WITHHOLDING_OF_WAGES = "withholding_of_wages"
    DEBT_BONDAGE = "debt_bondage"
    ABUSIVE_WORKING_AND_LIVING_CONDITIONS = "abusive_working_and_living_conditions"
    EXCESSIVE_OVERTIME = "excessive_overtime"
    UNKNOWN = "unknown"


class ReferralType(StrEnum):
    """HTCDS spl_Type, plus the helplines' Shelter and LawEnforcement."""

    EDUCATION = "Education"
    FINANCIAL = "Financial"
    HEALTH = "Health"
    LEGAL = "Legal"
    LIVELIHOOD = "Livelihood"
    SOCIAL_CARE = "SocialCare"
    SHELTER = "Shelter"
    LAW_ENFORCEMENT = "LawEnforcement"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class CallerType(StrEnum):
    """Who called (helpline extension, not in HTCDS)."""

    POTENTIAL_VICTIM = "PotentialVictim"
    FAMILY_OR_FRIEND = "FamilyOrFriend"
    COMMUNITY_MEMBER = "CommunityMember"
    PROFESSIONAL = "Professional"
    ANONYMOUS = "Anonymous"
    OTHER = "Other"
    UNKNOWN = "Unknown"


SCREENING_ENUMS: tuple[type[StrEnum], ...] = (
    Gender, AgeBand, TraffickingStatus, ExploitationType, ControlMethod, RecruitmentMethod,
    RelationshipToTrafficker, IloIndicator, ReferralType, CallerType,
)

UNKNOWN: dict[type[StrEnum], StrEnum] = {
    Gender: Gender.NON_SPECIFIED_UNKNOWN,
    AgeBand: AgeBand.UNKNOWN,
    TraffickingStatus: TraffickingStatus.NOT_ASSESSED,
    ExploitationType: ExploitationType.UNKNOWN,
    ControlMethod: ControlMethod.UNKNOWN,
    RecruitmentMethod: RecruitmentMethod.UNKNOWN,
    RelationshipToTrafficker: RelationshipToTrafficker.UNKNOWN,
    IloIndicator: IloIndicator.UNKNOWN,
    ReferralType: ReferralType.UNKNOWN,
    CallerType: CallerType.UNKNOWN,
}

# Babel's two-letter territories that are not ISO 3166-1 countries: exceptionally reserved
# codes (AC CP CQ DG EA EU EZ IC TA UN), CLDR pseudo/macro regions (QO XA XB) and ZZ
# ("unknown region": an unknown country is None here). XK (Kosovo, user-assigned) is kept,
# as the EU, IOM and CLDR use it.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN",
                            "QO", "XA", "XB", "ZZ"})


@cache
def iso_countries() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 country codes (and XK) a screening accepts."""
    territories = Locale("en").territories
    codes = (code for code in territories if isinstance(code, str))  # babel: keys are str
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in iso_countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


_S = TypeVar("_S", bound=str)


def _unique_sorted(values: list[_S]) -> list[_S]:
    """Sorted by value for stable storage; duplicates are an error, not silently dropped."""
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ValueError(f"duplicate values: {', '.join(repr(str(v)) for v in duplicates)}")
    return sorted(values)


_E = TypeVar("_E", bound=StrEnum)


def _unknown_list(enum: type[_E]) -> list[_E]:
    unknown = UNKNOWN[enum]
    if not isinstance(unknown, enum):  # UNKNOWN maps each enum to one of its own members
        raise TypeError(f"UNKNOWN[{enum.__name__}] is not a {enum.__name__}")
    return [unknown]


class Screening(BaseModel):
    """The anonymised screening answers of one case; every field defaults to unknown."""

    model_config = ConfigDict(extra="forbid")

    gender: Gender = Gender.NON_SPECIFIED_UNKNOWN
    age_band: AgeBand = AgeBand.UNKNOWN
    citizenship: list[str] = Field(default_factory=list,
                                   description="ISO 3166-1 alpha-2 codes; [] if unknown")
    country_of_exploitation: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code; null if unknown")
    trafficking_status: TraffickingStatus = TraffickingStatus.NOT_ASSESSED
    exploitation_types: list[ExploitationType] = Field(
        default_factory=lambda: _unknown_list(ExploitationType))
    control_methods: list[ControlMethod] = Field(
        default_factory=lambda: _unknown_list(ControlMethod))
    recruitment_method: RecruitmentMethod = RecruitmentMethod.UNKNOWN
    relationship_to_trafficker: RelationshipToTrafficker = RelationshipToTrafficker.UNKNOWN
    ilo_indicators: list[IloIndicator] = Field(
        default_factory=lambda: _unknown_list(IloIndicator))
    referral_made: ReferralType | None = Field(
        default=ReferralType.UNKNOWN, description="null: no referral was made")
    caller_type: CallerType = CallerType.UNKNOWN
    interpreter_used: bool | None = Field(default=None, strict=True)

    @field_validator("citizenship")
    @classmethod
    def _citizenship(cls, values: list[str]) -> list[str]:
        errors = []
        codes = []
        for value in values:
            try:
                codes.append(_country(value))
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            raise ValueError("; ".join(errors))
        return _unique_sorted(codes)

    @field_validator("country_of_exploitation")
    @classmethod
    def _country_of_exploitation(cls, value: str | None) -> str | None:
        return None if value is None else _country(value)

    @field_validator("exploitation_types", "control_methods", "ilo_indicators")
    @classmethod
    def _multi(cls, values: list[StrEnum]) -> list[StrEnum]:
        if len(values) > 1:
            unknown = UNKNOWN[type(values[0])]
            if unknown in values:
                raise ValueError(f"{unknown.value!r} cannot be combined with other values")
        return _unique_sorted(values)


# CTDC statistics groups.
GENDER_GROUPS: dict[Gender, str] = {
    Gender.FEMININE: "Woman",
    Gender.MASCULINE: "Man",
    Gender.TRANSGENDER_FEMININE: "Trans/Transgender/NonConforming",
    Gender.TRANSGENDER_MASCULINE: "Trans/Transgender/NonConforming",
    Gender.NON_CONFORMING: "Trans/Transgender/NonConforming",
    Gender.NON_SPECIFIED_UNKNOWN: "Unknown",
}

CONTROL_GROUPS: dict[ControlMethod, str] = {
    ControlMethod.DEBT_BONDAGE: "DebtBondageEarnings",
    ControlMethod.TAKES_EARNINGS: "DebtBondageEarnings",
    ControlMethod.RESTRICTS_FINANCIAL_ACCESS: "DebtBondageEarnings",
    ControlMethod.PHYSICAL_THREATS: "Threats",
    ControlMethod.THREATS_LAW_ENFORCEMENT: "Threats",
    ControlMethod.THREATENS_CHILDREN_FAMILY: "Threats",
    ControlMethod.PSYCHOLOGICAL_ABUSE: "AbusePsyPhySex",
    ControlMethod.PHYSICAL_ABUSE: "AbusePsyPhySex",
    ControlMethod.SEXUAL_ABUSE: "AbusePsyPhySex",
    ControlMethod.FALSE_PROMISES: "FalsePromises",
    ControlMethod.PSYCHOACTIVE_SUBSTANCE: "DrugsAlcohol",
    ControlMethod.WITHHOLDS_NECESSITIES: "DenyBasicNeeds",
    ControlMethod.RESTRICTS_MEDICAL_CARE: "DenyBasicNeeds",
    ControlMethod.EXCESSIVE_WORKING_HOURS: "ExcessiveWorkHours",
    ControlMethod.WITHHOLDS_DOCUMENTS: "WithholdDocs",
    ControlMethod.OTHER: "Other",
    ControlMethod.UNKNOWN: "Unknown",
}

MINOR_AGE_BANDS = frozenset({AgeBand.AGE_0_8, AgeBand.AGE_9_17})


def gender_group(gender: Gender) -> str:
    return GENDER_GROUPS[gender]


def control_group(method: ControlMethod) -> str:
    return CONTROL_GROUPS[method]


def is_minor(age_band: AgeBand) -> bool | None:
    """Whether the person is under 18; None if the age band is unknown."""
    if age_band == AgeBand.UNKNOWN:
        return None
    return age_band in MINOR_AGE_BANDS


# Screening field -> export column: HTCDS names, CTDC names where HTCDS has none.
HTCDS_EXPORT_NAMES: dict[str, str] = {
    "gender": "prs_Gender",
    "age_band": "ageBroad",
    "citizenship": "prs_Citizenship",
    "country_of_exploitation": "CountryOfExploitation",
    "trafficking_status": "vic_TraffickingStatus",
    "exploitation_types": "vic_TypeOfExploitation",
    "control_methods": "vic_MethodsOfControl",
    "recruitment_method": "vic_MethodOfRecruitment",
    "relationship_to_trafficker": "vic_RelationshipToTrafficker",
    "referral_made": "spl_Type",
}

# Screening fields with no HTCDS or CTDC column (helpline extensions).
HELPLINE_EXTENSIONS = frozenset({"ilo_indicators", "caller_type", "interpreter_used"})
