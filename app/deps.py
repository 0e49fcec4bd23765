"""What a route may ask FastAPI for, besides who is asking (``app.users.deps``).

Each alias is ``Annotated[<type>, Depends(<provider>)]``. Providers are the only code that
reads ``request.app.state`` (``app.main`` fills it): these, ``db.get_session``, those of
the webhooks' plumbing, which sits above this module (``app.webhooks.deps``: the lane,
``WebhookDep``), and those that sit beside their one user (``events.api.hub_of``,
``health.engine_of``, ``cases.callbacks_api.outbound_of``, ``channels.voice.ivr.ivr_of``,
and ``twilio.signature.verified_twilio_request`` in a foundation below this module).
Routes name what they need in their signature and pass it on, so services take plain
values and never see a request.
Providers are ``async``: each only reads ``app.state``, and a plain ``def`` would run on
one of Starlette's threads, which a webhook must never wait for (``app.webhooks.lane``).
Tests swap ``app.state.settings``, ``clock`` or ``sessionmaker``; a provider reads them at
each request, so a swap takes effect at once.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import SessionDep
from app.routing.cache import DirectoryCache

__all__ = ["AddressDep", "Clock", "ClockDep", "DirectoryDep", "NowDep", "SessionDep",
           "SessionFactoryDep", "SettingsDep"]

Clock = Callable[[], datetime]  # the current time, aware (UTC); `hotline simulate --at` fixes it


def settings_of(request: Request) -> Settings:
    """Also for code that holds only the request (the console's ``render``)."""
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    return settings_of(request)


async def clock_of(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def now_of(clock: Annotated[Clock, Depends(clock_of)]) -> datetime:
    """Read once per request (FastAPI caches a dependency within a request): every part
    of one request, and its audit entries, share one time."""
    return clock()


async def client_address(request: Request) -> str:
    """Who is asking, for login limits and the audit: the peer, or the address our own
    proxy forwarded (``ProxyHeadersMiddleware`` in ``app.main`` trusts only ours)."""
    return request.client.host if request.client else "unknown"


async def directory_of(request: Request) -> DirectoryCache:
    directory: DirectoryCache = request.app.state.directory
    return directory


async def session_factory_of(request: Request) -> Callable[[], Session]:
    """For the rare route that needs a transaction of its own (a failed login is recorded
    even though the request then fails)."""
    factory: Callable[[], Session] = request.app.state.sessionmaker
    return factory


async def webhook_sessions_of(request: Request) -> Callable[[], Session]:
    """The webhooks' sessions, on their own pool (``app.main``): a slow statement there
    is cancelled within seconds, so Twilio is answered from the journal in time."""
    factory: Callable[[], Session] = request.app.state.webhook_sessionmaker
    return factory


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(clock_of)]
NowDep = Annotated[datetime, Depends(now_of)]
DirectoryDep = Annotated[DirectoryCache, Depends(directory_of)]
AddressDep = Annotated[str, Depends(client_address)]
SessionFactoryDep = Annotated[Callable[[], Session], Depends(session_factory_of)]
WebhookSessionsDep = Annotated[Callable[[], Session], Depends(webhook_sessions_of)]
