"""English labels of the screening vocabularies, marked for translation.

``LABELS`` is keyed by enum class first: StrEnum members are equal to (and hash like) their
string values, so one flat dict would merge e.g. ``ExploitationType.OTHER`` and
``CallerType.OTHER``, both "Other". Use ``label(member)``.
"""

from enum import StrEnum
from typing import Any

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
from app.i18n import N_

LABELS: dict[type[StrEnum], dict[Any, str]] = {
    Gender: {
        Gender.FEMININE: N_("Female"),
        Gender.MASCULINE: N_("Male"),
        Gender.TRANSGENDER_FEMININE: N_("Transgender woman"),
        Gender.TRANSGENDER_MASCULINE: N_("Transgender man"),
        Gender.NON_CONFORMING: N_("Gender non-conforming"),
        Gender.NON_SPECIFIED_UNKNOWN: N_("Not specified or unknown"),
    },
    AgeBand: {
        AgeBand.AGE_0_8: N_("0-8 years"),
        AgeBand.AGE_9_17: N_("9-17 years"),
        AgeBand.AGE_18_20: N_("18-20 years"),
        AgeBand.AGE_21_23: N_("21-23 years"),
        AgeBand.AGE_24_26: N_("24-26 years"),
        AgeBand.AGE_27_29: N_("27-29 years"),
        AgeBand.AGE_30_38: N_("30-38 years"),
        AgeBand.AGE_39_47: N_("39-47 years"),
        AgeBand.AGE_48_PLUS: N_("48 years or older"),
        AgeBand.UNKNOWN: N_("Age unknown"),
    },
    TraffickingStatus: {
        TraffickingStatus.POSSIBLE_VICTIM: N_("Possible victim of trafficking"),
        TraffickingStatus.ACTUAL_VICTIM: N_("Victim of trafficking"),
        TraffickingStatus.NOT_A_VICTIM: N_("Not a victim of trafficking"),
        TraffickingStatus.NOT_ASSESSED: N_("Not assessed"),
    },
    ExploitationType: {
        ExploitationType.FORCED_LABOUR: N_("Forced labour"),
        ExploitationType.SEXUAL_EXPLOITATION: N_("Sexual exploitation"),
        ExploitationType.CHILD_LABOUR: N_("Child labour"),
        ExploitationType.FORCED_MARRIAGE: N_("Forced marriage"),
        ExploitationType.SERVITUDE: N_("Servitude"),
        ExploitationType.FORCED_MILITARY_BY_NON_STATE_ACTORS:
            N_("Forced military service by non-state armed groups"),
        ExploitationType.ORGAN_REMOVAL: N_("Organ removal"),
        ExploitationType.FORCED_BEGGING: N_("Forced begging"),
        ExploitationType.FORCED_ADOPTION: N_("Forced adoption"),
        ExploitationType.SURROGACY: N_("Surrogacy"),
        ExploitationType.OTHER: N_("Other"),
        ExploitationType.UNKNOWN: N_("Unknown"),
    },
    ControlMethod: {
        ControlMethod.PHYSICAL_THREATS: N_("Threats of violence"),
        ControlMethod.THREATS_LAW_ENFORCEMENT: N_("Threats of police or immigration authorities"),
        ControlMethod.THREATENS_CHILDREN_FAMILY: N_("Threats against children or family"),
        ControlMethod.DEBT_BONDAGE: N_("Debt bondage"),
        ControlMethod.FALSE_PROMISES: N_("False promises"),
        ControlMethod.PHYSICAL_ABUSE: N_("Physical abuse"),
        ControlMethod.SEXUAL_ABUSE: N_("Sexual abuse"),
        ControlMethod.TAKES_EARNINGS: N_("Takes earnings"),
        ControlMethod.RESTRICTS_FINANCIAL_ACCESS: N_("Restricts access to money"),
        ControlMethod.RESTRICTS_MEDICAL_CARE: N_("Restricts medical care"),
        ControlMethod.WITHHOLDS_NECESSITIES:
            N_("Withholds food, water, sleep or other necessities"),
        ControlMethod.PSYCHOLOGICAL_ABUSE: N_("Psychological abuse"),
        ControlMethod.PSYCHOACTIVE_SUBSTANCE: N_("Drugs or alcohol"),
        ControlMethod.EXCESSIVE_WORKING_HOURS: N_("Excessive working hours"),
        ControlMethod.WITHHOLDS_DOCUMENTS: N_("Withholds identity documents"),
        ControlMethod.OTHER: N_("Other"),
        ControlMethod.UNKNOWN: N_("Unknown"),
    },
    RecruitmentMethod: {
        RecruitmentMethod.AT_A_PLACE_OF_BUSINESS: N_("At a place of business"),
        RecruitmentMethod.AT_AN_EDUCATIONAL_INSTITUTION: N_("At a school or university"),
        RecruitmentMethod.AT_WORK: N_("At work"),
        RecruitmentMethod.THROUGH_ONLINE_SOCIAL_NETWORKS: N_("Through online social networks"),
        RecruitmentMethod.THROUGH_AN_ONLINE_ADVERTISEMENT: N_("Through an online advertisement"),
        RecruitmentMethod.THROUGH_A_TELEVISION_ADVERT: N_("Through a television advertisement"),
        RecruitmentMethod.THROUGH_A_NEWSPAPER_ADVERT: N_("Through a newspaper advertisement"),
        RecruitmentMethod.THROUGH_FAMILY_OR_FAMILY_EVENTS: N_("Through family or family events"),
        RecruitmentMethod.THROUGH_FRIENDS_OR_SOCIAL_EVENTS:
            N_("Through friends or social events"),
        RecruitmentMethod.OTHER: N_("Other"),
        RecruitmentMethod.UNKNOWN: N_("Unknown"),
    },
    RelationshipToTrafficker: {
        RelationshipToTrafficker.FAMILIAL: N_("Family member"),
        RelationshipToTrafficker.ACQUAINTED: N_("Someone they knew"),
        RelationshipToTrafficker.UNACQUAINTED: N_("A stranger"),
        RelationshipToTrafficker.UNKNOWN: N_("Unknown"),
    },
    IloIndicator: {
        IloIndicator.ABUSE_OF_VULNERABILITY: N_("Abuse of vulnerability"),
        IloIndicator.DECEPTION: N_("Deception"),
        IloIndicator.RESTRICTION_OF_MOVEMENT: N_("Restriction of movement"),
        IloIndicator.ISOLATION: N_("Isolation"),
        IloIndicator.PHYSICAL_AND_SEXUAL_VIOLENCE: N_("Physical and sexual violence"),
        IloIndicator.INTIMIDATION_AND_THREATS: N_("Intimidation and threats"),
        IloIndicator.RETENTION_OF_IDENTITY_DOCUMENTS: N_("Retention of identity documents"),
        IloIndicator.WITHHOLDING_OF_WAGES: N_("Withholding of wages"),
        IloIndicator.DEBT_BONDAGE: N_("Debt bondage"),
        IloIndicator.ABUSIVE_WORKING_AND_LIVING_CONDITIONS:
            N_("Abusive working and living conditions"),
        IloIndicator.EXCESSIVE_OVERTIME: N_("Excessive overtime"),
        IloIndicator.UNKNOWN: N_("Not assessed"),
    },
    ReferralType: {
        ReferralType.EDUCATION: N_("Education"),
        ReferralType.FINANCIAL: N_("Financial support"),
        ReferralType.HEALTH: N_("Health care"),
        ReferralType.LEGAL: N_("Legal aid"),
        ReferralType.LIVELIHOOD: N_("Livelihood support"),
        ReferralType.SOCIAL_CARE: N_("Social care"),
        ReferralType.SHELTER: N_("Shelter"),
        ReferralType.LAW_ENFORCEMENT: N_("Law enforcement"),
        ReferralType.OTHER: N_("Other"),
        ReferralType.UNKNOWN: N_("Unknown"),
    },
    CallerType: {
        CallerType.POTENTIAL_VICTIM: N_("Potential victim"),
        CallerType.FAMILY_OR_FRIEND: N_("Family member or friend"),
        CallerType.COMMUNITY_MEMBER: N_("Community member"),
        CallerType.PROFESSIONAL: N_("Professional"),
        CallerType.ANONYMOUS: N_("Anonymous"),
        CallerType.OTHER: N_("Other"),
        CallerType.UNKNOWN: N_("Unknown"),
    },
}


def label(member: StrEnum) -> str:
    """The English label of a screening value (translate it with ``app.i18n.gettext``)."""
    return LABELS[type(member)][member]
