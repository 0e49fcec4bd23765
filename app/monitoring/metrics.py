"""What the service counts and times, for Prometheus.

Counters are kept in this process only (no multiprocess mode): every service process
exposes its own at ``/metrics`` and Prometheus adds them up across its targets, so
nothing is counted twice. The gauges of ``app.monitoring.api`` are read from the
database at scrape time instead, so every process reports the same value: aggregate
those with ``max``, never ``sum``.

A record is counted when the transaction that made it commits, not when the row is
added: a request that rolls back counts nothing, and a webhook Twilio retries after a
failure is counted once.
"""

import time

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from starlette.types import ASGIApp, Receive, Scope, Send

CONTACTS = Counter("hotline_contacts", "Contacts started: calls (channel=voice) and new text "
                   "conversations", ["channel"])
MESSAGES = Counter("hotline_messages", "Text messages recorded; direction=in are people "
                   "writing to the hotline", ["channel", "direction"])
DIAL_ATTEMPTS = Counter("hotline_dial_attempts", "Responders rung, by how the attempt ended "
                        "(completed = answered, accepted and connected)", ["result"])
CONTACT_OUTCOMES = Counter("hotline_contact_outcomes", "Outcomes recorded on contacts; a call "
                           "nobody answered counts as no_responder, and again as "
                           "callback_requested if the caller asks for one",
                           ["channel", "outcome"])
WEBHOOK_SECONDS = Histogram("hotline_webhook_duration_seconds", "Time to answer a Twilio "
                            "webhook, by route template", ["route"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15))

WEBHOOK_PREFIX = "/twilio/"
_PENDING = "hotline_metrics_pending"


def count_on_commit(session: Session | None, counter: Counter) -> None:
    """Increment ``counter`` once ``session``'s transaction commits; at once without one."""
    if session is None:
        counter.inc()
        return
    session.info.setdefault(_PENDING, []).append(counter)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for counter in session.info.pop(_PENDING, ()):
        counter.inc()


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after a commit the list is already gone
        session.info.pop(_PENDING, None)


class WebhookTimer:
    """ASGI middleware timing ``/twilio/*`` requests.

    Labelled by the route's path template, never the raw URL, so query strings and
    unknown paths cannot grow the number of series; a path no route matches is
    ``unmatched``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WEBHOOK_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            # The router writes the matched route into this same scope on its way down.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            WEBHOOK_SECONDS.labels(route).observe(time.perf_counter() - started)
