"""``hotline simulate call`` and ``hotline simulate callback``: the voice channel's
subcommands (registered through ``app.channels``)."""

import argparse
import sys

from app import i18n
from app.channels.voice import audio, simulate, simulate_callback
from app.cli_args import aware, language, split
from app.config import Settings, get_settings
from app.webhooks.adapter import Commands


def render_audio(settings: Settings) -> None:
    """Every prompt that changed rendered (the catalogs compiled first); said on stderr,
    so a simulation's dialogue stays clean."""
    report = audio.render_all(settings.audio_dir)
    print(f"audio prompts: {len(report.rendered)} rendered, {report.unchanged} unchanged, "
          f"{report.recorded} recorded by people", file=sys.stderr)
    if report.failed:
        reason = audio.synthesis_error() or "see the log"
        print(f"{len(report.failed)} audio prompts could not be rendered ({reason}): those "
              "fall back to a neighbouring language's Twilio voice", file=sys.stderr)


def cmd_simulate_call(args: argparse.Namespace) -> int:
    script = simulate.Script(number=args.from_number, digits=split(args.digits),
                             responders=split(args.responders))
    settings = get_settings()
    i18n.compile_catalogs()
    render_audio(settings)  # the caller hears what a real call plays
    simulate.simulate_call(args.create_app, settings, script, print, at=args.at, keep=args.keep)
    return 0


def cmd_simulate_callback(args: argparse.Namespace) -> int:
    settings = get_settings()
    i18n.compile_catalogs()
    render_audio(settings)
    simulate_callback.simulate_callback(args.create_app, settings, args.from_number, print,
                                        caller=args.caller, language=args.language,
                                        operator_phone=args.operator_phone, at=args.at,
                                        keep=args.keep)
    return 0


def add_commands(commands: Commands) -> None:
    simulate_commands = commands.simulate
    call = simulate_commands.add_parser("call", help="a call through the real voice webhooks")
    call.add_argument("--from", dest="from_number", required=True, help="caller's number")
    call.add_argument("--digits", help="keys the caller presses, e.g. 2,1,1 (then silence)")
    call.add_argument("--responders", help=f"what each responder rung does, from "
                      f"{', '.join(simulate.RESPONDER_ACTIONS)} (default accept)")
    call.add_argument("--at", type=aware, help="pretend it is this time (ISO)")
    call.add_argument("--keep", action="store_true", help="keep the records it makes")
    call.set_defaults(handler=cmd_simulate_call, create_app=commands.create_app)
    back = simulate_commands.add_parser("callback", help="a masked call-back: Twilio rings "
                                        "the operator's phone, then the caller")
    back.add_argument("--from", dest="from_number", default="+992900000000",
                      help="the number the caller asked to be called back on")
    back.add_argument("--language", type=language, help="the caller's language (default: "
                      "their country's first)")
    back.add_argument("--caller", choices=simulate_callback.CALLER_ACTIONS,
                      default="answer-safe", help="what the caller does")
    back.add_argument("--operator-phone", default="+10000000001",
                      help="the operator's own phone, rung first")
    back.add_argument("--at", type=aware, help="pretend it is this time (ISO)")
    back.add_argument("--keep", action="store_true", help="keep the records it makes")
    back.set_defaults(handler=cmd_simulate_callback, create_app=commands.create_app)
