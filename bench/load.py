"""How many callers at once can the voice webhooks serve, against a bare FastAPI baseline?

Creates (drops and recreates) the PostgreSQL database ``hotline_load``, migrates it, loads
the demo directory, and runs the service with uvicorn in a subprocess with production
settings (``HOTLINE_ENV=production``, secrets generated for the run, no Twilio account so
nothing is ever sent). N simulated callers, C at a time, go through whole calls as
Twilio would drive them: every request signed over the public URL, every next URL taken
from the TwiML returned (language and need menus, responders dialled, whispers, callback
offers, the status callback). Then texters hold short SMS conversations. The baselines
are in ``bench/bare_app.py`` (one POST endpoint answering a fixed TwiML string; one that
checks the signature and commits one row through this project's engine and sessions; one
that does the same with the least Python, through the database driver directly) under the
same uvicorn command, driven by the same client in the same run.

Each caller sends its next request as soon as the previous answer arrives (no time to
listen to the prompts), so C is the number of requests in flight: throughput is the
service's capacity, and latency includes the queueing at that concurrency (Little's law:
C / throughput). A last, paced phase has C callers in calls at the same time, each
pausing ``--think-ms`` (3 s) before each step, less than a person takes to hear a menu and
press a key: its latency is what C callers at once meet. Each phase also prints the CPU
seconds used by the server (and per request), this client, PostgreSQL and every other
process: on a shared machine, other people's work makes the figures worse. With one
worker (the default), the voice phase is run once more at the end on a server with two
workers, started once the others have stopped: what a second core buys.

Errors are answers that are not 2xx, not TwiML, or the fallback TwiML the voice line
returns when a step failed, and records written twice. Lost records are CallSids and
MessageSids sent whose contact or message is not in the database afterwards.
Targets (issue 22, on 2 cores): server CPU per voice step at most 1.5 ms and per SMS step
at most 3 ms; voice at least 0.5 of the driver-level baseline's requests/s and 0.15 of
bare; two workers at least 1.7 times one worker's voice requests/s (``workers_ratio=``, the
line before the last). The last line reads ``ratio=<voice/bare> durable_ratio=<voice/driver
baseline> cpu_ms_voice=<x> cpu_ms_sms=<y> p99_ms=<paced p99> errors=<n> lost=<n>``.

    python bench/load.py [--calls N] [--concurrency C] [--think-ms MS] [--workers W]
                         [--no-scaled] [--webhook-threads T] [--uvicorn OPTIONS]
                         [--database-url URL]
"""

import argparse
import asyncio
import fcntl
import itertools
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from app import db, i18n, main
from app.cases.models import Case, CaseStatus, Contact
from app.channels.voice import audio
from app.messaging.models import Message
from app.organisations.service import load_demo_if_empty

ROOT = Path(__file__).resolve().parent.parent
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_load"
PUBLIC_URL = "https://hotline.example.org"  # what Twilio signs; uvicorn listens on loopback
HOTLINE_NUMBER = "+77270009999"  # the fictitious hotline number of the tests
# The Dockerfile's factory: the app with production logging set up first.
APP_FACTORY = "app.main:serve_app" if hasattr(main, "serve_app") else "app.main:create_app"
MAX_STEPS = 20
WARMUP_CALLS = 20


# --- who calls and what they do --------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A kind of caller: fictitious numbers of one country, keys pressed, responders."""

    prefix: str  # + the index, zero-padded to a possible number of that country
    width: int
    country: str
    keys: tuple[str, ...]  # pressed at each menu in turn, then silence
    responders: tuple[str, ...]  # what each responder rung does
    texts: tuple[str, ...] = ()  # for texters: the messages, one after the other

    def number(self, index: int) -> str:
        return f"{self.prefix}{index:0{self.width}d}"


CALLERS = (
    Profile("+992900", 6, "TJ", ("1", "1"), ("accept",)),
    Profile("+7701", 7, "KZ", ("1", "2"), ("no-answer", "accept")),
    Profile("+7900", 7, "RU", ("1", "5"), ("decline", "accept")),
    Profile("+93700", 6, "AF", ("1", "1", "1"), ("busy", "no-answer", "failed")),  # callback
    Profile("+998900", 6, "UZ", ("1", "3"), ()),  # the information line, then silence
)
TEXTERS = (
    Profile("+7701", 7, "KZ", (), (), ("Сәлеметсіз бе, маған көмек керек", "1", "2")),
    Profile("+992900", 6, "TJ", (), (), ("Салом, ба ман ёрӣ лозим аст", "2", "1")),
    Profile("+7900", 7, "RU", (), (), ("Здравствуйте, мне нужна помощь", "3", "2", "спасибо")),
)
TEXTER_OFFSET = 500_000  # texters' numbers never collide with callers'


# --- measuring -------------------------------------------------------------------------


@dataclass
class Cpu:
    """CPU seconds used: by the server under test, this client, PostgreSQL, and anything
    else on the machine (other people's work on a shared machine skews the figures)."""

    server: float = 0.0
    client: float = 0.0
    postgres: float = 0.0
    others: float = 0.0


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: Cpu = field(default_factory=Cpu)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def line(self) -> str:
        return (f"{self.name}: {len(self.latencies)} requests in {self.seconds:.1f} s = "
                f"{self.rate:.0f} req/s; p50 {self.percentile_ms(50):.1f} ms, p95 "
                f"{self.percentile_ms(95):.1f} ms, p99 {self.percentile_ms(99):.1f} ms; "
                f"errors {len(self.errors)}\n  CPU s: server {self.cpu.server:.1f}, client "
                f"{self.cpu.client:.1f}, PostgreSQL {self.cpu.postgres:.1f}, other processes "
                f"{self.cpu.others:.1f} (of {os.cpu_count()} cores x {self.seconds:.1f} s); "
                f"server {self.cpu_ms:.2f} ms a request")

    @property
    def cpu_ms(self) -> float:
        """Server CPU per request answered."""
        return self.cpu.server * 1000 / len(self.latencies) if self.latencies else 0.0


TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    """CPU seconds per process (pid -> server/postgres/other, seconds), and in all."""

    processes: dict[int, tuple[str, float]]
    client: float
    busy: float

    def used_since(self, before: "Sample") -> Cpu:
        cpu = Cpu(client=self.client - before.client)
        for pid, (kind, seconds) in self.processes.items():
            if kind != "other":  # a process that ended in between counts as "others"
                used = seconds - before.processes.get(pid, (kind, 0.0))[1]
                setattr(cpu, kind, getattr(cpu, kind) + used)
        # Clock ticks against seconds: a quiet machine can come out a little below zero.
        cpu.others = max(0.0, self.busy - before.busy - cpu.server - cpu.postgres - cpu.client)
        return cpu


def sample(server_pid: int) -> Sample:
    """/proc: the server with its children (uvicorn's workers), PostgreSQL's processes,
    and the machine's busy time."""
    processes: dict[int, tuple[str, float]] = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = path.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
        fields, pid = rest.split(), int(path.parent.name)
        kind = ("server" if server_pid in (pid, int(fields[1]))
                else "postgres" if name.startswith("postgres") else "other")
        processes[pid] = (kind, (int(fields[11]) + int(fields[12])) / TICK)
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:8]]
    busy = (sum(ticks) - ticks[3] - ticks[4]) / TICK  # all but idle and iowait
    return Sample(processes, time.process_time(), busy)


@asynccontextmanager
async def measured(phase: Phase, server_pid: int) -> AsyncIterator[Phase]:
    before, started = sample(server_pid), time.perf_counter()
    yield phase
    phase.seconds = time.perf_counter() - started
    phase.cpu = sample(server_pid).used_since(before)


# --- a Twilio that signs its requests ----------------------------------------------------


class Twilio:
    """Posts webhooks as Twilio does: form-encoded, signed over the public URL."""

    def __init__(self, http: aiohttp.ClientSession, port: int, auth_token: str) -> None:
        self.http = http
        self.base = f"http://127.0.0.1:{port}"
        self.validator = RequestValidator(auth_token)

    async def post(self, url: str, params: dict[str, str], phase: Phase) -> ET.Element | None:
        """The TwiML answered, or None (and an error recorded) for anything else."""
        public = url if url.startswith("http") else PUBLIC_URL + url
        parts = urlsplit(public)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(public, params),
                   "Content-Type": "application/x-www-form-urlencoded"}
        target = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        try:
            async with self.http.post(target, data=urlencode(params),
                                      headers=headers) as response:
                body, status = await response.read(), response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            phase.errors.append(f"{parts.path}: {type(exc).__name__}")
            return None
        phase.latencies.append(time.perf_counter() - started)
        return twiml_of(status, body, parts.path, phase)


def twiml_of(status: int, body: bytes, path: str, phase: Phase) -> ET.Element | None:
    if not 200 <= status < 300:
        phase.errors.append(f"{path}: HTTP {status}")
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        phase.errors.append(f"{path}: not XML")
        return None
    if root.tag != "Response":
        phase.errors.append(f"{path}: root <{root.tag}>")
        return None
    return root


# --- callers ---------------------------------------------------------------------------


@dataclass
class Sent:
    """Every SID sent, to count the records afterwards."""

    calls: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)  # first MessageSid of each
    messages: list[str] = field(default_factory=list)


class Call:
    """One caller following the TwiML, as Twilio would on their behalf."""

    def __init__(self, twilio: Twilio, profile: Profile, index: int, phase: Phase,
                 think: float = 0.0) -> None:
        self.twilio, self.phase, self.think = twilio, phase, think
        self.sid = f"CA{uuid.uuid4().hex}"
        self.number, self.country = profile.number(index), profile.country
        self.keys = iter(profile.keys)
        self.responders = itertools.chain(profile.responders, itertools.repeat("no-answer"))

    def params(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number,
                "To": HOTLINE_NUMBER, "FromCountry": self.country, "CallStatus": "in-progress",
                "Direction": "inbound", "ApiVersion": "2010-04-01"} | extra

    async def post(self, url: str, **extra: str) -> ET.Element | None:
        return await self.twilio.post(url, self.params(**extra), self.phase)

    async def pause(self) -> None:
        """The caller listens before pressing a key; a responder's phone rings."""
        if self.think:
            await asyncio.sleep(self.think)

    async def run(self, start_after: float = 0.0) -> None:
        await asyncio.sleep(start_after)
        twiml = await self.post("/twilio/voice", CallStatus="ringing")
        for _ in range(MAX_STEPS):
            if twiml is None:
                break
            twiml = await self.follow(twiml)
        await self.post("/twilio/voice/status", CallStatus="completed", CallDuration="42")

    async def follow(self, twiml: ET.Element) -> ET.Element | None:
        """Do what the TwiML says; the next TwiML, or None when the call ends."""
        await self.pause()
        for verb in twiml:
            if verb.tag == "Gather":
                key = next(self.keys, None)
                if key is not None:
                    return await self.post(verb.get("action", ""), Digits=key)
            elif verb.tag == "Redirect":  # after a Gather: the caller stayed silent
                return await self.post(verb.text or "")
            elif verb.tag == "Dial":
                return await self.dial(verb, next(self.responders))
            elif verb.tag == "Hangup":
                return None
        return None

    async def dial(self, dial: ET.Element, responder: str) -> ET.Element | None:
        if dial.get("action") is None:  # only the fallback dials without coming back
            self.phase.errors.append("voice: fallback TwiML (a step failed)")
            return None
        number = dial.find("Number")
        if responder in ("accept", "decline") and number is not None:
            await self.responder_answers(number, "1" if responder == "accept" else "2")
        status = responder if responder in ("no-answer", "busy", "failed") else "completed"
        return await self.post(dial.get("action", ""), DialCallStatus=status)

    async def responder_answers(self, number: ET.Element, key: str) -> None:
        """The responder's leg: Twilio fetches the whisper, the responder presses a key."""
        leg = {"CallSid": f"CA{uuid.uuid4().hex}", "ParentCallSid": self.sid,
               "From": HOTLINE_NUMBER, "To": number.text or "", "CallStatus": "in-progress"}
        whisper = await self.twilio.post(number.get("url", ""), leg, self.phase)
        gather = whisper.find("Gather") if whisper is not None else None
        if gather is not None:
            await self.twilio.post(gather.get("action", ""), leg | {"Digits": key}, self.phase)


async def text_conversation(twilio: Twilio, profile: Profile, index: int, phase: Phase,
                            sent: Sent) -> None:
    number = profile.number(TEXTER_OFFSET + index)
    for position, body in enumerate(profile.texts):
        sid = f"SM{uuid.uuid4().hex}"
        if position == 0:  # the conversation's contact is keyed by its first message
            sent.conversations.append(sid)
        sent.messages.append(sid)
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
                  "From": number, "To": HOTLINE_NUMBER, "Body": body,
                  "FromCountry": profile.country, "NumMedia": "0", "NumSegments": "1"}
        if await twilio.post("/twilio/sms", params, phase) is None:
            return


async def baseline_request(twilio: Twilio, index: int, phase: Phase, path: str) -> None:
    call = Call(twilio, CALLERS[index % len(CALLERS)], index, phase)
    await call.post(path, CallStatus="ringing")


async def run_all(jobs: Iterable[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    """Run the jobs, ``concurrency`` at a time, each starting as soon as one ends."""
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:  # one shared iterator: each job is taken once
            await job()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


Jobs = Iterator[Callable[[], Awaitable[None]]]


def calls(twilio: Twilio, phase: Phase, sent: Sent, first: int, count: int) -> Jobs:
    for index in range(first, first + count):
        call = Call(twilio, CALLERS[index % len(CALLERS)], index, phase)
        sent.calls.append(call.sid)
        yield call.run


def paced_calls(twilio: Twilio, phase: Phase, sent: Sent, first: int, count: int,
                concurrency: int, think: float) -> Jobs:
    """Callers who pause between webhooks; the first ``concurrency`` of them dial in
    spread over one pause, not all in the same instant."""
    for n, index in enumerate(range(first, first + count)):
        call = Call(twilio, CALLERS[index % len(CALLERS)], index, phase, think)
        sent.calls.append(call.sid)
        yield lambda c=call, n=n: c.run(think * n / concurrency if n < concurrency else 0.0)


def conversations(twilio: Twilio, phase: Phase, sent: Sent, first: int, count: int) -> Jobs:
    for index in range(first, first + count):
        profile = TEXTERS[index % len(TEXTERS)]
        yield lambda p=profile, i=index: text_conversation(twilio, p, i, phase, sent)


BARE, COMMITTED, DRIVER = "/twilio/voice", "/twilio/committed", "/twilio/driver"  # bare_app


def baseline_requests(twilio: Twilio, phase: Phase, count: int, path: str = BARE) -> Jobs:
    for index in range(count):
        yield lambda i=index: baseline_request(twilio, i, phase, path)


# --- the database and the servers -----------------------------------------------------


def prepare_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.make_sessionmaker(engine)() as session:
        load_demo_if_empty(session)
        session.commit()
    engine.dispose()


def render_audio(audio_dir: Path) -> None:
    """Production plays rendered prompts for nine languages: so does the bench."""
    report = audio.render_all(audio_dir)
    print(f"audio prompts in {audio_dir}: {len(report.rendered)} rendered, "
          f"{report.unchanged} unchanged")


def production_env(url: str, data_dir: Path, audio_dir: Path, webhook_threads: int | None
                   ) -> dict[str, str]:
    """Production settings with secrets made for this run, and no Twilio account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return env | {
        "HOTLINE_ENV": "production", "HOTLINE_DATABASE_URL": url,
        "HOTLINE_PUBLIC_URL": PUBLIC_URL, "HOTLINE_TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "HOTLINE_PSEUDONYM_KEY": secrets.token_urlsafe(48),
        "HOTLINE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "HOTLINE_AUDIT_KEY": secrets.token_urlsafe(48),
        "HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_AUDIO_DIR": str(audio_dir)} | (
        {"HOTLINE_WEBHOOK_THREADS": str(webhook_threads)} if webhook_threads else {})


def uvicorn_command(factory: str, port: int, options: list[str]) -> list[str]:
    """The Dockerfile's command, on loopback, plus the options under test."""
    return [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--no-proxy-headers", *options]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


@contextmanager
def server(factory: str, env: dict[str, str], options: list[str], log: Path
           ) -> Iterator[Server]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(uvicorn_command(factory, port, options), cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Server(process, port, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def wait_ready(http: aiohttp.ClientSession, target: Server, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            sys.exit(f"server exited:\n{target.log.read_text(errors='replace')[-3000:]}")
        try:
            async with http.post(f"http://127.0.0.1:{target.port}{path}") as response:
                if response.status < 500:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    sys.exit(f"server on port {target.port} not ready in 60 s")


# --- records ---------------------------------------------------------------------------


@dataclass
class Records:
    lost: int
    duplicates: int


def count(found: list[str], expected: list[str]) -> Records:
    return Records(lost=len(set(expected) - set(found)), duplicates=len(found) - len(set(found)))


def check_records(url: str, sent: Sent) -> Records:
    """Every contact and inbound message exactly once; one open case per caller and org."""
    engine = db.make_engine(url)
    with engine.connect() as connection:
        contacts = list(connection.scalars(select(Contact.twilio_sid).where(
            Contact.twilio_sid.in_(sent.calls + sent.conversations))))
        messages = list(connection.scalars(select(Message.twilio_sid).where(
            Message.twilio_sid.in_(sent.messages))))
        doubled_cases = connection.scalar(select(func.count()).select_from(
            select(Case.caller_pseudonym).where(Case.status != CaseStatus.CLOSED)
            .group_by(Case.caller_pseudonym, Case.organisation_id)
            .having(func.count() > 1).subquery()))
    engine.dispose()
    by_contact = count(contacts, sent.calls + sent.conversations)
    by_message = count(messages, sent.messages)
    print(f"records: contacts {len(contacts)} of {len(sent.calls) + len(sent.conversations)}, "
          f"inbound messages {len(messages)} of {len(sent.messages)}, "
          f"callers with two open cases at one organisation {doubled_cases}")
    return Records(lost=by_contact.lost + by_message.lost,
                   duplicates=by_contact.duplicates + by_message.duplicates + (doubled_cases or 0))


# --- the run ---------------------------------------------------------------------------


@dataclass
class Setup:
    args: argparse.Namespace
    app: Server
    bare: Server
    token: str


@dataclass
class Results:
    voice: Phase
    paced: Phase
    sms: Phase
    baseline: Phase
    committed: Phase
    driver: Phase
    sent: Sent
    scaled: Phase | None = None  # the voice phase again, on two workers


def client_session() -> aiohttp.ClientSession:
    # Connections idle for 2 s are not reused: uvicorn closes them after 5 s, and a request
    # sent on one just then fails (a load balancer needs a shorter idle timeout too).
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=2),
        timeout=aiohttp.ClientTimeout(total=60))


async def warm_up(hotline: Twilio, bare: Twilio, sent: Sent, args: argparse.Namespace
                  ) -> Phase:
    """Connections, the directory snapshot and the language model load outside the
    measured phases, as they do once per process (enough for every worker to get some)."""
    warmup, count = Phase("warm-up"), WARMUP_CALLS * args.workers
    await run_all(calls(hotline, warmup, sent, 0, count), args.concurrency)
    await run_all(conversations(hotline, warmup, sent, 0, count), args.concurrency)
    await run_all(baseline_requests(bare, Phase("-"), count), args.concurrency)
    await run_all(baseline_requests(bare, Phase("-"), count, COMMITTED), args.concurrency)
    await run_all(baseline_requests(bare, Phase("-"), count, DRIVER), args.concurrency)
    return warmup


async def drive(setup: Setup) -> Results:
    args, sent = setup.args, Sent()
    async with client_session() as http:
        await wait_ready(http, setup.app, "/healthz")
        await wait_ready(http, setup.bare, "/twilio/voice")
        hotline, bare = (Twilio(http, s.port, setup.token) for s in (setup.app, setup.bare))
        warmup = await warm_up(hotline, bare, sent, args)
        app_pid, bare_pid = setup.app.process.pid, setup.bare.process.pid
        first = WARMUP_CALLS * args.workers  # numbers not used by the warm-up
        results = Results(Phase("voice webhooks"), Phase(
            f"voice webhooks, callers pausing {args.think_ms} ms before each step"),
            Phase("SMS webhooks"), Phase("baseline (bare FastAPI)"),
            Phase("baseline: signature checked, one row committed (engine and session)"),
            Phase("baseline: signature checked, one row committed through the driver"), sent)
        async with measured(results.voice, app_pid):
            await run_all(calls(hotline, results.voice, sent, first, args.calls),
                          args.concurrency)
        async with measured(results.baseline, bare_pid):
            await run_all(baseline_requests(bare, results.baseline,
                                            len(results.voice.latencies)), args.concurrency)
        for phase, path in ((results.committed, COMMITTED), (results.driver, DRIVER)):
            async with measured(phase, bare_pid):
                await run_all(baseline_requests(bare, phase, len(results.voice.latencies),
                                                path), args.concurrency)
        async with measured(results.sms, app_pid):
            await run_all(conversations(hotline, results.sms, sent, first, args.texters),
                          args.concurrency)
        async with measured(results.paced, app_pid):
            await run_all(paced_calls(hotline, results.paced, sent, first + args.calls,
                                      args.paced, args.concurrency, args.think_ms / 1000),
                          args.concurrency)
    results.voice.errors += warmup.errors
    return results


SCALED_WORKERS = 2


async def scaled_voice(target: Server, args: argparse.Namespace, token: str, sent: Sent
                       ) -> Phase:
    """The voice phase again, on a server with two workers started after the others
    stopped: what a second core buys (issue 22: at least 1.7 times one worker's
    requests/s). Its callers' numbers follow every other phase's."""
    phase = Phase(f"voice webhooks, {SCALED_WORKERS} workers")
    warmup, count = Phase("warm-up"), WARMUP_CALLS * SCALED_WORKERS
    first = WARMUP_CALLS * args.workers + args.calls + args.paced
    async with client_session() as http:
        await wait_ready(http, target, "/healthz")
        hotline = Twilio(http, target.port, token)
        await run_all(calls(hotline, warmup, sent, first, count), args.concurrency)
        async with measured(phase, target.process.pid):
            await run_all(calls(hotline, phase, sent, first + count, args.calls),
                          args.concurrency)
    phase.errors += warmup.errors
    return phase


def report(results: Results, records: Records, setup: Setup) -> None:
    voice, paced, bare, driver = results.voice, results.paced, results.baseline, results.driver
    scaled = (results.scaled,) if results.scaled else ()
    phases = (voice, bare, results.committed, driver, results.sms, paced, *scaled)
    for phase in phases:
        print(phase.line())
        for error, times in Counter(phase.errors).most_common():
            print(f"  error x{times}: {error}")
    print(f"server tracebacks in the log: {setup.app.tracebacks()} ({setup.app.log})")
    errors = sum(len(phase.errors) for phase in phases) + records.duplicates
    ratio, durable = _share(voice, bare), _share(voice, driver)
    p99 = paced.percentile_ms(99)
    print(f"voice/bare {ratio:.2f} (target at least 0.15); voice/driver baseline {durable:.2f}"
          f" (at least 0.5); voice/engine baseline {_share(voice, results.committed):.2f}; "
          f"engine/driver baseline {_share(results.committed, driver):.2f}")
    print(f"server CPU a step: voice {voice.cpu_ms:.2f} ms (target at most 1.5), SMS "
          f"{results.sms.cpu_ms:.2f} ms (at most 3), driver baseline {driver.cpu_ms:.2f} ms, "
          f"bare {bare.cpu_ms:.2f} ms")
    print(f"voice p99 {voice.percentile_ms(99):.1f} ms with {setup.args.concurrency} requests "
          f"in flight, {p99:.1f} ms with {setup.args.concurrency} callers pausing "
          f"{setup.args.think_ms} ms; duplicated records {records.duplicates}; lost "
          f"{records.lost}")
    if results.scaled:
        print(f"workers_ratio={_share(results.scaled, voice):.2f} ({SCALED_WORKERS} workers' "
              "voice requests/s over one worker's; target at least 1.7)")
    print(f"ratio={ratio:.2f} durable_ratio={durable:.2f} cpu_ms_voice={voice.cpu_ms:.2f} "
          f"cpu_ms_sms={results.sms.cpu_ms:.2f} p99_ms={p99:.0f} errors={errors} "
          f"lost={records.lost}")


def _share(phase: Phase, of: Phase) -> float:
    return phase.rate / of.rate if of.rate else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="callers (default 500)")
    parser.add_argument("--concurrency", type=int, default=100, help="at once (default 100)")
    parser.add_argument("--texters", type=int, help="SMS conversations (default calls / 5)")
    parser.add_argument("--think-ms", type=int, default=3000, help="the paced phase: how "
                        "long each caller pauses before a step (default 3000)")
    parser.add_argument("--paced", type=int, help="calls in the paced phase (default "
                        "--concurrency, at most --calls)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--no-scaled", action="store_true", help="skip the voice phase "
                        f"on {SCALED_WORKERS} workers (run when --workers is 1)")
    parser.add_argument("--webhook-threads", type=int, help="HOTLINE_WEBHOOK_THREADS "
                        "(default: the service's, 4)")
    parser.add_argument("--uvicorn", default="", help="more uvicorn options, e.g. '--loop "
                        "uvloop --http httptools'")
    parser.add_argument("--database-url", default=URL, help="PostgreSQL; dropped, recreated")
    args = parser.parse_args()
    args.texters = args.calls // 5 if args.texters is None else args.texters
    if args.paced is None:
        args.paced = min(args.calls, args.concurrency)
    return args


LOGS = ROOT / "var" / "load"  # kept after the run, to read the servers' errors


@contextmanager
def only_run(logs: Path) -> Iterator[None]:
    """One run at a time on a machine: a second would drop the first one's database."""
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit("another bench/load.py is running on this machine")
        yield


def run(args: argparse.Namespace, audio_dir: Path, options: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-load-") as tmp:
        env = production_env(args.database_url, Path(tmp), audio_dir, args.webhook_threads)
        token = env["HOTLINE_TWILIO_AUTH_TOKEN"]
        with (server(APP_FACTORY, env, options, LOGS / "app.log") as app,
              server("bench.bare_app:create_app", env, options, LOGS / "bare.log") as bare):
            setup = Setup(args, app, bare, token)
            results = asyncio.run(drive(setup))
        if args.workers == 1 and not args.no_scaled:
            scaled_options = ["--workers", str(SCALED_WORKERS), *options[2:]]
            with server(APP_FACTORY, env, scaled_options, LOGS / "app-scaled.log") as scaled:
                results.scaled = asyncio.run(scaled_voice(scaled, args, token, results.sent))
        records = check_records(args.database_url, results.sent)
        report(results, records, setup)


def main() -> None:
    args = parse_args()
    options = ["--workers", str(args.workers), *args.uvicorn.split()]
    with only_run(LOGS):
        prepare_database(args.database_url)
        i18n.compile_catalogs()
        audio_dir = ROOT / "var" / "audio"
        render_audio(audio_dir)
        print("servers: " + " ".join(uvicorn_command("<factory>", 0, options)[1:]).replace(
            "--port 0", "--port <free port>"))
        run(args, audio_dir, options)


if __name__ == "__main__":
    main()
