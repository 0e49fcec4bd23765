"""Signing webhooks exactly as Twilio does, and reading the TwiML that comes back."""

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

_sids = itertools.count(1)


def new_call_sid() -> str:
    return f"CA{next(_sids):032x}"


def sign(token: str, url: str, params: list[tuple[str, str]]) -> str:
    form: dict[str, list[str]] = {}
    for key, value in params:
        form.setdefault(key, []).append(value)

    class Multi(dict):
        def getlist(self, key: str) -> list[str]:
            return self[key]

    return RequestValidator(token).compute_signature(url, Multi(form))


@dataclass
class Twiml:
    root: ET.Element
    text: str

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def find(self, path: str) -> ET.Element | None:
        return self.root.find(path)

    def findall(self, path: str) -> list[ET.Element]:
        return self.root.findall(path)

    def gather_action(self) -> str:
        gather = self.find("Gather")
        assert gather is not None, self.text
        return gather.get("action")

    def dialled_numbers(self) -> list[str]:
        return [n.text for n in self.findall("Dial/Number")]


def post(client: TestClient, settings, url: str, params: dict[str, str] | list[tuple[str, str]],
         signature: str | None = "auto", headers: dict[str, str] | None = None):
    """POST form params to an absolute public URL (as in TwiML) or a path, signed."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    public = url if url.startswith("http") else settings.public_url + url
    parts = urlsplit(public)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if signature == "auto":
        signature = sign(settings.twilio_auth_token, public, pairs)
    all_headers = {"Content-Type": "application/x-www-form-urlencoded"} | (headers or {})
    if signature is not None:
        all_headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(pairs), headers=all_headers)


def twiml(response) -> Twiml:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert len(response.content) < 64 * 1024
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return Twiml(root, response.text)
