"""A local fake of the part of Telegram's Bot API the service uses, never the real one.

A real HTTP server on 127.0.0.1 in a thread: the client builds its URLs
(``/bot{token}/{method}``), posts JSON and reads Telegram's JSON answer exactly as it
would with api.telegram.org. It records every call, and answers as a test scripts it:
each scripted answer is used once, in order, then calls succeed again. A call with
another token is refused as Telegram refuses it (401 Unauthorized).
"""

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import send_json, serving

TOKEN = "7000000001:AAFakeTelegramBotToken-for_tests_only_x"
_message_ids = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def error(status: int, description: str, **extra: Any) -> Answer:
    return Answer(status, {"ok": False, "error_code": status, "description": description}
                  | extra)


BLOCKED = error(403, "Forbidden: bot was blocked by the user")
DEACTIVATED = error(403, "Forbidden: user is deactivated")
TOO_MANY = error(429, "Too Many Requests: retry after 3", parameters={"retry_after": 3})
SERVER_ERROR = error(500, "Internal Server Error")
CHAT_NOT_FOUND = error(400, "Bad Request: chat not found")


@dataclass(frozen=True)
class Call:
    method: str
    payload: dict[str, Any]
    accepted: bool = False  # answered with success


@dataclass
class FakeBotApi:
    token: str = TOKEN
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)  # next answers, then successes
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self.script.extend(answers)

    def sent(self) -> list[tuple[str, str]]:
        """(chat id, text) of every sendMessage Telegram accepted, in order."""
        return [(str(c.payload["chat_id"]), c.payload["text"]) for c in self.calls
                if c.method == "sendMessage" and c.accepted]

    def handle(self, token: str, method: str, payload: dict[str, Any]) -> Answer:
        with self._lock:
            if token != self.token:
                self.calls.append(Call(method, payload))
                return error(401, "Unauthorized")
            answer = self.script.pop(0) if self.script else None
            self.calls.append(Call(method, payload, accepted=answer is None))
        return answer or Answer(200, {"ok": True, "result": _result(method, payload)})


def _result(method: str, payload: dict[str, Any]) -> Any:
    if method == "sendMessage":
        return {"message_id": next(_message_ids), "chat": {"id": payload.get("chat_id")},
                "date": 0, "text": payload.get("text")}
    return True  # setWebhook and the like answer true


def _handler(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: its lines would show the token in the path

        def do_POST(self) -> None:
            _, bot, method = self.path.split("/", 2)
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            answer = api.handle(bot.removeprefix("bot"), method, payload)
            send_json(self, answer.status, answer.body)

    return Handler


@contextmanager
def fake_telegram() -> Iterator[FakeBotApi]:
    """A fake Bot API served on a loopback port for the duration of the block."""
    api = FakeBotApi()
    with serving(_handler(api)) as api.base_url:
        yield api
