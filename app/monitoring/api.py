"""``GET /metrics``: the counters of this process and gauges read from the database.

Access: with ``HOTLINE_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` is
served (401 otherwise). Without a token the route answers only a client connected
directly over loopback, with no forwarding header: behind a reverse proxy on the same
host every request arrives from 127.0.0.1, and ``X-Forwarded-For`` is whatever the
client wrote, so neither proves the scraper is local. Everyone else gets the same 404 as
a route that does not exist.
"""

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.cases.claims import claimable
from app.cases.models import Case, CasePriority
from app.deps import NowDep, SessionFactoryDep, SettingsDep
from app.messaging.conversations import OPEN_OUTBOX
from app.messaging.models import Outbox

logger = logging.getLogger(__name__)
router = APIRouter(tags=["monitoring"])
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, sessions: SessionFactoryDep, settings: SettingsDep,
            now: NowDep) -> Response:
    """Prometheus text format."""
    _authorise(request, settings.metrics_token)
    scrape = _Scrape(sessions, now)
    return Response(generate_latest(scrape), media_type=CONTENT_TYPE_LATEST)


def _authorise(request: Request, token: str) -> None:
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bearer token required",
                                headers={"WWW-Authenticate": "Bearer"})
    elif not _direct_loopback(request):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")


def _direct_loopback(request: Request) -> bool:
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        return request.client is not None and ipaddress.ip_address(
            request.client.host).is_loopback
    except ValueError:  # not an IP address
        return False


class _Scrape:
    """This process's registry followed by the database gauges, computed now."""

    def __init__(self, make_session: Callable[[], Session], now: datetime) -> None:
        self.make_session, self.now = make_session, now

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from database_gauges(self.make_session, self.now)


def database_gauges(make_session: Callable[[], Session], now: datetime) -> Iterator[Metric]:
    up = GaugeMetricFamily("hotline_database_up",
                           "1 if the gauges below could be read from the database")
    try:
        with make_session() as session:
            # Reads only: on SQLite, do not take the write lock or queue behind a writer.
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            rows = session.execute(select(Case.priority, func.count())
                                   .where(claimable(now)).group_by(Case.priority))
            waiting: dict[CasePriority, int] = {priority: count for priority, count in rows}
            backlog = session.scalar(select(func.count()).select_from(Outbox)
                                     .where(Outbox.status.in_(OPEN_OUTBOX)))
    except SQLAlchemyError:
        logger.warning("metrics: database unreachable; queue and outbox gauges left out")
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    queue = GaugeMetricFamily("hotline_queue_depth", "Cases waiting for an operator (queued, "
                              "referred or claim lapsed), all organisations", labels=["priority"])
    for priority in CasePriority:
        queue.add_metric([priority.value], waiting.get(priority, 0))
    yield queue
    yield GaugeMetricFamily("hotline_outbox_backlog", "Outgoing SMS not yet handed to Twilio",
                            value=backlog or 0)
