"""Settings, read from the environment with the ``HOTLINE_`` prefix.

Secrets are never hard-coded. In development, missing keys are generated once and
kept in a file under the data directory (outside git), so a newcomer can start the
service with no set-up and keep stable pseudonyms across restarts. In production the
service refuses to start until every secret is given explicitly.
"""

import base64
import importlib.util
import json
import os
import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FIELDS = ("twilio_auth_token", "pseudonym_key", "encryption_key", "audit_key")
# Generated in development like those; required in production only with a bot token.
TELEGRAM_SECRET = "telegram_webhook_secret"
# What Telegram allows in a webhook's secret_token (setWebhook refuses anything else).
TELEGRAM_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
MIN_PSEUDONYM_KEY_BYTES = 32
MIN_AUDIT_KEY_BYTES = 32
MIN_METRICS_TOKEN_CHARS = 32
DEV_MARK = "dev-"             # development secrets start with it
DEV_KEY_MARK = b"hotline-dev"  # the first bytes of a development encryption key


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"  # one object per line, for a log collector
    TEXT = "text"  # for a person reading a terminal


class ConfigurationError(RuntimeError):
    """The service cannot start safely with these settings."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore",
                                      populate_by_name=True)

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str = ""
    public_url: str = "http://127.0.0.1:8000"
    twilio_auth_token: str = ""
    pseudonym_key: str = ""
    encryption_key: str = ""
    # Keys the audit log's hash chain (HMAC): kept out of the database, so whoever can edit
    # the database cannot forge a consistent chain.
    audit_key: str = ""
    audio_dir_override: Path | None = Field(default=None, alias="HOTLINE_AUDIO_DIR")
    max_dial_attempts: int = Field(default=3, ge=1, le=10)
    dial_timeout_seconds: int = Field(default=20, ge=5, le=60)
    callback_retention_days: int = Field(default=14, ge=1, le=90)
    directory_refresh_seconds: float = Field(default=30, gt=0)
    # While the database is unreachable, webhooks journal to local files (fsync'd, no
    # numbers in clear) and a background thread replays them every few seconds.
    journal_dir_override: Path | None = Field(default=None, alias="HOTLINE_JOURNAL_DIR")
    journal_retry_seconds: float = Field(default=5, gt=0, le=300)
    recovery_worker: bool = True
    # Webhook steps at once per process (app.webhooks.lane), apart from the console's 40
    # threads: on PostgreSQL on the event loop, on SQLite on as many threads of their own.
    # Enough to overlap database round trips; more helps only with a database far away
    # (each step waits 4 to 6 round trips).
    webhook_threads: int = Field(default=4, ge=1, le=64)
    # A webhook waiting on a row another transaction holds would hold one of those few
    # threads for as long: past this it gives up, and the step is answered from the
    # snapshot and journalled like during an outage; a console or API request gets a 503.
    database_lock_timeout_seconds: float = Field(default=3, gt=0, le=60)
    # The webhooks have their own connections (PostgreSQL), on which any statement running
    # longer than this is cancelled and the step answered from the journal: a step makes a
    # few statements of milliseconds each, and Twilio gives up on an answer after 15 s.
    # The console's and the statistics' connections have no such limit.
    webhook_statement_timeout_seconds: float = Field(default=2, gt=0, le=10)
    # Outgoing SMS through Twilio's REST API; without both, messages wait in the outbox.
    twilio_account_sid: str = ""
    sms_sender: str = ""  # the hotline's number (E.164) or a Messaging Service SID (MG...)
    sms_number_retention_days: int = Field(default=30, ge=1, le=180)
    message_retention_days: int = Field(default=90, ge=1, le=730)
    sms_erase_words: list[str] = Field(default_factory=list)  # beyond each catalog's own
    outbox_max_attempts: int = Field(default=8, ge=1, le=30)
    outbox_poll_seconds: float = Field(default=2, gt=0)
    outbox_worker: bool = True  # send from inside the service process
    # Operators: sessions, login rate limits, and how long an idle claim holds a case.
    session_hours: int = Field(default=12, ge=1, le=72)
    login_window_minutes: int = Field(default=15, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    claim_idle_minutes: int = Field(default=30, ge=1, le=480)
    # The reverse proxies or load balancers in front of the service (addresses or networks,
    # comma-separated). Only a request that comes directly from one of them has its client
    # address taken from X-Forwarded-For; anyone else could write any address there, and
    # the login limit per address counts client addresses.
    trusted_proxies: str = ""
    # A child or urgent case unclaimed this long alerts the organisation's on-duty
    # operators; twice this long, the regional hub's too (app.operator_queue.escalation).
    escalate_after_minutes: int = Field(default=5, ge=1, le=240)
    escalation_check_seconds: float = Field(default=30, gt=0, le=600)
    escalation_worker: bool = True
    # The hotline's own number, shown as caller ID when Twilio calls an operator's phone or
    # a caller back: neither side ever sees the other's number.
    voice_caller_id: str = ""
    # Statistics: cells below k are withheld (never below 5, see docs/statistics.md);
    # with an epsilon, every release is also differentially private (needs `opendp`).
    stats_k: int = Field(default=10, ge=5, le=100)
    stats_epsilon: float | None = Field(default=None, gt=0, le=10)
    # Whole numbers the feasible range of every withheld cell must hold, given everything
    # released with it (app.stats.intervals); default k-1, the whole range of a "<k" label.
    stats_protection: int | None = Field(default=None, ge=2, le=99)
    stats_max_months: int = Field(default=60, ge=1, le=240)
    # A month, week or quarter is released only this many days after it ends: records of
    # a period in progress, or just over, still change (docs/statistics.md, rule 12).
    stats_settle_days: int = Field(default=14, ge=0, le=120)
    # Operations: who may scrape /metrics, how logs are written, how often the service
    # itself erases what is past retention (0: only `hotline purge`, e.g. from cron).
    metrics_token: str = ""
    log_format: LogFormat | None = None  # JSON in production, text otherwise
    purge_interval_minutes: float = Field(default=60, ge=0, le=24 * 60)
    # Telegram (app.channels.telegram): the bot's token from @BotFather (without one the
    # webhook refuses every request), and the secret Telegram sends back with each update.
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org"  # tests point it at a local fake
    # /docs, /redoc and /openapi.json: on in development, off in production unless asked
    # for (they map every route and parameter for whoever looks).
    api_docs: bool | None = None

    @field_validator("public_url", "telegram_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.is_production

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.JSON if self.is_production else LogFormat.TEXT

    @property
    def audio_dir(self) -> Path:
        return self.audio_dir_override or self.data_dir / "audio"

    @property
    def journal_dir(self) -> Path:
        return self.journal_dir_override or self.data_dir / "journal"

    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hotline.db'}"


def _new_dev_secrets() -> dict[str, str]:
    # Marked, so that production recognises and refuses them if they are ever copied there.
    return {
        "twilio_auth_token": DEV_MARK + secrets.token_hex(16),
        "pseudonym_key": DEV_MARK + secrets.token_urlsafe(MIN_PSEUDONYM_KEY_BYTES),
        "encryption_key": base64.urlsafe_b64encode(
            DEV_KEY_MARK + secrets.token_bytes(32 - len(DEV_KEY_MARK))).decode(),
        "audit_key": DEV_MARK + secrets.token_urlsafe(MIN_AUDIT_KEY_BYTES),
        TELEGRAM_SECRET: DEV_MARK + secrets.token_urlsafe(32),
    }


def load_dev_secrets(path: Path) -> dict[str, str]:
    """Read the generated development secrets, creating them on first use; a file from
    before a secret existed gets that secret added, the others kept."""
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: value for name, value in _new_dev_secrets().items() if name not in values}
    if missing:
        values |= missing
        _write_private(path, values)
    return values


def _write_private(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")  # replaced whole, never half
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    draft.replace(path)


def add_dev_encryption_key(path: Path) -> str:
    """Put a new encryption key ahead of the development file's; returns the new list."""
    values = load_dev_secrets(path)
    values["encryption_key"] = ",".join([Fernet.generate_key().decode(),
                                         values["encryption_key"]])
    _write_private(path, values)
    return values["encryption_key"]


def check_secrets(settings: Settings) -> None:
    """Raise ConfigurationError naming every missing or weak secret."""
    problems = [f"HOTLINE_{name.upper()} is not set" for name in SECRET_FIELDS
                if not getattr(settings, name).strip()]
    if settings.pseudonym_key and len(settings.pseudonym_key.encode()) < MIN_PSEUDONYM_KEY_BYTES:
        problems.append(f"HOTLINE_PSEUDONYM_KEY must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes")
    if settings.audit_key and len(settings.audit_key.encode()) < MIN_AUDIT_KEY_BYTES:
        problems.append(f"HOTLINE_AUDIT_KEY must be at least {MIN_AUDIT_KEY_BYTES} bytes")
    if settings.encryption_key and not _is_fernet_key(settings.encryption_key):
        problems.append("HOTLINE_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes), "
                        "or several separated by commas while rotating, the newest first")
    if settings.metrics_token and len(settings.metrics_token) < MIN_METRICS_TOKEN_CHARS:
        problems.append(f"HOTLINE_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_CHARS} "
                        "characters")
    problems += _telegram_problems(settings)
    if settings.is_production and not settings.public_url.startswith("https://"):
        problems.append("HOTLINE_PUBLIC_URL must be the https:// address Twilio reaches")
    if settings.stats_epsilon is not None and importlib.util.find_spec("opendp") is None:
        problems.append("HOTLINE_STATS_EPSILON needs OpenDP: pip install 'hotline[dp]'")
    if settings.is_production:
        problems += weak_secrets(settings)
    if problems:
        raise ConfigurationError("refusing to start: " + "; ".join(problems))


def weak_secrets(settings: Settings) -> list[str]:
    """Secrets production must not run with: development ones, ones copied from the
    development file, and ones a person typed (few different characters)."""
    problems = []
    dev_file = settings.data_dir / "dev-secrets.json"
    dev_values = set(json.loads(dev_file.read_text()).values()) if dev_file.exists() else set()
    for name in (*SECRET_FIELDS, TELEGRAM_SECRET, "metrics_token"):
        value: str = getattr(settings, name).strip()
        label = f"HOTLINE_{name.upper()}"
        if not value:
            continue
        if value.startswith(DEV_MARK) or value in dev_values:
            problems.append(f"{label} is a development secret: generate a new one")
        elif name == "encryption_key":
            problems += [f"{label}: {why}" for why in map(_weak_fernet_key,
                                                          value.split(",")) if why]
        elif _guessable(value):
            problems.append(f"{label} looks typed, not generated (too few different "
                            "characters): generate one")
    return problems


def _telegram_problems(settings: Settings) -> list[str]:
    secret = settings.telegram_webhook_secret
    if settings.telegram_bot_token and not secret.strip():
        return ["HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set (HOTLINE_TELEGRAM_BOT_TOKEN is)"]
    if secret and not TELEGRAM_SECRET_PATTERN.fullmatch(secret):
        return ["HOTLINE_TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - "
                "(1 to 256 characters): Telegram refuses others"]
    return []


HEX = frozenset("0123456789abcdefABCDEF")


def _guessable(value: str) -> bool:
    """Few different characters, or one character again and again. A hex secret (Twilio's
    auth token: 32 hex digits) draws from 16 characters only, so its bar is lower: at the
    general bar one real token in 600 would be refused; at this one, none in 10^16."""
    most = max(value.count(char) for char in set(value))
    if set(value) <= HEX:
        return len(set(value)) < 5 or most * 2 > len(value)
    return len(set(value)) < 10 or most * 4 > len(value)


def _weak_fernet_key(key: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode())
    except ValueError:
        return None  # reported as not a Fernet key
    if raw.startswith(DEV_KEY_MARK):
        return "a development key: generate a new one with `hotline keys new`"
    if len(set(raw)) < 16:
        return "too few different bytes to be random: generate one with `hotline keys new`"
    return None


def _is_fernet_key(value: str) -> bool:
    keys = [part.strip() for part in value.split(",")]
    try:
        return all(len(base64.urlsafe_b64decode(key.encode())) == 32 for key in keys)
    except ValueError:
        return False


def resolve(settings: Settings) -> Settings:
    """Fill missing secrets from the development file (never in production), then check."""
    if not settings.is_production:
        missing = [name for name in SECRET_FIELDS if not getattr(settings, name)]
        if settings.telegram_bot_token and not settings.telegram_webhook_secret:
            missing.append(TELEGRAM_SECRET)  # not needed, so not read, without a bot
        if missing:
            generated = load_dev_secrets(settings.data_dir / "dev-secrets.json")
            settings = settings.model_copy(update={name: generated[name] for name in missing})
    check_secrets(settings)
    return settings


@lru_cache
def get_settings() -> Settings:
    return resolve(Settings())
