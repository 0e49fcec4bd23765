"""Telegram as ``app.channels`` registers it: its webhook, its journal replay, its outbox
sender and its ``hotline`` commands (``telegram setup``, ``simulate telegram``)."""

import argparse
import sys

from app.cases.models import Channel
from app.channels.telegram import bot_api, setup, simulate, webhook
from app.cli_args import aware
from app.config import get_settings
from app.pipeline import journalled
from app.webhooks.adapter import Adapter, Commands


def cmd_setup(_args: argparse.Namespace) -> int:
    try:
        setup.set_webhook(get_settings(), print)
    except setup.SetupError as error:
        print(f"hotline telegram setup: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    simulate.simulate_telegram(args.create_app, get_settings(), args.chat, args.messages, print,
                               language_code=args.language_code,
                               operator_reply=args.operator_reply, at=args.at,
                               keep=args.keep)
    return 0


def add_commands(commands: Commands) -> None:
    telegram = commands.top.add_parser("telegram", help="the hotline's Telegram bot")
    telegram_commands = telegram.add_subparsers(dest="telegram_command", required=True)
    telegram_commands.add_parser(
        "setup", help="point the bot's webhook at HOTLINE_PUBLIC_URL, with its secret"
    ).set_defaults(handler=cmd_setup)
    chat = commands.simulate.add_parser("telegram", help="a chat with the bot through the "
                                        "real Telegram webhook")
    chat.add_argument("--chat", type=int, default=100000001, help="the chat's id")
    chat.add_argument("--language-code", help="the person's Telegram app language, e.g. ru")
    chat.add_argument("messages", nargs="+", help="what the person writes, one message each")
    chat.add_argument("--operator-reply", help="then an operator answers this, via the outbox")
    chat.add_argument("--at", type=aware, help="pretend it is this time (ISO)")
    chat.add_argument("--keep", action="store_true", help="keep the records it makes")
    chat.set_defaults(handler=cmd_simulate, create_app=commands.create_app)


ADAPTER = Adapter(name=Channel.TELEGRAM.value, router=webhook.router,
                  channels=(Channel.TELEGRAM,), replay=journalled.replay,
                  sender=bot_api.make_sender, commands=add_commands)
