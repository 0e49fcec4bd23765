"""English names of the values the console shows, marked for the ``console`` catalog.

Keyed by enum class first, as in ``app.cases.screening_labels``: StrEnum members equal
their values, so one flat dict would merge ``Role.OPERATOR`` and ``Author.OPERATOR``.
"""

from enum import StrEnum
from typing import Any

from app.cases.models import CasePriority, CaseStatus, Channel, CloseStatus
from app.i18n import N_
from app.messaging.models import Author, Direction
from app.users.models import Role

TERMS: dict[type[StrEnum], dict[Any, str]] = {
    CaseStatus: {CaseStatus.QUEUED: N_("queued"), CaseStatus.CLAIMED: N_("claimed"),
                 CaseStatus.REFERRED: N_("referred"), CaseStatus.CLOSED: N_("closed")},
    CasePriority: {CasePriority.CHILD: N_("child"), CasePriority.URGENT: N_("urgent"),
                   CasePriority.NORMAL: N_("normal")},
    CloseStatus: {CloseStatus.CLOSED: N_("Closed"),
                  CloseStatus.CLOSED_REFERRED: N_("Closed after referral")},
    Role: {Role.OPERATOR: N_("operator"), Role.COORDINATOR: N_("coordinator"),
           Role.ADMIN: N_("administrator")},
    Direction: {Direction.IN: N_("from the caller"), Direction.OUT: N_("to the caller")},
    Author: {Author.CALLER: N_("caller"), Author.AUTO: N_("automatic reply"),
             Author.OPERATOR: N_("operator")},
    Channel: {Channel.VOICE: N_("phone call"), Channel.SMS: N_("SMS"),
              Channel.WHATSAPP: N_("WhatsApp")},
}


def term(member: StrEnum) -> str:
    """The English name of a value (translate it with the console catalog)."""
    return TERMS.get(type(member), {}).get(member, str(member))
