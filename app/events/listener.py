"""PostgreSQL LISTEN for live queue events, one thread per app process.

Every process on the database NOTIFYs at commit (``bus.publish``); this thread receives
them on a dedicated autocommit connection and hands them to the app's hub, skipping the
ones this app published itself (already delivered at its commit). If the database goes
away the thread reconnects with backoff and, once back, tells every page to fetch again:
events sent while it was away are lost, the queue itself is not.
"""

import contextlib
import logging
import select
import socket
import threading
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from app.events import bus
from app.events.hub import Hub

logger = logging.getLogger(__name__)
PROBE_SECONDS = 30.0   # a silent connection is checked this often (a host that vanished)
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 30.0


def conninfo(url: URL) -> str:
    """psycopg's own connection string for a SQLAlchemy ``postgresql+psycopg`` URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    def __init__(self, url: URL, hub: Hub) -> None:
        self._conninfo = conninfo(url)
        self._hub = hub
        self._stop = threading.Event()
        # Written to by stop(): wakes the thread out of select() at once, so an app (and
        # every PostgreSQL test client) shuts down without waiting for a timeout.
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="events-listener", daemon=True)
        self.connected = threading.Event()  # tests wait for it before publishing

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        backoff, first = FIRST_BACKOFF, True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True,
                                     connect_timeout=3) as connection:
                    connection.execute(f"LISTEN {bus.CHANNEL}")
                    self.connected.set()
                    if not first:
                        logger.info("live events: listening again")
                        self._hub.resync()
                    first, backoff = False, FIRST_BACKOFF
                    self._listen(connection)
            except psycopg.Error as error:
                self.connected.clear()
                if self._stop.is_set():
                    break
                # The error's text can quote the connection string: only its class.
                logger.warning("live events: database out of reach, retrying in %.1f s",
                               backoff, extra={"error": type(error).__name__})
                first = False
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _listen(self, connection: psycopg.Connection) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([connection.fileno(), self._wake_r], [], [],
                                        PROBE_SECONDS)
            if self._wake_r in ready:
                return
            if not ready:
                connection.execute("SELECT 1")  # raises if the server is gone
            for notify in connection.notifies(timeout=0):
                self._deliver(notify.payload)

    def _deliver(self, payload: str) -> None:
        decoded = bus.decode(payload)
        if decoded is None:
            logger.warning("live events: a notification that is not an event was ignored")
            return
        event, origin = decoded
        if origin != self._hub.origin:
            self._hub.dispatch(event)


def start(app: Any) -> Listener | None:
    """The app's listener (``app.state.events_listener``), on PostgreSQL only: on SQLite
    there is one process, and the commit delivers in it."""
    url: URL = app.state.engine.url
    listener = None
    if url.get_backend_name() == "postgresql":
        listener = Listener(url, app.state.events)
        listener.start()
    app.state.events_listener = listener
    return listener
