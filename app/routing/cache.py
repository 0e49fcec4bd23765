"""The directory snapshot the webhooks route from, refreshed from the database.

If the database cannot be read, the last good snapshot keeps serving: routing a caller
on a directory a few minutes old beats not routing them at all.
"""

import logging
import threading
import time
from collections.abc import Callable

from app.routing.snapshot import Directory

logger = logging.getLogger(__name__)


class DirectoryCache:
    def __init__(self, load: Callable[[], Directory], max_age_seconds: float) -> None:
        self._load = load
        self._max_age = max_age_seconds
        self._lock = threading.Lock()
        self._directory = Directory(())
        self._loaded_at: float | None = None

    @property
    def current(self) -> Directory:
        """The last snapshot, without touching the database."""
        return self._directory

    def get(self) -> Directory:
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self._max_age:
            self.refresh()
        return self._directory

    def refresh(self) -> bool:
        with self._lock:
            try:
                self._directory = self._load()
            except Exception:
                logger.warning("directory refresh failed; routing from the last snapshot",
                               exc_info=True)
                return False
            finally:
                self._loaded_at = time.monotonic()
            return True
