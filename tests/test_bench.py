"""The synthetic stores and the benchmark harness. The benchmark itself is not a test (it
measures); here the city is built once, the report is checked against what the run
measured, and the load run's clients go against one real server."""

from __future__ import annotations

import io
import os
import re
import statistics

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


def test_synthetic_city_is_deterministic_and_shaped_like_a_city(city):
    """Shaped like a city, and the same every time: a second run of the generator makes,
    month by month, exactly the frames the store built by the first run holds."""
    root, counts = city
    assert counts["areas"] == 63 and counts["places"] > 60_000 and counts["pantry"] == 12_000
    db = Database(Store(root))
    assert db.query("months")["month"][0] == synth.LAST_MONTH
    assert db.sql("select count(distinct month) from places_all").item() == 96
    store, made = Store(root), {}
    for dataset, month, frame in synth.frames("city"):
        assert store.read_month(dataset, month).equals(frame), (dataset, month)
        made[dataset] = made.get(dataset, 0) + frame.height
    assert made == counts


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


def table(text: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header row starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def number(cell: str) -> float:
    return float(cell.replace(",", "").rstrip("×"))


def test_bench_report_shows_what_the_run_measured(city, tmp_path, monkeypatch):
    """The report a reader relies on: a row per page with the figures measured for it, and
    each question's DuckDB time against the pandas baseline measured in the same run, with
    the ratio of the two."""
    root, _ = city
    work = tmp_path / "work"
    work.mkdir()
    (work / "city").symlink_to(root)
    monkeypatch.setattr(bench, "REPEATS", 2)
    monkeypatch.setattr(bench, "PAGES", ["overview", "present"])
    measured = {}

    def spy(name):
        real = getattr(bench, name)

        def record(*a, **k):
            measured[name] = real(*a, **k)
            return measured[name]

        monkeypatch.setattr(bench, name, record)

    for name in ("page_runs", "query_times", "pandas_answers"):
        spy(name)
    out = tmp_path / "bench.md"
    before = {k: os.environ.get(k) for k in ("TSUNAGU_DATA_DIR", "TSUNAGU_USERS_FILE")}
    text = bench.run(["city"], work, out, ingest_rows=3_000, sessions=0, log=lambda m: None)
    # the bench's own store and users must not leak into the tests that follow
    assert {k: os.environ.get(k) for k in before} == before
    assert out.read_text(encoding="utf-8") == text + "\n"

    calls, views, reruns, _ = measured["page_runs"]
    qt, pandas_ms = measured["query_times"], measured["pandas_answers"]
    pages = table(text, "| ページ |")
    assert [row[0] for row in pages] == ["overview", "present"]
    for page, n, slowest, one_view, rerun, target in pages:
        assert int(n) == len(views[page]) > 0, page
        assert slowest == f"{max(qt[c] for c in calls[page]):.1f}", page
        assert one_view == f"{sum(qt[c] for c in views[page]):.1f}", page
        assert rerun == f"{reruns[page]:.0f}" and reruns[page] > 0, page
        met = max(qt[c] for c in calls[page]) <= 10 and reruns[page] <= 100
        assert target == f"{'達成' if met else '未達'}（≤10 / ≤100）", page

    baseline = table(text, "| 問い |")
    total = baseline.pop()
    assert [row[0] for row in baseline] == [f"`{name}`" for name in pandas_ms]
    compared = 0
    for name, duck, pandas, ratio in baseline:
        name = name.strip("`")
        assert pandas == f"{pandas_ms[name]:,.0f}" and pandas_ms[name] > 0, name
        ours = [ms for c, ms in qt.items() if c[0] == name]
        if not ours:  # no page of this run asked this question
            assert (duck, ratio) == ("—", "—"), name
            continue
        compared += 1
        d_ms = statistics.median(ours)
        assert duck == f"{d_ms:.1f}" and ratio == f"{pandas_ms[name] / d_ms:,.0f}×", name
    assert compared >= 1  # the overview page asks the overview question
    assert total[0] == "合計（目標 100× 以上）"
    assert number(total[3]) == pytest.approx(number(total[2]) / number(total[1]), rel=0.05, abs=1)

    # the ingest line: its rate is the rows over the seconds it shows (to 0.01 s)
    [(seconds, rate)] = re.findall(r"- 3,000行: ([\d.]+) s（([\d,]+)行/秒", text)
    assert 3_000 / (number(seconds) + 0.005) <= number(rate) <= 3_000 / max(number(seconds) - 0.005, 1e-9)


@pytest.fixture(scope="module")
def served(city, tmp_path_factory):
    """One dashboard serving the city, for both load runs."""
    root, _ = city
    with bench.serve(root, tmp_path_factory.mktemp("load")) as s:
        yield s


QUICK = (0.05, 0.2)  # seconds between a client's changes: the protocol is tested, not people


def test_load_run_signs_in_and_changes_districts_over_websockets(served):
    """Clients speaking Streamlit's protocol sign in with the form and change the district;
    every change is checked against the page's heading before it counts."""
    r = bench.load_on(served, sessions=3, changes=2, think=QUICK)
    assert r["errors"] == []
    assert r["reruns"] == 3 * 2
    assert r["p50_ms"] > 0 and r["p95_ms"] >= r["p50_ms"]
    assert r["rss_peak_mb"] >= r["rss_before_mb"] > 0
    assert 0 < r["client_cpu_s"] < r["server_cpu_s"]  # the clients are cheap: the server is measured
    text = "\n".join(bench.sessions_section("city", r))
    assert "WebSocket クライアント 3 本" in text and "再表示 6 回" in text and "エラー 0 件" in text


def test_load_run_counts_a_page_that_does_not_show_the_district(served, monkeypatch):
    """The check inside each client is real: expecting another heading makes every change an error."""
    real = bench.district_heading
    monkeypatch.setattr(
        bench, "district_heading", lambda muni, d: real(muni, d) if d is None else f"{muni} 存在しない地区"
    )
    r = bench.load_on(served, sessions=1, changes=2, think=QUICK)
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
