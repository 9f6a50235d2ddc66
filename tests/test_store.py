"""The snapshot store: atomic replacement, kept versions, the audit log, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import duckdb
import polars as pl
import pytest

from tests.conftest import ROOT, tree_digest
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store.versions import Store

TWO = places_csv().encode()
ONE = places_csv(PLACES_ROWS[:1]).encode()


def glob_count(store: Store, month: str) -> int:
    return duckdb.sql(
        f"select count(*) from read_parquet('{store.root}/places/*/*.parquet', hive_partitioning = true)"
        f" where month = '{month}'"
    ).fetchall()[0][0]


def test_reupload_replaces_the_month_and_keeps_the_old_version(store):
    first = ingest(TWO, "places", "2024-07", store, user="yamada", file_name="7月.csv")
    second = ingest(ONE, "places", "2024-07", store, user="sato", file_name="7月_修正.csv")
    assert first.ok and second.ok
    assert second.replaced_version == first.version
    assert store.read_month("places", "2024-07").height == 1
    assert glob_count(store, "2024-07") == 1
    month_dir = store.root / "places" / "month=2024-07"
    assert sorted(p.name for p in month_dir.iterdir()) == ["data.parquet"]
    kept = store.versions("places", "2024-07")
    assert [(v["version"], v["rows"], v["live"]) for v in kept] == [
        (first.version, 2, False),
        (second.version, 1, True),
    ]
    assert pl.read_parquet(store.root / kept[0]["file"]).height == 2
    # nothing kept lives under places/, where the glob would find it
    assert not any(store.root.joinpath("places").rglob(f"{first.version}*"))


def test_audit_log_records_who_when_what_and_outcome(store):
    ingest(TWO, "places", "2024-07", store, user="yamada", file_name="7月.csv")
    ingest(b"PK\x03\x04", "places", "2024-07", store, user="sato", file_name="7月.xlsx")
    records = store.history("places")
    assert [(r["user"], r["file_name"], r["outcome"], r["rows"]) for r in records] == [
        ("yamada", "7月.csv", "committed", 2),
        ("sato", "7月.xlsx", "refused", None),
    ]
    import hashlib

    assert records[0]["sha256"] == hashlib.sha256(TWO).hexdigest()
    assert records[1]["errors"] == 1 and "Excel ブック" in records[1]["first_errors"][0]
    assert all(r["at"] for r in records)


def test_refused_file_leaves_store_byte_identical(store):
    assert ingest(TWO, "places", "2024-07", store).ok
    before = tree_digest(store.root)
    result = ingest(TWO.replace("サロン".encode(), "喫茶".encode()), "places", "2024-07", store)
    assert not result.ok
    assert tree_digest(store.root) == before
    assert store.read_month("places", "2024-07").height == 2


def test_exception_mid_write_leaves_previous_month_whole(store, monkeypatch):
    assert ingest(TWO, "places", "2024-07", store).ok
    before = tree_digest(store.root, skip=("_audit", "_lock", "_archive", "_pending"))

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Store, "_write_manifest", disk_full)
    result = ingest(ONE, "places", "2024-07", store)
    monkeypatch.undo()
    assert not result.ok
    assert "No space left on device" in result.errors[0].message
    assert "前のデータはそのまま残っています" in result.errors[0].message
    assert tree_digest(store.root, skip=("_audit", "_lock", "_archive", "_pending")) == before
    assert store.read_month("places", "2024-07").height == 2
    assert glob_count(store, "2024-07") == 2
    # the next writer records the cut-short attempt and carries on
    assert ingest(ONE, "places", "2024-08", store).ok
    outcomes = [r["outcome"] for r in store.history("places")]
    assert outcomes == ["committed", "failed", "interrupted", "committed"]


KILLER = r"""
import os, signal, sys
from tsunagu.store import versions as st
from tsunagu.ingest.pipeline import ingest
point = sys.argv[2]
orig = {name: getattr(st.Store, name) for name in ("_write_manifest", "_publish", "audit")}
def wrap(name, after):
    def f(self, *a, **k):
        if not after and point == "before" + name:
            os.kill(os.getpid(), signal.SIGKILL)
        out = orig[name](self, *a, **k)
        if after and point == "after" + name:
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    return f
for name in orig:
    setattr(st.Store, name, wrap(name, point.startswith("after")))
content = open(sys.argv[3], "rb").read()
ingest(content, "places", "2024-07", st.Store(sys.argv[1]))
"""


@pytest.mark.parametrize(
    "point, expect_new",
    [
        ("before_write_manifest", False),  # parquet written, not committed
        ("after_write_manifest", True),  # committed, live link not swapped yet
        ("before_publish", True),
        ("after_publish", True),  # audit not written yet
        ("beforeaudit", True),
    ],
)
def test_killed_process_leaves_a_whole_month(store, tmp_path, point, expect_new):
    assert ingest(TWO, "places", "2024-07", store).ok
    new_file = tmp_path / "new.csv"
    new_file.write_bytes(ONE)
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(store.root), point, str(new_file)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    # readers through the manifest see one whole version, never a mix or an error
    expected = 1 if expect_new else 2
    assert (
        Database(store).query("places_by_district", municipality="倉敷市", month="2024-07")["n_active"].sum()
        + Database(store)
        .query("places_by_district", municipality="倉敷市", month="2024-07")["n_paused"]
        .sum()
        == expected
    )
    # the next commit repairs: live link matches the manifest, the audit log tells the story
    assert ingest(ONE, "places", "2024-08", store).ok
    assert glob_count(store, "2024-07") == expected
    assert store.read_month("places", "2024-07").height == expected
    outcomes = [r["outcome"] for r in store.history("places")]
    assert outcomes[0] == "committed" and outcomes[-1] == "committed"
    assert outcomes[1] == ("committed (recovered)" if expect_new else "interrupted")
    assert not list((store.root / "_pending").glob("*"))
    assert not list((store.root / "places").rglob(".*"))


def test_readers_during_replacement_see_old_or_new_never_a_mix(store):
    big = places_csv([f"TM-{i:03d},サロン{i},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,," for i in range(300)])
    assert ingest(big.encode(), "places", "2024-07", store).ok
    db = Database(store)
    seen, errors = set(), []
    stop = threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.add(
                    int(
                        db.query("places_by_district", municipality="倉敷市", month="2024-07")[
                            "n_active"
                        ].sum()
                    )
                )
            except Exception as e:  # noqa: BLE001 - any error is a failure here
                errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for i in range(6):
        assert ingest((ONE if i % 2 == 0 else big.encode()), "places", "2024-07", store).ok
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert seen <= {300, 1}


def test_concurrent_processes_commit_the_same_month(store, tmp_path):
    """Two editors at once: one whole version wins, both are kept."""
    files = []
    for i, content in enumerate((TWO, ONE)):
        path = tmp_path / f"{i}.csv"
        path.write_bytes(content)
        files.append(path)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tsunagu",
                "ingest",
                "--dataset",
                "places",
                "--month",
                "2024-07",
                "--data-dir",
                str(store.root),
                str(f),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for f in files
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    kept = store.versions("places", "2024-07")
    assert sorted(v["rows"] for v in kept) == [1, 2]
    live = [v for v in kept if v["live"]]
    assert len(live) == 1
    assert store.read_month("places", "2024-07").height == live[0]["rows"]
    assert glob_count(store, "2024-07") == live[0]["rows"]


def test_restore_an_earlier_version(store):
    first = ingest(TWO, "places", "2024-07", store)
    ingest(ONE, "places", "2024-07", store)
    restored = store.restore("places", "2024-07", first.version, user="admin")
    assert store.read_month("places", "2024-07").height == 2
    assert len(store.versions("places", "2024-07")) == 3  # nothing deleted
    last = store.history("places")[-1]
    assert (last["action"], last["restored_version"], last["version"]) == (
        "restore",
        first.version,
        restored.version,
    )


def test_demo_and_real_data_never_mix(tmp_path, store):
    from tests.conftest import AREAS_CSV

    demo = Store(tmp_path / "demo")
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", demo, demo=True).ok
    result = ingest(TWO, "places", "2024-07", demo)
    assert not result.ok and "デモデータが入っています" in result.errors[0].message
    real = ingest(AREAS_CSV.encode(), "areas", "2024-04", store, demo=True)
    assert not real.ok and "実データが入っています" in real.errors[0].message


def test_manifest_names_only_archive_files(store):
    assert ingest(TWO, "places", "2024-07", store).ok
    manifest = json.loads((store.root / "_manifest.json").read_text())
    entry = manifest["datasets"]["places"]["2024-07"]
    assert entry["file"].startswith("_archive/places/month=2024-07/")
    assert os.path.samefile(store.root / entry["file"], store.root / "places/month=2024-07/data.parquet")
