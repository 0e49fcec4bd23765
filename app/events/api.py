"""``GET /api/events``: the operator's organisation's live queue events, as Server-Sent
Events.

Each event is ``event: <kind>`` and ``data: {"case_id": ..., "reference": ...}``: enough
to know what to fetch again, nothing about the caller. A comment line every
``HEARTBEAT_SECONDS`` keeps proxies from closing a quiet stream. A stream ends when the
client goes away, when the server shuts down (``events.server.Server`` closes the hub),
and after ``STREAM_SECONDS``, so that the client reconnects and is authenticated again
(a signed-out session or a deactivated operator stops receiving events).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from app import errors
from app.deps import NowDep, SessionDep, SettingsDep
from app.events import hub as hubs
from app.events.bus import QueueEvent
from app.users.deps import cookie_user, current_user, oauth2_scheme
from app.users.models import Role, User

router = APIRouter(prefix="/api", tags=["events"])
HEARTBEAT_SECONDS = 20.0
STREAM_SECONDS = 15 * 60.0
RETRY_MILLISECONDS = 3000  # how long a browser waits before reconnecting


class EventStream(StreamingResponse):
    # Not fastapi.sse.EventSourceResponse: that one makes FastAPI iterate what the
    # endpoint returns, and this endpoint returns a response (after authenticating).
    media_type = "text/event-stream"


def hub_of(request: Request) -> hubs.Hub:
    """The app's live-event hub (``app.main``); a provider, like those of ``app.deps``."""
    hub: hubs.Hub = request.app.state.events
    return hub


def subscriber(request: Request, session: SessionDep, settings: SettingsDep, now: NowDep,
               bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The API's bearer token, or else the console's session cookie: a browser's
    EventSource cannot send a header. Accepting the cookie without a CSRF token is safe
    here, unlike the rest of the API: this GET changes nothing, and another site that
    makes a browser open it cannot read the answer (same-origin policy, no CORS)."""
    user = (current_user(request, session, now, bearer) if bearer
            else cookie_user(request, session, settings, now))
    if user.role is not Role.OPERATOR or user.organisation_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for your role")
    return user


@router.get(
    "/events", response_class=EventStream,
    responses={200: {"description": "A stream of `event: <kind>` with `data: {\"case_id\": "
                                    "…, \"reference\": …}`, heartbeat comments between",
                     "content": {"text/event-stream": {"schema": {"type": "string"}}}},
               401: errors.problem_json("Not signed in"),
               403: errors.problem_json("Not an operator, or not signed in all the way"),
               503: errors.problem_json(errors.DESCRIPTIONS[503])})
def events(hub: Annotated[hubs.Hub, Depends(hub_of)],
           user: Annotated[User, Depends(subscriber)]) -> EventStream:
    """Live queue events of the operator's organisation: case created, claimed, released,
    assigned, referred, closed, escalated, an inbound message, an operator's duty; ids
    and references only. After ``resync`` (events may have been missed) fetch again."""
    # The session dependency has already committed and closed: an open stream holds
    # no database connection.
    organisation_id = user.organisation_id or 0
    return EventStream(stream(hub, organisation_id),
                       headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def stream(hub: hubs.Hub, organisation_id: int,
                 lifetime: float = STREAM_SECONDS) -> AsyncIterator[bytes]:
    subscription = hub.subscribe(organisation_id)
    ends = time.monotonic() + lifetime
    try:
        # The first bytes go out at once, so the client knows it is connected.
        yield format_sse_event(comment="live", retry=RETRY_MILLISECONDS)
        while (left := ends - time.monotonic()) > 0:
            item: hubs.Item | None = None
            with contextlib.suppress(TimeoutError):
                item = await asyncio.wait_for(subscription.queue.get(),
                                              min(HEARTBEAT_SECONDS, left))
            if item is None:
                yield format_sse_event(comment="heartbeat")
            elif item == hubs.CLOSED:
                return
            elif item == hubs.RESYNC:
                yield format_sse_event(event="resync", data_str="{}")
            elif isinstance(item, QueueEvent):
                yield format_sse_event(event=item.kind.value, data_str=json.dumps(item.data()))
    finally:
        hub.unsubscribe(subscription)
