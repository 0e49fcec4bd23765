"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from app.cases.models import Case, Contact
from app.organisations.models import OpeningHours, Organisation

__all__ = ["Case", "Contact", "OpeningHours", "Organisation"]
