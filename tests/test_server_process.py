"""What a server process does with what its start made (``app.main.serve_app``)."""

import gc

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_a_server_leaves_what_its_start_made_out_of_the_collectors_full_passes(
        settings: Settings) -> None:
    """The directory, the language model, the mappers: kept for the process's life, and
    frozen once it has started, so that a full garbage collection walks only what came
    after (each walk of it all held up every webhook of the process for 0.1 s or more,
    bench/load.py). An app made for a test or a command leaves the collector as it is."""
    frozen: dict[bool, int] = {}
    for server in (False, True):
        try:
            with TestClient(create_app(settings, freeze_startup=server)):
                frozen[server] = gc.get_freeze_count()
        finally:
            gc.unfreeze()  # this test process's objects, back to the collector
    assert frozen[False] == 0
    assert frozen[True] > 0
