"""The coordinators' dashboard: the fixed set of tables the statistics page shows.

One function so that the console page and ``bench/stats.py`` time the same work,
audit entries and (when configured) the privacy ledger included.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.stats import reports
from app.stats.service import StatsQuery
from app.users.models import User

TABLES = {"over_time": (), "by_country": ("country",), "by_language": ("language",)}


def dashboard(session: Session, settings: Settings, now: datetime, user: User,
              query: StatsQuery) -> dict[str, Any]:
    """Contacts and cases over time, by country and by language, and service quality."""
    tables = {name: reports.table(session, settings, now, user,
                                  replace(query, dimensions=dims), "dashboard")
              for name, dims in TABLES.items()}
    return {"tables": tables,
            "quality": reports.quality_report(session, settings, now, user, query)}
