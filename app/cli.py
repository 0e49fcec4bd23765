"""The ``hotline`` command: serve, migrate, manage the directory, and check routing."""

import argparse
import dataclasses
import getpass
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app import channels, db, doctor, i18n, retention
from app.audit import chain as audit_chain
from app.channels.voice import audio
from app.channels.voice.cli import render_audio
from app.cli_args import aware, bounded, language
from app.config import ConfigurationError, Environment, Settings, get_settings
from app.demo import cli as demo_cli
from app.events import bus
from app.main import create_app
from app.monitoring import logs
from app.organisations import export, lines
from app.organisations import service as organisations
from app.privacy import keys_cli
from app.routing.engine import Candidate, Query, route
from app.routing.needs import Need
from app.twilio import setup as twilio_setup
from app.users import cli as users_cli
from app.users import lifecycle
from app.users import service as users
from app.users.models import Role


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """Migrate to head, then give one session that commits once on success."""
    settings = settings or get_settings()
    url = settings.effective_database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    make_session = db.make_sessionmaker(engine, info=audit_chain.sealing(settings.audit_key))
    try:
        with make_session() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from app.events import server as events_server

    settings = get_settings()
    i18n.compile_catalogs()  # before rendering: audio is made from the translated text
    # The first start renders every prompt (5-10 s): the service answers meanwhile, a
    # prompt not rendered yet spoken by the fallback voice. Later starts take milliseconds.
    threading.Thread(target=render_audio, args=(settings,), name="audio-render",
                     daemon=True).start()
    with session_scope(settings) as session:
        report = organisations.load_demo_if_empty(session)
    if report:
        print(f"loaded the demo directory: {len(report.created)} organisations", file=sys.stderr)
    workers = args.workers or default_workers(settings)
    config = uvicorn.Config("app.main:serve_app", factory=True, host=args.host, port=args.port,
                            proxy_headers=False,  # the app trusts HOTLINE_TRUSTED_PROXIES only
                            log_config=logs.logging_config(settings.effective_log_format),
                            workers=workers, timeout_graceful_shutdown=GRACEFUL_SECONDS)
    if workers == 1:
        events_server.Server(config).run()  # ends open event streams, so a stop never hangs
        return 0
    # uvicorn's supervisor starts its own servers: open live-queue streams then hold a
    # stop for at most GRACEFUL_SECONDS, as in the Dockerfile.
    Multiprocess(config, sockets=[config.bind_socket()]).run()
    return 0


GRACEFUL_SECONDS = 10


def default_workers(settings: Settings) -> int:
    """One process in development (one SQLite file, one log to read); one per core in
    production, where each webhook step is CPU-bound Python under one GIL per process."""
    if settings.env is Environment.PRODUCTION:
        return os.cpu_count() or 1
    return 1


def cmd_migrate(_args: argparse.Namespace) -> int:
    db.upgrade(get_settings().effective_database_url())
    print(f"database at revision {db.head_revision()}")
    return 0


def cmd_directory_import(args: argparse.Namespace) -> int:
    try:
        directory = organisations.read_directory_file(Path(args.file))
    except organisations.DirectoryError as exc:
        print("directory not imported, nothing changed:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    with session_scope() as session:
        report = organisations.import_directory(session, directory, replace=args.replace)
        # Running servers on PostgreSQL reload at once (LISTEN/NOTIFY); on SQLite, at their
        # next periodic refresh. No organisation: it is nobody's queue event.
        bus.publish(session, bus.QueueEvent(0, bus.EventKind.DIRECTORY_CHANGED))
    print(json.dumps({"created": report.created, "updated": report.updated,
                      "deactivated": report.deactivated,
                      "information": report.information}, indent=2))
    return 0


def cmd_directory_export(args: argparse.Namespace) -> int:
    with session_scope() as session:
        text = export.export_directory(session)
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_directory_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        rows = [{"id": org.slug, "name": org.name, "country": org.country, "hub": org.is_hub,
                 "services": org.services, "languages": org.languages,
                 "always_open": org.always_open, "priority": org.priority}
                for org in organisations.list_organisations(session)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['id']:<32} {row['country']}  {row['name']}")
    return 0


def cmd_route(args: argparse.Namespace) -> int:
    query = Query(language=args.language, country=args.country, need=args.need, at=args.at)
    with session_scope() as session:
        directory = organisations.snapshot(session)
    if not directory.responders:  # an empty list would read as "nobody can help"
        print("the responder directory is empty: `hotline serve` loads the demo directory, "
              "`hotline directory import FILE` a real one", file=sys.stderr)
        return 1
    candidates = route(directory, query)
    print(json.dumps({"query": {"language": query.language, "country": query.country,
                                "need": query.need, "at": query.at.isoformat()},
                      "candidates": [_candidate_json(rank, c)
                                     for rank, c in enumerate(candidates, 1)]},
                     ensure_ascii=False, indent=2))
    return 0


def _candidate_json(rank: int, candidate: Candidate) -> dict[str, object]:
    r = candidate.responder
    return {"rank": rank, "id": r.slug, "name": r.name, "country": r.country,
            "open": candidate.is_open, "tier": candidate.tier, "hub": r.is_hub,
            "duty_numbers": list(r.duty_numbers), "reasons": list(candidate.reasons)}


def cmd_audio_render(_args: argparse.Namespace) -> int:
    settings = get_settings()
    error = audio.synthesis_error()
    if error is not None:
        print(f"the bundled libespeak-ng (espeakng-loader) could not be loaded: {error}; "
              "reinstall with `pip install -e .`", file=sys.stderr)
        return 1
    report = audio.render_all(settings.audio_dir)
    print(json.dumps({"audio_dir": str(settings.audio_dir), "rendered": len(report.rendered),
                      "unchanged": report.unchanged, "human_recordings": report.recorded,
                      "failed": report.failed}, indent=2))
    return 1 if report.failed else 0


def cmd_user_create(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    try:
        with session_scope() as session:
            user = lifecycle.create(session, None, args.username, password, Role(args.role),
                                    args.org, datetime.now(UTC), one_time=False)
            print(json.dumps({"id": user.id, "username": user.username, "role": user.role,
                              "organisation": args.org}))
    except users.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_purge(_args: argparse.Namespace) -> int:
    """Erase contact details and message bodies past their retention date."""
    settings = get_settings()
    with session_scope(settings) as session:
        report = retention.purge_expired(session, settings, datetime.now(UTC))
    print(json.dumps(dataclasses.asdict(report), indent=2))
    return 0


def cmd_audit_verify(_args: argparse.Namespace) -> int:
    """Recompute the audit log's hash chain; exit 1 naming the first entry that breaks it."""
    settings = get_settings()
    url = settings.effective_database_url()
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        # Read-only: a long check must not hold SQLite's write lock against the service.
        with Session(db.read_only(engine)) as session:
            verdict = audit_chain.verify(session, settings.audit_key.encode())
    finally:
        engine.dispose()
    print(_verdict_text(verdict))
    return 0 if verdict.broken is None else 1


def _verdict_text(verdict: audit_chain.Verdict) -> str:
    checked = f"{verdict.checked} {'entry' if verdict.checked == 1 else 'entries'} checked"
    if verdict.broken is None:
        head = f"; last #{verdict.head_id}, hash {verdict.head}" if verdict.head_id else ""
        return f"audit log intact: {checked}{head}"
    broken = verdict.broken
    return (f"audit log broken at entry #{broken.entry_id} ({broken.at.isoformat()}, "
            f"{broken.action}): {broken.reason}\n{checked} before it, intact")


def cmd_i18n_compile(_args: argparse.Namespace) -> int:
    for path in i18n.compile_catalogs():
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="The regional anti-trafficking hotline: serve it, manage "
        "its users, directory and keys, and try calls and texts without Twilio.",
        epilog="`hotline COMMAND --help` says more; docs/ in the repository says the rest.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, load the demo directory if empty, serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=bounded(1), default=None,
                       help="worker processes (default: 1 in development, one per core in "
                            "production)")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        handler=cmd_migrate)

    directory = commands.add_parser("directory", help="the responder directory")
    directory_commands = directory.add_subparsers(dest="directory_command", required=True)
    importer = directory_commands.add_parser("import", help="load a YAML or JSON directory")
    importer.add_argument("file")
    importer.add_argument("--replace", action="store_true",
                          help="deactivate organisations that are not in the file")
    importer.set_defaults(handler=cmd_directory_import)
    exporter = directory_commands.add_parser(
        "export", help="write the directory as a file `directory import` reads back")
    exporter.add_argument("file", nargs="?", help="where to write it (stdout if left out)")
    exporter.set_defaults(handler=cmd_directory_export)
    lister = directory_commands.add_parser("list", help="list active organisations")
    lister.add_argument("--json", action="store_true")
    lister.set_defaults(handler=cmd_directory_list)

    router = commands.add_parser("route", help="show routing candidates and reasons as JSON")
    router.add_argument("--language", type=language)
    router.add_argument("--country", type=str.upper)
    router.add_argument("--need", type=Need, choices=list(Need))
    router.add_argument("--at", type=aware, default=datetime.now(UTC),
                        help="ISO time, e.g. 2026-11-23T22:00+05:00 (no offset means UTC)")
    router.set_defaults(handler=cmd_route)

    audio_parser = commands.add_parser("audio", help="voice prompts as audio files")
    audio_commands = audio_parser.add_subparsers(dest="audio_command", required=True)
    audio_commands.add_parser("render", help="render every prompt with the bundled espeak-ng"
                              ).set_defaults(handler=cmd_audio_render)

    simulate_parser = commands.add_parser("simulate", help="try the hotline without Twilio")
    simulate_commands = simulate_parser.add_subparsers(dest="simulate_command", required=True)
    for adapter in channels.ADAPTERS:  # each channel adds its own: simulate sms, call, ...
        if adapter.commands is not None:
            adapter.commands(channels.Commands(top=commands, simulate=simulate_commands,
                                             create_app=create_app))

    user = commands.add_parser("user", help="console and API users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    creator = user_commands.add_parser("create", help="create a user; asks for the password")
    creator.add_argument("username")
    creator.add_argument("--role", required=True, choices=[r.value for r in Role])
    creator.add_argument("--org", help="the organisation an operator works for (its id in "
                         "`hotline directory list --json`)")
    creator.add_argument("--password-stdin", action="store_true",
                         help="read the password from standard input")
    creator.set_defaults(handler=cmd_user_create)
    users_cli.add_commands(user_commands, session_scope)

    commands.add_parser("purge", help="erase numbers and message bodies past retention"
                        ).set_defaults(handler=cmd_purge)

    audit_parser = commands.add_parser("audit", help="the audit log")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the audit log's hash chain; exit 1 if "
                              "it is broken").set_defaults(handler=cmd_audit_verify)

    i18n_parser = commands.add_parser("i18n", help="translation catalogs")
    i18n_commands = i18n_parser.add_subparsers(dest="i18n_command", required=True)
    i18n_commands.add_parser("compile", help="compile .po catalogs to .mo").set_defaults(
        handler=cmd_i18n_compile)
    keys_cli.add_commands(commands)
    demo_cli.add_commands(commands, session_scope)
    twilio_setup.add_commands(commands, lines.active_numbers)
    doctor.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler  # set by every subcommand
    try:
        return handler(args)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
