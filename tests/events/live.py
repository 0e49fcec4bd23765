"""A real uvicorn server in a thread, and a reader of its Server-Sent Events."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from app.events import server as events_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the server did not stop"


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[Running]:
    """``app`` served on ``port`` by the server ``hotline serve`` uses."""
    server = events_server.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                 log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "the server did not start"
    running = Running(f"http://127.0.0.1:{port}", server, thread)
    try:
        yield running
    finally:
        if running.thread.is_alive():
            running.stop()


@dataclass
class EventReader:
    """Reads one event stream; the client's read timeout bounds every wait."""

    lines: Iterator[str]
    raw: list[str] = field(default_factory=list)

    def subscribed(self) -> "EventReader":
        """Wait for the stream's opening comment: the server sends it once subscribed, so
        an event published after this is one the stream receives."""
        for line in self.lines:
            self.raw.append(line)
            if line == ": live":
                return self
        raise EOFError("the stream ended before it opened")

    def next(self) -> tuple[str, dict]:
        """The next event (kind, data), skipping comments and retry advice."""
        kind, data = "message", None
        for line in self.lines:
            self.raw.append(line)
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
            elif line == "" and data is not None:
                return kind, data
        raise EOFError("the stream ended")

    def until(self, kind: str, reference: str | None = None) -> list[tuple[str, dict]]:
        """Every event up to and including the first ``kind`` (for ``reference``)."""
        seen = []
        while True:
            event = self.next()
            seen.append(event)
            if event[0] == kind and reference in (None, event[1].get("reference")):
                return seen
