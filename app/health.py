"""Liveness and readiness probes for the load balancer and the orchestrator."""

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app import db

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, str | None]:
    """The database is reachable and its schema is at the latest migration."""
    engine: Engine = db.read_only(request.app.state.engine)
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
