"""`python -m tsunagu migrate` on a store written by main before uploads were kept per
municipality (tests/fixtures/store_format1, made by fixtures/make_store_format1.py with that
code; the answers of every query on it, by that code, in store_format1_answers.json)."""

from __future__ import annotations

import json
import shutil

import duckdb
import polars as pl
import pytest

from tests.conftest import ROOT, tsunagu_cli
from tsunagu.query.database import Database
from tsunagu.store.versions import OldStoreError, Store

FIXTURES = ROOT / "tests" / "fixtures"
ANSWERS = json.loads((FIXTURES / "store_format1_answers.json").read_text(encoding="utf-8"))
# queries whose answer now means something else, on purpose: the data's freshness and the
# handout's 出典 are the municipality's own uploads, not the whole store's
NEW_MEANING = {"data_freshness": {"n_rows_latest"}}
NEW_PARAMS = {"data_freshness", "data_sources"}


@pytest.fixture
def old_store(tmp_path) -> Store:
    shutil.copytree(FIXTURES / "store_format1", tmp_path / "data")
    return Store(tmp_path / "data")


def migrated(store: Store) -> Store:
    proc = tsunagu_cli("migrate", "--data-dir", store.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("新しい形式に移しました: 5か月分の登録、保管している版 7件")
    return store


def test_the_dashboard_and_an_upload_refuse_an_old_store_naming_the_command(old_store):
    with pytest.raises(OldStoreError) as refused:
        Database(old_store).refresh()
    assert "以前の形式のまま" in str(refused.value)
    assert f"python -m tsunagu migrate --data-dir {old_store.root}" in str(refused.value)
    before = (old_store.root / "_manifest.json").read_bytes()
    proc = tsunagu_cli(
        "ingest", "--dataset", "places", "--month", "2024-08", "--data-dir", old_store.root, "/dev/null"
    )
    assert proc.returncode == 1 and "python -m tsunagu migrate" in proc.stderr
    assert (old_store.root / "_manifest.json").read_bytes() == before
    proc = tsunagu_cli("query", "months", "--data-dir", str(old_store.root))
    assert (
        proc.returncode == 1 and "python -m tsunagu migrate" in proc.stderr and "Traceback" not in proc.stderr
    )


def test_every_query_answers_as_before(old_store):
    db = Database(migrated(old_store))
    compared = 0
    for key, old in ANSWERS.items():
        name, muni, pref = key.split("|")
        params = dict(old["params"])
        if name in NEW_PARAMS:
            params |= {"municipality": muni, "prefecture": pref}
        frame = db.query(name, **params)
        skip = NEW_MEANING.get(name, set())
        columns = [c for c in old["columns"] if c not in skip]
        got = [[None if v is None else str(v) for v in r] for r in frame.select(columns).iter_rows()]
        want = [[v for c, v in zip(old["columns"], r) if c not in skip] for r in old["rows"]]
        assert got == want, key
        compared += 1
    assert compared == 58


def test_migrating_again_changes_nothing(old_store):
    migrated(old_store)
    tree = {p: p.read_bytes() for p in old_store.root.rglob("*") if p.is_file() and "_audit" not in p.parts}
    proc = tsunagu_cli("migrate", "--data-dir", str(old_store.root))
    assert (
        proc.returncode == 0
        and proc.stdout.strip() == "このデータフォルダは新しい形式です。移行は必要ありません。"
    )
    assert {
        p: p.read_bytes() for p in old_store.root.rglob("*") if p.is_file() and "_audit" not in p.parts
    } == tree


def test_every_old_version_restores(old_store):
    """Each kept version comes back whole (as before: the store's month), and one
    municipality's month can be put back alone, leaving the others as they are."""
    store = migrated(old_store)
    sidecars = sorted(store.root.glob("_archive/*/month=*/v*.json"))
    assert len(sidecars) == 7
    for sidecar in sidecars:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        kept = pl.read_parquet(store.root / meta["file"])
        store.restore(meta["dataset"], meta["month"], meta["version"], user="admin")
        assert store.read_month(meta["dataset"], meta["month"]).sort(pl.all()).equals(kept.sort(pl.all()))
    # July of places had two versions: 倉敷市 back to the first (without 長尾体操), 府中市 kept
    first, fixed = sorted(
        (
            json.loads(p.read_text(encoding="utf-8"))
            for p in store.root.glob("_archive/places/month=2024-07/v*.json")
        ),
        key=lambda m: m["version"],
    )[:2]
    store.restore("places", "2024-07", fixed["version"], user="admin")
    store.restore("places", "2024-07", first["version"], user="admin", municipality=("岡山県", "倉敷市"))
    july = store.read_month("places", "2024-07")
    assert sorted(july["place_id"]) == ["FC-1", "FC-2", "KR-1", "KR-2"]
    # the glob any Parquet tool uses reads exactly the live data
    glob = duckdb.sql(
        f"select place_id from read_parquet('{store.root}/places/*/*.parquet', hive_partitioning = true)"
        " where month = '2024-07' order by place_id"
    ).fetchall()
    assert [r[0] for r in glob] == ["FC-1", "FC-2", "KR-1", "KR-2"]


def test_the_dashboard_says_which_command_moves_an_old_store_on(old_store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(old_store.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("つなぐを開始できません。データフォルダ")
    assert "python -m tsunagu migrate --data-dir" in error.value
