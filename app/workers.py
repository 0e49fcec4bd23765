"""Background work inside the service process: a job run every few seconds or minutes."""

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PeriodicWorker:
    """Runs ``job`` in a daemon thread every ``interval`` seconds until stopped.

    A failing pass is logged and the next one runs on time: the database may be down for
    a while, and the worker must outlive that.
    """

    def __init__(self, name: str, job: Callable[[], object], interval: float,
                 first_delay: float = 0) -> None:
        self.name, self.job, self.interval, self.first_delay = name, job, interval, first_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        if self._stop.wait(self.first_delay):
            return
        while not self._stop.is_set():
            try:
                self.job()
            except Exception:
                logger.exception("%s pass failed", self.name)
            self._stop.wait(self.interval)
