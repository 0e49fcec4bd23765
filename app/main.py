"""The FastAPI application: settings, database, and routers in one place."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import channels, db, errors, health, retention
from app.audit import api as audit_api
from app.audit import chain as audit_chain
from app.blocklist import api as blocklist_api
from app.cases import api as casework_api
from app.cases import callbacks_api
from app.cases import tools_api as casetools_api
from app.channels.voice import information as information_audio
from app.channels.voice.ivr import Ivr
from app.channels.voice.speech import Speaker
from app.config import Settings, get_settings
from app.console.router import router as console_router
from app.detection import language
from app.events import api as events_api
from app.events import bus as events_bus
from app.events import listener as events_listener
from app.events.hub import Hub
from app.messaging import outbox
from app.monitoring import api as monitoring_api
from app.monitoring import logs, metrics
from app.operator_queue import api as cases_api
from app.operator_queue import escalation
from app.organisations import service as organisations
from app.routing.cache import DirectoryCache
from app.routing.snapshot import Directory
from app.security_headers import SecurityHeaders
from app.stats import api as stats_api
from app.twilio.rest import make_outbound
from app.users import admin_api as users_api
from app.users import api as auth_api
from app.users import duty_api
from app.users.deps import secure_cookies
from app.webhooks import lane, recovery
from app.webhooks.journal import Journal
from app.workers import PeriodicWorker

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, freeze_startup: bool = False) -> FastAPI:
    """``freeze_startup``: a server process's, which keeps what its start made for life."""
    settings = settings or get_settings()
    url = settings.effective_database_url()
    engine = db.make_engine(url, lock_timeout=settings.database_lock_timeout_seconds)
    # The webhooks' own pool, one connection per step at once and one to spare: a slow
    # statement there is cancelled before Twilio gives up on the answer, and a slow
    # statistics query on the console's pool never takes a webhook's connection. No ping
    # before each step (a round trip each): after a database restart the first step fails,
    # is answered from the journal like any step during an outage, and the pool
    # reconnects. On PostgreSQL its driver is awaited on the event loop
    # (``app.webhooks.lane``).
    webhook_engine, webhook_async = _webhook_engines(settings, url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.directory.refresh()  # routable from the first call, even if the db goes
        language.load_model()  # before the first text, not in its webhook step
        workers = [w for w in (_start_outbox_worker(app), _start_purge_worker(app),
                               _start_recovery(app), _start_escalation_worker(app),
                               events_listener.start(app)) if w]
        if freeze_startup:
            # What the start made (the directory, the language model, the mappers and the
            # catalogs, some 240,000 objects) mostly lives as long as the process: left
            # out of the garbage collector's full passes, each of which walked it all,
            # 0.1 s or more in which none of the process's webhooks moved (bench/load.py;
            # 10 to 20 ms now). The start's garbage is collected first, or it would stay;
            # what of the rest is dropped later (the first directory snapshot) is freed
            # as usual unless it holds a cycle: once, never more than the start made.
            gc.collect()
            gc.freeze()
        yield
        app.state.events.close()  # open event streams end (events.server runs it first)
        for worker in workers:
            worker.stop()
        engine.dispose()
        if webhook_async is not None:
            await webhook_async.dispose()
        else:
            webhook_engine.dispose()

    docs = settings.serves_api_docs
    app = FastAPI(title="Regional anti-trafficking hotline", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.events = Hub()  # the live queue's subscribers (app.events)
    # Every session publishes to the hub and seals its audit entries with this app's key.
    info = {events_bus.HUB: app.state.events, **audit_chain.sealing(settings.audit_key)}
    app.state.sessionmaker = db.make_sessionmaker(engine, info=info)
    app.state.webhook_sessionmaker = db.make_sessionmaker(webhook_engine, info=info)
    app.state.clock = lambda: datetime.now(UTC)  # tests and `hotline simulate --at` set it
    # While the webhooks skip the database after a failure, so does the directory refresh.
    app.state.directory = DirectoryCache(
        lambda: _load_directory(app), settings.directory_refresh_seconds,
        settings.journal_dir / "directory.json",
        database_usable=lambda: app.state.journal.database_usable)
    # An edit in the console reloads it at once, here and (LISTEN/NOTIFY) in every process.
    app.state.events.on_directory_changed(lambda: app.state.directory.refresh())
    app.state.journal = Journal(settings.journal_dir, settings.journal_retry_seconds)
    app.state.webhook_lane = lane.make(settings.webhook_threads, webhook_async is not None)
    app.state.ivr = Ivr(settings, Speaker(settings.audio_dir, settings.public_url))
    app.state.information_audio = information_audio.Renderer(settings.audio_dir)
    # Twilio's REST API, for call-backs (tests put a recording fake here), and the outbox's
    # sender of each text channel that has one configured.
    app.state.sms_sender = make_outbound(settings)
    app.state.senders = channels.senders(settings)
    app.state.replays = channels.replays()  # the journal's records, by channel
    app.include_router(health.router)
    for adapter in channels.ADAPTERS:
        app.include_router(adapter.router)
    app.include_router(auth_api.router)
    app.include_router(users_api.router)
    app.include_router(duty_api.router)
    app.include_router(cases_api.router)
    app.include_router(casework_api.router)
    app.include_router(callbacks_api.router)
    app.include_router(casetools_api.router)
    app.include_router(audit_api.router)
    app.include_router(blocklist_api.router)
    app.include_router(stats_api.router)
    app.include_router(events_api.router)
    app.include_router(console_router)
    app.include_router(monitoring_api.router)
    app.add_middleware(metrics.WebhookTimer)
    app.add_middleware(SecurityHeaders, https=secure_cookies(settings))
    # Outermost: the client address (for login limits) and scheme come from the
    # X-Forwarded-* headers only when the direct peer is one of our own proxies.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    for error in db.UNAVAILABLE:
        app.add_exception_handler(error, db.unavailable)
    app.add_exception_handler(HTTPException, errors.http_error)  # 422s in one shape
    return app


def serve_app() -> FastAPI:
    """The app as a server process runs it (uvicorn --factory): logging set up first."""
    settings = get_settings()
    logs.configure(settings.effective_log_format)
    return create_app(settings, freeze_startup=True)


def _load_directory(app: FastAPI) -> Directory:
    # Reads app.state at call time, so tests can swap the session factory.
    with app.state.sessionmaker() as session:
        directory = organisations.snapshot(session)
    # The information messages new in it become audio in the background, not in a call.
    app.state.information_audio.ensure(directory)
    return directory


def _start_outbox_worker(app: FastAPI) -> outbox.OutboxWorker | None:
    settings: Settings = app.state.settings
    if not settings.outbox_worker:
        return None
    senders: outbox.Senders = app.state.senders
    waiting = [a.name for a in channels.ADAPTERS
               if a.sender is not None and not set(a.channels) <= set(senders)]
    if waiting:  # names of channels only: which settings are missing is in docs/
        logger.warning("no sender configured for %s: their outgoing messages wait in the "
                       "outbox until one is", ", ".join(waiting))
    if not senders:
        return None
    worker = outbox.OutboxWorker(app.state.sessionmaker, senders, settings, app.state.clock)
    worker.start()
    return worker


def _start_purge_worker(app: FastAPI) -> PeriodicWorker | None:
    # Sessions and clock are looked up at each pass, so tests can swap them.
    worker = retention.purge_worker(lambda: app.state.sessionmaker(), app.state.settings,
                                    lambda: app.state.clock())
    if worker is not None:
        worker.start()
    return worker


def _webhook_engines(settings: Settings, url: str) -> tuple[Engine, AsyncEngine | None]:
    """The webhooks' engine, and on PostgreSQL the asyncio engine it is the synchronous
    face of (``AsyncEngine.sync_engine``)."""
    lock, statement = (settings.database_lock_timeout_seconds,
                       settings.webhook_statement_timeout_seconds)
    size = settings.webhook_threads + 1
    if db.is_postgresql(url):
        engine = db.make_async_engine(url, lock_timeout=lock, statement_timeout=statement,
                                      pool_size=size)
        return engine.sync_engine, engine
    return db.make_engine(url, lock_timeout=lock, statement_timeout=statement,
                          pool_size=size, pre_ping=False), None


def _start_recovery(app: FastAPI) -> PeriodicWorker | None:
    settings: Settings = app.state.settings
    if not settings.recovery_worker:
        return None
    worker = PeriodicWorker("journal-recovery", lambda: recovery.catch_up_in_background(app),
                            settings.journal_retry_seconds)
    worker.start()
    return worker


def _start_escalation_worker(app: FastAPI) -> PeriodicWorker | None:
    worker = escalation.escalation_worker(lambda: app.state.sessionmaker(), app.state.settings,
                                          lambda: app.state.clock())
    if worker is not None:
        worker.start()
    return worker
