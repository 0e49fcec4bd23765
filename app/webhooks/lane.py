"""The threads Twilio's webhooks run on, apart from the console's and the API's.

A webhook step is Python holding the GIL between short database round trips. A few
threads are enough to overlap those waits; dozens on two cores mostly hand the GIL to
each other (``bench/load.py``: the same steps cost about a quarter more CPU on
Starlette's 40 threads than on 4). On a lane of its own, a coordinator's exports or a
burst of console pages never take the threads a caller needs, and the other way round.
"""

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")


def make(threads: int) -> CapacityLimiter:
    return CapacityLimiter(threads)


async def run(lane: CapacityLimiter, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on one of the webhook threads (``HOTLINE_WEBHOOK_THREADS``): the
    app's lane, which a webhook asks for as ``app.webhooks.deps.LaneDep``."""
    return await anyio.to_thread.run_sync(work, *args, limiter=lane)
