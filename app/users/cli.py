"""``hotline user list|deactivate|reactivate|reset-password|set-role|reset-2fa``: managing users
from the server's command line (trusted like a hotline admin; every change audited)."""

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.users import lifecycle, service, two_factor
from app.users.models import Role, User

Change = Callable[[Session, User, argparse.Namespace, datetime], str]
# The command line's migrated, audit-sealed session, handed in by ``app.cli`` (above
# every domain), which registers these commands.
SessionScope = Callable[[], AbstractContextManager[Session]]


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
                 session_scope: SessionScope) -> None:
    commands.add_parser("list", help="every user, as JSON lines").set_defaults(
        handler=cmd_list, session_scope=session_scope)
    for name, change, helptext in (
            ("deactivate", _deactivate, "sign a user out everywhere and refuse new sign-ins"),
            ("reactivate", _reactivate, "let a deactivated user sign in again"),
            ("reset-password", _reset_password, "set a new password (asked, or --password-"
             "stdin); --one-time makes the user choose their own at next sign-in"),
            ("set-role", _set_role, "change a user's role (and organisation)"),
            ("reset-2fa", _reset_two_factor, "clear a user's two-factor login (a lost "
             "phone): their sessions end and they enrol again at next sign-in")):
        parser = commands.add_parser(name, help=helptext)
        parser.add_argument("username")
        parser.set_defaults(handler=_runner(change), session_scope=session_scope)
        if name == "reset-password":
            parser.add_argument("--password-stdin", action="store_true",
                                help="read the password from standard input")
            parser.add_argument("--one-time", action="store_true",
                                help="the user must choose a new password at next sign-in")
        if name == "set-role":
            parser.add_argument("--role", required=True, choices=[r.value for r in Role])
            parser.add_argument("--org", help="the organisation (its id) for an operator")


def cmd_list(args: argparse.Namespace) -> int:
    with args.session_scope() as session:
        for user in lifecycle.manageable(session, None):
            print(json.dumps({"username": user.username, "role": user.role.value,
                              "organisation_id": user.organisation_id,
                              "active": user.active,
                              "must_change_password": user.must_change_password,
                              "two_factor": two_factor.enabled(user)}))
    return 0


def _runner(change: Change) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            with args.session_scope() as session:
                user = lifecycle.find(session, None, args.username)
                print(change(session, user, args, datetime.now(UTC)))
        except (LookupError, lifecycle.NotAllowed, service.UserError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0

    return run


def _deactivate(session: Session, user: User, _args: argparse.Namespace,
                now: datetime) -> str:
    ended = lifecycle.deactivate(session, None, user, now)
    return f"{user.username} deactivated; {ended} session(s) ended"


def _reactivate(session: Session, user: User, _args: argparse.Namespace,
                now: datetime) -> str:
    lifecycle.reactivate(session, None, user, now)
    return f"{user.username} can sign in again"


def _reset_password(session: Session, user: User, args: argparse.Namespace,
                    now: datetime) -> str:
    password = _read_password(args.password_stdin)
    lifecycle.reset_password(session, None, user, password, now, one_time=args.one_time)
    return f"{user.username}: password set" + (", to be changed at next sign-in"
                                               if args.one_time else "")


def _set_role(session: Session, user: User, args: argparse.Namespace, now: datetime) -> str:
    lifecycle.set_role(session, None, user, Role(args.role), args.org, now)
    return f"{user.username} is now {args.role}"


def _reset_two_factor(session: Session, user: User, _args: argparse.Namespace,
                      now: datetime) -> str:
    two_factor.reset(session, None, user, now)
    return f"{user.username}: two-factor login cleared; sessions ended"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the passwords differ")
    return password
