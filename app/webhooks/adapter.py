"""What a channel gives the service: its ``Adapter``. The registry (``app.channels``)
lists one per channel; a channel's folder builds its own from this module, never from
the registry, so no channel imports another."""

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from fastapi import APIRouter

from app.cases.models import Channel
from app.config import Settings
from app.messaging.outbox import TextSender
from app.webhooks.replay import Replay
from app.webhooks.simulation import AppFactory

Subcommands = argparse._SubParsersAction  # argparse names no public type for it


class Commands(NamedTuple):
    """Where an adapter adds its ``hotline`` subcommands."""

    top: "Subcommands[argparse.ArgumentParser]"  # ``hotline CHANNEL ...`` (e.g. setup)
    simulate: "Subcommands[argparse.ArgumentParser]"  # ``hotline simulate CHANNEL``
    create_app: AppFactory  # the service, for the simulators (no channel imports it)


@dataclass(frozen=True)
class Adapter:
    name: str  # the journal records' "channel" value
    router: APIRouter
    channels: tuple[Channel, ...]  # Channel values whose outbox rows it sends
    replay: Replay  # a journal record -> the database, once it is back
    sender: Callable[[Settings], TextSender | None] | None = None  # the outbox's, if any
    commands: Callable[[Commands], None] | None = None  # adds ``hotline`` subcommands
