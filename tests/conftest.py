"""Test fixtures: every test runs on SQLite and on PostgreSQL, schemas built by migrations.

Each backend database is migrated once per run (``alembic upgrade head``); each test
runs inside a transaction that is rolled back. PostgreSQL is required: if it is not
reachable the PostgreSQL tests fail, they are not skipped (``.ci/run`` starts it).
Set ``HOTLINE_TEST_BACKENDS=sqlite`` to run only SQLite while developing.
"""

import atexit
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import db, i18n
from app.channels.voice import audio
from app.config import Settings
from app.main import create_app
from app.organisations import service as organisations
from app.users import service as users_service

# The service hashes with argon2's recommended cost (about 0.1 s a hash). The tests sign in
# thousands of times and check that secrets are hashed and verified, not how slowly: they
# use argon2's lowest cost. Processes the tests start (the CLI, servers) keep the real one.
users_service.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

pytest_plugins = ["tests.log_guard"]
BACKENDS = os.environ.get("HOTLINE_TEST_BACKENDS", "sqlite,postgresql").split(",")
# Monday 2026-11-23: 11:00 in Moscow and Istanbul, 13:00 in Almaty, 12:30 in Kabul and Tehran.
WEEKDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class DatabaseFactory:
    """Creates empty databases of one backend and drops them at the end of the run."""

    def __init__(self, backend: str, tmp_dir: Path) -> None:
        self.backend = backend
        self.tmp_dir = tmp_dir
        self.created: list[str] = []

    def create(self) -> str:
        name = f"hotline_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_dir / name}.db"
        with _admin_engine().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        engine = _admin_engine()
        with engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    i18n.compile_catalogs()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_factory(backend: str, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(database_factory: DatabaseFactory) -> str:
    url = database_factory.create()
    db.upgrade(url)
    return url


@pytest.fixture
def fresh_database_url(database_factory: DatabaseFactory) -> str:
    """An empty database, not migrated, for tests of migrations and the CLI."""
    return database_factory.create()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False) as session:
        yield session


def generated_secrets() -> dict[str, str]:
    """Secrets as `hotline keys new` makes them: production refuses the typed-looking ones
    make_settings uses."""
    return {"twilio_auth_token": secrets.token_hex(16),
            "pseudonym_key": secrets.token_urlsafe(48),
            "encryption_key": Fernet.generate_key().decode(),
            "audit_key": secrets.token_urlsafe(48)}


def production_environment(**values: str) -> dict[str, str]:
    """os.environ without any HOTLINE_ setting, plus production with generated secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    chosen = {"env": "production", "public_url": "https://hotline.example.org"}
    chosen |= generated_secrets() | values
    return env | {f"HOTLINE_{name.upper()}": value for name, value in chosen.items()}


def configure_cli(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """`hotline …` run in-process (app.cli.main) reads these settings from the environment,
    as on a server; call get_settings.cache_clear() around it."""
    for field in ("database_url", "twilio_auth_token", "pseudonym_key", "encryption_key",
                  "audit_key"):
        monkeypatch.setenv(f"HOTLINE_{field.upper()}", str(getattr(settings, field)))
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(settings.data_dir))


# Each test's journal directory lies under one per test process, removed when it exits:
# settings are made in hundreds of tests, most of which never look at the journal.
JOURNALS = Path(tempfile.mkdtemp(prefix="hotline-test-journals-"))
atexit.register(shutil.rmtree, JOURNALS, ignore_errors=True)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "public_url": "https://hotline.example.org",
        "twilio_auth_token": "test-auth-token-0123456789abcdef",
        "pseudonym_key": "test-pseudonym-key-" + "k" * 32,
        "encryption_key": Fernet.generate_key().decode(),
        "audit_key": "test-audit-key-" + "a" * 32,
        "outbox_worker": False,  # tests run the outbox themselves, with a recording fake
        "recovery_worker": False,  # the journal is replayed by the next request instead
        "purge_interval_minutes": 0,  # tests of the purge worker set it themselves
        "escalation_worker": False,  # tests call escalate_due themselves, with a clock
        "journal_dir_override": Path(tempfile.mkdtemp(dir=JOURNALS)),
    } | overrides
    return Settings(**values)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every prompt rendered once per test process (a few seconds) by the bundled espeak-ng."""
    directory = tmp_path_factory.mktemp("audio")
    report = audio.render_all(directory)
    assert not report.failed and report.rendered, audio.synthesis_error()
    return directory


@pytest.fixture
def settings(database_url: str, audio_dir: Path) -> Settings:
    return make_settings(database_url, audio_dir_override=audio_dir)


@pytest.fixture
def app(settings: Settings, connection: Connection) -> FastAPI:
    """The app, with every request's session joined to the test's transaction."""
    app = create_app(settings)
    use_sessions(app, lambda: Session(bind=connection, join_transaction_mode="create_savepoint",
                                      expire_on_commit=False))
    app.state.clock = lambda: WEEKDAY_MORNING
    return app


def use_sessions(app: FastAPI, factory: Callable[[], Session]) -> None:
    """Both of the app's session factories, the console's and the webhooks' (each on its
    own pool in the service), made ``factory``."""
    app.state.sessionmaker = app.state.webhook_sessionmaker = factory


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https, as the public URL: the console's cookies are Secure and httpx sends those
    # only over https.
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def demo_directory(session: Session) -> None:
    organisations.load_demo_if_empty(session)
    session.commit()
