"""The saved directory snapshot, written by every worker process into one shared folder."""

import dataclasses
import json
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


def test_the_saved_snapshot_keeps_organisation_ids_and_older_files_still_load(tmp_path):
    path = tmp_path / "directory.json"
    responder = make_responder("kz-test")
    cache.write(path, Directory((dataclasses.replace(responder, organisation_id=7),)))
    assert cache.read(path).by_organisation_id(7).slug == "kz-test"
    old = [{k: v for k, v in item.items() if k != "organisation_id"}
           for item in json.loads(path.read_text())]  # as saved before ids were kept
    path.write_text(json.dumps(old))
    [read] = cache.read(path).responders
    assert read.slug == "kz-test" and read.organisation_id is None
