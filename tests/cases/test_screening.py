"""Screening vocabularies match HTCDS v2.0 / CTDC, and the Screening model rejects bad input.

The expected value lists are copied from docs (HTCDS v2.0, CTDC codebook) on purpose: a
change to a vocabulary in the module must also be made here, deliberately.
"""

from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.cases.screening import (
    CONTROL_GROUPS,
    HELPLINE_EXTENSIONS,
    HTCDS_EXPORT_NAMES,
    SCREENING_ENUMS,
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
    control_group,
    gender_group,
    is_minor,
    iso_countries,
)
from app.cases.screening_labels import LABELS, label

EXPECTED_VALUES: dict[type[StrEnum], list[str]] = {
    Gender: ["Feminine", "Masculine", "TransgenderFeminine", "TransgenderMasculine",
             "NonConforming", "NonSpecifiedUnknown"],
    AgeBand: ["0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+",
              "Unknown"],
    TraffickingStatus: ["PossibleVictimOfTrafficking", "ActualVictimOfTrafficking",
                        "NotAVictimOfTrafficking", "NotAssessed"],
    ExploitationType: ["ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage",
                       "Servitude", "ForcedMilitaryByNonStateActors", "OrganRemoval",
                       "ForcedBegging", "ForcedAdoption", "Surrogacy", "Other", "Unknown"],
    ControlMethod: ["PhysicalThreats", "ThreatsLawEnforcement", "ThreatensChildrenFamily",
                    "DebtBondage", "FalsePromises", "PhysicalAbuse", "SexualAbuse",
                    "TakesEarnings", "RestrictsFinancialAccess", "RestrictsMedicalCare",
                    "WithholdsNecessities", "PsychologicalAbuse", "PsychoactiveSubstance",
                    "ExcessiveWorkingHours", "WithholdsDocuments", "Other", "Unknown"],
    RecruitmentMethod: ["AtAPlaceOfBusiness", "AtAnEducationalInstitution", "AtWork",
                        "ThroughOnlineSocialNetworks", "ThroughAnOnlineAdvertisement",
                        "ThroughATelevisionAdvert", "ThroughANewspaperAdvert",
                        "ThroughFamilyOrFamilyEvents", "ThroughFriendsOrSocialEvents", "Other",
                        "Unknown"],
    RelationshipToTrafficker: ["Familial", "Acquainted", "Unacquainted", "Unknown"],
    IloIndicator: ["abuse_of_vulnerability", "deception", "restriction_of_movement", "isolation",
                   "physical_and_sexual_violence", "intimidation_and_threats",
                   "retention_of_identity_documents", "withholding_of_wages", "debt_bondage",
                   "abusive_working_and_living_conditions", "excessive_overtime", "unknown"],
    ReferralType: ["Education", "Financial", "Health", "Legal", "Livelihood", "SocialCare",
                   "Shelter", "LawEnforcement", "Other", "Unknown"],
    CallerType: ["PotentialVictim", "FamilyOrFriend", "CommunityMember", "Professional",
                 "Anonymous", "Other", "Unknown"],
}

MULTI_FIELDS: dict[str, type[StrEnum]] = {
    "exploitation_types": ExploitationType,
    "control_methods": ControlMethod,
    "ilo_indicators": IloIndicator,
}

CTDC_CONTROL_GROUPS = {"DebtBondageEarnings", "Threats", "AbusePsyPhySex", "FalsePromises",
                       "DrugsAlcohol", "DenyBasicNeeds", "ExcessiveWorkHours", "WithholdDocs"}


def enum_id(enum: type[StrEnum]) -> str:
    return enum.__name__


def only_error(exc: pytest.ExceptionInfo[ValidationError]) -> dict:
    errors = exc.value.errors(include_url=False)
    assert len(errors) == 1, errors
    return errors[0]


# Vocabularies ---------------------------------------------------------------------------

@pytest.mark.parametrize("enum", EXPECTED_VALUES, ids=enum_id)
def test_enum_values_are_the_htcds_value_names(enum):
    assert [member.value for member in enum] == EXPECTED_VALUES[enum]


def test_every_screening_vocabulary_is_checked():
    assert set(SCREENING_ENUMS) == set(EXPECTED_VALUES)


def test_each_vocabulary_has_its_explicit_unknown_member():
    assert {enum: member.value for enum, member in UNKNOWN.items()} == {
        Gender: "NonSpecifiedUnknown", AgeBand: "Unknown", TraffickingStatus: "NotAssessed",
        ExploitationType: "Unknown", ControlMethod: "Unknown", RecruitmentMethod: "Unknown",
        RelationshipToTrafficker: "Unknown", IloIndicator: "unknown", ReferralType: "Unknown",
        CallerType: "Unknown",
    }
    assert all(isinstance(member, enum) for enum, member in UNKNOWN.items())


def test_countries_are_iso_3166_alpha2_without_groupings_or_placeholders():
    countries = iso_countries()
    assert len(countries) == 250  # the 249 ISO 3166-1 countries and Kosovo (XK)
    assert {"KZ", "KG", "TJ", "UZ", "TM", "AF", "IR", "RU", "TR", "AZ", "XK"} <= countries
    assert not {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AC", "TA", "IC", "EA"} & countries


# Screening model --------------------------------------------------------------------------

def test_empty_screening_is_all_unknown():
    assert Screening().model_dump() == {
        "gender": Gender.NON_SPECIFIED_UNKNOWN,
        "age_band": AgeBand.UNKNOWN,
        "citizenship": [],
        "country_of_exploitation": None,
        "trafficking_status": TraffickingStatus.NOT_ASSESSED,
        "exploitation_types": [ExploitationType.UNKNOWN],
        "control_methods": [ControlMethod.UNKNOWN],
        "recruitment_method": RecruitmentMethod.UNKNOWN,
        "relationship_to_trafficker": RelationshipToTrafficker.UNKNOWN,
        "ilo_indicators": [IloIndicator.UNKNOWN],
        "referral_made": ReferralType.UNKNOWN,
        "caller_type": CallerType.UNKNOWN,
        "interpreter_used": None,
    }


def test_defaults_are_not_shared_between_instances():
    first = Screening()
    first.exploitation_types.append(ExploitationType.FORCED_LABOUR)
    assert Screening().exploitation_types == [ExploitationType.UNKNOWN]


def test_a_partial_form_is_valid_and_keeps_what_was_given():
    screening = Screening.model_validate({"gender": "Feminine", "age_band": "9-17",
                                          "exploitation_types": ["ForcedLabour"]})
    assert screening.gender is Gender.FEMININE
    assert screening.age_band is AgeBand.AGE_9_17
    assert screening.exploitation_types == [ExploitationType.FORCED_LABOUR]
    assert screening.control_methods == [ControlMethod.UNKNOWN]


def test_country_codes_are_normalised_and_citizenships_sorted():
    screening = Screening(citizenship=["uz", " KZ "], country_of_exploitation="ru")
    assert screening.citizenship == ["KZ", "UZ"]
    assert screening.country_of_exploitation == "RU"


@pytest.mark.parametrize("code", ["XX", "ZZ", "EU", "KAZ", "K", "", "1A", "U$"])
def test_invalid_citizenship_is_rejected_naming_the_field(code):
    with pytest.raises(ValidationError) as exc:
        Screening(citizenship=["KZ", code])
    error = only_error(exc)
    assert error["loc"] == ("citizenship",)
    assert f"{code!r} is not an ISO 3166-1 alpha-2 country code" in error["msg"]
    assert "citizenship" in str(exc.value)


@pytest.mark.parametrize("code", ["XX", "ZZ", "EU", "KAZ", ""])
def test_invalid_country_of_exploitation_is_rejected_naming_the_field(code):
    with pytest.raises(ValidationError) as exc:
        Screening(country_of_exploitation=code)
    error = only_error(exc)
    assert error["loc"] == ("country_of_exploitation",)
    assert "ISO 3166-1 alpha-2" in error["msg"]


def test_duplicate_citizenship_is_rejected():
    with pytest.raises(ValidationError) as exc:
        Screening(citizenship=["KZ", "kz"])
    error = only_error(exc)
    assert error["loc"] == ("citizenship",)
    assert "duplicate values: 'KZ'" in error["msg"]


@pytest.mark.parametrize("field", MULTI_FIELDS)
def test_unknown_cannot_be_combined_with_other_values(field):
    enum = MULTI_FIELDS[field]
    unknown = UNKNOWN[enum]
    known = next(member for member in enum if member is not unknown)
    with pytest.raises(ValidationError) as exc:
        Screening.model_validate({field: [unknown.value, known.value]})
    error = only_error(exc)
    assert error["loc"] == (field,)
    assert f"{unknown.value!r} cannot be combined with other values" in error["msg"]


def test_unknown_mixed_with_forced_labour_is_rejected():
    with pytest.raises(ValidationError, match=r"exploitation_types\n.*'Unknown' cannot be"):
        Screening.model_validate({"exploitation_types": ["Unknown", "ForcedLabour"]})


@pytest.mark.parametrize("field", MULTI_FIELDS)
def test_duplicate_multi_values_are_rejected_naming_the_field(field):
    value = next(iter(MULTI_FIELDS[field])).value
    with pytest.raises(ValidationError) as exc:
        Screening.model_validate({field: [value, value]})
    error = only_error(exc)
    assert error["loc"] == (field,)
    assert f"duplicate values: {value!r}" in error["msg"]


@pytest.mark.parametrize("field", MULTI_FIELDS)
def test_unknown_alone_and_none_at_all_are_both_valid(field):
    unknown = UNKNOWN[MULTI_FIELDS[field]]
    assert getattr(Screening.model_validate({field: [unknown.value]}), field) == [unknown]
    assert getattr(Screening.model_validate({field: []}), field) == []


def test_a_value_outside_the_vocabulary_is_rejected_at_its_position():
    with pytest.raises(ValidationError) as exc:
        Screening.model_validate({"exploitation_types": ["ForcedLabour", "forced labour"]})
    error = only_error(exc)
    assert error["loc"] == ("exploitation_types", 1)
    assert error["type"] == "enum"


@pytest.mark.parametrize("payload", [{"gendre": "Feminine"}, {"gender": "Feminine", "name": "x"}])
def test_extra_fields_are_rejected_naming_the_field(payload):
    with pytest.raises(ValidationError) as exc:
        Screening.model_validate(payload)
    error = only_error(exc)
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == (next(key for key in payload if key not in Screening.model_fields),)


def test_referral_none_means_no_referral_and_is_distinct_from_unknown():
    assert Screening(referral_made=None).referral_made is None
    assert Screening().referral_made is ReferralType.UNKNOWN


@pytest.mark.parametrize("field", [name for name in Screening.model_fields
                                   if name not in ("country_of_exploitation", "referral_made",
                                                   "interpreter_used")])
def test_null_is_not_a_second_way_to_say_unknown(field):
    with pytest.raises(ValidationError) as exc:
        Screening.model_validate({field: None})
    assert only_error(exc)["loc"][0] == field


def members(enum: type[StrEnum]) -> st.SearchStrategy[list[StrEnum]]:
    known = [member for member in enum if member is not UNKNOWN[enum]]
    return st.lists(st.sampled_from(known), unique=True)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(MULTI_FIELDS)), st.data())
def test_multi_values_are_stored_unique_and_sorted_whatever_the_input_order(field, data):
    chosen = data.draw(members(MULTI_FIELDS[field]))
    stored = getattr(Screening.model_validate({field: [m.value for m in chosen]}), field)
    assert stored == sorted(chosen, key=str)
    assert len(set(stored)) == len(stored)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(MULTI_FIELDS)), st.data())
def test_any_repeated_value_is_rejected(field, data):
    chosen = data.draw(members(MULTI_FIELDS[field]).filter(bool))
    repeated = data.draw(st.sampled_from(chosen))
    values = data.draw(st.permutations([*chosen, repeated]))
    with pytest.raises(ValidationError, match="duplicate values"):
        Screening.model_validate({field: [m.value for m in values]})


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2))
def test_two_letter_codes_are_accepted_exactly_when_they_are_countries(code):
    if code in iso_countries():
        assert Screening(country_of_exploitation=code).country_of_exploitation == code
    else:
        with pytest.raises(ValidationError):
            Screening(country_of_exploitation=code)


screenings = st.fixed_dictionaries({}, optional={
    "gender": st.sampled_from(Gender),
    "age_band": st.sampled_from(AgeBand),
    "citizenship": st.lists(st.sampled_from(sorted(iso_countries())), unique=True, max_size=3),
    "country_of_exploitation": st.none() | st.sampled_from(sorted(iso_countries())),
    "trafficking_status": st.sampled_from(TraffickingStatus),
    "exploitation_types": members(ExploitationType),
    "control_methods": members(ControlMethod),
    "recruitment_method": st.sampled_from(RecruitmentMethod),
    "relationship_to_trafficker": st.sampled_from(RelationshipToTrafficker),
    "ilo_indicators": members(IloIndicator),
    "referral_made": st.none() | st.sampled_from(ReferralType),
    "caller_type": st.sampled_from(CallerType),
    "interpreter_used": st.none() | st.booleans(),
})


@settings(max_examples=200, deadline=None)
@given(screenings)
def test_a_stored_screening_reads_back_identical(payload):
    screening = Screening.model_validate(payload)
    assert Screening.model_validate_json(screening.model_dump_json()) == screening
    assert Screening.model_validate(screening.model_dump(mode="json")) == screening


# CTDC groupings ---------------------------------------------------------------------------

def test_gender_groups_are_ctdcs_four():
    assert {gender: gender_group(gender) for gender in Gender} == {
        Gender.FEMININE: "Woman",
        Gender.MASCULINE: "Man",
        Gender.TRANSGENDER_FEMININE: "Trans/Transgender/NonConforming",
        Gender.TRANSGENDER_MASCULINE: "Trans/Transgender/NonConforming",
        Gender.NON_CONFORMING: "Trans/Transgender/NonConforming",
        Gender.NON_SPECIFIED_UNKNOWN: "Unknown",
    }


def test_control_groups_map_every_method_into_ctdcs_eight_groups():
    assert {method: control_group(method) for method in ControlMethod} == {
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
    assert set(CONTROL_GROUPS.values()) == CTDC_CONTROL_GROUPS | {"Other", "Unknown"}


def test_minors_are_the_two_youngest_bands_and_unknown_age_is_unknown():
    assert {band: is_minor(band) for band in AgeBand} == {
        AgeBand.AGE_0_8: True, AgeBand.AGE_9_17: True, AgeBand.AGE_18_20: False,
        AgeBand.AGE_21_23: False, AgeBand.AGE_24_26: False, AgeBand.AGE_27_29: False,
        AgeBand.AGE_30_38: False, AgeBand.AGE_39_47: False, AgeBand.AGE_48_PLUS: False,
        AgeBand.UNKNOWN: None,
    }


# Export names and labels ------------------------------------------------------------------

def test_every_field_is_exported_under_its_htcds_name_or_is_a_helpline_extension():
    assert HTCDS_EXPORT_NAMES == {
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
    assert set(HELPLINE_EXTENSIONS) == {"ilo_indicators", "caller_type", "interpreter_used"}
    assert not set(HTCDS_EXPORT_NAMES) & HELPLINE_EXTENSIONS
    assert set(HTCDS_EXPORT_NAMES) | HELPLINE_EXTENSIONS == set(Screening.model_fields)


def test_labels_are_kept_per_vocabulary():
    assert set(LABELS) == set(SCREENING_ENUMS)


@pytest.mark.parametrize("enum", SCREENING_ENUMS, ids=enum_id)
def test_every_member_has_its_own_label(enum):
    labels = LABELS[enum]
    assert all(type(key) is enum for key in labels)
    assert set(labels) == set(enum)
    assert all(isinstance(text, str) and text.strip() for text in labels.values())
    assert len(set(labels.values())) == len(labels), "two options would look the same"
    assert [label(member) for member in enum] == [labels[member] for member in enum]


def test_labels_of_equal_values_in_different_vocabularies_stay_apart():
    # StrEnum members equal their values: a flat dict would give both the same label.
    assert AgeBand.UNKNOWN == ExploitationType.UNKNOWN
    assert label(AgeBand.UNKNOWN) == "Age unknown"
    assert label(ExploitationType.UNKNOWN) == "Unknown"
    assert label(ExploitationType.FORCED_LABOUR) == "Forced labour"
