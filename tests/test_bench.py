"""The synthetic stores and the benchmark harness (the benchmark itself is not a test: it
measures; here it only has to run and write its table)."""

from __future__ import annotations

import io
import os

import polars as pl
import pytest

from tsunagu import bench, synth
from tsunagu.db import Database
from tsunagu.ingest import ingest
from tsunagu.labels import COLUMNS
from tsunagu.store import Store


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth") / "city"
    counts = synth.write_synth(root, "city")
    return root, counts


def test_synthetic_city_is_deterministic_and_shaped_like_a_city(city, tmp_path):
    root, counts = city
    assert counts["areas"] == 63 and counts["places"] > 60_000 and counts["pantry"] == 12_000
    db = Database(Store(root))
    assert db.query("months")["month"][0] == synth.LAST_MONTH
    assert db.sql("select count(distinct month) from places_all").item() == 96
    again = tmp_path / "again"
    synth.write_synth(again, "city")
    month = "2020-07"
    assert Store(root).read_month("places", month).equals(Store(again).read_month("places", month))


@pytest.mark.parametrize("dataset", ["places", "pantry", "forums"])
def test_synthetic_rows_pass_the_contract(city, tmp_path, dataset):
    """A synthetic month written as the CSV a council would upload is accepted whole."""
    root, _ = city
    src = Store(root)
    frame = src.read_month(dataset, synth.LAST_MONTH)
    fresh = Store(tmp_path / "fresh")
    fresh.commit("areas", "2015-04", src.read_month("areas", "2015-04"), user="t", source_name="a",
                 source_sha256="")
    out = frame.drop("prefecture").rename({c: COLUMNS.get(c, c) for c in frame.columns if c != "prefecture"})
    bools = [c for c, t in out.schema.items() if t == pl.Boolean]
    out = out.with_columns(pl.col(c).replace_strict({True: "はい", False: "いいえ"}, return_dtype=pl.String)
                           for c in bools)
    buf = io.StringIO()
    out.write_csv(buf)
    result = ingest(buf.getvalue().encode("cp932"), dataset, synth.LAST_MONTH, fresh, file_name="s.csv")
    assert result.ok, [str(e) for e in result.errors[:5]]
    assert result.rows == frame.height


def test_bench_runs_and_writes_its_table(city, tmp_path, monkeypatch):
    root, _ = city
    work = tmp_path / "work"
    work.mkdir()
    (work / "city").symlink_to(root)
    monkeypatch.setattr(bench, "REPEATS", 2)
    monkeypatch.setattr(bench, "PAGES", ["overview", "present"])
    # bench.run points these at its own users and store: put them back for later tests
    # (the browser tests' server inherits the environment and would not know their users)
    monkeypatch.setenv("TSUNAGU_USERS_FILE", os.environ["TSUNAGU_USERS_FILE"])
    monkeypatch.delenv("TSUNAGU_DATA_DIR", raising=False)
    out = tmp_path / "bench.md"
    text = bench.run(["city"], work, out, ingest_rows=3_000, sessions=0, log=lambda m: None)
    assert out.read_text(encoding="utf-8") == text + "\n"
    assert "## city（通いの場" in text and "| overview | " in text and "| present | " in text
    assert "pandas + CSV" in text and "`overview`" in text
    assert "3,000行:" in text and "cores" in text
