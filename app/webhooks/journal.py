"""The local journal: what the webhooks recorded while the database was unreachable (or
while a replay of what they recorded then was still running).

One JSON object per line, appended and fsync'd before Twilio gets its reply, so a record
survives a crash of the process or the machine. No line holds a phone number or a message
in clear: numbers and bodies kept to reply are encrypted as the database keeps them.

Each process appends to its own file and holds an exclusive lock on it while it lives.
Replaying first moves the file aside (appends go on in a new one), then applies it line
by line; each line lands in the database once, because it carries the webhook's reply
key and is applied in the same transaction as that reply is stored (see ``app.webhooks.recovery``).
A file is deleted only once every line is in. Files of processes that died are replayed
by whichever process gets their lock first.
"""

import enum
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from app.db import UNAVAILABLE

logger = logging.getLogger(__name__)
Record = dict[str, Any]


class _File(enum.Enum):
    """How the replay of one journal file ended."""

    DONE = "applied and deleted"
    BUSY = "another process holds it"
    WAITING = "a record needs another, not yet replayed"
    OUT_OF_TIME = "the replay's time ran out"


class NotYet(Exception):
    """A record that needs another, not yet replayed, first (from another process)."""


class Journal:
    def __init__(self, directory: Path, retry_seconds: float = 5.0) -> None:
        self.directory = directory
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()      # appends and rotation
        self._replaying = threading.Lock()  # one replay at a time in this process
        self._file: TextIO | None = None
        self._rotations = 0
        self._down_until = 0.0
        self.pending = self._leftovers()

    # --- the database's state, as the webhooks saw it ----------------------------------

    def database_down(self) -> None:
        """Skip the database for a few seconds: each failed connect can take seconds."""
        self._down_until = time.monotonic() + self.retry_seconds

    @property
    def database_usable(self) -> bool:
        return time.monotonic() >= self._down_until

    # --- writing ---------------------------------------------------------------------

    def append(self, record: Record) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            handle = self._open()
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            self.pending = True

    def _open(self) -> TextIO:
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}.jsonl"
            handle = open(self.directory / name, "a", encoding="utf-8")  # noqa: SIM115
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while we live
            self._file = handle
        return self._file

    def _rotate(self) -> None:
        """Close the file being written so it can be replayed; the next append starts
        a new one."""
        with self._lock:
            if self._file is not None:
                path = Path(self._file.name)
                self._rotations += 1
                path.rename(path.with_suffix(f".{self._rotations}.replay"))
                self._file.close()  # releases the lock: the file is closed for good
                self._file = None

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # --- replaying -------------------------------------------------------------------

    def replay(self, apply: Callable[[Record], bool]) -> int:
        """Apply every closed journal file; the number of records applied now. A database
        error stops it (the database is down again): the rest waits for the next attempt,
        and lines applied before are skipped by ``apply``."""
        with self._replaying:
            return self._replay(apply, deadline=None)[0]

    def try_replay(self, apply: Callable[[Record], bool], seconds: float) -> bool:
        """Replay for at most ``seconds``, and not at all while another thread replays:
        True if it got through (nothing of this process's is left to apply)."""
        if not self._replaying.acquire(blocking=False):
            return False
        try:
            return self._replay(apply, time.monotonic() + seconds)[1]
        finally:
            self._replaying.release()

    def _replay(self, apply: Callable[[Record], bool], deadline: float | None
                ) -> tuple[int, bool]:
        """(records applied, whether it got through before ``deadline``)."""
        self._rotate()
        applied, progress = 0, True
        while progress:  # a file waiting for another's record gets another pass
            progress = False
            for path in self._closed_files():
                count, state = self._replay_file(path, apply, deadline)
                applied, progress = applied + count, progress or state is _File.DONE
                if state is _File.OUT_OF_TIME:
                    return applied, False
        self.pending = self._leftovers()
        return applied, True

    def _replay_file(self, path: Path, apply: Callable[[Record], bool],
                     deadline: float | None) -> tuple[int, _File]:
        applied = 0
        with open(path, encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0, _File.BUSY  # another process is writing or replaying it
            for record in _records(handle, path):
                if deadline is not None and time.monotonic() >= deadline:
                    return applied, _File.OUT_OF_TIME  # what is applied is skipped next time
                try:
                    applied += apply(record)
                except NotYet:
                    return applied, _File.WAITING
                except UNAVAILABLE:
                    raise
                except Exception:
                    # A record the code cannot apply must not hold up the others; it is
                    # kept aside, whole, for someone to look at.
                    logger.exception("journal record set aside",
                                     extra={"file": path.name, "key": record.get("key")})
                    self._set_aside(record)
            path.unlink(missing_ok=True)
        logger.info("journal file replayed", extra={"file": path.name, "records": applied})
        return applied, _File.DONE

    def _set_aside(self, record: Record) -> None:
        with open(self.directory / "set-aside.failed", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _closed_files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        own = Path(self._file.name) if self._file is not None else None
        return sorted((p for p in self.directory.iterdir()
                       if p.suffix in (".jsonl", ".replay") and p != own),
                      key=lambda p: p.stat().st_mtime)

    def _leftovers(self) -> bool:
        return bool(self._closed_files())

    def look_for_others(self) -> None:
        """Notice files another process left (it died with a journal): pending too."""
        self.pending = self.pending or self._leftovers()


def _records(handle: TextIO, path: Path) -> Iterator[Record]:
    for number, line in enumerate(handle, 1):
        if not line.endswith("\n"):
            # A line cut short by a crash during its write: Twilio got no reply for it,
            # so Twilio's retry or fallback handled that request.
            logger.warning("journal line cut short", extra={"file": path.name, "line": number})
            continue
        yield json.loads(line)
