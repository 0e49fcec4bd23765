"""Liveness and readiness probes for the load balancer and the orchestrator."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app import db

router = APIRouter(tags=["health"])


def engine_of(request: Request) -> Engine:
    """The app's engine (``app.main``): the probe connects past the session factory."""
    engine: Engine = request.app.state.engine
    return engine


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


# Not ready answers the same fields as ready, not a Problem: the probe reads `status`.
@router.get("/readyz", responses={503: {
    "model": dict[str, str | None],
    "description": "Not ready: the database is unreachable or migrations are pending"}})
def readyz(engine: Annotated[Engine, Depends(engine_of)],
           response: Response) -> dict[str, str | None]:
    """The database is reachable and its schema is at the latest migration."""
    engine = db.read_only(engine)
    head = db.head_revision()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = db.current_revision(engine)
    except SQLAlchemyError:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "database unreachable", "revision": None, "head": head}
    if current != head:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "migrations pending", "revision": current, "head": head}
    return {"status": "ready", "revision": current, "head": head}
