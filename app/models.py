"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from app.audit.models import AuditEvent
from app.blocklist.models import CallerBlock
from app.cases.casework import CaseNote, CaseScreening, Referral
from app.cases.models import (
    CallbackAttempt,
    CallbackRequest,
    Case,
    CaseEvent,
    Contact,
    RoutingAttempt,
)
from app.messaging.models import Conversation, Message, Outbox
from app.organisations.models import OpeningHours, Organisation
from app.stats.models import StatsChange, StatsRelease, StatsRollup
from app.users.models import AuthToken, LoginFailure, User
from app.webhooks.replies import WebhookReply

__all__ = [
    "AuditEvent",
    "AuthToken",
    "CallbackAttempt",
    "CallbackRequest",
    "CallerBlock",
    "Case",
    "CaseEvent",
    "CaseNote",
    "CaseScreening",
    "Contact",
    "Conversation",
    "LoginFailure",
    "Message",
    "OpeningHours",
    "Organisation",
    "Outbox",
    "Referral",
    "RoutingAttempt",
    "StatsChange",
    "StatsRelease",
    "StatsRollup",
    "User",
    "WebhookReply",
]
