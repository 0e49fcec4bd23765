"""A local fake of the part of Twilio's REST API that ``hotline twilio setup`` uses, and an
SDK HTTP client that sends api.twilio.com requests to it instead.

The fake is a real HTTP server on 127.0.0.1: the SDK builds its URLs, signs in with Basic
auth and parses the JSON exactly as it would with Twilio. It keeps the account's numbers
and records every request, so a test can see what was (and was not) sent.
"""

import base64
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from tests.loopback import send_json, serving

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "fake-twilio-token-" + "7f3a9c" * 4
API = "/2010-04-01/Accounts"
# The form fields of an update, and the names they have in a number's JSON.
FORM_FIELDS = {"VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
               "VoiceFallbackUrl": "voice_fallback_url",
               "VoiceFallbackMethod": "voice_fallback_method",
               "StatusCallback": "status_callback",
               "StatusCallbackMethod": "status_callback_method",
               "SmsUrl": "sms_url", "SmsMethod": "sms_method",
               "SmsFallbackUrl": "sms_fallback_url", "SmsFallbackMethod": "sms_fallback_method"}
_sids = itertools.count(1)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, str]


@dataclass
class FakeTwilioAccount:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by PN sid
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def add_number(self, phone_number: str, **values: str) -> str:
        """A number bought in the account, as Twilio sets a new one up (its demo URL,
        GET for the rest)."""
        sid = f"PN{next(_sids):032x}"
        self.numbers[sid] = {name: "" for name in FORM_FIELDS.values()} | {
            "voice_method": "POST", "voice_fallback_method": "POST",
            "status_callback_method": "POST", "sms_method": "POST",
            "sms_fallback_method": "POST",
            "voice_url": "https://demo.twilio.com/welcome/voice/",
        } | values | {"sid": sid, "account_sid": self.account_sid,
                      "phone_number": phone_number, "friendly_name": phone_number}
        return sid

    def number(self, phone_number: str) -> dict[str, Any]:
        return next(n for n in self.numbers.values() if n["phone_number"] == phone_number)

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def http_client(self) -> "LoopbackHttpClient":
        return LoopbackHttpClient(self.base_url)


class LoopbackHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with Twilio's scheme and host swapped for the fake's."""

    def __init__(self, base_url: str) -> None:
        quiet = logging.getLogger("tests.fake_twilio_rest")
        quiet.setLevel(logging.WARNING)
        super().__init__(timeout=5, logger=quiet)
        self.target = urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        assert parts.hostname and parts.hostname.endswith("twilio.com"), url
        local = urlunsplit((self.target.scheme, self.target.netloc, parts.path, parts.query,
                            parts.fragment))
        return super().request(method, local, *args, **kwargs)


def _handler(account: FakeTwilioAccount) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(
        f"{account.account_sid}:{account.auth_token}".encode()).decode()
    numbers_path = f"{API}/{account.account_sid}/IncomingPhoneNumbers"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reads account.requests instead

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            account.requests.append(Recorded(method, parts.path, parse_qs(parts.query), form))
            if self.headers.get("Authorization") != expected:
                return self._json(401, {"code": 20003, "message": "Authenticate",
                                        "more_info": "https://www.twilio.com/docs/errors/20003",
                                        "status": 401})
            if method == "GET" and parts.path == f"{numbers_path}.json":
                return self._json(200, self._list(parse_qs(parts.query)))
            sid = parts.path.removeprefix(f"{numbers_path}/").removesuffix(".json")
            if method == "POST" and parts.path.startswith(numbers_path + "/") \
                    and sid in account.numbers:
                return self._json(200, self._update(sid, form))
            return self._json(404, {"code": 20404, "message": "The requested resource was "
                                    "not found", "status": 404})

        def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
            # Like Twilio, PhoneNumber matches any number containing it.
            wanted = query.get("PhoneNumber", [""])[0]
            found = [n for n in account.numbers.values() if wanted in n["phone_number"]]
            return {"incoming_phone_numbers": found, "page": 0, "page_size": 50,
                    "start": 0, "end": max(len(found) - 1, 0), "next_page_uri": None,
                    "previous_page_uri": None, "first_page_uri": self.path,
                    "uri": self.path}

        def _update(self, sid: str, form: dict[str, str]) -> dict[str, Any]:
            number = account.numbers[sid]
            for name, value in form.items():
                if name in FORM_FIELDS:
                    number[FORM_FIELDS[name]] = value
            return number

        def _json(self, status: int, body: dict[str, Any]) -> None:
            send_json(self, status, body)

    return Handler


@contextmanager
def fake_twilio() -> Iterator[FakeTwilioAccount]:
    """A fake account served on a loopback port for the duration of the block."""
    account = FakeTwilioAccount()
    with serving(_handler(account)) as account.base_url:
        yield account
