"""On PostgreSQL the webhooks run on the event loop (``app.webhooks.lane``): nothing a
step does that blocks may hold up the others."""

import threading
import time

import pytest

from app.routing.cache import DirectoryCache
from tests.channels.voice.calls import Caller

pytestmark = pytest.mark.usefixtures("demo_directory")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_slow_reload_of_the_directory_holds_up_no_other_caller(app, client, settings):
    """The directory snapshot is due for its reload and the database takes 3 s to give it:
    the caller whose step started the reload waits for it, a second caller is answered
    at once (the reload runs on a thread, not on the event loop all steps share)."""
    assert app.state.webhook_lane.on_event_loop
    snapshot, loads, reloading = app.state.directory.get(), [], threading.Event()

    def load():
        loads.append(1)
        if len(loads) > 1:  # the first load fills the cache; the reload is slow
            reloading.set()
            time.sleep(3)
        return snapshot

    app.state.directory = DirectoryCache(load, max_age_seconds=0.2)
    app.state.directory.get()
    time.sleep(0.3)  # due for its reload
    first = threading.Thread(
        target=lambda: Caller(client, settings, "+77010000001", "KZ").call(), daemon=True)
    first.start()
    assert reloading.wait(5)
    started = time.monotonic()
    menu = Caller(client, settings, "+77010000002", "KZ").call()
    answered_in = time.monotonic() - started
    waiting = first.is_alive()
    first.join(timeout=10)
    assert menu.gather_action(), menu.text
    assert waiting and answered_in < 1.5, answered_in
