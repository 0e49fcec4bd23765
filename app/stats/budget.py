"""Differentially private releases through the ledger: the same question on the same day
gets the same stored answer; a new one spends epsilon and is recorded."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.stats.models import StatsRelease


def query_key(kind: str, query: dict[str, Any], k: int, epsilon: float) -> str:
    text = json.dumps({"kind": kind, "query": query, "k": k, "epsilon": epsilon},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def spent(session: Session) -> float:
    return float(session.execute(select(func.coalesce(func.sum(StatsRelease.epsilon), 0.0)))
                 .scalar_one())


def released(session: Session, key: str, epsilon: float, user_id: int, now: datetime,
             compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The stored release for this question today, or a new one recorded in the ledger."""
    stored = session.scalars(select(StatsRelease).where(
        StatsRelease.query_key == key, StatsRelease.day == now.date())).one_or_none()
    if stored is not None:
        body, repeated = stored.body, True
    else:
        body, repeated = compute(), False
        session.add(StatsRelease(query_key=key, day=now.date(), epsilon=epsilon,
                                 user_id=user_id, released_at=now, body=body))
        session.flush()
    return {**body, "budget": {"epsilon_this_release": 0.0 if repeated else epsilon,
                               "repeated_release": repeated,
                               "epsilon_spent_to_date": round(spent(session), 6)}}
