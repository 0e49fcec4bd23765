"""How a console request ends when it cannot go on: a page or a redirect, never JSON.

``ConsoleRoute`` wraps every console endpoint. It turns ``ConsoleError``, the services'
``NotFound``/``Conflict`` and an unreachable database into a login redirect, a 403, 404
or 503 page, or a redirect back with an error code, and rolls the request's transaction
back first: a refused or failed form changes nothing, though the session dependency then
commits.
"""

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from app import db
from app.cases import claims
from app.console import flash
from app.console.pages import render
from app.i18n import N_

LOGIN_PATH = "/console/login"


class ConsoleError(Exception):
    """Ends the request with ``response()``; the transaction is rolled back."""

    def response(self, request: Request) -> Response:
        raise NotImplementedError


class LoginRequired(ConsoleError):
    def response(self, request: Request) -> Response:
        return RedirectResponse(LOGIN_PATH, status_code=303)


class ErrorPage(ConsoleError):
    def __init__(self, status_code: int, message: str, retry: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message  # a msgid, translated when rendered
        self.retry = retry  # a "Try again" link instead of "Back to the console"

    def response(self, request: Request) -> Response:
        return render(request, "error.html", viewer=getattr(request.state, "viewer", None),
                      status_code=self.status_code, message=self.message, retry=self.retry)


class Unavailable(ErrorPage):
    """The database could not serve the request now (down, or a lock wait timed out)."""

    def __init__(self, request: Request) -> None:
        # The commit may have failed after the server applied it, so the page cannot
        # promise that nothing was saved: it asks the operator to look before repeating.
        super().__init__(503, N_("The case database is busy or out of reach. Wait a moment "
                                 "and try again; if you were saving something, check "
                                 "whether it is there before you repeat it."),
                         retry=_retry_path(request))

    def response(self, request: Request) -> Response:
        response = super().response(request)
        response.headers["Retry-After"] = str(db.RETRY_AFTER_SECONDS)
        return response


def _retry_path(request: Request) -> str:
    """A page read is tried again as it was; a form, by going back to the page it was on
    (never by posting it again unseen)."""
    if request.method == "GET":
        return _path_and_query(request.url.path, request.url.query)
    came_from = urlsplit(request.headers.get("referer", ""))
    if came_from.netloc == request.url.netloc and came_from.path.startswith("/console"):
        return _path_and_query(came_from.path, came_from.query)
    return "/console"


def _path_and_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def forbidden() -> ErrorPage:
    return ErrorPage(403, N_("This page is not for your role."))


def csrf_refused() -> ErrorPage:
    return ErrorPage(403, N_("This form has expired or did not come from the console. "
                             "Go back, reload the page and try again."))


def not_found() -> ErrorPage:
    return ErrorPage(404, N_("There is no such case in your organisation's queue."))


class FormError(ConsoleError):
    """Back to a page with ``?error=<code>`` (Post/Redirect/Get for failures too)."""

    def __init__(self, path: str, code: str) -> None:
        super().__init__(code)
        self.path, self.code = path, code

    def response(self, request: Request) -> Response:
        return flash.redirect(self.path, error=self.code)


# The services' Conflict messages, as flash codes.
CONFLICT_CODES = {"claimed by another operator": "taken", "claim the case first": "claim-first",
                  "the case is already with this organisation": "same-organisation",
                  "the case is closed": "case-closed"}


def _as_console_error(exc: Exception, request: Request) -> ConsoleError | None:
    if isinstance(exc, ConsoleError):
        return exc
    if isinstance(exc, db.UNAVAILABLE):
        db.log_unavailable(request, exc)
        return Unavailable(request)
    if isinstance(exc, claims.NotFound | RequestValidationError):
        return not_found()  # also a malformed case id in the path
    if isinstance(exc, claims.Conflict):
        case_id = request.path_params.get("case_id")
        path = f"/console/cases/{case_id}" if case_id else "/console"
        return FormError(path, CONFLICT_CODES.get(str(exc), "not-open"))
    return None


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = _as_console_error(exc, request)
                if error is None:
                    raise
                session = getattr(request.state, "db", None)
                if session is not None:
                    await run_in_threadpool(session.rollback)
                return error.response(request)

        return console_handler
