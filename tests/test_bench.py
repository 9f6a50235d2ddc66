"""The synthetic stores and the benchmark harness (the benchmark itself is not a test: it
measures; here it only has to run and write its table)."""

from __future__ import annotations

import io

import polars as pl
import pytest

from tools import bench, synth
from tsunagu.contract.labels import COLUMNS
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store.versions import Store


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
    fresh.commit(
        "areas", "2015-04", src.read_month("areas", "2015-04"), user="t", source_name="a", source_sha256=""
    )
    out = frame.drop("prefecture").rename({c: COLUMNS.get(c, c) for c in frame.columns if c != "prefecture"})
    bools = [c for c, t in out.schema.items() if t == pl.Boolean]
    out = out.with_columns(
        pl.col(c).replace_strict({True: "はい", False: "いいえ"}, return_dtype=pl.String) for c in bools
    )
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
    out = tmp_path / "bench.md"
    import os

    before = {k: os.environ.get(k) for k in ("TSUNAGU_DATA_DIR", "TSUNAGU_USERS_FILE")}
    text = bench.run(["city"], work, out, ingest_rows=3_000, sessions=0, log=lambda m: None)
    # the bench's own store and users must not leak into the tests that follow
    assert {k: os.environ.get(k) for k in before} == before
    assert out.read_text(encoding="utf-8") == text + "\n"
    assert "## city（通いの場" in text and "| overview | " in text and "| present | " in text
    assert "pandas + CSV" in text and "`overview`" in text
    assert "3,000行:" in text and "cores" in text


def test_load_run_signs_in_and_changes_districts_over_websockets(city, tmp_path):
    """Clients speaking Streamlit's protocol sign in with the form and change the district;
    every change is checked against the page's heading before it counts."""
    root, _ = city
    with bench._env_kept():
        r = bench.load_run(root, tmp_path, sessions=3, changes=2)
    assert r["errors"] == []
    assert r["reruns"] == 3 * 2
    assert r["p50_ms"] > 0 and r["p95_ms"] >= r["p50_ms"]
    assert r["rss_peak_mb"] >= r["rss_before_mb"] > 0
    assert 0 < r["client_cpu_s"] < r["server_cpu_s"]  # the clients are cheap: the server is measured
    text = "\n".join(bench.sessions_section("city", r))
    assert "WebSocket クライアント 3 本" in text and "エラー 0 件" in text


def test_load_run_counts_a_page_that_does_not_show_the_district(city, tmp_path, monkeypatch):
    """The check inside each client is real: expecting another heading makes every change an error."""
    root, _ = city
    real = bench.district_heading
    monkeypatch.setattr(
        bench, "district_heading", lambda muni, d: real(muni, d) if d is None else f"{muni} 存在しない地区"
    )
    with bench._env_kept():
        r = bench.load_run(root, tmp_path, sessions=1, changes=2)
    assert r["reruns"] == 0 and r["p95_ms"] is None
    assert len(r["errors"]) == 2 and all("存在しない地区" in e for e in r["errors"])


def test_an_exception_element_makes_the_run_an_error():
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from tools.stclient import Run, StreamClient

    run = Run(0.1)
    heading = ForwardMsg()
    heading.metadata.delta_path.extend([0, 0])
    heading.delta.new_element.markdown.body = "## 岡山県倉敷市 水島"
    boom = ForwardMsg()
    boom.metadata.delta_path.extend([0, 1])
    boom.delta.new_element.exception.type = "KeyError"
    boom.delta.new_element.exception.message = "'x'"
    StreamClient._apply(run, heading)
    assert bench._check(run, "倉敷市", "水島") is None
    StreamClient._apply(run, boom)
    assert bench._check(run, "倉敷市", "水島") == "exception: KeyError: 'x'"


def test_dashboard_memory_is_the_dashboards_own(city):
    """The dashboard's memory is read in a process of its own: a big parent (the bench holds
    stores of its own) must not count. getrusage() carried the parent's 0.9 GB over."""
    root, _ = city
    ballast = b"x" * (700 << 20)  # the parent has 700 MB resident
    mb = bench.dashboard_rss_mb(root, {"overview": [("months", "{}")]})
    assert 50 < mb < 500, mb
    del ballast
