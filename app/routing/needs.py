"""What a caller needs, and which responder services meet each need.

``Service`` lives here rather than beside the organisations that offer it: it is routing's
vocabulary, and the directory (a domain above routing) imports it from here.
"""

from enum import StrEnum

from app.i18n import N_


class Service(StrEnum):
    SHELTER = "shelter"
    LEGAL_AID = "legal_aid"
    PSYCHOSOCIAL = "psychosocial"
    MEDICAL = "medical"
    INFORMATION = "information"


class Need(StrEnum):
    DANGER = "danger"
    SHELTER = "shelter"
    LEGAL_AID = "legal_aid"
    PSYCHOSOCIAL = "psychosocial"
    MEDICAL = "medical"
    INFORMATION = "information"
    OTHER = "other"


# Someone in immediate danger needs a safe place first; "other" prefers no service.
NEED_SERVICES: dict[Need, frozenset[Service]] = {
    Need.DANGER: frozenset({Service.SHELTER}),
    Need.SHELTER: frozenset({Service.SHELTER}),
    Need.LEGAL_AID: frozenset({Service.LEGAL_AID}),
    Need.PSYCHOSOCIAL: frozenset({Service.PSYCHOSOCIAL}),
    Need.MEDICAL: frozenset({Service.MEDICAL}),
    Need.INFORMATION: frozenset({Service.INFORMATION}),
    Need.OTHER: frozenset(),
}


NEED_LABELS: dict[Need, str] = {
    Need.DANGER: N_("Immediate danger"),
    Need.SHELTER: N_("Shelter"),
    Need.LEGAL_AID: N_("Legal aid"),
    Need.PSYCHOSOCIAL: N_("Psychosocial support"),
    Need.MEDICAL: N_("Medical help"),
    Need.INFORMATION: N_("Information"),
    Need.OTHER: N_("Other"),
}
