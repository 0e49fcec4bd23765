"""Two app processes on one PostgreSQL, as two hosts behind a load balancer.

Twilio's requests for one call land on either host, and a retried webhook (same CallSid
or MessageSid) can reach the other host while the first is still being answered: here
every voice webhook is delivered to both hosts at once, and a texter's messages alternate
between them. Host A runs two uvicorn workers sharing its data folder, as workers on one
machine do. Then operators signed in on either host claim the cases at the same time.
PostgreSQL is the only state the processes share, so this runs on PostgreSQL only
(SQLite is one file on one host).
"""

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from app import db
from app.audit.models import AuditEvent
from app.cases.models import Case, CaseStatus, Contact
from app.messaging.models import Direction, Message
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.privacy.pseudonym import pseudonymise
from app.users import service as users
from app.users.models import Role, User
from tests.conftest import BACKENDS, DatabaseFactory, generated_secrets, production_environment
from tests.twilio import sign
from tests.users.people import PASSWORD

pytestmark = pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if b == "postgresql"], indirect=True)

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://hotline.example.org"
HOTLINE_NUMBER = "+77270009999"
# One set for both hosts: each reads the other's rows and both extend one audit chain.
SECRETS = generated_secrets()
AUTH_TOKEN, PSEUDONYM_KEY = SECRETS["twilio_auth_token"], SECRETS["pseudonym_key"]
CONNECTED_CALLS, UNANSWERED_CALLS, TEXTERS = 10, 10, 10
OPERATORS_PER_HOST = 2
FIRST_SMS = ("Сәлеметсіз бе, маған көмек керек", "1", "2")  # Kazakh; danger; no child
_sids = itertools.count(1)


def new_sid(prefix: str) -> str:
    return f"{prefix}{os.getpid():08x}{next(_sids):024x}"


# --- two hosts ---------------------------------------------------------------------------


@dataclass
class Host:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return production_environment(**SECRETS, database_url=database_url, public_url=PUBLIC_URL,
                                  data_dir=str(data_dir), audio_dir=str(data_dir / "audio"))


def start_host(name: str, database_url: str, tmp_path: Path, workers: int) -> Host:
    """The Dockerfile's uvicorn command, on a free loopback port."""
    port, data_dir = free_port(), tmp_path / name
    data_dir.mkdir()
    log = data_dir / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers",
             "--workers", str(workers)],
            cwd=ROOT, env=production_env(database_url, data_dir), stdout=out,
            stderr=subprocess.STDOUT)
    return Host(name, port, process, log)


def wait_ready(host: Host) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            pytest.fail(f"{host.name} exited early:\n{host.output()}")
        try:
            if httpx.get(f"{host.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{host.name} not ready in 30 s:\n{host.output()}")


@pytest.fixture(scope="module")
def shared_database(database_factory: DatabaseFactory) -> str:
    """A migrated database with the demo directory, shared by both hosts."""
    url = database_factory.create()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.make_sessionmaker(engine)() as session:
        organisations.load_demo_if_empty(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def hosts(shared_database: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Host, Host]]:
    tmp_path = tmp_path_factory.mktemp("hosts")
    # Host A runs two workers, sharing its data folder as workers on one machine do.
    started = [start_host(name, shared_database, tmp_path, workers)
               for name, workers in (("host-a", 2), ("host-b", 1))]
    try:
        for host in started:
            wait_ready(host)
        yield started[0], started[1]
    finally:
        for host in started:
            host.process.terminate()
            host.process.wait(timeout=30)


def client(host: Host) -> httpx.AsyncClient:
    # Connections idle for 2 s are not reused: uvicorn closes them after 5 s, and a request
    # sent just then would fail. A load balancer's idle timeout must be shorter for the same
    # reason.
    return httpx.AsyncClient(base_url=host.url, timeout=30,
                             limits=httpx.Limits(keepalive_expiry=2))


# --- Twilio ------------------------------------------------------------------------------


@dataclass
class Delivery:
    statuses: Counter = field(default_factory=Counter)
    differing: list[str] = field(default_factory=list)  # both hosts asked, different replies
    invalid: list[str] = field(default_factory=list)  # not 200 with TwiML


class Twilio:
    """Signs webhooks over the public URL; sends each to both hosts, or to one."""

    def __init__(self, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
        self.clients = clients
        self.delivery = Delivery()

    async def twice(self, url: str, params: dict[str, str]) -> ET.Element | None:
        """Both hosts at once, as a retry landing on the other host; host A's TwiML."""
        answers = await asyncio.gather(*(self.post(c, url, params) for c in self.clients))
        if None not in answers and answers[0].text != answers[1].text:
            self.delivery.differing.append(f"{url}: {answers[0].text} | {answers[1].text}")
        return self.twiml(url, answers[0])

    async def once(self, url: str, params: dict[str, str], host: int) -> ET.Element | None:
        return self.twiml(url, await self.post(self.clients[host], url, params))

    async def post(self, http: httpx.AsyncClient, url: str, params: dict[str, str]
                   ) -> httpx.Response | None:
        """The answer, or None if the connection failed (counted as "failed")."""
        public = url if url.startswith("http") else PUBLIC_URL + url
        parts = urlsplit(public)
        try:
            answer = await http.post(
                parts.path + (f"?{parts.query}" if parts.query else ""),
                content=urlencode(params),
                headers={"X-Twilio-Signature": sign(AUTH_TOKEN, public, list(params.items())),
                         "Content-Type": "application/x-www-form-urlencoded"})
        except httpx.TransportError:
            self.delivery.statuses["failed"] += 1
            return None
        self.delivery.statuses[answer.status_code] += 1
        return answer

    def twiml(self, url: str, answer: httpx.Response | None) -> ET.Element | None:
        if answer is None:
            self.delivery.invalid.append(f"{url}: connection failed")
            return None
        try:
            root = ET.fromstring(answer.content)
        except ET.ParseError:
            root = None
        if answer.status_code != 200 or root is None or root.tag != "Response":
            self.delivery.invalid.append(f"{url}: {answer.status_code} {answer.text[:200]}")
            return None
        return root


@dataclass
class Caller:
    """Follows the TwiML, every step delivered to both hosts."""

    twilio: Twilio
    number: str
    keys: list[str]
    responders: list[str]  # "accept", or the DialCallStatus of a responder not reached
    sid: str = field(default_factory=lambda: new_sid("CA"))

    async def post(self, url: str, **extra: str) -> ET.Element | None:
        return await self.twilio.twice(url, {
            "CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.number,
            "To": HOTLINE_NUMBER, "FromCountry": "KZ", "CallStatus": "in-progress"} | extra)

    async def call(self) -> None:
        twiml = await self.post("/twilio/voice", CallStatus="ringing")
        for _ in range(20):
            twiml = await self.follow(twiml) if twiml is not None else None
        await self.post("/twilio/voice/status", CallStatus="completed", CallDuration="60")

    async def follow(self, twiml: ET.Element) -> ET.Element | None:
        for verb in twiml:
            if verb.tag == "Gather" and self.keys:
                return await self.post(verb.get("action"), Digits=self.keys.pop(0))
            if verb.tag == "Redirect":
                return await self.post(verb.text)
            if verb.tag == "Dial":
                return await self.dial(verb, self.responders.pop(0))
        return None

    async def dial(self, dial: ET.Element, responder: str) -> ET.Element | None:
        if responder == "accept":  # the responder's leg: whisper, then 1 to accept
            leg = {"CallSid": new_sid("CA"), "ParentCallSid": self.sid, "From": HOTLINE_NUMBER,
                   "To": dial.find("Number").text, "CallStatus": "in-progress"}
            whisper = await self.twilio.twice(dial.find("Number").get("url"), leg)
            if whisper is not None:  # else recorded as invalid
                await self.twilio.twice(whisper.find("Gather").get("action"),
                                        leg | {"Digits": "1"})
        status = "completed" if responder == "accept" else responder
        return await self.post(dial.get("action"), DialCallStatus=status)


@dataclass
class Texter:
    twilio: Twilio
    number: str
    sids: list[str] = field(default_factory=list)

    async def conversation(self, to_both: bool) -> None:
        """Each message to the other host than the last, or to both at once."""
        for turn, body in enumerate(FIRST_SMS):
            self.sids.append(new_sid("SM"))
            params = {"MessageSid": self.sids[-1], "SmsSid": self.sids[-1],
                      "AccountSid": "AC" + "0" * 32, "From": self.number,
                      "To": HOTLINE_NUMBER, "Body": body, "FromCountry": "KZ",
                      "NumMedia": "0", "NumSegments": "1"}
            if to_both:
                await self.twilio.twice("/twilio/sms", params)
            else:
                await self.twilio.once("/twilio/sms", params, turn % 2)


def callers(twilio: Twilio) -> list[Caller]:
    """Fictitious Kazakh numbers: half are connected, half reach nobody and ask for a
    callback (a case each)."""
    connected = [Caller(twilio, f"+7701{n:07d}", ["1", "1"], ["accept"])
                 for n in range(CONNECTED_CALLS)]
    unanswered = [Caller(twilio, f"+7701{100 + n:07d}", ["1", "1", "1"],
                         ["busy", "no-answer", "failed"]) for n in range(UNANSWERED_CALLS)]
    return connected + unanswered


async def calls_and_texts(hosts: tuple[Host, Host]
                          ) -> tuple[Twilio, list[Caller], list[Texter]]:
    async with client(hosts[0]) as a, client(hosts[1]) as b:
        twilio = Twilio((a, b))
        calls = callers(twilio)
        texters = [Texter(twilio, f"+7701{600 + n:07d}") for n in range(TEXTERS)]
        await asyncio.gather(*(c.call() for c in calls),
                             *(t.conversation(to_both=False) for t in texters))
    return twilio, calls, texters


async def retried_texts(hosts: tuple[Host, Host]) -> tuple[Twilio, list[Texter]]:
    async with client(hosts[0]) as a, client(hosts[1]) as b:
        twilio = Twilio((a, b))
        texters = [Texter(twilio, f"+7701{700 + n:07d}") for n in range(TEXTERS)]
        await asyncio.gather(*(t.conversation(to_both=True) for t in texters))
    return twilio, texters


# --- operators on both hosts --------------------------------------------------------------


@dataclass
class Operator:
    username: str
    http: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)
    claimed: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    async def sign_in(self) -> None:
        answer = await self.http.post("/api/auth/token", data={
            "username": self.username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def claim(self, case_id: str) -> None:
        answer = await self.http.post(f"/api/cases/{case_id}/claim", headers=self.headers)
        self.record(answer)

    async def claim_until_empty(self) -> None:
        while self.record(await self.http.post("/api/cases/claim-next", headers=self.headers)):
            pass

    def record(self, answer: httpx.Response) -> bool:
        self.statuses[answer.status_code] += 1
        if answer.status_code == 200:
            self.claimed.append(answer.json()["id"])
        return answer.status_code == 200


def create_operators(database_url: str) -> dict[str, list[str]]:
    """Operators for each organisation with cases: usernames by organisation slug."""
    engine = db.make_engine(database_url)
    with db.make_sessionmaker(engine)() as session:
        slugs = session.scalars(select(Organisation.slug).join(
            Case, Case.organisation_id == Organisation.id).distinct()).all()
        names = {slug: [f"{slug}-{n}" for n in range(2 * OPERATORS_PER_HOST)]
                 for slug in slugs}
        for slug, usernames in names.items():
            for username in usernames:
                users.create_user(session, username, PASSWORD, Role.OPERATOR, slug)
        session.commit()
    engine.dispose()
    return names


def oldest_case_of(database_url: str, slugs: list[str]) -> list[str]:
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        ids = [str(connection.scalar(select(Case.id).join(Organisation).where(
            Organisation.slug == slug).order_by(Case.created_at).limit(1))) for slug in slugs]
    engine.dispose()
    return ids


async def claims(hosts: tuple[Host, Host], names: dict[str, list[str]],
                 oldest: list[str]) -> list[Operator]:
    """Every operator of an organisation claims its oldest case at once, half of them
    through each host; then all press "claim next" until their queues are empty."""
    async with client(hosts[0]) as a, client(hosts[1]) as b:
        teams = [[Operator(u, (a, b)[i % 2]) for i, u in enumerate(usernames)]
                 for usernames in names.values()]
        everyone = [o for team in teams for o in team]
        await asyncio.gather(*(o.sign_in() for o in everyone))
        await asyncio.gather(*(o.claim(case_id) for case_id, team in zip(
            oldest, teams, strict=True) for o in team))
        await asyncio.gather(*(o.claim_until_empty() for o in everyone))
    return everyone


# --- the tests ----------------------------------------------------------------------------


def test_calls_texts_and_claims_on_two_hosts_are_recorded_once(hosts, shared_database):
    logged = [len(host.output()) for host in hosts]
    twilio, calls, texters = asyncio.run(calls_and_texts(hosts))
    names = create_operators(shared_database)
    operators = asyncio.run(claims(hosts, names, oldest_case_of(shared_database, list(names))))

    assert_delivered(twilio, hosts, logged)
    assert_recorded(shared_database, [c.sid for c in calls], texters,
                    [c.number for c in calls[CONNECTED_CALLS:]])
    assert_claimed_once(shared_database, operators)


def test_a_text_retried_on_the_other_host_meanwhile_gets_the_same_reply(
        hosts, shared_database):
    logged = [len(host.output()) for host in hosts]
    twilio, texters = asyncio.run(retried_texts(hosts))

    assert_delivered(twilio, hosts, logged)
    assert_recorded(shared_database, [], texters, [])


def assert_delivered(twilio: Twilio, hosts: tuple[Host, Host], logged: list[int]) -> None:
    """200 with TwiML every time, the same reply from both hosts, no error logged."""
    output = "\n".join(h.output()[start:] for h, start in zip(hosts, logged, strict=True))
    assert set(twilio.delivery.statuses) == {200}, (twilio.delivery.statuses, output[-3000:])
    assert not twilio.delivery.invalid, twilio.delivery.invalid[:3]
    assert not twilio.delivery.differing, twilio.delivery.differing[:3]
    assert "Traceback" not in output, output[-3000:]


def assert_recorded(database_url: str, call_sids: list[str], texters: list[Texter],
                    unanswered: list[str]) -> None:
    """One contact per call and conversation, one row per message, one case per person
    who needs one, nothing lost."""
    message_sids = [sid for t in texters for sid in t.sids]
    contact_sids = call_sids + [t.sids[0] for t in texters]
    with_case = [pseudonymise(n, PSEUDONYM_KEY) for n in unanswered + [t.number for t in texters]]
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        contacts = Counter(connection.scalars(select(Contact.twilio_sid).where(
            Contact.twilio_sid.in_(contact_sids))))
        messages = Counter(connection.scalars(select(Message.twilio_sid).where(
            Message.direction == Direction.IN, Message.twilio_sid.in_(message_sids))))
        cases = Counter(connection.scalars(select(Case.caller_pseudonym).where(
            Case.caller_pseudonym.in_(with_case))))
    engine.dispose()
    assert contacts == Counter(contact_sids)
    assert messages == Counter(message_sids)
    assert cases == Counter(with_case)


def assert_claimed_once(database_url: str, operators: list[Operator]) -> None:
    """No case went to two operators, every case was claimed, and the database agrees."""
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        holders = dict(connection.execute(
            select(Case.id, User.username).join(User, Case.claimed_by_id == User.id)
            .where(Case.status == CaseStatus.CLAIMED)).all())
        total = connection.scalar(select(func.count()).select_from(Case))
    engine.dispose()
    claimed = Counter(case_id for o in operators for case_id in o.claimed)
    assert claimed and max(claimed.values()) == 1
    assert len(claimed) == len(holders) == total, unheld(database_url, claimed, holders)
    assert {str(k): v for k, v in holders.items()} == {
        case_id: o.username for o in operators for case_id in o.claimed}
    statuses = sum((o.statuses for o in operators), Counter())
    assert set(statuses) <= {200, 404, 409}, statuses  # 409: a colleague was faster


def unheld(database_url: str, claimed: Counter, holders: dict) -> list[tuple]:
    """For a failure message: each case an operator was told it claimed that the database
    does not show as claimed, with its audit trail."""
    missing = [uuid.UUID(case_id) for case_id in claimed if uuid.UUID(case_id) not in holders]
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        found = [(case_id, connection.execute(select(
            Case.status, Case.claimed_by_id, Case.claimed_at, Case.claim_expires_at)
            .where(Case.id == case_id)).one_or_none(), connection.execute(select(
                AuditEvent.id, AuditEvent.at, AuditEvent.username, AuditEvent.action)
                .where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)).all())
            for case_id in missing]
    engine.dispose()
    return found
