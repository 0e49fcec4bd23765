"""The baselines of ``bench/load.py``, under the same uvicorn command as the hotline.

``/twilio/voice`` is FastAPI with nothing else: it reads the form body like a webhook does
and answers a small TwiML document, so the difference from the hotline's figures is the
hotline's own work (signature, database, routing, TwiML), not FastAPI, uvicorn or the HTTP
round trip on this machine.

``/twilio/committed`` is the least a webhook that must not lose a record can do: it checks
the Twilio signature as the hotline does, writes one row through the same engine and
session settings on as many threads as the hotline's webhooks, commits, and answers
fixed TwiML. Against it, the hotline's figure is
what its routing, case records and idempotency cost beyond one durable write.

    uvicorn bench.bare_app:create_app --factory
"""

from fastapi import FastAPI, Request, Response
from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app import db
from app.config import get_settings
from app.twilio.signature import TwilioDep, TwilioRequest
from app.webhooks import lane

TWIML = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<Response><Say language="ru-RU">Baseline.</Say></Response>')


class BenchBase(DeclarativeBase):
    pass


class BaselineRow(BenchBase):
    """A table of the bench database only; no migration, dropped with the database."""

    __tablename__ = "bench_baseline_rows"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline")
    settings = get_settings()
    app.state.settings = settings  # what the signature check reads
    app.state.webhook_lane = lane.make(settings.webhook_threads)
    engine = db.make_engine(settings.effective_database_url())
    BenchBase.metadata.create_all(engine)
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
        return await lane.run(request, commit_one, tw)

    return app
