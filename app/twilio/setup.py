"""``hotline twilio setup``: point every national line's Twilio number at this service.

For each active number of the lines table it finds the number in the Twilio account
(IncomingPhoneNumbers, through the twilio SDK) and sets the five webhooks, all POST:

- voice URL and voice fallback URL: ``/twilio/voice``. There is no separate fallback route
  because the entry route is already the degraded one: with the database down it answers
  from the directory snapshot and the journal, and any error becomes TwiML that rings the
  regional hub. Twilio calls the fallback when the first request failed on the way (a proxy
  502, a replica restarting, a timeout); asking the same route again reaches a healthy
  process, and a retry of a step that did complete gets the reply stored the first time.
- status callback: ``/twilio/voice/status`` (the call's end, its duration).
- SMS URL and SMS fallback URL: ``/twilio/sms``, for the same reason (one reply per
  MessageSid, so a fallback after a lost reply records nothing twice).

Only fields that differ are sent; ``--dry-run`` says what would change and sends nothing.
``hotline doctor`` uses the same comparison to check the numbers without changing them.
"""

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from app import db
from app.config import DEV_MARK, Settings
from app.twilio import paths

TIMEOUT_SECONDS = 15
# (URL field, its method field, the service's path), in the order Twilio's console shows.
ENDPOINTS = (
    ("voice_url", "voice_method", paths.VOICE),
    ("voice_fallback_url", "voice_fallback_method", paths.VOICE),
    ("status_callback", "status_callback_method", paths.VOICE_STATUS),
    ("sms_url", "sms_method", paths.SMS),
    ("sms_fallback_url", "sms_fallback_method", paths.SMS),
)
Print = Callable[[str], None]


class SetupError(Exception):
    """The command cannot start: the reason is for the person running it."""


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str = field(repr=False)  # never in a traceback or a log line


@dataclass(frozen=True)
class Change:
    name: str  # the URL field, e.g. voice_url; its method is shown beside the URL
    old: str
    new: str
    fields: dict[str, str]  # what to send: the URL and/or its method, SDK keyword names


@dataclass(frozen=True)
class Plan:
    """One national line's number: its Twilio SID (None: not in the account) and the
    changes it needs."""

    number: str
    sid: str | None
    changes: tuple[Change, ...] = ()

    @property
    def found(self) -> bool:
        return self.sid is not None


def credentials_from_settings(settings: Settings) -> Credentials | None:
    """The account from HOTLINE_TWILIO_ACCOUNT_SID / HOTLINE_TWILIO_AUTH_TOKEN; None when
    either is missing. A generated development token is no Twilio token."""
    sid, token = settings.twilio_account_sid.strip(), settings.twilio_auth_token.strip()
    if not sid or not token or token.startswith(DEV_MARK):
        return None
    return Credentials(sid, token)


def read_credentials(lines: Iterable[str]) -> Credentials:
    """Two lines: the account SID, then the auth token (so neither is in argv)."""
    values = [line.strip() for _, line in zip(range(2), lines, strict=False)]
    if len(values) < 2 or not all(values):
        raise SetupError("--credentials-stdin reads two lines: the account SID, then the "
                         "auth token")
    if not values[0].startswith("AC"):
        raise SetupError("the first line must be the account SID (it starts with AC)")
    return Credentials(values[0], values[1])


def webhook_urls(public_url: str) -> dict[str, str]:
    """Every field Twilio should hold, URL and method, for this public address."""
    base = public_url.rstrip("/")
    wanted: dict[str, str] = {}
    for url_field, method_field, path in ENDPOINTS:
        wanted[url_field] = base + path
        wanted[method_field] = "POST"
    return wanted


def require_https(public_url: str) -> None:
    if not public_url.startswith("https://"):
        raise SetupError(f"HOTLINE_PUBLIC_URL is {public_url}: Twilio must reach the service "
                         "over https, so set it to the https:// address of the service")


def make_http_client() -> HttpClient:
    # The SDK logs each request at INFO, with the number looked up in the URL: quieter.
    quiet = logging.getLogger("app.twilio.http")
    quiet.setLevel(logging.WARNING)
    return TwilioHttpClient(timeout=TIMEOUT_SECONDS, logger=quiet)


def twilio_client(credentials: Credentials) -> Client:
    """The SDK's client; tests replace this to reach a fake of the REST API."""
    return Client(credentials.account_sid, credentials.auth_token,
                  http_client=make_http_client())


def plan(client: Client, numbers: Iterable[str], public_url: str) -> list[Plan]:
    """What each number needs; reads only."""
    wanted = webhook_urls(public_url)
    return [_plan_number(client, number, wanted) for number in numbers]


def _plan_number(client: Client, number: str, wanted: dict[str, str]) -> Plan:
    # The PhoneNumber filter also matches longer numbers containing it: keep the exact one.
    found = [n for n in client.incoming_phone_numbers.list(phone_number=number)
             if n.phone_number == number]
    if not found:
        return Plan(number, None)
    record = found[0]
    changes = []
    for url_field, method_field, _path in ENDPOINTS:
        old_url = getattr(record, url_field) or ""
        old_method = (getattr(record, method_field) or "").upper()
        differs = {name: wanted[name] for name, old in
                   ((url_field, old_url), (method_field, old_method)) if old != wanted[name]}
        if differs:
            changes.append(Change(url_field, _shown(old_method, old_url),
                                  _shown(wanted[method_field], wanted[url_field]), differs))
    return Plan(number, record.sid, tuple(changes))


def _shown(method: str, url: str) -> str:
    return f"{method} {url}" if url else "(none)"


def describe(plans: Iterable[Plan]) -> list[str]:
    """One line per change, prefixed with the number; or one line saying there is none."""
    lines = []
    for number_plan in plans:
        if not number_plan.found:
            lines.append(f"{number_plan.number} not found in the Twilio account")
        elif not number_plan.changes:
            lines.append(f"{number_plan.number} already set")
        else:
            lines += [f"{number_plan.number} {change.name}: {change.old} → {change.new}"
                      for change in number_plan.changes]
    return lines


def apply(client: Client, plans: Iterable[Plan]) -> int:
    """Send each number's differing fields in one update; the number of numbers updated."""
    updated = 0
    for number_plan in plans:
        if number_plan.sid is None or not number_plan.changes:
            continue
        fields: dict[str, str] = {}
        for change in number_plan.changes:
            fields |= change.fields
        client.incoming_phone_numbers(number_plan.sid).update(**fields)
        updated += 1
    return updated


def setup(client: Client, numbers: list[str], public_url: str, *, dry_run: bool,
          out: Print) -> int:
    """Compare, print, and (unless dry_run) update; exit code 1 if a number is missing."""
    require_https(public_url)
    if not numbers:
        out("no active national lines: add a `lines` section to the directory file and "
            "run `hotline directory import`")
        return 1
    plans = plan(client, numbers, public_url)
    for line in describe(plans):
        out(line)
    missing = sum(not p.found for p in plans)
    changing = sum(bool(p.changes) for p in plans)
    if dry_run:
        out(f"dry run: {changing} of {len(plans)} numbers would change; nothing was sent")
    else:
        out(f"{apply(client, plans)} of {len(plans)} numbers updated")
    if missing:
        out(f"{missing} number(s) not in this Twilio account: buy or port them there, or "
            "mark their line inactive")
    return 1 if missing else 0


# --- the command --------------------------------------------------------------------


ActiveNumbers = Callable[[Session], list[str]]


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
                 active_numbers: ActiveNumbers) -> None:
    """``hotline twilio setup``; ``active_numbers`` reads the national lines (the
    directory's, handed in by the command line: Twilio's plumbing knows no domain)."""
    twilio = commands.add_parser("twilio", help="the Twilio account behind the lines")
    twilio_commands = twilio.add_subparsers(dest="twilio_command", required=True)
    command = twilio_commands.add_parser(
        "setup", help="point every active national line's number at this service "
        "(voice, fallback, status callback, SMS, SMS fallback)")
    command.add_argument("--dry-run", action="store_true",
                         help="print what would change and change nothing")
    command.add_argument("--credentials-stdin", action="store_true",
                         help="read the account SID and the auth token from standard input, "
                         "one a line (default: HOTLINE_TWILIO_ACCOUNT_SID and "
                         "HOTLINE_TWILIO_AUTH_TOKEN)")
    command.set_defaults(handler=cmd_setup, active_numbers=active_numbers)


def cmd_setup(args: argparse.Namespace) -> int:
    # Not get_settings(): its generated development token must not pass for a real one,
    # and this command needs no secret but Twilio's.
    settings = Settings()
    try:
        require_https(settings.public_url)
        credentials = (read_credentials(sys.stdin) if args.credentials_stdin
                       else credentials_from_settings(settings))
        if credentials is None:
            raise SetupError("no Twilio account: set HOTLINE_TWILIO_ACCOUNT_SID and "
                             "HOTLINE_TWILIO_AUTH_TOKEN, or pass --credentials-stdin")
        numbers = _numbers(settings, args.active_numbers)
        return setup(twilio_client(credentials), numbers, settings.public_url,
                     dry_run=args.dry_run, out=print)
    except SetupError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (TwilioException, OSError) as exc:
        print(twilio_failure(exc), file=sys.stderr)
        return 1


def twilio_failure(exc: Exception) -> str:
    """What went wrong, without the exception's text: it quotes the request's URL."""
    status = _status(exc)
    if status is None:
        return f"could not reach Twilio ({type(exc).__name__})"
    hint = " (wrong account SID or auth token?)" if status in (401, 403) else ""
    code = f", error {exc.code}" if isinstance(exc, TwilioRestException) and exc.code else ""
    return f"Twilio refused the request: HTTP {status}{code}{hint}"


def _status(exc: Exception) -> int | None:
    if isinstance(exc, TwilioRestException):
        status: int = exc.status  # twilio ships no types: its HTTP status is an int
        return status
    # A list's page that fails comes as TwilioException("Unable to fetch page", response).
    response = exc.args[1] if len(exc.args) > 1 else None
    return response.status_code if isinstance(response, Response) else None


def _numbers(settings: Settings, active_numbers: ActiveNumbers) -> list[str]:
    engine = db.make_engine(settings.effective_database_url())
    try:
        with Session(db.read_only(engine)) as session:
            return active_numbers(session)
    except SQLAlchemyError as exc:
        raise SetupError(f"cannot read the national lines ({type(exc).__name__}): is the "
                         "database reachable and migrated (`hotline migrate`)?") from None
    finally:
        engine.dispose()
