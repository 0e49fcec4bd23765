"""What a provider's webhook may ask FastAPI for, besides ``app.deps``: ``WebhookDep``,
all a webhook step works with (among it the lane it runs in, the journal it writes to
while the database is down) in one value to hand to that lane, and ``LaneDep``, the lane
alone. Here rather than in ``app.deps``, which sits below this plumbing (import-linter's
layers); like those providers, these read ``app.state`` (filled by ``app.main``) at each
request, so a test's swap of ``app.state.webhook_sessionmaker`` or ``clock`` takes effect
at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.routing.cache import DirectoryCache
from app.webhooks.journal import Journal
from app.webhooks.lane import Lane

__all__ = ["LaneDep", "Webhook", "WebhookDep"]


async def lane_of(request: Request) -> Lane:
    lane: Lane = request.app.state.webhook_lane
    return lane


LaneDep = Annotated[Lane, Depends(lane_of)]


@dataclass(frozen=True)
class Webhook:
    """One webhook request's means: the database or, while it is down, the journal, and
    the lane it runs in."""

    # For ``app.webhooks.recovery``, which replays the journal with the app's own
    # sessions and channels (its background worker is handed the same app).
    app: FastAPI
    settings: Settings
    directory: DirectoryCache
    sessions: Callable[[], Session]
    journal: Journal
    now: datetime  # one time for the whole request (as ``app.deps.now_of``)
    lane: Lane


async def webhook_of(request: Request) -> Webhook:
    """Read from ``app.state`` in one provider, not one per part: each dependency FastAPI
    resolves costs a webhook step tens of microseconds of CPU (bench/load.py)."""
    state = request.app.state
    directory: DirectoryCache = state.directory
    lane: Lane = state.webhook_lane
    if lane.on_event_loop and directory.would_refresh():
        # The snapshot's reload reads the database through the console's engine, which
        # blocks: on a thread, so the other steps on the event loop go on meanwhile.
        await anyio.to_thread.run_sync(directory.get, limiter=lane.limiter)
    return Webhook(request.app, state.settings, directory, state.webhook_sessionmaker,
                   state.journal, state.clock(), lane)


WebhookDep = Annotated[Webhook, Depends(webhook_of)]
