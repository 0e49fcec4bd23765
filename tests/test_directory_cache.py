"""The saved directory snapshot, written by every worker process into one shared folder."""

import multiprocessing
from pathlib import Path

from app.routing import cache
from app.routing.snapshot import Directory
from tests.factories import make_responder

WRITES = 300


def save_many(path: Path) -> int:
    """One worker process saving the snapshot again and again; returns its failures."""
    directory = Directory((make_responder("kz-test"), make_responder("tj-test", "TJ")))
    failures = 0
    for _ in range(WRITES):
        try:
            cache.write(path, directory)
        except OSError:
            failures += 1
    return failures


def test_workers_saving_the_snapshot_at_once_never_trip_over_each_other(tmp_path):
    path = tmp_path / "journal" / "directory.json"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        failures = pool.map(save_many, [path, path])
    assert failures == [0, 0]
    assert [r.slug for r in cache.read(path).responders] == ["kz-test", "tj-test"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["directory.json"]
