"""A restarted dashboard starts from the database it loaded before (query.warm): an unchanged
store is not loaded again, a changed store is, and a damaged cache is never trusted: the
answers are always the ones a load from the Parquet files gives."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from tests.conftest import AREAS_CSV, ROOT
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest
from tsunagu.query import warm
from tsunagu.query.database import Database
from tsunagu.store.versions import Store

# what the pages ask, with and without a municipality
QUESTIONS = [
    ("municipalities", {}),
    ("months", {}),
    ("overview", {"prefecture": "岡山県", "municipality": "倉敷市", "month": "2024-07"}),
    ("places_by_district", {"prefecture": "岡山県", "municipality": "倉敷市", "month": "2024-07"}),
    ("places_list", {"prefecture": "岡山県", "municipality": "倉敷市", "month": "2024-07"}),
    ("data_freshness", {"prefecture": "岡山県", "municipality": "倉敷市"}),
]


def answers(db: Database) -> dict:
    return {name: db.query(name, **params).rows() for name, params in QUESTIONS}


def parquet_answers(store: Store) -> dict:
    """What a load from the Parquet files answers (no cache read nor written)."""
    return answers(Database(store, cache=False))


@pytest.fixture
def places_store(store: Store) -> Store:
    assert ingest(places_csv().encode(), "places", "2024-07", store).ok
    return store


class _Spy:
    """A cursor that notes which dataset's Parquet files a load reads."""

    def __init__(self, cur, ds: str, seen: list[str]):
        self._cur, self._ds, self._seen = cur, ds, seen

    def execute(self, sql, *args):
        if "read_parquet(" in sql:
            self._seen.append(self._ds)
        return self._cur.execute(sql, *args)


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """Every dataset whose Parquet files a Database reads, in this test."""
    seen: list[str] = []
    load = Database._load

    def spy(self, cur, ds, manifest, versions):
        return load(self, _Spy(cur, ds, seen), ds, manifest, versions)

    monkeypatch.setattr(Database, "_load", spy)
    return seen


def started(store: Store) -> Database:
    """A dashboard process's database after its first page, its cache written."""
    db = Database(store)
    db.refresh()
    assert db.save_cache()
    return db


def cache_files(store: Store) -> list[str]:
    return sorted(p.name for p in (store.root / warm.FOLDER).glob("db-*"))


def test_a_restart_on_an_unchanged_store_does_not_load_again(places_store, loads):
    first = started(places_store)
    expected = answers(first)
    assert loads and expected == parquet_answers(places_store)
    loads.clear()

    again = Database(places_store)
    assert again.refresh() == places_store.data_version()
    assert again.warm_started and loads == []  # not one table read from Parquet
    assert answers(again) == expected
    # the cache sits outside every dataset folder, and no name ends in .parquet
    assert all(not name.endswith(".parquet") for name in cache_files(places_store))
    assert len(cache_files(places_store)) == 2


def test_an_upload_before_the_restart_is_loaded_not_served_stale(places_store, loads):
    started(places_store)
    before = cache_files(places_store)
    rows = [r.replace("TM-00", "TM-10") for r in PLACES_ROWS]
    assert ingest(places_csv(PLACES_ROWS + rows).encode(), "places", "2024-07", places_store).ok
    loads.clear()

    db = Database(places_store)
    db.refresh()
    assert not db.warm_started and "places" in loads
    assert answers(db) == parquet_answers(places_store)
    assert len(db.query("places_list", municipality="倉敷市", month="2024-07")) == 4
    assert db.save_cache()
    after = cache_files(places_store)
    assert after != before and len(after) == 2  # the stale file is gone, the new one kept


def test_the_running_dashboard_takes_an_upload_as_before_and_keeps_it_for_the_restart(places_store, loads):
    db = started(places_store)
    assert ingest(AREAS_CSV.encode(), "areas", "2024-07", places_store).ok
    rows = [r.replace("TM-00", "TM-20") for r in PLACES_ROWS]
    assert ingest(places_csv(rows).encode(), "places", "2024-08", places_store).ok
    loads.clear()
    db.refresh()
    assert sorted(loads) == ["areas", "places"]  # only what changed, as before
    assert answers(db) == parquet_answers(places_store)
    assert db.save_cache()  # what the background writer does after an upload
    loads.clear()

    again = Database(places_store)
    again.refresh()
    assert again.warm_started and loads == []
    assert answers(again) == answers(db)
    assert again.query("months").rows()[0][0] == "2024-08"


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"\x00not a database\xff" * 1000)


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum tells
    path.write_bytes(bytes(data))


def _sidecar_edited(path):
    side = path.with_suffix(".json")
    side.write_text(side.read_text(encoding="utf-8").replace('"size": ', '"size": 1'), encoding="utf-8")


@pytest.mark.parametrize("damage", [_truncate, _garbage, _flip_a_byte, _sidecar_edited])
def test_a_damaged_cache_is_loaded_again_and_rewritten(places_store, loads, damage):
    started(places_store)
    (db_file,) = (places_store.root / warm.FOLDER).glob("db-*.duckdb")
    damage(db_file)
    loads.clear()

    db = Database(places_store)
    db.refresh()
    assert not db.warm_started and loads  # loaded from the Parquet files
    assert answers(db) == parquet_answers(places_store)
    assert db.save_cache()
    loads.clear()
    assert Database(places_store).refresh() and loads == []  # whole again: the next start is warm


def test_a_cache_of_another_store_state_is_not_used(places_store, loads):
    """The right file name with the wrong content: an older state's file and sidecar copied
    over the current key's names (a restored backup, a hand copy). The sidecar's key says so."""
    started(places_store)
    old = {p.suffix: p.read_bytes() for p in (places_store.root / warm.FOLDER).glob("db-*")}
    assert ingest(places_csv(PLACES_ROWS[:1]).encode(), "places", "2024-07", places_store).ok
    current = started(places_store)
    for p in (places_store.root / warm.FOLDER).glob("db-*"):
        p.write_bytes(old[p.suffix])
    loads.clear()

    db = Database(places_store)
    db.refresh()
    assert not db.warm_started and loads
    assert answers(db) == answers(current) == parquet_answers(places_store)
    assert len(db.query("places_list", municipality="倉敷市", month="2024-07")) == 1


def test_a_store_file_damaged_since_is_named_on_a_warm_restart_too(places_store):
    """The cache holds the good rows, but a restart still checks the store's files: the damaged
    month is left out and named, exactly as a load from Parquet does."""
    started(places_store)
    entry = places_store.current("places", "2024-07")
    path = places_store.root / entry["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    db = Database(places_store)
    db.refresh()
    cold = Database(places_store, cache=False)
    cold.refresh()
    assert not db.warm_started
    assert [(p.dataset, p.month) for p in db.problems] == [("places", "2024-07")]
    assert [(p.dataset, p.month) for p in cold.problems] == [("places", "2024-07")]
    assert answers(db) == answers(cold)


def test_two_dashboards_starting_at_once_both_answer_and_the_store_is_loaded_once(places_store, loads):
    expected = parquet_answers(places_store)
    loads.clear()
    dbs = [Database(places_store), Database(places_store)]
    got: list = [None, None]
    gate = threading.Barrier(2)

    def start(i: int) -> None:
        gate.wait()
        got[i] = answers(dbs[i])

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [expected, expected]
    # one loaded from Parquet and wrote the cache; the other waited for it and started from it
    assert sorted(db.warm_started for db in dbs) == [False, True]
    assert len(loads) == len(set(loads))


def test_with_the_cache_off_nothing_is_written_to_the_data_folder(places_store, monkeypatch, loads):
    monkeypatch.setenv(warm.ENV, "off")
    for _ in range(2):
        db = Database(places_store)
        db.refresh()
        assert not db.warm_started and not db.save_cache()
    assert not (places_store.root / warm.FOLDER).exists()
    assert loads.count("places") == 2


STARTER = """
import json, sys
from tests.test_warm import answers
from tsunagu.query.database import Database
from tsunagu.store.versions import Store
db = Database(Store(sys.argv[1]))
got = answers(db)
print(json.dumps({"warm": db.warm_started, "answers": got}, default=str))
"""


def test_two_dashboard_processes_starting_at_once_share_one_load(places_store):
    """As `make serve N=2` starts them: one process loads and writes the cache, the other
    waits for it (the writer's lock is a file lock) and starts from it; both answer right."""
    expected = json.loads(json.dumps(parquet_answers(places_store), default=str))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(places_store.root)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    assert [o["answers"] for o in outs] == [expected, expected]
    assert sorted(o["warm"] for o in outs) == [False, True]
