"""Twilio webhooks for the fuzz tests: built from fields or raw bytes, signed, and checked."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Connection

from tests.twilio import sign


@dataclass(frozen=True)
class Webhook:
    url: str  # path and query, as in the TwiML Twilio follows
    body: bytes
    signed: list[tuple[str, str]]  # the fields the signature covers


def form_webhook(path: str, query: dict[str, str], pairs: list[tuple[str, str]]) -> Webhook:
    url = path + (f"?{urlencode(query)}" if query else "")
    return Webhook(url, urlencode(pairs).encode("ascii"), pairs)


def raw_webhook(url: str, body: bytes) -> Webhook:
    """A body Twilio would never send, signed over what a lenient parser reads in it."""
    lenient = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return Webhook(url, body, lenient)


def send(client, settings, webhook: Webhook):
    """POST it signed exactly as Twilio signs: public URL with query, then the fields."""
    signature = sign(settings.twilio_auth_token, settings.public_url + webhook.url,
                     webhook.signed)
    return client.post(webhook.url, content=webhook.body,
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Twilio-Signature": signature})


def assert_refused_or_twiml(response) -> None:
    """4xx, or 200 with TwiML: Twilio never has to say "an application error has occurred"."""
    assert response.status_code < 500, response.text
    assert "application error" not in response.text.lower()
    if 400 <= response.status_code < 500:
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert ET.fromstring(response.content).tag == "Response", response.text


@contextmanager
def rolled_back(connection: Connection) -> Iterator[None]:
    """One example's writes undone after it, so every example starts from the same data."""
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
