"""Where Twilio's webhooks run, apart from the console's and the API's.

A webhook step is synchronous code (the ORM) holding the GIL between short database
round trips. On PostgreSQL its engine's driver is psycopg's asyncio connection, and a
step runs on the event loop in a greenlet (``sqlalchemy.util.greenlet_spawn``, what
SQLAlchemy's own ``AsyncSession.run_sync`` does): each statement awaits its answer while
other steps go on, and no thread is handed the step and the GIL back and forth
(``bench/load.py``: a voice step cost 3.18 ms of CPU on four threads, 2.89 ms here).
What else a step does that blocks is short: the directory snapshot's reload is done on a
thread before the step (``app.webhooks.deps``), and only while the database is down does
a step write and fsync a journal line, a few milliseconds at most. SQLite's driver has
no asyncio connection, so there a step runs on one of a few threads of its own. Either
way at most ``HOTLINE_WEBHOOK_THREADS`` steps run at once, and a coordinator's exports
or a burst of console pages, on Starlette's threads, never take what a caller needs, nor
the other way round.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy.util import greenlet_spawn

T = TypeVar("T")


@dataclass(frozen=True)
class Lane:
    limiter: CapacityLimiter  # steps at once
    on_event_loop: bool  # the webhooks' engine awaits its driver (PostgreSQL)


def make(threads: int, on_event_loop: bool) -> Lane:
    return Lane(CapacityLimiter(threads), on_event_loop)


async def run(lane: Lane, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` in the app's lane (``app.webhooks.deps.Webhook.lane``)."""
    if not lane.on_event_loop:
        return await anyio.to_thread.run_sync(work, *args, limiter=lane.limiter)
    async with lane.limiter:
        result: T = await greenlet_spawn(work, *args)
        return result
