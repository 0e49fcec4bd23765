"""Database plumbing: the declarative base, engines, and the one place that commits.

Services never call ``commit()``: the request's session dependency commits once on
success and rolls back on any error, so a request is all-or-nothing.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    Enum,
    MetaData,
    Result,
    create_engine,
    event,
    exc,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app import paths

logger = logging.getLogger(__name__)
PROJECT_ROOT = paths.HOME
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"

# Stable constraint names, identical on SQLite and PostgreSQL, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Errors that mean "the database cannot be reached now", not "this request is wrong": an
# outage, a pool with no free connection, a lock wait that timed out.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
               exc.DisconnectionError)
RETRY_AFTER_SECONDS = 5


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def db_enum(enum: type[StrEnum], length: int = 20) -> Enum:
    # Stored as plain strings: no PostgreSQL enum types to migrate when a value is added.
    return Enum(enum, native_enum=False, length=length,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE without RETURNING matched. ``Session.execute`` is typed
    to return a plain ``Result``; for such statements it is always a ``CursorResult``."""
    assert isinstance(result, CursorResult)
    return result.rowcount


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def make_engine(url: str, pool_timeout: float = 5, lock_timeout: float | None = None,
                statement_timeout: float | None = None, pool_size: int = 40,
                pre_ping: bool = True) -> Engine:
    """``lock_timeout`` and ``statement_timeout`` (seconds, PostgreSQL): a statement
    waiting longer for a lock, or running longer at all, fails (an OperationalError), as
    the service wants; tools and migrations wait. Both are options of the connection, so
    they cost no round trip per transaction. ``pre_ping`` checks a pooled connection with
    a round trip before handing it out; without it, a connection the server dropped fails
    its first statement, and the pool then replaces every connection it held."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, **_postgresql_options(pool_timeout, lock_timeout,
                                                    statement_timeout, pool_size, pre_ping))


def make_async_engine(url: str, pool_timeout: float = 5, lock_timeout: float | None = None,
                      statement_timeout: float | None = None, pool_size: int = 40
                      ) -> AsyncEngine:
    """A PostgreSQL engine whose driver is awaited on the event loop (psycopg's asyncio
    connection), as ``make_engine`` makes them otherwise, with no ping. Synchronous code
    uses it through ``AsyncEngine.sync_engine`` inside ``sqlalchemy.util.greenlet_spawn``:
    the webhooks' (``app.webhooks.lane``)."""
    return create_async_engine(url, **_postgresql_options(pool_timeout, lock_timeout,
                                                          statement_timeout, pool_size,
                                                          pre_ping=False))


def _postgresql_options(pool_timeout: float, lock_timeout: float | None,
                        statement_timeout: float | None, pool_size: int, pre_ping: bool
                        ) -> dict[str, Any]:
    # A database host that does not answer must fail a webhook in seconds (Twilio gives up
    # after 15), so the caller is answered from the snapshot and the journal instead.
    # As many connections as the threads serving requests (Starlette's 40, or the
    # webhooks' own), so a burst never waits on the pool; a wait past 5 s means the
    # database is in trouble. All of them pooled, none overflow: an overflow connection is
    # closed when it is given back, so under load PostgreSQL started a backend every few
    # requests (bench/load.py: 3 ms of its CPU per webhook, a fifth of the throughput with
    # two workers).
    connect_args: dict[str, Any] = {"connect_timeout": 3}
    timeouts = {"lock_timeout": lock_timeout, "statement_timeout": statement_timeout}
    options = [f"-c {name}={round(seconds * 1000)}" for name, seconds in timeouts.items()
               if seconds is not None]
    if options:
        connect_args["options"] = " ".join(options)
    return {"pool_pre_ping": pre_ping, "pool_size": pool_size, "max_overflow": 0,
            "pool_timeout": pool_timeout, "connect_args": connect_args}


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite does not emit BEGIN itself, so a SAVEPOINT would silently start (and its
    # RELEASE commit) the outer transaction; SQLAlchemy's documented fix is to switch the
    # driver's own transaction handling off and emit BEGIN in the "begin" event.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: two deferred transactions that both read
    # and then write would fail at once with "database is locked" instead of waiting.
    # Read-only probes ask for DEFERRED so they never queue behind a writer.
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")


def read_only(engine: Engine) -> Engine:
    """The same engine for reads that must not wait for a writer (SQLite)."""
    return engine.execution_options(sqlite_begin="DEFERRED")


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None
                     ) -> sessionmaker[Session]:
    """``info`` starts every session's ``Session.info`` (the app's live-event hub)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# "function" scope commits before the response is sent: an operator told 200 has their
# change stored (the default would commit after sending, and a failed commit would follow a
# 200 the client already believed).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# Integer primary keys run from 1 to the largest PostgreSQL integer. An id outside cannot
# exist, and PostgreSQL refuses to compare one with such a column (500) rather than finding
# nothing, so routes taking an id refuse it first (422).
MAX_INTEGER_ID = 2**31 - 1


def log_unavailable(request: Request, error: Exception) -> None:
    # The error's text quotes the statement and its parameters: only its class is logged.
    logger.warning("database unavailable: %s %s answered 503", request.method,
                   request.url.path, extra={"error": type(error).__name__})


async def unavailable(request: Request, error: Exception) -> JSONResponse:
    """The API's answer when the database cannot serve a request now: 503 and when to retry,
    not a bare 500 that reads as a bug. The voice and SMS webhooks do not get here: they
    answer from the snapshot and the journal instead."""
    log_unavailable(request, error)
    return JSONResponse({"detail": "The database is busy or out of reach. Wait a moment "
                                   "and try again; if you were changing something, check "
                                   "whether it was saved before you repeat it."},
                        status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
