"""Requests signed exactly as Twilio signs them, for the simulators (the tests sign the
same way with ``twilio.request_validator``)."""

import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from app.config import Settings


def post_signed(client: TestClient, settings: Settings, url: str,
                params: dict[str, str]) -> ET.Element:
    """POST as Twilio does: form-encoded, signed over the public URL; returns the TwiML."""
    public = url if url.startswith("http") else settings.public_url + url
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(public, params)
    parts = urlsplit(public)
    response = client.post(
        parts.path + (f"?{parts.query}" if parts.query else ""), content=urlencode(params),
        headers={"X-Twilio-Signature": signature,
                 "Content-Type": "application/x-www-form-urlencoded"})
    response.raise_for_status()
    return ET.fromstring(response.content)
