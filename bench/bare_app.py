"""The baselines of ``bench/load.py``, under the same uvicorn command as the hotline.

``/twilio/voice`` is FastAPI with nothing else: it reads the form body like a webhook does
and answers a small TwiML document, so the difference from the hotline's figures is the
hotline's own work (signature, database, routing, TwiML), not FastAPI, uvicorn or the HTTP
round trip on this machine.

``/twilio/committed`` checks the Twilio signature as the hotline does, writes one row
through the same engine, session settings and lane as the hotline's webhooks, commits,
and answers fixed TwiML: this project's own stack for one durable write.

``/twilio/driver`` is the least Python that can do the same: the signature checked with
Twilio's validator, one row inserted and committed through psycopg's asyncio connection
(no ORM, no session, no thread), from a fixed set of open connections. It is the physical
limit of "signed, committed, then answered" on this machine; against it, the hotline's
figure is what its routing, case records, idempotency and engine stack cost.

    uvicorn bench.bare_app:create_app --factory
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

import psycopg
from fastapi import FastAPI, Request, Response
from sqlalchemy import String, Text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from twilio.request_validator import RequestValidator

from app import db
from app.config import get_settings
from app.twilio.signature import TwilioDep, TwilioRequest, signed_url
from app.webhooks import lane

TWIML = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<Response><Say language="ru-RU">Baseline.</Say></Response>')


class BenchBase(DeclarativeBase):
    pass


class SidRow:
    """A table of the bench database only; no migration, dropped with the database."""

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class BaselineRow(SidRow, BenchBase):
    __tablename__ = "bench_baseline_rows"


class DriverRow(SidRow, BenchBase):
    """Its own table, since the driver baseline's CallSids repeat the ORM baseline's."""

    __tablename__ = "bench_driver_rows"


INSERT = "INSERT INTO bench_driver_rows (sid, body) VALUES (%s, %s)"


class Connections:
    """Open psycopg connections handed out in turn; as many as the hotline's webhook
    threads, so both baselines hold as many transactions at once."""

    def __init__(self, url: str, size: int) -> None:
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.size, self.opened = size, 0
        self.idle: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            self.idle.put_nowait(await psycopg.AsyncConnection.connect(self.conninfo))
        connection = await self.idle.get()
        try:
            yield connection
        finally:
            self.idle.put_nowait(connection)


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline")
    settings = get_settings()
    app.state.settings = settings  # what the signature check reads
    url = settings.effective_database_url()
    # The hotline's webhooks' engine and lane (``app.main``): on PostgreSQL the driver
    # awaited on the event loop, the step in a greenlet.
    on_event_loop = db.is_postgresql(url)
    app.state.webhook_lane = lane.make(settings.webhook_threads, on_event_loop)
    engine = (db.make_async_engine(url, pool_size=settings.webhook_threads + 1).sync_engine
              if on_event_loop else db.make_engine(url))
    BenchBase.metadata.create_all(db.make_engine(url))
    make_session = db.make_sessionmaker(engine)

    @app.post("/twilio/voice")
    async def voice(request: Request) -> Response:
        await request.body()
        return Response(TWIML, media_type="application/xml")

    def commit_one(tw: TwilioRequest) -> Response:
        with make_session() as session, session.begin():
            session.add(BaselineRow(sid=tw.field("CallSid"), body=TWIML))
        return Response(TWIML, media_type="application/xml")

    @app.post("/twilio/committed")
    async def committed(request: Request, tw: TwilioDep) -> Response:
        return await lane.run(app.state.webhook_lane, commit_one, tw)

    connections = Connections(url, settings.webhook_threads) if url.startswith("postgres") \
        else None
    validator = RequestValidator(settings.twilio_auth_token)

    @app.post("/twilio/driver")
    async def driver(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("ascii")))
        signed = signed_url(settings.public_url, request)
        if not validator.validate(signed, form, request.headers.get("X-Twilio-Signature", "")):
            return Response(status_code=403)
        if connections is None:
            return Response("the driver baseline needs PostgreSQL", status_code=501)
        async with connections.connection() as connection, connection.transaction():
            await connection.execute(INSERT, (form["CallSid"], TWIML))
        return Response(TWIML, media_type="application/xml")

    return app
