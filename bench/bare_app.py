"""The baseline of ``bench/load.py``: FastAPI with one POST endpoint and nothing else.

It reads the form body like a webhook does and answers a small TwiML document, so the
difference from the hotline's figures is the hotline's own work (signature, database,
routing, TwiML), not FastAPI, uvicorn or the HTTP round trip on this machine.

    uvicorn bench.bare_app:create_app --factory
"""

from fastapi import FastAPI, Request, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<Response><Say language="ru-RU">Baseline.</Say></Response>')


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline")

    @app.post("/twilio/voice")
    async def voice(request: Request) -> Response:
        await request.body()
        return Response(TWIML, media_type="application/xml")

    return app
