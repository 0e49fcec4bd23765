"""``hotline simulate sms``: the SMS and WhatsApp channel's subcommand (registered through
``app.channels``)."""

import argparse

from app.channels.sms import simulate
from app.cli_args import aware
from app.config import get_settings
from app.webhooks.adapter import Commands


def cmd_simulate_sms(args: argparse.Namespace) -> int:
    simulate.simulate_sms(args.create_app, get_settings(), args.from_number, args.messages, print,
                          operator_reply=args.operator_reply, at=args.at, keep=args.keep)
    return 0


def add_commands(commands: Commands) -> None:
    sms = commands.simulate.add_parser("sms", help="a text conversation through the real "
                                       "SMS webhook (--from whatsapp:+… for WhatsApp)")
    sms.add_argument("--from", dest="from_number", required=True, help="sender's number")
    sms.add_argument("messages", nargs="+", help="what the person writes, one message each")
    sms.add_argument("--operator-reply", help="then an operator answers this, via the outbox")
    sms.add_argument("--at", type=aware, help="pretend it is this time (ISO)")
    sms.add_argument("--keep", action="store_true", help="keep the records it makes")
    sms.set_defaults(handler=cmd_simulate_sms, create_app=commands.create_app)
