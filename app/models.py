"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from app.cases.models import CallbackRequest, Case, Contact, RoutingAttempt
from app.messaging.models import Conversation, Message, Outbox
from app.organisations.models import OpeningHours, Organisation
from app.telephony.models import WebhookReply

__all__ = ["CallbackRequest", "Case", "Contact", "Conversation", "Message", "OpeningHours",
           "Organisation", "Outbox", "RoutingAttempt", "WebhookReply"]
