"""The directory snapshot the webhooks route from, refreshed from the database.

If the database cannot be read, the last good snapshot keeps serving: routing a caller
on a directory a few minutes old beats not routing them at all. Nor does a caller wait
for a refresh another webhook has started, or for one while the database is known to be
down. Each good snapshot is also written to a file, so a process (re)started while the
database is down still routes (it holds responders' duty numbers and hours, nothing of
callers).
"""

import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from datetime import time as clock
from pathlib import Path
from typing import Any

from app.routing.snapshot import DatedException, Directory, HotlineNumber, Interval, Responder

logger = logging.getLogger(__name__)


class DirectoryCache:
    def __init__(self, load: Callable[[], Directory], max_age_seconds: float,
                 saved: Path | None = None,
                 database_usable: Callable[[], bool] = lambda: True) -> None:
        self._load = load
        self._max_age = max_age_seconds
        self._saved = saved
        self._database_usable = database_usable
        self._lock = threading.Lock()
        self._directory = Directory(())
        self._loaded_at: float | None = None

    @property
    def current(self) -> Directory:
        """The last snapshot, without touching the database."""
        return self._directory

    def get(self) -> Directory:
        # An empty directory is never the real one (a new install, or read before the
        # directory was loaded): read it again rather than route nobody for a while.
        if not self._directory.responders:
            self.refresh()
        elif self._due():
            self._refresh_unless_under_way()
        return self._directory

    def would_refresh(self) -> bool:
        """Whether ``get`` would read the database now: a caller on the event loop then
        calls it on a thread (``app.webhooks.deps``)."""
        return not self._directory.responders or self._due()

    def _due(self) -> bool:
        return self._stale() and self._database_usable()

    def _stale(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self._max_age

    def _refresh_unless_under_way(self) -> None:
        # A refresh against a database that does not answer waits out its connect timeout:
        # one webhook pays it, the others route from the snapshot they have, rather than
        # queueing behind it and each trying again (seconds apiece, with Twilio waiting).
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._stale():  # not refreshed by another thread just now
                self._refresh()
        finally:
            self._lock.release()

    def refresh(self) -> bool:
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        try:
            self._directory = self._load()
        except Exception:
            logger.warning("directory refresh failed; routing from the last snapshot",
                           exc_info=True)
            if not self._directory.responders and self._saved is not None:
                self._directory = read(self._saved)
            return False
        finally:
            self._loaded_at = time.monotonic()
        if self._saved is not None and self._directory.responders:
            try:
                write(self._saved, self._directory)
            except OSError:  # a full disk must not stop routing from memory
                logger.warning("could not save the directory snapshot", exc_info=True)
        return True


def write(path: Path, directory: Directory) -> None:
    """Replace the saved snapshot whole (write aside, then rename), never half-written."""
    responders = [dataclasses.asdict(r) | {"services": sorted(r.services),
                                           "languages": list(r.languages)}
                  for r in directory.responders]
    data = {"responders": responders,
            "lines": [dataclasses.asdict(line) for line in directory.lines],
            "information": [{"country": country, "language": language, "texts": list(texts)}
                            for (country, language), texts
                            in directory.country_information.items()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    # One file aside per process: uvicorn's workers share the folder, and with one name
    # a worker's rename could find the other's file gone, or half-written.
    aside = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    aside.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(aside, path)


def read(path: Path) -> Directory:
    """The saved snapshot, or an empty directory if there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):  # saved before national lines: responders only
            data = {"responders": data, "lines": []}
        return Directory(tuple(_responder(item) for item in data["responders"]),
                         lines=tuple(HotlineNumber(**item | {"languages": tuple(
                             item["languages"])}) for item in data["lines"]),
                         # Files saved before per-country information have none.
                         country_information={
                             (item["country"], item["language"]): tuple(item["texts"])
                             for item in data.get("information", ())})
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("no usable saved directory snapshot", exc_info=True)
        return Directory(())


def _responder(item: dict[str, Any]) -> Responder:
    hours = tuple(Interval(h["weekday"], clock.fromisoformat(h["opens"]),
                           clock.fromisoformat(h["closes"])) for h in item.pop("hours"))
    # Files saved before dated exceptions existed have none.
    exceptions = tuple(_exception(e) for e in item.pop("exceptions", ()))
    return Responder(**item | {"services": frozenset(item["services"]),
                               "languages": tuple(item["languages"]),
                               "duty_numbers": tuple(item["duty_numbers"]), "hours": hours,
                               "exceptions": exceptions})


def _exception(item: dict[str, Any]) -> DatedException:
    intervals = tuple((clock.fromisoformat(opens), clock.fromisoformat(closes))
                      for opens, closes in item["intervals"])
    return DatedException(date.fromisoformat(item["day"]), item["closed"], intervals,
                          item["name"])
