"""The API's one error body, and the error statuses its routes declare in the OpenAPI.

Every error the JSON API answers is a ``Problem``: ``{"detail": "<why, for a person>"}``.
422 alone is FastAPI's list of validation errors, ``{"detail": [{"loc": [...], "msg":
..., "type": ...}]}``, whoever refuses the value: a handler that raises
``HTTPException(422, "why")`` is answered in that shape by ``http_error``, with an empty
``loc`` (the request as a whole), so a client reads every 422 one way.

Routers declare the statuses all their routes share (``APIRouter(responses=...)``) and
routes add their own (``@router.post(..., responses=problems(404, 409))``). 405 is not
declared on any operation: it answers a method the path does not document.
"""

from typing import Any

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

Responses = dict[int | str, dict[str, Any]]


class Problem(BaseModel):
    """Why the request was refused or could not be served."""

    detail: str


DESCRIPTIONS: dict[int, str] = {
    400: "The body cannot be read as the declared content type",
    401: "Not signed in: no bearer token, or one expired or revoked",
    403: "Not allowed: the role, or a new password or two-factor login to set up first",
    404: "No such thing here (another organisation's answers the same)",
    409: "Not possible as things stand: e.g. the case is closed or claimed by another",
    413: "The body is too large",
    429: "Too many attempts lately; wait for Retry-After seconds",
    502: "The telephony provider refused the request; try again in a moment",
    503: "The database (or a provider) cannot serve this now; try again after Retry-After",
}


def problem(description: str) -> dict[str, Any]:
    """One status's entry for ``responses=``, when a route says more than the default."""
    return {"model": Problem, "description": description}


def problem_json(description: str) -> dict[str, Any]:
    """For a route whose own answers are not JSON (an event stream): FastAPI would file a
    ``model`` under that route's media type, but its errors are JSON like all others."""
    return {"description": description,
            "content": {"application/json": {"schema": Problem.model_json_schema()}}}


def problems(*statuses: int) -> Responses:
    """Entries for ``responses=`` with the usual description of each status."""
    return {status: problem(DESCRIPTIONS[status]) for status in statuses}


# Every route behind a bearer token: who is asking is checked against the database.
SIGNED_IN = problems(401, 403, 503)
# A provider's webhook: a body it would not send (400), a request it did not sign (403),
# a body over the limit (413). It never answers 503: it falls back to the journal.
WEBHOOK = problems(400, 403, 413)


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an HTTPException, but a handler's own 422 in the list shape and
    a 405's ``Allow`` naming every method of the path."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 422 and isinstance(exc.detail, str):
        error = {"loc": [], "msg": exc.detail, "type": "value_error"}
        return JSONResponse({"detail": [error]}, status_code=422, headers=exc.headers)
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request)}
    return await http_exception_handler(request, exc)


def allowed_methods(request: Request) -> str:
    """Starlette's 405 names the methods of the first route on the path only, and GET
    and PUT of one path are two routes: each method is tried on the app's routes."""
    routes = request.app.router.routes
    return ", ".join(method for method in METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL
        for route in routes))


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
