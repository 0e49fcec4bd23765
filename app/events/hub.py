"""One app's subscribers to live queue events: the open ``/api/events`` streams.

Events are dispatched from whatever thread committed (a request's worker thread, a
background worker, the PostgreSQL listener) and consumed by streams running on the
server's event loop, so each subscriber is an asyncio queue fed through
``call_soon_threadsafe``. The hub belongs to one app (``app.state.events``): tests build
many apps in one process and each must see only its own streams.
"""

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from app.events.bus import EventKind, QueueEvent

logger = logging.getLogger(__name__)

# What a subscriber's queue can hold besides events: the hub is closing (the server is
# shutting down: end the stream), or events may have been missed (fetch everything again).
CLOSED = "closed"
RESYNC = "resync"
# A stream that stopped reading is not allowed to grow without bound. Dropping is safe:
# every event only means "fetch again", and the next one that fits does the same.
QUEUE_LIMIT = 100

Item = QueueEvent | str


@dataclass(eq=False)
class Subscription:
    organisation_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def offer(self, item: Item) -> None:
        """Called on the subscriber's loop."""
        if item == CLOSED and self.queue.full():
            self.queue.get_nowait()  # the end must get through
        if not self.queue.full():
            self.queue.put_nowait(item)


class Hub:
    def __init__(self) -> None:
        # Tags this app's NOTIFY payloads, so its own listener does not deliver twice
        # what the commit already delivered.
        self.origin = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._directory_hooks: list[Callable[[], object]] = []
        self.closed = False

    def on_directory_changed(self, hook: Callable[[], object]) -> None:
        """Run ``hook`` (reload the routing snapshot) on every ``directory.changed``, from
        whichever thread delivers it, and after a resync (one may have been missed)."""
        self._directory_hooks.append(hook)

    def subscribe(self, organisation_id: int) -> Subscription:
        """From a coroutine on the loop that will read the subscription."""
        subscription = Subscription(organisation_id, asyncio.get_running_loop())
        with self._lock:
            if self.closed:
                subscription.offer(CLOSED)
            else:
                self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def subscribers(self, organisation_id: int | None = None) -> int:
        with self._lock:
            return sum(1 for s in self._subscriptions
                       if organisation_id is None or s.organisation_id == organisation_id)

    def dispatch(self, event: QueueEvent) -> None:
        """Deliver to the organisation's subscribers; safe from any thread."""
        if event.kind is EventKind.DIRECTORY_CHANGED:
            # Operators' pages would take it for a queue change: only routing needs it.
            self._directory_changed()
            return
        self._send(lambda s: s.organisation_id == event.organisation_id, event)

    def resync(self) -> None:
        """Events may have been lost (the listener reconnected): every page fetches again,
        and the directory is reloaded."""
        self._send(lambda _s: True, RESYNC)
        self._directory_changed()

    def _directory_changed(self) -> None:
        for hook in list(self._directory_hooks):
            try:
                hook()
            except Exception:  # the listener thread and a committed request must go on
                logger.exception("directory reload after a change failed")

    def close(self) -> None:
        """End every stream, now and for any that starts later (server shutdown)."""
        with self._lock:
            self.closed = True
        self._send(lambda _s: True, CLOSED)

    def _send(self, wanted: Callable[[Subscription], bool], item: Item) -> None:
        with self._lock:
            chosen = [s for s in self._subscriptions if wanted(s)]
        for subscription in chosen:
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, item)
            except RuntimeError:  # its loop is closed: the stream is gone
                self.unsubscribe(subscription)
