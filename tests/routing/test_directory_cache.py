"""The saved directory snapshot, written by every worker process into one shared folder."""

import dataclasses
import json
import multiprocessing
import threading
import time
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
           for item in json.loads(path.read_text())["responders"]]  # before ids and lines
    path.write_text(json.dumps(old))
    [read] = cache.read(path).responders
    assert read.slug == "kz-test" and read.organisation_id is None


CURRENT = Directory((make_responder("kz-test"),))
NEWER = Directory((make_responder("kz-test"), make_responder("tj-test", "TJ")))


def slugs(directory: Directory) -> list[str]:
    return [r.slug for r in directory.responders]


def test_a_slow_refresh_holds_up_one_webhook_and_not_the_others():
    """A database that does not answer makes a refresh wait out its connect timeout: the
    webhook that started it waits, the others route from the snapshot they have."""
    loads: list[int] = []
    loading, release = threading.Event(), threading.Event()

    def load() -> Directory:
        loads.append(1)
        if len(loads) == 1:
            return CURRENT
        loading.set()
        release.wait(10)
        return NEWER

    directory = cache.DirectoryCache(load, max_age_seconds=0.05)
    directory.get()
    time.sleep(0.06)
    first = threading.Thread(target=directory.get)
    first.start()
    assert loading.wait(5)
    others = [directory.get() for _ in range(3)]
    refreshing = first.is_alive()
    release.set()
    first.join(timeout=10)
    assert refreshing  # the others were answered while the refresh was still waiting
    assert [slugs(d) for d in others] == [["kz-test"]] * 3
    assert len(loads) == 2  # one refresh, not one per webhook
    assert slugs(directory.get()) == ["kz-test", "tj-test"]


def test_while_the_database_is_known_to_be_down_the_snapshot_serves_without_a_refresh():
    loads: list[int] = []
    usable = [True]
    directory = cache.DirectoryCache(lambda: loads.append(1) or CURRENT, max_age_seconds=0.01,
                                     database_usable=lambda: usable[0])
    directory.get()
    usable[0] = False
    time.sleep(0.02)
    assert slugs(directory.get()) == ["kz-test"] and len(loads) == 1
    usable[0] = True
    directory.get()
    assert len(loads) == 2
