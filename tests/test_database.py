"""Database.refresh while another process commits month after month: the data the dashboard's
sessions see never goes back to an older version, and the version refresh() reports (the key
of the page caches) is never ahead of the data that follows it."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time

from tests.conftest import ROOT
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.contract.schema import DATASETS
from tsunagu.ingest.pipeline import ingest
from tsunagu.query import database
from tsunagu.query.database import Database

COMMITS = 20
# commit k adds a month of k copies of July's rows, so the total rows tell which commit is loaded
COMMITTER = """
import sys
import polars as pl
from tsunagu.store.versions import Store
store, n = Store(sys.argv[1]), int(sys.argv[2])
july = store.read_month("places", "2024-07")
for k in range(1, n + 1):
    month = f"{2010 + k // 12}-{k % 12 + 1:02d}"
    store.commit("places", month, pl.concat([july] * k), user="t", source_name="", source_sha256="")
"""


def test_refresh_never_goes_back_to_an_older_manifest(store, monkeypatch):
    assert ingest(places_csv(PLACES_ROWS).encode(), "places", "2024-07", store).ok
    base_version, july = store.data_version(), len(PLACES_ROWS)

    def rows_at(version: int) -> int:
        k = version - base_version
        return july * (1 + k * (k + 1) // 2)

    db = Database(store)
    db.refresh()
    # now and then a slower session: checking a new month's checksum takes a while (a large
    # month does), long enough for the next commit to land and be loaded by another session
    verified, rng = database.integrity.verified, random.Random(0)

    def slow(*args):
        time.sleep(0.1 if rng.random() < 0.2 else 0)
        return verified(*args)

    monkeypatch.setattr(database.integrity, "verified", slow)
    # and which manifest each load brought in, in the order the loads happened
    loads, load = [], db._load

    def load_noted(cur, ds, manifest, versions):
        if ds == next(iter(DATASETS)):
            loads.append(manifest["data_version"])
        return load(cur, ds, manifest, versions)

    monkeypatch.setattr(db, "_load", load_noted)
    seen: list[list[tuple[int, int]]] = [[] for _ in range(6)]
    errors: list[Exception] = []
    done = threading.Event()

    def session(mine: list) -> None:
        while not done.is_set():
            try:
                version = db.refresh()
                rows = db.sql("select count(*) as n from places_all")["n"][0]
                mine.append((version, rows))
            except Exception as e:  # noqa: BLE001 - any error is a failure here
                errors.append(e)

    threads = [threading.Thread(target=session, args=(s,)) for s in seen]
    for t in threads:
        t.start()
    committer = subprocess.run(
        [sys.executable, "-c", COMMITTER, str(store.root), str(COMMITS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    done.set()
    for t in threads:
        t.join()
    assert committer.returncode == 0, committer.stderr
    assert errors == []
    assert loads == sorted(loads) and len(loads) >= 4  # never an older manifest over a newer one
    for mine in seen:
        versions, rows = [v for v, _ in mine], [n for _, n in mine]
        assert versions == sorted(versions) and rows == sorted(rows)  # never back to older data
        # the data read after refresh() said `version` is at least that version's
        assert all(n >= rows_at(v) for v, n in mine), [(v, n, rows_at(v)) for v, n in mine if n < rows_at(v)]
    # the sessions saw many versions go by, not one before and one after
    assert len({v for mine in seen for v, _ in mine}) >= 4
    assert db.refresh() == base_version + COMMITS
    assert db.sql("select count(*) as n from places_all")["n"][0] == rows_at(base_version + COMMITS)
