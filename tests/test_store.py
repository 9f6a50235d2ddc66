"""The snapshot store: atomic replacement, kept versions, the audit log, readers during a
replacement. Crashes, full disks and concurrent writers are in tests/test_faults.py."""

from __future__ import annotations

import json
import os
import threading
import time

import duckdb
import polars as pl

from tests.conftest import tree_digest
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store.versions import ConflictError, Store

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


def test_readers_during_replacement_see_old_or_new_never_a_mix(store):
    """Three readers query a month while it is replaced six times, alternating 300 places and
    1: every read answers 300 or 1, never an error or a mix, and after each replacement a
    read that started after it sees exactly the new version."""
    big = places_csv([f"TM-{i:03d},サロン{i},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,," for i in range(300)])
    assert ingest(big.encode(), "places", "2024-07", store).ok
    db = Database(store)
    reads: list[tuple[int, int]] = []  # (replacements done when the read started, places it saw)
    errors: list[Exception] = []
    done = [0]
    stop = threading.Event()

    def read():
        while not stop.is_set():
            started = done[0]
            try:
                frame = db.query("places_by_district", municipality="倉敷市", month="2024-07")
                reads.append((started, int(frame["n_active"].sum())))
            except Exception as e:  # noqa: BLE001 - any error is a failure here
                errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    expected = []
    try:
        for i in range(6):
            content, rows = (ONE, 1) if i % 2 == 0 else (big.encode(), 300)
            assert ingest(content, "places", "2024-07", store).ok
            expected.append(rows)
            done[0] = i + 1
            # let a whole read run between this replacement and the next
            deadline = time.monotonic() + 60
            while not any(s == i + 1 for s, _ in reads) and not errors and time.monotonic() < deadline:
                time.sleep(0.005)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert errors == []
    assert {seen for _, seen in reads} == {300, 1}  # only whole versions, and both of them
    for i, rows in enumerate(expected, start=1):
        # the first read begun after replacement i ended before replacement i + 1 began
        first = next((seen for started, seen in reads if started == i), None)
        assert first == rows, (i, first)


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
    live, kept = store.root / "places/month=2024-07/data.parquet", store.root / entry["file"]
    # the same bytes in a file of its own: rewriting the live file cannot change the kept version
    assert live.read_bytes() == kept.read_bytes() and not os.path.samefile(kept, live)


KURASHIKI, FUCHU = ("岡山県", "倉敷市"), ("東京都", "府中市")
PAUSED = TWO.replace("はい,活動中".encode(), "はい,休止中".encode())


def test_second_editor_to_save_gets_a_conflict_and_nothing_is_written(store):
    """Two editors open 倉敷市's July from the same version; the first saves; the second is
    refused with who saved, and the store is byte for byte as the first left it."""
    assert ingest(TWO, "places", "2024-07", store, user="yamada").ok
    started = store.month_versions("places", "2024-07", [KURASHIKI])
    assert started == {"岡山県/倉敷市": store.versions("places", "2024-07")[0]["version"]}
    first = ingest(PAUSED, "places", "2024-07", store, user="sato", municipality=KURASHIKI, expected=started)
    assert first.ok
    before = tree_digest(store.root)
    second = ingest(ONE, "places", "2024-07", store, user="suzuki", municipality=KURASHIKI, expected=started)
    assert not second.ok and second.conflict is not None
    assert second.conflict.current == {"岡山県/倉敷市": first.version}
    assert second.conflict.changed["岡山県/倉敷市"]["user"] == "sato"
    (error,) = second.errors
    assert (
        "ほかの人" in error.message
        and "satoさん" in error.message
        and "何も書き換えていません" in error.message
    )
    assert tree_digest(store.root) == before
    assert store.read_month("places", "2024-07")["status"].to_list() == ["休止中", "休止中"]
    assert store.history("places")[-1]["outcome"] == "refused"


def test_a_new_month_started_by_two_editors_is_saved_once(store):
    """Both start a month nobody has saved yet (None); the second to save is refused."""
    started = store.month_versions("places", "2024-08", [KURASHIKI])
    assert started == {"岡山県/倉敷市": None}
    assert ingest(TWO, "places", "2024-08", store, user="sato", expected=started).ok
    try:
        store.commit(
            "places",
            "2024-08",
            store.read_month("places", "2024-08"),
            user="suzuki",
            source_name="",
            source_sha256="",
            expected=started,
        )
    except ConflictError as e:
        assert e.current["岡山県/倉敷市"] is not None
    else:
        raise AssertionError("the second save was not refused")
    assert [v["user"] for v in store.versions("places", "2024-08")] == ["sato"]


def test_another_municipalitys_save_is_no_conflict(store):
    """府中市 saving the same month does not stop 倉敷市's editor (each council its own part)."""
    assert ingest(TWO, "places", "2024-07", store).ok
    started = store.month_versions("places", "2024-07", [KURASHIKI])
    fuchu = "TF-001,けやきサロン,府中市,中央,府中第一小,サロン,はい,活動中,,,,,"
    fuchu_csv = places_csv([fuchu]).encode()
    assert ingest(fuchu_csv, "places", "2024-07", store, municipality=FUCHU).ok, "府中市"
    assert ingest(PAUSED, "places", "2024-07", store, municipality=KURASHIKI, expected=started).ok
    assert store.read_month("places", "2024-07", [FUCHU]).height == 1
