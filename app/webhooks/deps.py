"""What a provider's webhook may ask FastAPI for, besides ``app.deps``: the lane it runs
on, the journal it writes to while the database is down, and ``WebhookDep``, all a
webhook step works with in one value to hand to the thread it runs on. Here rather than
in ``app.deps``, which sits below this plumbing (import-linter's layers); like those
providers, these read ``app.state`` (filled by ``app.main``) at each request, so a test's
swap of ``app.state.webhook_sessionmaker`` or ``clock`` takes effect at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.deps import DirectoryDep, NowDep, SettingsDep, WebhookSessionsDep
from app.routing.cache import DirectoryCache
from app.webhooks.journal import Journal

__all__ = ["JournalDep", "LaneDep", "Webhook", "WebhookDep"]


async def lane_of(request: Request) -> CapacityLimiter:
    lane: CapacityLimiter = request.app.state.webhook_lane
    return lane


async def journal_of(request: Request) -> Journal:
    journal: Journal = request.app.state.journal
    return journal


LaneDep = Annotated[CapacityLimiter, Depends(lane_of)]
JournalDep = Annotated[Journal, Depends(journal_of)]


@dataclass(frozen=True)
class Webhook:
    """One webhook request's means: the database or, while it is down, the journal."""

    # For ``app.webhooks.recovery``, which replays the journal with the app's own
    # sessions and channels (its background worker is handed the same app).
    app: FastAPI
    settings: Settings
    directory: DirectoryCache
    sessions: Callable[[], Session]
    journal: Journal
    now: datetime  # one time for the whole request (``app.deps.now_of``)


async def webhook_of(request: Request, settings: SettingsDep, directory: DirectoryDep,
               sessions: WebhookSessionsDep, journal: JournalDep, now: NowDep) -> Webhook:
    return Webhook(request.app, settings, directory, sessions, journal, now)


WebhookDep = Annotated[Webhook, Depends(webhook_of)]
