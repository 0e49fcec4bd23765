"""A webhook step's CPU in one process, to compare two versions of the code quickly.

``bench/load.py``'s callers (or texters) are driven straight into the ASGI app, with no
sockets and no uvicorn: each request is signed as Twilio signs it and its TwiML followed,
and the CPU this process used is divided by the requests answered. The figure includes
the client's small share (signing, parsing the TwiML), so it is for comparing one tree
with another, not against the targets of ``bench/load.py``. Each run recreates the
PostgreSQL database ``hotline_steps`` (migrations and the demo directory), so every text
conversation starts afresh. ``--statements`` also counts the statements a step sends,
BEGIN and COMMIT included, and the ORM flushes that wrote something.

To compare a change with the code before it, run each tree in turn, a few times over
(this machine's runs differ by a tenth of a millisecond or more); ``--tree`` takes the
service's code, and ``bench/load.py``'s callers, from another checkout::

    git worktree add /tmp/before HEAD~1
    python bench/steps.py voice; python bench/steps.py voice --tree /tmp/before
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# The tree measured, before anything imports its app (not the venv's installed one).
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else ROOT
sys.path.insert(0, str(TREE.resolve()))

import uvloop  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from app import i18n  # noqa: E402  (the measured tree's, as every import of app here)
from bench import load  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_steps"
WARMUP = 20
FLUSH = "(an ORM flush)"


class DirectTwilio:
    """``load.Twilio``'s ``post``, into the app's ASGI callable instead of a socket."""

    def __init__(self, app: FastAPI, auth_token: str) -> None:
        self.app, self.validator, self.requests = app, RequestValidator(auth_token), 0

    async def post(self, url: str, params: dict[str, str], phase: load.Phase
                   ) -> Any:
        public = url if url.startswith("http") else load.PUBLIC_URL + url
        parts = urlsplit(public)
        body = urlencode(params).encode()
        signature = self.validator.compute_signature(public, params)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": parts.path,
                 "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
                 "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                 "headers": [(b"host", b"127.0.0.1"),
                             (b"content-type", b"application/x-www-form-urlencoded"),
                             (b"content-length", str(len(body)).encode()),
                             (b"x-twilio-signature", signature.encode())]}
        answer: dict[str, Any] = {"status": 0, "body": b""}
        await self.app(scope, _receive(body), _collect(answer))
        self.requests += 1
        return load.twiml_of(answer["status"], answer["body"], parts.path, phase)


def _receive(body: bytes) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # nothing more: the client does not disconnect
        raise AssertionError("unreachable")

    return receive


def _collect(answer: dict[str, Any]) -> Callable[[MutableMapping[str, Any]], Awaitable[None]]:
    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    return send


def jobs(kind: str, twilio: DirectTwilio, phase: load.Phase, first: int, count: int
         ) -> load.Jobs:
    sent = load.Sent()
    if kind == "voice":
        return load.calls(twilio, phase, sent, first, count)
    return load.conversations(twilio, phase, sent, first, count)


def count_statements(engine: Engine) -> Counter[str]:
    seen: Counter[str] = Counter()
    event.listen(engine, "begin", lambda _connection: seen.update(["BEGIN"]))
    event.listen(engine, "commit", lambda _connection: seen.update(["COMMIT"]))
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: seen.update([" ".join(statement.split())]))
    # Each ORM flush costs a unit of work's set-up, whatever it writes: counted apart.
    event.listen(Session, "after_flush", lambda *_: seen.update([FLUSH]))
    return seen


async def measure(app: FastAPI, args: argparse.Namespace, token: str,
                  statements: Counter[str] | None) -> None:
    twilio = DirectTwilio(app, token)
    warmup = load.Phase("warm-up")
    count = args.calls if args.kind == "voice" else args.calls // 5
    async with app.router.lifespan_context(app):
        await load.run_all(jobs(args.kind, twilio, warmup, 0, WARMUP), args.concurrency)
        twilio.requests = 0
        if statements is not None:
            statements.clear()
        phase = load.Phase(args.kind)
        started = time.process_time()
        await load.run_all(jobs(args.kind, twilio, phase, WARMUP, count), args.concurrency)
        cpu = time.process_time() - started
    errors = len(phase.errors) + len(warmup.errors)
    print(f"{args.kind}: {twilio.requests} requests, {errors} errors, "
          f"{1000 * cpu / twilio.requests:.2f} ms of CPU a request")
    if statements is not None:
        flushes = statements.pop(FLUSH, 0)
        print(f"statements a step, BEGIN and COMMIT included: "
              f"{statements.total() / twilio.requests:.2f}; ORM flushes a step: "
              f"{flushes / twilio.requests:.2f}")
        for statement, times in statements.most_common():
            print(f"  {times / twilio.requests:5.2f}  {statement[:100]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("voice", "sms"))
    parser.add_argument("--calls", type=int, default=300,
                        help="callers (default 300); texters: a fifth as many")
    parser.add_argument("--concurrency", type=int, default=20, help="at once (default 20)")
    parser.add_argument("--statements", action="store_true",
                        help="count the statements a step sends")
    parser.add_argument("--database-url", default=URL, help="PostgreSQL; dropped, recreated")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the checkout whose code is measured (default: this one)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    load.prepare_database(args.database_url)
    # Before the prompts are rendered, which read the catalogs: a fresh checkout has none
    # compiled, and its prompts would be rendered (and played) from the English text.
    i18n.compile_catalogs()
    audio_dir = ROOT / "var" / "audio"  # the same prompts for every tree measured
    load.render_audio(audio_dir)  # as bench/load.py: nine languages' prompts are played
    with tempfile.TemporaryDirectory(prefix="hotline-steps-") as tmp:
        env = load.production_env(args.database_url, Path(tmp), audio_dir, None)
        # Only the run's settings, as bench/load.py gives its servers: none of this shell's.
        for name in [k for k in os.environ if k.startswith("HOTLINE_")]:
            del os.environ[name]
        os.environ.update({k: v for k, v in env.items() if k.startswith("HOTLINE_")})
        from app import main as service  # settings are read from the environment above

        app = service.create_app()
        engine = app.state.webhook_sessionmaker.kw["bind"]
        statements = count_statements(engine) if args.statements else None
        uvloop.run(measure(app, args, env["HOTLINE_TWILIO_AUTH_TOKEN"], statements))


if __name__ == "__main__":
    main()
