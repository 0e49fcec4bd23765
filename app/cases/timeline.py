"""The case history as one organisation reads it: when, what, who.

Colleagues are named; a person of another organisation (before a referral, say) is shown
as their organisation, so one NGO's staff list does not travel with its cases. Kinds this
module does not know (other parts of the service add their own) pass through as they are.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases import history
from app.organisations.models import Organisation
from app.users.models import User


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    by: str | None       # a colleague's username, another organisation's name; None: the service
    about: str | None    # the colleague assigned to, the organisation referred to
    detail: dict[str, Any]


def entries(session: Session, case_id: uuid.UUID, organisation_id: int) -> list[Entry]:
    rows = history.of_case(session, case_id)
    user_ids = {r.user_id for r in rows if r.user_id} | {
        r.detail[key] for r in rows for key in ("to_user_id",)
        if isinstance(r.detail.get(key), int)}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    org_ids = {u.organisation_id for u in users.values() if u.organisation_id} | {
        r.detail["to_organisation_id"] for r in rows
        if isinstance(r.detail.get("to_organisation_id"), int)}
    names: dict[int, str] = {row.id: row.name for row in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)))}

    def person(user_id: object) -> str | None:
        user = users.get(user_id) if isinstance(user_id, int) else None
        if user is None:
            return None
        if user.organisation_id == organisation_id:
            return user.username
        return names.get(user.organisation_id or 0)

    entries_ = []
    for row in rows:
        about = person(row.detail.get("to_user_id"))
        if about is None and isinstance(row.detail.get("to_organisation_id"), int):
            about = names.get(row.detail["to_organisation_id"])
        entries_.append(Entry(at=row.at, kind=row.kind, by=person(row.user_id), about=about,
                              detail=dict(row.detail)))
    return entries_
