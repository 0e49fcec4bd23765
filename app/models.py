"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from app.audit.models import AuditEvent
from app.cases.casework import CaseNote, Referral
from app.cases.models import CallbackRequest, Case, Contact, RoutingAttempt
from app.messaging.models import Conversation, Message, Outbox
from app.organisations.models import OpeningHours, Organisation
from app.telephony.models import WebhookReply
from app.users.models import AuthToken, LoginFailure, User

__all__ = ["AuditEvent", "AuthToken", "CallbackRequest", "Case", "CaseNote", "Contact",
           "Conversation", "LoginFailure", "Message", "OpeningHours", "Organisation", "Outbox",
           "Referral", "RoutingAttempt", "User", "WebhookReply"]
