"""The channels: one folder per way a person reaches the hotline, each an adapter at the
edge that turns its provider's requests into ``app.pipeline.Inbound`` steps and the
answers back into the provider's format.

This registry is the ONE place a channel is registered: ``app.main`` mounts each
adapter's router and builds the outbox's senders from it, ``app.webhooks.recovery``
replays journal records by their ``channel`` through it (given by ``app.main``, so the
plumbing imports no channel), and ``app.cli`` adds each adapter's commands. An
``Adapter`` (``app.webhooks.adapter``) says what a channel gives.
"""

from collections.abc import Mapping

from app.cases.models import Channel
from app.channels.sms.adapter import ADAPTER as SMS
from app.channels.sms.adapter import WHATSAPP
from app.channels.telegram.adapter import ADAPTER as TELEGRAM
from app.channels.voice.adapter import ADAPTER as VOICE
from app.config import Settings
from app.messaging.outbox import TextSender
from app.webhooks.adapter import Adapter, Commands
from app.webhooks.replay import Replay

__all__ = ["ADAPTERS", "Adapter", "Commands", "replays", "senders"]

ADAPTERS: tuple[Adapter, ...] = (VOICE, SMS, WHATSAPP, TELEGRAM)


def replays() -> dict[str, Replay]:
    """Each journal record's replay by its "channel": an adapter's name, or one of its
    channels' values (records of WhatsApp carry "whatsapp")."""
    found: dict[str, Replay] = {}
    for adapter in ADAPTERS:
        for name in (adapter.name, *(channel.value for channel in adapter.channels)):
            found.setdefault(name, adapter.replay)
    return found


def senders(settings: Settings) -> Mapping[Channel, TextSender]:
    """The outbox's sender of each channel that has one configured."""
    found: dict[Channel, TextSender] = {}
    for adapter in ADAPTERS:
        sender = adapter.sender(settings) if adapter.sender is not None else None
        if sender is not None:
            found.update(dict.fromkeys(adapter.channels, sender))
    return found
