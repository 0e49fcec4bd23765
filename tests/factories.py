"""Small builders for test data."""

from datetime import time

from app.routing.snapshot import Interval, Responder

OFFICE_HOURS = tuple(Interval(day, time(9), time(18)) for day in range(5))


def make_responder(slug: str, country: str = "KZ", *, languages: tuple[str, ...] = ("ru",),
                   services: tuple[str, ...] = ("shelter",), hub: bool = False,
                   always_open: bool = False, priority: int = 100,
                   hours: tuple[Interval, ...] = OFFICE_HOURS,
                   timezone: str = "Asia/Almaty") -> Responder:
    return Responder(slug=slug, name=f"{slug} (test)", country=country, timezone=timezone,
                     always_open=always_open, is_hub=hub, priority=priority,
                     services=frozenset(services), languages=tuple(languages),
                     duty_numbers=("+77270000999",), hours=() if always_open else hours)


def make_case(session, organisation: str, *, priority: str = "normal",
              created_at=None, reference: str | None = None):
    """A queued case in an organisation's queue, as intake would leave it."""
    import secrets
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app.cases.models import Case, CasePriority
    from app.organisations.models import Organisation

    organisation_id = session.scalars(
        select(Organisation.id).where(Organisation.slug == organisation)).one()
    case = Case(reference=reference or "HL-" + secrets.token_hex(3).upper(),
                organisation_id=organisation_id, caller_pseudonym=secrets.token_hex(32),
                priority=CasePriority(priority), caller_country="KZ", language="kk",
                need="danger" if priority != "normal" else "legal_aid",
                child=priority == "child",
                created_at=created_at or datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    session.add(case)
    session.flush()
    return case
