"""The benchmark: `python -m tools bench` (or `make bench`). Not a test: it measures.

For each scale (a synthetic store from tools.synth): the first load of the store, every
query the pages run (recorded while AppTest runs each page, then replayed: median of 7
after a warm-up), each page's whole rerun after a filter change (AppTest, median of 7,
a different district each time so the query cache misses), the dashboard's memory, and a
baseline of the usual approach measured in the same run: pandas reading the same data from
CSV and computing the same answers; and the pages with the school districts' map, their
reruns and the deck.gl JSON they send, against the same pages without the map
(`--map-only` measures only that). Then the ingest of a 1 M-row CP932 CSV, and a load run
of 20 sessions against a real server (websocket clients speaking Streamlit's protocol, see
tools.stclient), straight to one process and through Caddy's HTTPS with 1 and 2 processes
(scripts/serve.py; `--proxy-only` measures only that). It writes a Markdown table.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import polars as pl

from tools import synth
from tsunagu.config import PROJECT_ROOT
from tsunagu.contract.weekdays import WEEKDAYS
from tsunagu.query import warm
from tsunagu.query.database import Database
from tsunagu.store.versions import Store, write_parquet

PAGES = ["overview", "places", "pantry", "forums", "district", "prefecture", "present", "handouts"]
TARGETS = {  # scale -> (query ms, page rerun ms)
    "city": (10, 100),
    "prefecture": (75, 300),
    "nation": (75, 300),
}
REPEATS = 7


def median_ms(fn, repeats: int | None = None) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats or REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb
    import streamlit

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, Polars {pl.__version__}, Streamlit {streamlit.__version__}; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )


# ---------------------------------------------------------------- pages through AppTest


def _bench_user(tmp: Path) -> Path:
    """The bench's own users file, with one manager; TSUNAGU_USERS_FILE points at it."""
    from tsunagu.access import users

    path = tmp / "users.yaml"
    os.environ["TSUNAGU_USERS_FILE"] = str(path)
    if not path.exists():
        users.add("bench", os.urandom(12).hex(), "manager", path=path)
    return path


def page_runs(root: Path, tmp: Path) -> tuple[dict, dict, dict, float]:
    """Run every page through AppTest; returns (the queries each page ran over all the
    districts tried, the queries of one view of it, the median rerun after a filter change
    per page in ms, the first page load in ms)."""
    from streamlit.testing.v1 import AppTest

    os.environ["TSUNAGU_DATA_DIR"] = str(root)
    _bench_user(tmp)
    calls: dict[str, list] = {}  # every query a page ran, over all the districts tried
    views: dict[str, list] = {}
    current: list = []
    from tsunagu.access import auth, users
    from tsunagu.dashboard import session

    original = session.run_query

    # what the page asks for, cached or not (Database.query sees only the cache's misses)
    def recording(name, **params):
        current.append((name, json.dumps(params, ensure_ascii=False, sort_keys=True, default=list)))
        return original(name, **params)

    def app() -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
        for key, value in auth.session_state_for(users.start_session("bench")).items():
            at.session_state[key] = value
        return at

    session.run_query = recording
    try:
        t = time.perf_counter()
        first = app()
        with _env_set({warm.ENV: "off"}):  # as before the cache: the load from Parquet included
            first.run()
        first_load = (time.perf_counter() - t) * 1000
        reruns = {}
        for page in PAGES:
            at = app()
            at.run()
            current.clear()  # what this page runs, first view included
            at.switch_page(f"pages/{page}.py").run()
            views[page] = sorted(set(current))  # one view of the page: its count and sum
            districts = [d for d in _districts(at)][: REPEATS + 1] or [None]
            times = []
            for i in range(REPEATS + 1):
                d = districts[i % len(districts)]
                ms = [w for w in at.multiselect if w.key == "f_dists"]
                if not ms:  # the wall has no sidebar: its own district picker instead
                    picks = [w for w in at.selectbox if (w.key or "").startswith("present_pick")]
                    target = picks[0].set_value(picks[0].options[(i + 1) % len(picks[0].options)])
                else:
                    target = ms[0].set_value([d] if d else [])
                t = time.perf_counter()
                target.run()
                if i:  # the first change warms the page's widgets
                    times.append((time.perf_counter() - t) * 1000)
            if at.exception:
                raise RuntimeError(f"{page}: {at.exception[0].message}")
            reruns[page] = statistics.median(times)
            calls[page] = sorted(set(current))
    finally:
        session.run_query = original
    return calls, views, reruns, first_load


def _districts(at) -> list[str]:
    ms = [w for w in at.multiselect if w.key == "f_dists"]
    return list(ms[0].options) if ms else []


def query_times(db: Database, calls: dict) -> dict[str, float]:
    unique = sorted({c for page in calls.values() for c in page})
    return {c: median_ms(lambda c=c: db.query(c[0], **json.loads(c[1]))) for c in unique}


# ---------------------------------------------------------------- the pandas baseline


def export_csv(db: Database, tmp: Path) -> dict[str, Path]:
    """The same data as CSV files, as a council would have them without the dashboard."""
    out = {}
    for ds in ("areas", "places", "pantry", "forums"):
        path = tmp / f"{ds}.csv"
        if not path.exists():
            db.sql(f"select * from {ds}_all").write_csv(path)
        out[ds] = path
    return out


def pandas_answers(files: dict[str, Path], muni: str, month: str) -> dict[str, float]:
    """The usual approach: each question reads the CSV it needs with pandas and computes the
    answer. Timed once per question (it is slow enough not to need repeats)."""
    import pandas as pd

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    def overview():
        p = pd.read_csv(files["places"])
        s = pd.read_csv(files["pantry"])
        f = pd.read_csv(files["forums"])
        p = p[(p.municipality == muni) & (p.status == "活動中")]
        p.groupby("month").agg(n=("place_id", "size"), sub=("subsidized", "sum"))
        s[s.municipality == muni].groupby("month")[["households_served", "consultations", "referrals"]].sum()
        f[f.municipality == muni].groupby("month").size()

    def places_by_fiscal_year():
        p = pd.read_csv(files["places"])
        p = p[(p.municipality == muni) & (p.status == "活動中")]
        fy = p.month.str[:4].astype(int) - (p.month.str[5:7].astype(int) < 4)
        last = p.groupby(fy).month.transform("max")
        p[p.month == last].groupby("month").size()

    def places_by_district():
        p = pd.read_csv(files["places"])
        a = pd.read_csv(files["areas"])
        p = p[(p.municipality == muni) & (p.month == month)]
        p.groupby(["district", "status"]).size().unstack(fill_value=0).join(
            a[a.municipality == muni].groupby("district").population_65plus.sum()
        )

    def pantry_monthly():
        s = pd.read_csv(files["pantry"])
        s[s.municipality == muni].groupby("month")[
            ["households_served", "consultations", "referrals", "new_donors"]
        ].sum().cumsum()

    def prefecture_compare():
        p = pd.read_csv(files["places"])
        a = pd.read_csv(files["areas"])
        p[(p.month == month) & (p.status == "活動中")].groupby("municipality").size().to_frame("n").join(
            a.groupby("municipality").population_65plus.sum()
        ).rank()

    return {
        name: timed(fn)
        for name, fn in [
            ("overview", overview),
            ("places_by_fiscal_year", places_by_fiscal_year),
            ("places_by_district", places_by_district),
            ("pantry_monthly", pantry_monthly),
            ("prefecture_compare", prefecture_compare),
        ]
    }


# ---------------------------------------------------------------- memory of the dashboard

# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forked parent (the
# bench, with stores of its own loaded), which made this read 895 MB for a 535 MB process
RSS_SCRIPT = """
import json, sys
from tsunagu.query.database import Database
from tsunagu.store.versions import Store, write_parquet
db = Database(Store(sys.argv[1]))
db.refresh()
for name, params in json.loads(sys.argv[2]):
    db.query(name, **json.loads(params))
print(next(int(l.split()[1]) // 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""


def dashboard_rss_mb(root: Path, calls: dict) -> int:
    unique = sorted({c for page in calls.values() for c in page})
    run = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(root), json.dumps(unique)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    return int(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- ingest


def upload_csv(frame: pl.DataFrame) -> bytes:
    """Rows as the CP932 CSV a council uploads: the contract's Japanese headers, はい/いいえ,
    no prefecture column (the municipality's name finds it in areas)."""
    from tsunagu.contract.labels import COLUMNS

    out = frame.drop("prefecture", "month", strict=False)
    bools = [c for c, t in out.schema.items() if t == pl.Boolean]
    out = out.with_columns(
        pl.col(c).replace_strict({True: "はい", False: "いいえ"}, return_dtype=pl.String) for c in bools
    ).rename({c: COLUMNS.get(c, c) for c in out.columns})
    buf = io.StringIO()
    out.write_csv(buf)
    return buf.getvalue().encode("cp932")


def ingest_1m(root: Path, tmp: Path, rows: int) -> tuple[float, float]:
    """Ingest `rows` places rows as one CP932 CSV into a fresh store with the same areas;
    returns (seconds, pandas read_csv seconds for the same bytes)."""
    from tsunagu.ingest.pipeline import ingest

    db = Database(Store(root))
    month = db.query("months")["month"][0]
    frame = db.sql("select * exclude (month) from places_all order by month desc, place_id limit $n", n=rows)
    # one month's snapshot has unique IDs: repeat months get a suffix, like a big city's list
    frame = frame.with_columns(
        pl.format("{}-{}", pl.col("place_id"), pl.int_range(pl.len())).alias("place_id")
    )
    content = upload_csv(frame)
    fresh = Store(tmp / "ingest")
    areas = Store(root).current_areas()
    fresh.commit("areas", "2015-04", areas, user="bench", source_name="areas", source_sha256="")
    t = time.perf_counter()
    result = ingest(content, "places", month, fresh, user="bench", file_name="1m.csv")
    seconds = time.perf_counter() - t
    if not result.ok:
        raise RuntimeError(f"ingest refused: {[str(e) for e in result.errors[:3]]}")
    import pandas as pd

    t = time.perf_counter()
    pd.read_csv(io.BytesIO(content), encoding="cp932", dtype=str)
    return seconds, time.perf_counter() - t


# ---------------------------------------------------------------- a workbook against its CSV

WORKBOOK_ROWS = 10_000  # a large city's list of places, as a coordinator keeps it in Excel
WORKBOOK_RUNS = 5


def workbook_ingest(root: Path, rows: int | None = None) -> dict[str, float]:
    """Validate the same `rows` places as a CP932 CSV and as the .xlsx the upload page offers to
    edit (「この月をExcelで編集」): medians of WORKBOOK_RUNS runs each, the workbook's read
    cache emptied before each run (the page reads a new file once)."""
    from tsunagu.ingest import excel
    from tsunagu.ingest.pipeline import validate_upload
    from tsunagu.ingest.workbook import edit_workbook

    rows = rows or WORKBOOK_ROWS
    store = Store(root)
    db = Database(store)
    month = db.query("months")["month"][0]
    frame = db.sql("select * exclude (month) from places_all order by month desc, place_id limit $n", n=rows)
    # as in ingest_1m: rows of earlier months get a suffix, like a big city's one list
    frame = frame.with_columns(
        pl.format("{}-{}", pl.col("place_id"), pl.int_range(pl.len())).alias("place_id")
    )

    files = {"csv": upload_csv(frame), "xlsx": edit_workbook("places", frame, month)}
    out: dict[str, float] = {"rows": frame.height}
    for kind, content in files.items():
        times = []
        for _ in range(WORKBOOK_RUNS):
            excel._cache.clear()
            t = time.perf_counter()
            validate_upload(content, "places", month, store)
            times.append(time.perf_counter() - t)
        out[kind] = statistics.median(times)
        out[f"{kind}_kb"] = len(content) / 1024
    t = time.perf_counter()
    edit_workbook("places", frame, month)
    out["write"] = time.perf_counter() - t
    return out


def workbook_section(r: dict[str, float]) -> list[str]:
    return [
        f"## 取り込み（Excel のブック、{r['rows']:,.0f}行の通いの場を検証するまで）",
        "",
        "| ファイル | 大きさ | 中央値 | CSV との比 |",
        "|---|---:|---:|---:|",
        f"| CSV（CP932） | {r['csv_kb']:,.0f} KB | {r['csv']:.2f} s | 1.0× |",
        f"| .xlsx（「この月をExcelで編集」のブック） | {r['xlsx_kb']:,.0f} KB | {r['xlsx']:.2f} s | "
        f"{r['xlsx'] / r['csv']:.1f}× |",
        "",
        f"ブックは別のプロセスで読みます（メモリの上限つき。壊れたブックや遠くのセルでサーバーが落ちないように）。"
        f"同じブックを書き出す時間は {r['write']:.2f} s です。",
        "",
    ]


def replace_workbook(out: Path, r: dict[str, float]) -> str:
    """Measure again only the workbook section: it replaces its part of an earlier report (or is
    added after the CSV ingest section)."""
    text = out.read_text(encoding="utf-8").rstrip("\n") + "\n"
    section = "\n".join(workbook_section(r))
    marker = "## 取り込み（Excel のブック"
    if marker in text:
        head, rest = text.split(marker, 1)
        tail = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
        text = head + section + ("\n## " + tail if tail else "")
    elif "\n## 小さなファイルの数" in text:
        head, tail = text.split("\n## 小さなファイルの数", 1)
        text = head + "\n" + section + "\n## 小さなファイルの数" + tail
    else:
        text += "\n" + section
    out.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return text


# ---------------------------------------------------------------- one municipality's upload

ACTIVE = "通いの場（活動中）"  # the overview's first figure (tsunagu.contract.labels.HEADLINES)


def home(store: Store) -> tuple[str, str, list[str]]:
    """The municipality the dashboard opens on for a user of everywhere (the first
    municipality of the first prefecture, by name: the municipalities query's order), and its
    districts."""
    areas = store.current_areas()
    pref = areas["prefecture"].min()
    muni = areas.filter(pl.col("prefecture") == pref).sort("municipality")["municipality"][0]
    mine = areas.filter((pl.col("prefecture") == pref) & (pl.col("municipality") == muni))
    return pref, muni, mine["district"].unique(maintain_order=True).to_list()


def municipality_upload(store: Store, pref: str, muni: str, month: str, extra: int) -> tuple[bytes, int]:
    """The municipality's month of places as its council uploads it again, with `extra` new
    places; and how many active places the month then has."""
    rows = store.read_month("places", month, [(pref, muni)])
    rows = rows.filter(~pl.col("place_id").str.starts_with("BENCH"))  # an earlier repeat's
    model = rows.filter(pl.col("status") == "活動中").head(1)
    added = [
        model.with_columns(place_id=pl.lit(f"BENCH{i:04d}"), name=pl.lit(f"ベンチ{i:04d}"))
        for i in range(extra)
    ]
    frame = pl.concat([rows, *added])
    return upload_csv(frame), frame.filter(pl.col("status") == "活動中").height


@contextlib.contextmanager
def put_back(store: Store, pref: str, muni: str, month: str, after=None) -> Iterator[None]:
    """The municipality's month as it was (restored, as a person would, from its kept version),
    so the benchmark's store reads the same after the measurement."""
    from tsunagu.store.versions import muni_key

    kept = store.parts("places", month)[muni_key(pref, muni)]["version"]
    try:
        yield
    finally:
        store.restore("places", month, kept, user="bench", municipality=(pref, muni))
        if after:
            after()


def upload_reload(db: Database, repeats: int = 3) -> dict:
    """One municipality's upload of its month (tsunagu.ingest.pipeline.ingest, as the upload
    page does) and the dashboard's reload of it, in this process, timed apart: the commit is
    the whole ingest (read, validate, compose the month, write); the reload is
    Database.refresh after it. Median of `repeats`, each a different figure."""

    store = db.store
    db.refresh()
    pref, muni, _ = home(store)
    month = store.latest_month("places")
    commits, reloads = [], []
    with put_back(store, pref, muni, month, after=db.refresh):
        for i in range(repeats):
            content, active = municipality_upload(store, pref, muni, month, i + 1)
            commits.append(_upload(store, pref, muni, month, content))
            t = time.perf_counter()
            db.refresh()
            reloads.append(time.perf_counter() - t)
            shown = db.query("overview", municipality=muni, prefecture=pref)["n_active_places"][0]
            if shown != active:
                raise RuntimeError(f"after the upload the overview shows {shown} places, not {active}")
    return {
        "commit_s": statistics.median(commits),
        "reload_s": statistics.median(reloads),
        "municipalities": len(store.parts("places", month)),
        "rows": store.current("places", month)["rows"],
        "repeats": repeats,
    }


def _upload(store: Store, pref: str, muni: str, month: str, content: bytes) -> float:
    """One municipality's places month through ingest(), as its coordinator uploads it: seconds."""
    from tsunagu.ingest.pipeline import ingest

    t = time.perf_counter()
    result = ingest(
        content, "places", month, store, user="bench", file_name="bench.csv", municipality=(pref, muni)
    )
    if not result.ok:
        raise RuntimeError(f"upload refused: {[str(e) for e in result.errors[:3]]}")
    return time.perf_counter() - t


def upload_visible(served: Served, repeats: int = 3, deadline_s: float = 1800) -> dict:
    """One municipality's upload seen on a running dashboard: a client signed in on the
    overview (the home municipality), then ingest() of that municipality's month with new
    places, then the page run again (as the next click or the wall's timer does) until its
    first figure shows the new count. Times from the start of the ingest. Median of `repeats`."""
    from tsunagu.access import users

    password = os.urandom(12).hex()
    users.set_password("bench", password, served.users_file)
    return asyncio.run(_upload_visible(served, password, repeats, deadline_s))


async def _upload_visible(served: Served, password: str, repeats: int, deadline_s: float) -> dict:
    from tsunagu.contract import fmt

    store = Store(served.root)
    pref, muni, _ = home(store)
    month = store.latest_month("places")
    client = served.client(timeout=1800)
    await client.open()
    try:
        t = time.perf_counter()
        run = await client.sign_in("bench", password)
        first_page = time.perf_counter() - t
        problem = _check(run, muni, None)
        if problem or ACTIVE not in run.metrics():
            raise RuntimeError(f"overview: {problem or 'no figure ' + ACTIVE}")
        rows = []
        with put_back(store, pref, muni, month):
            for i in range(repeats):
                content, active = municipality_upload(store, pref, muni, month, i + 1)
                want = fmt.number(active, "か所")
                t = time.perf_counter()
                commit = _upload(store, pref, muni, month, content)
                runs = 0
                while True:
                    run = await client.rerun()
                    runs += 1
                    if run.metrics().get(ACTIVE) == want:
                        break
                    if time.perf_counter() - t > deadline_s:
                        raise RuntimeError(f"the page still shows {run.metrics().get(ACTIVE)}, not {want}")
                rows.append((commit, run.seconds, time.perf_counter() - t, runs))
        await client.rerun()  # the server loads the restored month before the next measurement
    finally:
        await client.close()
    return {
        "commit_s": statistics.median(r[0] for r in rows),
        "page_s": statistics.median(r[1] for r in rows),
        "visible_s": statistics.median(r[2] for r in rows),
        "reruns": max(r[3] for r in rows),
        "repeats": repeats,
        "first_page_s": first_page,
    }


# ---------------------------------------------------------------- first load

LOAD_SCRIPT = """
import sys, time
from tsunagu.query.database import Database
from tsunagu.store.versions import Store, write_parquet
t = time.perf_counter()
Database(Store(sys.argv[1])).refresh()
print(time.perf_counter() - t)
"""
FIRST_LOAD_BEFORE_S = 34.0  # nation, before per-municipality uploads (issue 14's reference)


def first_loads(root: Path, runs: int) -> list[float]:
    """The store's first load from its Parquet files by a new dashboard process (checksums,
    tables, uploads), in seconds, once per fresh process (the warm-restart cache left aside:
    see restarts)."""
    out = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", LOAD_SCRIPT, str(root)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            check=True,
            env=os.environ | {warm.ENV: "off"},
        )
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out


# ---------------------------------------------------------------- many small files


def small_files(root: Path, tmp: Path, repeats: int | None = None) -> dict:
    """DuckDB's read_parquet over the store's files against the same month in one file per
    municipality: a full scan, one municipality, and loading the month into a table (what
    the dashboard does after an upload). The month before the latest: the history, written
    by prefectures' uploads, so its 47-odd version files are the middle case."""
    import duckdb

    store = Store(root)
    months = store.months("places")
    month = months[-2] if len(months) > 1 else months[-1]
    whole = store.root / store.current("places", month)["file"]
    frame = pl.read_parquet(whole)
    folder = tmp / "small-files" / f"month={month}"
    if not folder.exists():
        staging = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for (pref, muni), part in frame.partition_by(["prefecture", "municipality"], as_dict=True).items():
            write_parquet(part, staging / f"{pref}_{muni}.parquet")
        staging.rename(folder)
    pref, muni = frame.row(frame.height // 2, named=True)["prefecture"], None
    muni = frame.filter(pl.col("prefecture") == pref)["municipality"][0]
    versions = sorted(store.archive_dir("places", month).glob("v*.parquet"))
    cases = [
        ("month_file", [whole]),
        ("versions", versions),
        ("per_municipality", sorted(folder.glob("*.parquet"))),
        ("live_glob", [store.root / "places" / "*" / "*.parquet"]),
    ]
    con = duckdb.connect()
    out = {}
    for name, files in cases:
        listed = ", ".join(f"'{f}'" for f in files)
        source = f"read_parquet([{listed}], hive_partitioning = true, hive_types = {{'month': varchar}})"
        n_files = len(files) if name != "live_glob" else len(store.months("places"))
        rows = con.sql(f"select count(*) from {source}").fetchall()[0][0]
        scan = median_ms(
            lambda s=source: con.sql(f"select count(*), sum(participants_avg) from {s}").fetchall(), repeats
        )
        one = median_ms(
            lambda s=source: con.execute(
                f"select count(*), sum(participants_avg) from {s} where prefecture = ? and municipality = ?",
                [pref, muni],
            ).fetchall(),
            repeats,
        )
        load = (
            median_ms(
                lambda s=source: con.sql(
                    f"create or replace temp table t as select * from {s} order by prefecture, municipality"
                ),
                repeats,
            )
            if name != "live_glob"
            else None
        )
        out[name] = {"files": n_files, "rows": rows, "scan_ms": scan, "one_ms": one, "load_ms": load}
    con.close()
    return out | {"month": month}


# ---------------------------------------------------------------- concurrent sessions

ARRIVAL_S = 0.5  # people open the dashboard one after another
THINK_S = (0.5, 2.0)  # a person looks at the page before choosing the next district
# the load run at two paces: people following a meeting, and everyone clicking at once
PACES = [("会議のペース", (4.0, 8.0)), ("せわしないペース", THINK_S)]
READER_THINK_S = (3.0, 8.0)  # a resident reads the cards before searching again


def district_heading(muni: str, district: str | None) -> str:
    """What the page's h2 heading shows for this choice (header.page_header, Filters.area_label)."""
    return f"{muni} {district}" if district else f"{muni}全域"


@dataclass(frozen=True)
class Served:
    """A dashboard process serving `root` on loopback, with the bench's users file; or, with
    `url`, Caddy on HTTPS in front of the processes `pids` on `ports` (the first is pid/port)."""

    root: Path
    pid: int
    port: int
    users_file: Path
    pids: tuple[int, ...] = ()
    ports: tuple[int, ...] = ()
    url: str = ""  # https://… of the proxy; "" = straight to `port`
    ssl_context: ssl.SSLContext | None = None  # trusts Caddy's internal root (the run's storage)
    proxy_pid: int = 0

    @property
    def servers(self) -> tuple[int, ...]:
        return self.pids or (self.pid,)

    @property
    def upstreams(self) -> tuple[int, ...]:
        return self.ports or (self.port,)

    def client(self, timeout: float = 120.0, upstream: int | None = None):
        """A session as a browser opens it: through the proxy when there is one (pinned to the
        `upstream` port by the sticky cookie if given; else Caddy chooses and sets the cookie)."""
        from tools.server import LB_COOKIE, lb_value
        from tools.stclient import StreamClient

        if not self.url:
            return StreamClient(upstream or self.port, timeout)
        cookies = {LB_COOKIE: lb_value(upstream)} if upstream else None
        return StreamClient(url=self.url, timeout=timeout, ssl_context=self.ssl_context, cookies=cookies)

    def upstream_of(self, client) -> int | None:
        """The port a session's websocket went to: what it asked for, or what Caddy's cookie says."""
        from tools.server import LB_COOKIE, lb_value

        if not self.url:
            return self.port
        value = client.set_cookies.get(LB_COOKIE) or client.cookies.get(LB_COOKIE)
        return next((p for p in self.upstreams if lb_value(p) == value), None)


@contextlib.contextmanager
def serve(root: Path, tmp: Path) -> Iterator[Served]:
    """One real server (tools.server) for load runs; the caller's environment is left as it was."""
    from tools import server

    with contextlib.ExitStack() as stack:
        with _env_kept():  # the server copies the environment when it starts
            users_file = _bench_user(tmp)
            proc, port = stack.enter_context(server.running(root, wait_s=300))
        yield Served(root, proc.pid, port, users_file)


@contextlib.contextmanager
def serve_proxied(root: Path, tmp: Path, processes: int) -> Iterator[Served]:
    """Caddy (HTTPS, sticky sessions) in front of `processes` dashboards, started by the
    project's own command (scripts/serve.py through tools.server.proxied); its storage and CA
    in tmp/serve-run, made once and kept for the next start."""
    from tools import server

    with contextlib.ExitStack() as stack:
        with _env_kept():  # serve.py and its processes copy the environment when they start
            users_file = _bench_user(tmp)
            p = stack.enter_context(server.proxied(root, processes, run_dir=tmp / "serve-run", wait_s=600))
        yield Served(
            root,
            p.pids[0],
            p.ports[0],
            users_file,
            pids=p.pids,
            ports=p.ports,
            url=p.url,
            ssl_context=ssl.create_default_context(cafile=str(p.ca)),
            proxy_pid=p.caddy_pid,
        )


def load_run(
    root: Path,
    tmp: Path,
    sessions: int = 20,
    changes: int = 5,
    seed: int = 0,
    think: tuple[float, float] = THINK_S,
    readers: int = 0,
) -> dict:
    """A load run against a server of its own (see load_on)."""
    with serve(root, tmp) as served:
        return load_on(served, sessions, changes, seed, think, readers)


def load_on(
    served: Served,
    sessions: int = 20,
    changes: int = 5,
    seed: int = 0,
    think: tuple[float, float] = THINK_S,
    readers: int = 0,
) -> dict:
    """`sessions` websocket clients speaking Streamlit's own protocol (tools.stclient)
    against one real server on loopback: each signs in with the form, then chooses a
    different district `changes` times, with a think time between. A change's time is from
    sending the rerun to the server's script_finished; the clients cost little, so it is
    the server that is measured. With `readers`, that many residents at the same time,
    signed out, on the public guide (/guide), each changing its weekday or district `changes`
    times at a reader's pace (READER_THINK_S); their figures are reported apart."""
    from tsunagu.access import users

    store = Store(served.root)
    areas = store.read_month("areas", store.latest_month("areas"))
    # the dashboard opens on the first municipality of the first prefecture, in the
    # order of the municipalities query (by name)
    pref = areas["prefecture"].min()
    muni = areas.filter(pl.col("prefecture") == pref).sort("municipality")["municipality"][0]
    mine = areas.filter((pl.col("prefecture") == pref) & (pl.col("municipality") == muni))
    dists = mine["district"].unique(maintain_order=True).to_list()
    password = os.urandom(12).hex()
    users.set_password("bench", password, served.users_file)
    r = asyncio.run(_sessions(served, muni, dists, password, sessions, changes, seed, think, readers))
    return r | {"think": think}


def _area_headings(run) -> list[str]:
    return [t for t in run.texts() if t.startswith("## ")]


def _check(run, muni: str, district: str | None) -> str | None:
    """Why this run does not show what was asked for, or None."""
    if run.exceptions:
        return f"exception: {run.exceptions[0][:120]}"
    want = district_heading(muni, district)
    if not any(want in h for h in _area_headings(run)):
        return f"heading without 「{want}」: {(_area_headings(run) or ['(no h2)'])[0][:80]}"
    return None


async def _sessions(
    served: Served,
    muni: str,
    dists: list[str],
    password: str,
    sessions: int,
    changes: int,
    seed: int,
    think: tuple[float, float],
    readers: int = 0,
) -> dict:
    import random

    # so the sessions measure reruns, not the store's first load: one sign-in on each process
    # (pinned to it by the proxy's cookie)
    for upstream in served.upstreams:
        warm = served.client(timeout=900, upstream=upstream)
        await warm.open()
        try:
            problem = _check(await warm.sign_in("bench", password), muni, None)
        finally:
            await warm.close()
        if problem:
            raise RuntimeError(f"warm-up on :{upstream}: {problem}")

    latencies: list[float] = []
    errors: list[str] = []
    pinned: list[int | None] = []  # each session's process, as the proxy pinned it
    # people arrive and sign in one after another, then the meeting starts: the changes are
    # measured with everyone connected, not against the sign-ins (a bcrypt check and a
    # first page each)
    arrived: list[int] = []
    everyone_in = asyncio.Event()

    def here(i: int) -> None:
        arrived.append(i)
        if len(arrived) == sessions + readers:
            everyone_in.set()

    public = {"opened": [], "latencies": [], "errors": []}

    async def reader(i: int) -> None:
        # residents arrive between the signed-in people, open the guide from a link and search
        await asyncio.sleep((i + 0.5) * ARRIVAL_S * max(1, sessions) / max(1, readers))
        rng = random.Random(seed * 100_003 + 50_000 + i)
        client = served.client()
        try:
            try:
                await client.open()
                run = await client.open_page("guide")
                problem = _check_public(run)
                if not problem:
                    public["opened"].append(run.seconds)
            finally:
                here(sessions + i)
            if problem:
                raise RuntimeError(f"/guide: {problem}")
            await everyone_in.wait()
            for k in range(changes):
                await asyncio.sleep(rng.uniform(*READER_THINK_S))
                if k % 2 == 0:  # a weekday, or none again
                    day = rng.choice([*WEEKDAYS, None])
                    run = await client.choose("guide_day", [day] if day else [])
                else:  # another district, or all of them
                    box = client.last.widget("guide_district")
                    run = await client.choose("guide_district", rng.choice(list(box.options)))
                problem = _check_public(run)
                if problem:
                    public["errors"].append(f"reader {i} change {k}: {problem}")
                else:
                    public["latencies"].append(run.seconds)
        except Exception as e:  # counted, not raised
            public["errors"].append(f"reader {i}: {type(e).__name__}: {str(e)[:120]}")
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    async def person(i: int) -> None:
        await asyncio.sleep(i * ARRIVAL_S)
        rng = random.Random(seed * 100_003 + i)  # each person thinks at their own pace
        client = served.client()
        try:
            try:
                await client.open()
                pinned.append(served.upstream_of(client))
                problem = _check(await client.sign_in("bench", password), muni, None)
            finally:
                here(i)
            if problem:
                raise RuntimeError(f"sign-in: {problem}")
            await everyone_in.wait()
            for k in range(changes):
                await asyncio.sleep(rng.uniform(*think))
                d = dists[(i + k) % len(dists)]
                run = await client.pick_districts([d])
                problem = _check(run, muni, d)
                if problem:  # counted; the session goes on as a person would
                    errors.append(f"client {i} change {k}: {problem}")
                else:
                    latencies.append(run.seconds)
        except Exception as e:  # counted, not raised: the run reports its errors
            errors.append(f"client {i}: {type(e).__name__}: {str(e)[:120]}")
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    pids = served.servers
    rss_before = rss_peak = sum(_rss_mb(pid) for pid in pids)
    tasks = [asyncio.create_task(person(i)) for i in range(sessions)]
    tasks += [asyncio.create_task(reader(i)) for i in range(readers)]
    waiting = asyncio.create_task(everyone_in.wait())
    while not waiting.done() and not all(task.done() for task in tasks):
        rss_peak = max(rss_peak, sum(_rss_mb(pid) for pid in pids))
        await asyncio.wait([waiting, *tasks], timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    # each process's own count of its sessions, with everyone in (its metrics, on loopback)
    held = {port: _active_sessions(port) for port in served.upstreams}
    # the changes: from everyone signed in to the last change done
    cpu_before, own_before = sum(_cpu_s(pid) for pid in pids), time.process_time()
    proxy_before = _cpu_s(served.proxy_pid) if served.proxy_pid else 0.0
    machine_before = _machine_cpu_s()
    t = time.perf_counter()
    while not all(task.done() for task in tasks):
        rss_peak = max(rss_peak, sum(_rss_mb(pid) for pid in pids))
        await asyncio.wait(tasks, timeout=0.5)
    wall = time.perf_counter() - t
    server_cpu = sum(_cpu_s(pid) for pid in pids) - cpu_before
    client_cpu = time.process_time() - own_before
    proxy_cpu = _cpu_s(served.proxy_pid) - proxy_before if served.proxy_pid else 0.0
    busy, total = (after - before for after, before in zip(_machine_cpu_s(), machine_before, strict=True))
    lat = sorted(latencies)
    return {
        "sessions": sessions,
        "changes": changes,
        "reruns": len(lat),
        "errors": errors,
        "p50_ms": statistics.median(lat) * 1000 if lat else None,
        "p95_ms": _p95(lat) * 1000 if lat else None,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
        # the servers' most resident since they started, the store's first load included
        "server_hwm_mb": sum(_rss_mb(pid, "VmHWM") for pid in pids),
        "per_session_mb": (rss_peak - rss_before) / sessions,
        "server_cpu_s": server_cpu,
        "wall_s": wall,
        # the clients' own CPU (this process): small, or the server was not what was measured
        "client_cpu_s": client_cpu,
        "processes": len(pids),
        "proxy": bool(served.url),
        "proxy_cpu_s": proxy_cpu,
        # the whole machine's CPU over the changes (every core), and what others used of it
        "machine_cpu_s": total,
        "machine_busy_s": busy,
        "others_cpu_s": max(0.0, busy - server_cpu - client_cpu - proxy_cpu),
        # sessions per process (by port, in order; "?" = no cookie to tell), as the proxy
        # pinned them and as each process counts them
        "spread": {str(port): pinned.count(port) for port in served.upstreams}
        | ({"?": pinned.count(None)} if None in pinned else {}),
        "held": {str(port): n for port, n in held.items()},
    } | ({"public": _public_figures(readers, public)} if readers else {})


def _public_figures(readers: int, public: dict) -> dict:
    lat, opened = public["latencies"], public["opened"]
    return {
        "readers": readers,
        "reruns": len(lat),
        "errors": public["errors"],
        "p50_ms": statistics.median(lat) * 1000 if lat else None,
        "p95_ms": _p95(lat) * 1000 if lat else None,
        "open_p95_ms": _p95(opened) * 1000 if opened else None,
    }


def _check_public(run) -> str | None:
    """Why this run is not the public guide as a signed-out resident sees it, or None: an
    exception, no count of places found, or anything of the signed-in dashboard."""
    if run.exceptions:
        return f"exception: {run.exceptions[0][:120]}"
    if run.widget("sign_in_user") is not None or run.widget("f_dists") is not None:
        return "the sign-in form or the dashboard's filters instead of the guide"
    if not any("か所 見つかりました" in t for t in run.texts()):
        return "no 「…か所 見つかりました」: " + " / ".join(run.texts())[:100]
    return None


def sessions_section(scale: str, r: dict, pace: str = "") -> list[str]:
    n, changes = r["sessions"], r.get("changes", 5)
    lo, hi = r.get("think", THINK_S)
    lines = [
        f"## 同時アクセス（{scale}、WebSocket クライアント {n} 本が同時に、サイドバーの地区を"
        f"{changes}回ずつ選び直す{'、' + pace if pace else ''}）",
        "",
        f"- 再表示 {r['reruns']} 回: p50 {r['p50_ms'] or 0:,.0f} ms、p95 {r['p95_ms'] or 0:,.0f} ms"
        f"（目標 p95 ≤ 1,000 ms: {'達成' if (r['p95_ms'] or 1e9) <= 1000 else '未達'}）、エラー {len(r['errors'])} 件"
        + (f"（{r['errors'][0]}）" if r["errors"] else ""),
        f"- サーバーのメモリ: {n}セッションの前 {r['rss_before_mb']:,} MB → 最大 {r['rss_peak_mb']:,} MB"
        f"（1セッションあたり約 {r['per_session_mb']:.0f} MB）"
        + (
            f"。起動からの最大は {r['server_hwm_mb']:,} MB（起動時のストアの読み込み、またはキャッシュからの起動を含む）"
            if r.get("server_hwm_mb")
            else ""
        ),
    ]
    if r.get("server_cpu_s") is not None:
        lines.append(
            f"- サーバーの CPU 時間: {r['server_cpu_s']:.1f} 秒（全員のサインイン後、選び直しの {r['wall_s']:.0f} 秒の間。"
            f"クライアント側は合わせて {r.get('client_cpu_s', 0):.1f} 秒）"
            + (
                f"。再表示1回あたり {r['server_cpu_s'] / r['reruns'] * 1000:,.0f} ms"
                if r.get("reruns")
                else ""
            )
        )
    lines += [
        "- 時間は、地区を選び直した要求をサーバーに送ってから、その再実行が終わった通知"
        "（script_finished）を受け取るまで。クライアントはブラウザではなく、Streamlit の通信手順で"
        f"話す軽い WebSocket クライアント（同じマシンのループバック）で、1人ずつ{ARRIVAL_S}秒おきにサインインフォームから"
        f"サインインし、全員がそろってから、それぞれ{lo:g}〜{hi:g}秒考えては次の地区を選びます。"
        "ブラウザの描画の時間は含まず、ほぼサーバーだけの時間です。",
        "",
    ]
    return lines


BEFORE_PACE = "せわしないペース、以前の動き（再実行のキャッシュなし、実行ごとの GC あり）"
# the rerun as it was before issue 16: no rerun caches, and Streamlit's full garbage collection
# after every script run (.streamlit/config.toml now turns it off)
BEFORE_ENV = {"TSUNAGU_RERUN_CACHE": "off", "STREAMLIT_RUNNER_POST_SCRIPT_GC": "true"}


def load_runs(root: Path, tmp: Path, sessions: int, before: bool = True) -> list[tuple[str, dict]]:
    """The load run at each pace; with `before`, the busy pace again on a server that reruns
    as before (BEFORE_ENV), for the server CPU per rerun before and after in the same run."""
    runs = [(pace, load_run(root, tmp, sessions, think=think)) for pace, think in PACES]
    if before:
        with _env_set(BEFORE_ENV):  # the server copies the environment
            runs.append((BEFORE_PACE, load_run(root, tmp, sessions, think=THINK_S)))
    return runs


def replace_sessions(out: Path, scale: str, runs: list[tuple[str, dict]]) -> str:
    """Run again only the load test: its sections of an earlier report are replaced where the
    first of them was; the sections after them (the run through the proxy) are kept."""
    text = out.read_text(encoding="utf-8").rstrip("\n")
    head, *sections = text.split("\n## ")
    old = [x.startswith("同時アクセス（") for x in sections]
    at = old.index(True) if True in old else len(sections)
    new = "\n" + "\n".join(line for pace, r in runs for line in sessions_section(scale, r, pace))
    parts = [head, *sections[:at], *new.split("\n## ")[1:]]
    parts += [x for x, was in zip(sections[at:], old[at:], strict=True) if not was]
    text = "\n## ".join(x.rstrip("\n") + "\n" for x in parts).rstrip("\n") + "\n"
    out.write_text(text, encoding="utf-8")
    return text


# ---------------------------------------------------------------- the public guide's readers

PUBLIC_MARKER = "## 公開ページ（通いの場ガイド）の読者と同時に"


def public_runs(root: Path, tmp: Path, sessions: int = 20, readers: int = 40) -> list[dict]:
    """Signed-in people at the busy pace on one process, alone (the baseline) and then with
    `readers` residents on the public guide at the same time, each run on a server of its own."""
    return [
        load_run(root, tmp, sessions, think=THINK_S),
        load_run(root, tmp, sessions, think=THINK_S, readers=readers),
    ]


def public_section(scale: str, runs: list[dict], command: str = "") -> list[str]:
    alone, mixed = runs
    pub = mixed["public"]
    lo, hi = READER_THINK_S

    def ms(v) -> str:
        return "—" if v is None else f"{v:,.0f}"

    ratio = f"{mixed['p95_ms'] / alone['p95_ms']:.2f}×" if alone["p95_ms"] and mixed["p95_ms"] else "—"
    ok = (pub["p95_ms"] or 1e9) <= TARGET_P95_MS and not pub["errors"]
    return [
        f"{PUBLIC_MARKER}（{scale}、1プロセス、サインインした {alone['sessions']}人 ＋ 公開ページの読者 {pub['readers']}人）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}"
        + (f"。`{command}`" if command else "")
        + f"。サインインした人はせわしないペースで地区を{alone['changes']}回ずつ選び直し、同じ時間に住民が"
        f"サインインせずに /guide を開いて、{lo:g}〜{hi:g}秒ごとに曜日か地区を{mixed['changes']}回ずつ選び直します。",
        "",
        "| 実行 | だれの操作 | 再表示の回数 | p50 (ms) | p95 (ms) | エラー |",
        "|---|---|---:|---:|---:|---:|",
        f"| 基準（読者なし） | サインインした人 | {alone['reruns']} | {ms(alone['p50_ms'])} | {ms(alone['p95_ms'])} | {len(alone['errors'])} |",
        f"| 読者あり | サインインした人 | {mixed['reruns']} | {ms(mixed['p50_ms'])} | {ms(mixed['p95_ms'])} | {len(mixed['errors'])} |",
        f"| 読者あり | 公開ページの読者 | {pub['reruns']} | {ms(pub['p50_ms'])} | {ms(pub['p95_ms'])} | {len(pub['errors'])} |",
        "",
        f"- 読者がいるときのサインインした人の p95 は、読者なしの {ratio}。"
        f"公開ページを開いてから最初の表示まで p95 {ms(pub['open_p95_ms'])} ms。"
        f"読者の検索の p95 目標 ≤ {TARGET_P95_MS:,.0f} ms: {'達成' if ok else '未達'}"
        + (f"（{pub['errors'][0]}）" if pub["errors"] else ""),
        f"- サーバーの CPU 時間: 読者なし {alone['server_cpu_s']:.1f} 秒、読者あり {mixed['server_cpu_s']:.1f} 秒。"
        f"その間にほかのプロセスが使った CPU {mixed['others_cpu_s']:.1f} 秒（2コアの共有マシン）。",
        "- 読者の表示ごとに、サインインのフォームやダッシュボードの絞り込みが出ていないこと、"
        "「…か所 見つかりました」が出ていることを確かめています（出なければエラーに数えます）。",
        "",
    ]


# ---------------------------------------------------------------- through the proxy

TARGET_P95_MS = 1000.0  # issue 16: busy pace 20 sessions, meeting pace 40 sessions
# (pace, seconds between a person's changes, sessions as a multiple of --sessions)
PROXY_CASES = [(*PACES[0], 1), (*PACES[1], 1), (*PACES[0], 2)]
# (through Caddy, dashboard processes): the direct run is the baseline
ROUTES = [(False, 1), (True, 1), (True, 2)]
# a load average at or over the 2 cores at a run's start: others were at work too (a run of
# our own leaves about 1-1.5 behind it in the next run's 1-minute average)
BUSY_LOAD = 2.0


def proxy_runs(root: Path, tmp: Path, sessions: int = 20, log=print) -> list[dict]:
    """The load run through Caddy (HTTPS, sticky sessions; scripts/serve.py) with 1 and 2
    processes, and straight to one process as the baseline, each pace and size in turn (the
    three routes of a case one after another, so the machine is alike for them). Each run
    starts its own servers; the load average is read before they start."""
    out = []
    for pace, think, times in PROXY_CASES:
        n = sessions * times
        for proxy, processes in ROUTES:
            log(
                f"同時アクセス: {pace}・{n}セッション・{'Caddy 経由' if proxy else '直結'}・{processes}プロセス…"
            )
            load = os.getloadavg()[0]
            if proxy:
                with serve_proxied(root, tmp, processes) as served:
                    r = load_on(served, n, think=think)
            else:
                r = load_run(root, tmp, n, think=think)
            out.append(r | {"pace": pace, "load_avg": load})
    return out


def _route(r: dict) -> str:
    return "Caddy（HTTPS）" if r.get("proxy") else "直結（基準）"


def _baseline(runs: list[dict], r: dict) -> dict | None:
    return next(
        (b for b in runs if not b.get("proxy") and b["pace"] == r["pace"] and b["sessions"] == r["sessions"]),
        None,
    )


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.2f}" if value and base else "—"


def _spread(r: dict) -> str:
    """Sessions per process as the proxy pinned them (the processes' own count if it differs)."""
    spread = r.get("spread") or {}
    pinned = [n for port, n in spread.items() if port != "?"]
    shown = " / ".join(map(str, pinned))
    if spread.get("?"):
        shown += f"（不明 {spread['?']}）"
    held = list((r.get("held") or {}).values())
    if held and None not in held and held != pinned:
        shown += "（プロセスの数え: " + " / ".join(map(str, held)) + "）"
    return shown or "—"


def _share(seconds: float, r: dict) -> str:
    return f"{seconds / r['machine_cpu_s']:.0%}" if r.get("machine_cpu_s") else "—"


def where_the_time_goes(r: dict) -> str:
    """A missed target, by how much, and where the time went: the rerun's own CPU, and the
    wait for a core (each process runs one script at a time under Python's GIL; the machine's
    2 cores are shared with Caddy, the clients and whoever else is at work)."""
    p95 = r["p95_ms"] or 0
    per_rerun = r["server_cpu_s"] / r["reruns"] * 1000 if r.get("reruns") else 0
    busy_one = r["server_cpu_s"] / r["wall_s"] / r["processes"] if r.get("wall_s") else 0
    total = r.get("machine_cpu_s") or 0
    others = r.get("others_cpu_s", 0) / total if total else 0
    ours = r["server_cpu_s"] / total if total else 0
    if others >= 0.25 and others >= ours:
        cause = "待ちの主な原因は、同じマシンのほかの作業が CPU を使っていたことです。"
    elif busy_one >= 0.5:
        cause = "待ちの主な原因は、ダッシュボードのプロセスが手いっぱいだったことです（プロセスを増やすと分かれます）。"
    else:
        cause = "待ちの主な原因は、マシン全体の CPU が足りなかったことです。"
    return (
        f"p95 {p95:,.0f} ms は目標を {p95 - TARGET_P95_MS:,.0f} ms（{p95 / TARGET_P95_MS - 1:.0%}）超えています。"
        f"再表示1回の実行そのものに使うサーバーの CPU は {per_rerun:,.0f} ms で、残りの約 "
        f"{max(0.0, p95 - per_rerun):,.0f} ms は CPU の順番待ちです: ダッシュボード1つの CPU 使用率 {busy_one:.0%}"
        f"（1つのプロセスの中では Python の GIL のため再実行が1つずつ進みます）、マシン全体（2コア）の使用率 "
        f"{_share(r.get('machine_busy_s', 0), r)}（ダッシュボード {_share(r['server_cpu_s'], r)}、"
        f"Caddy {_share(r.get('proxy_cpu_s', 0), r)}、クライアント {_share(r['client_cpu_s'], r)}、"
        f"ほかの作業 {_share(r.get('others_cpu_s', 0), r)}）。" + cause
    )


PROXY_MARKER = "## Caddy（HTTPS）を通した同時アクセス"


def proxy_section(scale: str, runs: list[dict], command: str = "") -> list[str]:
    lines = [
        f"{PROXY_MARKER}（{scale}、1プロセスと2プロセス、直結と比べて）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}"
        + (f"。`{command}`" if command else "")
        + "。どのセッションも全員のサインインのあと地区を"
        + f"{runs[0]['changes'] if runs else 5}回ずつ選び直します。",
        "",
        "| ペース | セッション | 経路 | プロセス | セッションの振り分け | p50 (ms) | p95 (ms) | 直結との比（p50 / p95） "
        "| 目標 p95 ≤ 1,000 ms | エラー | 開始時のロードアベレージ |",
        "|---|---:|---|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in runs:
        base = _baseline(runs, r)
        p95 = r["p95_ms"]
        met = p95 is not None and p95 <= TARGET_P95_MS and not r["errors"]
        target = "達成" if met else ("未達" + (f"（+{p95 - TARGET_P95_MS:,.0f} ms）" if p95 else ""))
        lines.append(
            f"| {r['pace']} | {r['sessions']} | {_route(r)} | {r['processes']} | {_spread(r)} | "
            f"{r['p50_ms'] or 0:,.0f} | {p95 or 0:,.0f} | "
            + (
                f"{_ratio(r['p50_ms'], base['p50_ms'])} / {_ratio(p95, base['p95_ms'])}"
                if base is not None and base is not r
                else "1.00 / 1.00"
                if base is r
                else "—"
            )
            + f" | {target} | {len(r['errors'])} | {r.get('load_avg', 0):.1f} |"
        )
    lines += [
        "",
        "| ペース | セッション | 経路 | プロセス | 選び直しの間 (s) | 再表示1回のサーバー CPU (ms) | "
        "ダッシュボード1つの CPU 使用率 | Caddy の CPU (s) | クライアントの CPU (s) | マシン全体の CPU 使用率（うちほかの作業） "
        "| ダッシュボードのメモリ（合計、最大） |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        per = r["server_cpu_s"] / r["reruns"] * 1000 if r.get("reruns") else 0
        one = r["server_cpu_s"] / r["wall_s"] / r["processes"] if r.get("wall_s") else 0
        lines.append(
            f"| {r['pace']} | {r['sessions']} | {_route(r)} | {r['processes']} | {r['wall_s']:.0f} | {per:,.0f} | "
            f"{one:.0%} | {r.get('proxy_cpu_s', 0):.1f} | {r['client_cpu_s']:.1f} | "
            f"{_share(r.get('machine_busy_s', 0), r)}（{_share(r.get('others_cpu_s', 0), r)}） | "
            f"{r.get('rss_peak_mb', 0):,} MB |"
        )
    lines.append("")
    missed = [r for r in runs if (r["p95_ms"] or 1e9) > TARGET_P95_MS or r["errors"]]
    for r in missed:
        lines.append(
            f"- 未達: {r['pace']}・{r['sessions']}セッション・{_route(r)}・{r['processes']}プロセス。"
            + (where_the_time_goes(r) if r["p95_ms"] else "")
            + (f" エラー {len(r['errors'])} 件（{r['errors'][0]}）。" if r["errors"] else "")
        )
    busiest = max((r.get("load_avg", 0) for r in runs), default=0)
    others = max(
        (r.get("others_cpu_s", 0) / r["machine_cpu_s"] for r in runs if r.get("machine_cpu_s")), default=0
    )
    if busiest >= BUSY_LOAD or others >= 0.1:
        lines.append(
            f"- この測定の間、同じ2コアをほかの作業（ほかのエンジニアのテストなど）も使っていました: 開始時の"
            f"ロードアベレージは最大 {busiest:.1f}、選び直しの間にほかのプロセスが使った CPU はマシンの最大 {others:.0%}。"
            "その分だけ数字は悪く出ています。"
        )
    if missed or busiest >= BUSY_LOAD or others >= 0.1:
        lines.append("")
    lines += [
        "直結: tools.server のプロセス1つに `ws://127.0.0.1` で。Caddy: `scripts/serve.py`（`make serve` と同じ起動、"
        "deploy/Caddyfile）で起動したプロセスと Caddy に、`wss://`（Caddy の社内 CA を信頼した TLS）で。"
        "ブラウザと同じく Caddy がセッションごとにプロセスを選んでクッキー（tsunagu_lb）で固定し、WebSocket は"
        "閉じるまでそのプロセスにつながります。振り分けは、Caddy が返したクッキーから数えたプロセスごとのセッション数です"
        "（ポートの順。クッキーのない最初の接続のプロセスを Caddy 2.6 は無作為に選ぶので、偏ることがあります）。比は同じペース・同じセッション数の直結の実行に対するもの。"
        "時間の測り方とクライアントは上の同時アクセスと同じで、実行ごとにサーバーを起動し直し、各プロセスで1回サインインして"
        "ストアを読み込ませてから測ります。CPU は選び直しの間（全員のサインイン後）のもので、マシン全体の使用率は"
        "2コア分に対する割合、「ほかの作業」はマシン全体からダッシュボード・Caddy・クライアントを引いた残りです。"
        "開始時のロードアベレージ（1分平均）には、直前の実行の負荷も残っています。",
        "",
    ]
    return lines


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # the name may hold spaces
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu_s() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, every core (/proc/stat)."""
    with open("/proc/stat", encoding="utf-8") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    total = sum(values[:8])  # guest time is already in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick


def _active_sessions(port: int) -> int | None:
    """The sessions a dashboard process holds (its own metrics, on its loopback port)."""
    import urllib.request

    with contextlib.suppress(OSError, StopIteration, ValueError):
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=10).read().decode()
        return int(float(next(x.split()[-1] for x in text.splitlines() if x.startswith("active_sessions"))))
    return None


def _rss_mb(pid: int, field: str = "VmRSS") -> int:
    """Resident MB now, or with field="VmHWM" the most the process has had resident."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- a restart, and CPU per rerun

RESTART_RUNS = 3
RESTART_TARGET_S = 5.0  # nation (issue 16)


def _env_set(values: dict[str, str]):
    """These environment variables for a while, and the environment as it was afterwards."""
    return mock.patch.dict(os.environ, values)


def restarts(root: Path, tmp: Path, runs: int | None = None, wait_s: float = 600) -> dict:
    """The first page after the dashboard is restarted: a new server (tools.server) on the
    store, one person signs in with the form and the home page is drawn, timed from the
    sign-in to the page's script_finished (the sign-in's password check included). Cold: no
    cache in the data folder, so the store is loaded from its Parquet files (once: the first
    load line has three of those); warm: the cache the cold server left (median of `runs`)."""
    from tsunagu.access import users

    runs = runs or RESTART_RUNS
    password = os.urandom(12).hex()
    cache = warm.Cache(root)
    out: dict[str, list[float]] = {"cold": [], "warm": []}
    for state in ["cold"] + ["warm"] * runs:
        if state == "cold":
            shutil.rmtree(cache.dir, ignore_errors=True)
        with serve(root, tmp) as served:
            users.set_password("bench", password, served.users_file)
            seconds, started_warm = asyncio.run(_first_page(served, password, wait_s))
            if state == "cold":  # the server writes the cache after its load: wait for it
                deadline = time.monotonic() + wait_s
                while not any(cache.dir.glob("db-*.json")) and time.monotonic() < deadline:
                    time.sleep(0.5)
        if (state == "warm") != started_warm:
            raise RuntimeError(
                f"{state} restart: the server {'did not start' if started_warm else 'started'} warm"
            )
        out[state].append(seconds)
    return out


async def _first_page(served: Served, password: str, wait_s: float) -> tuple[float, bool]:
    """(seconds from the sign-in to the drawn home page, whether the cache was there)."""

    store = Store(served.root)
    _, muni, _ = home(store)
    # the cache the server will find, named now (before the server could write one)
    key = warm.key(store.manifest_path.read_bytes(), _fingerprint())
    had_cache = warm.Cache(served.root).has(key)
    client = served.client(timeout=wait_s)
    await client.open()
    try:
        run = await client.sign_in("bench", password)
    finally:
        await client.close()
    problem = _check(run, muni, None)
    if problem or ACTIVE not in run.metrics():
        raise RuntimeError(f"first page: {problem or 'no figure ' + ACTIVE}")
    return run.seconds, had_cache


def _fingerprint() -> str:
    from tsunagu.query import database

    return database._FINGERPRINT


def restart_section(results: dict[str, dict]) -> list[str]:
    lines = [
        "## 再起動後の最初のページ（読み込み済みデータベースのキャッシュ）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}。",
        "",
        "| 規模 | キャッシュなし（Parquet から読み込み） | キャッシュあり（中央値） | 目標 |",
        "|---|---:|---:|---|",
    ]
    for scale, r in results.items():
        hot = statistics.median(r["warm"])
        target = (
            f"≤ {RESTART_TARGET_S:.0f} s: {'達成' if hot <= RESTART_TARGET_S else f'未達（{hot - RESTART_TARGET_S:.1f} s 超過）'}"
            if scale == "nation"
            else "—"
        )
        lines.append(
            f"| {scale} | {statistics.median(r['cold']):.1f} s | {hot:.1f} s"
            f"（{len(r['warm'])}回: {'、'.join(f'{x:.1f}' for x in r['warm'])}） | {target} |"
        )
    lines += [
        "",
        "新しいサーバー（tools.server）を起動し、1人がサインインフォームからサインインしてホーム（概要）が描かれるまで"
        "（パスワードの確認を含む）。キャッシュなし: データフォルダの `_cache/` を消してから起動（ストアを Parquet から"
        "読み込み、終わったら `_cache/` に書く）。キャッシュあり: その次の起動から（ストアのファイルのチェックサムと"
        "キャッシュの SHA-256 を確かめ、コピーして開くだけ）。",
        "",
    ]
    return lines


CPU_PAGES = ["overview", "places", "present"]


def rerun_cpu(root: Path, tmp: Path, pages: list[str] | None = None, reruns: int | None = None) -> dict:
    """CPU seconds of this process per page rerun after a district change (AppTest: the script
    runs in this process, with DuckDB's threads), with the rerun caches off ("before": every
    chart built and every result unpickled again) and on, in the same run. The districts are
    gone through once first, so both measure a room that has been at it a while."""
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    from tsunagu.access import auth, users

    os.environ["TSUNAGU_DATA_DIR"] = str(root)
    _bench_user(tmp)
    out: dict[str, dict[str, float]] = {}
    gc_after_run = config.get_option("runner.postScriptGC")
    for page in pages or CPU_PAGES:
        out[page] = {}
        for mode in ("off", "on"):
            # before: Streamlit's full garbage collection after every run, as before
            config.set_option("runner.postScriptGC", mode == "off")
            with _env_set({"TSUNAGU_RERUN_CACHE": mode}):
                at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=600)
                for key, value in auth.session_state_for(users.start_session("bench")).items():
                    at.session_state[key] = value
                at.run()
                at.switch_page(f"pages/{page}.py").run()
                districts = _districts(at) or [None]

                def change(i: int, at=at, districts=districts):
                    ms = [w for w in at.multiselect if w.key == "f_dists"]
                    if not ms:  # the wall: its own district picker
                        picks = [w for w in at.selectbox if (w.key or "").startswith("present_pick")]
                        return picks[0].set_value(picks[0].options[(i + 1) % len(picks[0].options)])
                    d = districts[i % len(districts)]
                    return ms[0].set_value([d] if d else [])

                for i in range(len(districts) + 1):
                    change(i).run()
                n = reruns or REPEATS * 2
                cpu = time.process_time()
                for i in range(1, n + 1):
                    change(i).run()
                out[page][mode] = (time.process_time() - cpu) / n * 1000
                if at.exception:
                    raise RuntimeError(f"{page}: {at.exception[0].message}")
    config.set_option("runner.postScriptGC", gc_after_run)
    return out


def cpu_section(results: dict[str, dict]) -> list[str]:
    lines = [
        "## 1回の再実行の CPU 時間（地区を選び直したあと、以前の動き／いま）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}。",
        "",
        "| 規模 | ページ | 以前の動き (ms) | いま (ms) | 差 |",
        "|---|---|---:|---:|---:|",
    ]
    for scale, pages in results.items():
        for page, r in pages.items():
            lines.append(
                f"| {scale} | {page} | {r['off']:.0f} | {r['on']:.0f} | {(r['on'] - r['off']) / r['off']:+.0%} |"
            )
    lines += [
        "",
        "AppTest でページを開き、地区を一巡してから（結果のキャッシュが温まった状態）、地区を選び直して"
        f"{REPEATS * 2}回再実行したときの、1回あたりのプロセスの CPU 時間（スクリプトは同じプロセスで動き、"
        "DuckDB のスレッドも含む）。以前の動き: `TSUNAGU_RERUN_CACHE=off`（グラフを毎回 Altair で組み立て、結果を"
        " st.cache_data から毎回取り出す）と、実行ごとの Streamlit のガベージコレクション（`runner.postScriptGC`、"
        "いまは `.streamlit/config.toml` で止めています）。同じ実行の中で交互に測っています。",
        "",
    ]
    return lines


def replace_section(
    out: Path, marker: str, section: list[str], before: str | None = "\n## 取り込み（CP932"
) -> str:
    """Put a section in place of its earlier version, or before `before` (or at the end)."""
    text = out.read_text(encoding="utf-8").rstrip("\n") + "\n"
    body = "\n".join(section)
    if marker in text:
        head, rest = text.split(marker, 1)
        tail = rest.split("\n## ", 1)[1] if "\n## " in rest else ""
        text = head + body + ("\n## " + tail if tail else "")
    elif before and before in text:
        head, tail = text.split(before, 1)
        text = head + "\n" + body + before + tail
    else:
        text += "\n" + body
    out.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return text


# ---------------------------------------------------------------- the report


def _env_kept():
    """The AppTest runs point TSUNAGU_DATA_DIR and TSUNAGU_USERS_FILE at the bench's own
    store and users; put the environment back afterwards (a caller's own settings must survive)."""
    return mock.patch.dict(os.environ)


FIRST_LOAD_RUNS = 3
VISIBLE_TARGET_S = 2.0


def first_load_line(scale: str, loads: list[float], busy: float | None = None) -> str:
    median = statistics.median(loads)
    line = (
        f"- ストアの最初の読み込み {median:.1f} s（新しいプロセスで{len(loads)}回の中央値: "
        + "、".join(f"{s:.1f}" for s in loads)
        + " s"
        + (f"。直後のロードアベレージ {busy:.1f}" if busy is not None else "")
        + "）"
    )
    if scale == "nation":
        ratio = median / FIRST_LOAD_BEFORE_S
        line += (
            f"。市町村ごとの登録の前の {FIRST_LOAD_BEFORE_S:.0f} s の {ratio:.2f} 倍"
            f"（目標 1.00 倍以下: {'達成' if ratio <= 1 else '未達'}）"
        )
    return line


SMALL_CASES = {
    "month_file": "1か月: 月のファイル1つ（いまの形: 市町村の登録から合成）",
    "versions": "1か月: 登録した版のファイル（都道府県ごとの登録）",
    "per_municipality": "1か月: 市町村ごとのファイル（合成しなかったら）",
    "live_glob": "全期間: `places/*/*.parquet`（月に1つ）",
}


def small_files_section(scale: str, r: dict) -> list[str]:
    base = r["month_file"]

    def vs(case: dict, key: str) -> str:
        if case[key] is None:
            return "—"
        same_month = case is not base and case is not r["live_glob"]
        return f"{case[key]:,.1f}" + (f"（{case[key] / base[key]:,.1f}倍）" if same_month else "")

    lines = [
        f"## 小さなファイルの数と読み取りの速さ（{scale}、通いの場 {r['month']}、DuckDB の read_parquet）",
        "",
        "| 読むもの | ファイル数 | 行数 | 全件の集計 (ms) | 1市町村に絞る (ms) | 表に読み込む (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in SMALL_CASES.items():
        c = r[key]
        lines.append(
            f"| {label} | {c['files']:,} | {c['rows']:,} | {vs(c, 'scan_ms')} | {vs(c, 'one_ms')} | "
            f"{vs(c, 'load_ms')} |"
        )
    lines += [
        "",
        "中央値（ウォームアップ1回のあと7回、OS のキャッシュに載った状態）。倍率は同じ月を月のファイル1つで読んだときとの比。"
        "「表に読み込む」は、登録のあとにダッシュボードがその月を読み直すのと同じ "
        "`create table … order by prefecture, municipality`。",
        "",
    ]
    return lines


def visible_section(scale: str, r: dict) -> list[str]:
    ok = r["visible_s"] <= VISIBLE_TARGET_S
    return [
        f"## 1市町村の登録が動いているダッシュボードに出るまで（{scale}）",
        "",
        f"- 登録の開始から画面の数字が変わるまで {r['visible_s']:.2f} s（目標 {VISIBLE_TARGET_S:.0f} s 以内: "
        f"{'達成' if ok else '未達'}、{r['repeats']}回の中央値）。内訳: 登録（ingest） {r['commit_s']:.2f} s、"
        f"ページの再実行（再読み込みを含む） {r['page_s']:.2f} s",
        f"- 同じサーバーに最初にサインインしたときのページ表示（ストアの最初の読み込みを含む） {r['first_page_s']:.1f} s",
        "- 実際のサーバー（tools.server）に WebSocket クライアントがサインインしてホーム（概要）を開き、"
        "その市町村の月の通いの場の CSV（新しい通いの場を足したもの）を tsunagu.ingest.pipeline.ingest で登録し、"
        "すぐにページを再実行して（次のクリックか、作戦会議モードのタイマーにあたる）、"
        f"「{ACTIVE}」が新しい数になるまで。測定のあと、その市町村の月は前の版に戻します（復元）。",
        "",
    ]


@_env_kept()  # a @contextmanager is also a decorator (a fresh one per call)
def run(
    scales: list[str],
    work: Path,
    out: Path,
    ingest_rows: int,
    sessions: int,
    log=print,
    readme: Path | None = None,
) -> str:
    lines = [
        "# ベンチマーク結果（`python -m tools bench`）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}。マシン: {machine()}",
        "",
        "中央値（ウォームアップ1回のあと7回）。pandas は同じデータを CSV から読んで同じ答えを計算する、"
        "よくあるやり方の基準値で、同じ実行の中で測っています（遅いので1回ずつ）。",
        "",
    ]
    restart_results: dict[str, dict] = {}
    cpu_results: dict[str, dict] = {}
    map_results: dict[str, dict] = {}
    for scale in scales:
        root = work / scale
        if Store(root).is_old():
            raise RuntimeError(
                f"{root} の合成データは以前の形式です。フォルダを消してからもう一度実行してください"
                "（市町村ごとの登録として作り直します）。"
            )
        if not (root / "_manifest.json").exists():
            log(f"{scale}: 合成データを作成しています…")
            t = time.perf_counter()
            synth.write_synth(root, scale, progress=log)
            log(f"{scale}: 合成データ {time.perf_counter() - t:.0f} s")
        tmp = work / f"{scale}-tmp"
        tmp.mkdir(exist_ok=True)
        log(f"{scale}: 最初の読み込みを新しいプロセスで{FIRST_LOAD_RUNS}回測っています…")
        loads = first_loads(root, FIRST_LOAD_RUNS)
        busy = os.getloadavg()[0]  # the machine is shared: a busy one loads slower
        db = Database(Store(root))
        db.refresh()
        rows = db.sql(
            "select (select count(*) from places_all) p, (select count(*) from pantry_all) s, "
            "(select count(*) from forums_all) f, (select count(*) from municipalities) m"
        ).row(0)
        log(f"{scale}: ページを AppTest で実行しています…")
        calls, views, reruns, first_load = page_runs(root, tmp)
        log(f"{scale}: クエリを測っています…")
        qt = query_times(db, calls)
        rss = dashboard_rss_mb(root, calls)
        log(f"{scale}: pandas の基準値を測っています…")
        muni = db.query("municipalities")["municipality"][0]
        month = db.query("months")["month"][0]
        pandas_ms = pandas_answers(export_csv(db, tmp), muni, month)
        log(f"{scale}: 1市町村の登録と再読み込み…")
        upload = upload_reload(db)
        q_target, p_target = TARGETS[scale]
        lines += [
            f"## {scale}（通いの場 {rows[0]:,}行・パントリー {rows[1]:,}行・行事 {rows[2]:,}行・"
            f"{rows[3]:,}市町村）",
            "",
            first_load_line(scale, loads, busy)
            + f"。最初のページ表示（AppTest、読み込み込み） {first_load:,.0f} ms",
            f"- 1市町村の登録（ingest: 読み取り・検証・{upload['municipalities']:,}市町村の月"
            f"（{upload['rows']:,}行）の合成・保存） {upload['commit_s']:.2f} s、そのあとの"
            f"ダッシュボードの再読み込み {upload['reload_s']:.2f} s（{upload['repeats']}回の中央値）",
            f"- ダッシュボードのプロセスのメモリ（全ページのクエリ後の最大 RSS） {rss:,} MB"
            + (
                f"（目標 600 MB 以下: {'達成' if rss <= 600 else f'{rss - 600:,} MB 超過'}）"
                if scale == "nation"
                else ""
            ),
            "",
            "| ページ | 1画面のクエリ数 | 最も遅いクエリ (ms) | 1画面のクエリの合計 (ms) | 絞り込み後の再実行 (ms) | 目標 |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for page in PAGES:
            slowest = max((qt[c] for c in calls[page]), default=0)
            one_view = [qt[c] for c in views[page]]
            ok = slowest <= q_target and reruns[page] <= p_target
            lines.append(
                f"| {page} | {len(one_view)} | {slowest:.1f} | {sum(one_view):.1f} | {reruns[page]:.0f} | "
                f"{'達成' if ok else '未達'}（≤{q_target} / ≤{p_target}） |"
            )
        slow = sorted(((ms, c) for c, ms in qt.items()), reverse=True)[:5]
        lines += [
            "",
            "最も遅いクエリ: " + "、".join(f"`{c[0]}` {ms:.1f} ms" for ms, c in slow),
            "",
            "| 問い | DuckDB (ms) | pandas + CSV (ms) | 倍率 |",
            "|---|---:|---:|---:|",
        ]
        total_d = total_p = 0.0
        for name, p_ms in pandas_ms.items():
            ours = [ms for c, ms in qt.items() if c[0] == name]
            d_ms = statistics.median(ours) if ours else None
            lines.append(
                f"| `{name}` | {d_ms:.1f} | {p_ms:,.0f} | {p_ms / d_ms:,.0f}× |"
                if d_ms
                else f"| `{name}` | — | {p_ms:,.0f} | — |"
            )
            if d_ms:
                total_d, total_p = total_d + d_ms, total_p + p_ms
        if total_d:
            lines.append(
                f"| 合計（目標 100× 以上） | {total_d:.1f} | {total_p:,.0f} | {total_p / total_d:,.0f}× |"
            )
        lines.append("")
        log("\n".join(lines[-12:]))
        if sessions:  # these start servers and run long, like the load runs
            log(f"{scale}: 再起動後の最初のページ（キャッシュなし・あり）…")
            restart_results[scale] = restarts(root, tmp)
            log(f"{scale}: 1回の再実行の CPU 時間（キャッシュなし・あり）…")
            cpu_results[scale] = rerun_cpu(root, tmp)
        log(f"{scale}: 地図のあるページの再実行…")
        map_results[scale] = map_reruns(root, tmp)
    if restart_results:
        lines += restart_section(restart_results)
    if cpu_results:
        lines += cpu_section(cpu_results)
    lines += map_section(map_results)
    if ingest_rows:
        root = work / scales[-1]
        log(f"取り込み: {ingest_rows:,}行の CP932 CSV…")
        with tempfile.TemporaryDirectory(dir=work) as t:
            seconds, pandas_s = ingest_1m(root, Path(t), ingest_rows)
        rate = ingest_rows / seconds
        lines += [
            "## 取り込み（CP932 の CSV、検証して保存まで）",
            "",
            f"- {ingest_rows:,}行: {seconds:.2f} s（{rate:,.0f}行/秒、目標 500,000行/秒: "
            f"{'達成' if rate >= 500_000 else '未達'}）。同じバイト列を pandas.read_csv で読むだけで {pandas_s:.2f} s。",
            "",
        ]
    log("取り込み: Excel のブックと CSV…")
    lines += workbook_section(workbook_ingest(work / scales[0]))
    root, tmp = work / scales[-1], work / f"{scales[-1]}-tmp"
    log("小さなファイルの読み取り…")
    lines += small_files_section(scales[-1], small_files(root, tmp))
    if sessions:
        log("1市町村の登録が動いているダッシュボードに出るまで…")
        try:
            with serve(root, tmp) as served:
                lines += visible_section(scales[-1], upload_visible(served))
        except Exception as e:  # the figures measured so far are still written
            lines += [
                f"## 1市町村の登録が画面に出るまで（{scales[-1]}）",
                "",
                f"- 測定できませんでした: {e}",
                "",
            ]
        log(f"同時アクセス: {sessions}セッション…")
        try:
            runs = load_runs(root, work / f"{scales[-1]}-tmp", sessions)
        except Exception as e:  # the figures measured so far are still written
            lines += [
                f"## 同時アクセス（{scales[-1]}）",
                "",
                f"- 測定できませんでした: {type(e).__name__}: {e}",
                "",
            ]
            runs = []
        for pace, r in runs:
            lines += sessions_section(scales[-1], r, pace)
        log("同時アクセス: 公開ページの読者と同時に…")
        try:
            lines += public_section(
                scales[-1], public_runs(root, work / f"{scales[-1]}-tmp", sessions, 2 * sessions)
            )
        except Exception as e:  # the figures measured so far are still written
            lines += [
                PUBLIC_MARKER + f"（{scales[-1]}）",
                "",
                f"- 測定できませんでした: {type(e).__name__}: {e}",
                "",
            ]
        log("同時アクセス: Caddy（HTTPS）を通して、1プロセスと2プロセス…")
        try:
            lines += proxy_section(scales[-1], proxy_runs(root, work / f"{scales[-1]}-tmp", sessions, log))
        except Exception as e:  # e.g. no Caddy on this machine: the figures so far are still written
            lines += [
                PROXY_MARKER + f"（{scales[-1]}）",
                "",
                f"- 測定できませんでした: {type(e).__name__}: {e}",
                "",
            ]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    if readme is not None:
        show_in_readme(readme, text)
    return text


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def show_in_readme(readme: Path, text: str) -> None:
    """The README shows the latest table, between its two markers (headings one level down)."""
    body = readme.read_text(encoding="utf-8")
    if START not in body or END not in body:
        return
    table = "\n".join(("#" + line) if line.startswith("#") else line for line in text.splitlines())
    head, rest = body.split(START, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


# ---------------------------------------------------------------- the map (issue 17)

MAP_MARKER = "## 地図の再実行"
MAP_TARGET_MS = 300  # a page with the map, nation scale, one municipality (issue 17)
MAP_RERUNS = 20
# name -> (what it is, its page, the address's query parameters besides the municipality)
MAP_SURFACES = {
    "places": ("居場所・通いの場の「地図」タブ", "pages/places.py", {"places_tab": "地図"}),
    "district": ("地区カルテ", "pages/district.py", {}),
    "guide": ("通いの場ガイド（/guide）", "pages/guide.py", {}),
}


def map_municipality(store: Store) -> tuple[str, str, int]:
    """The municipality whose map is the largest: the most school districts (the first by
    prefecture and name among equals), and how many it has."""
    counts = (
        store.current_areas()
        .group_by("prefecture", "municipality")
        .len()
        .sort(["len", "prefecture", "municipality"], descending=[True, False, False])
    )
    return counts.row(0)


def _deck_sent(at) -> tuple[int, list[list]]:
    """What the page sent for its maps: the deck.gl JSON's bytes, and every polygon's rings."""
    sent, polygons = 0, []
    for chart in at.get("deck_gl_json_chart"):
        text = chart.proto.json
        sent += len(text.encode("utf-8"))
        for layer in json.loads(text)["layers"]:
            if layer.get("@@type") == "PolygonLayer":
                polygons += [row["polygon"] for row in layer["data"]]
    return sent, polygons


def map_reruns(root: Path, tmp: Path, reruns: int | None = None) -> dict:
    """Each page that draws the map (MAP_SURFACES), on the municipality with the most school
    districts, in AppTest (the script runs in this process): the time of its first view and
    of each rerun after a district is chosen (the next district each time, then the whole
    municipality, round again), the deck.gl JSON sent each time and the polygons in it,
    against the same page in the same run with its map left out (mapview.area_map or the
    guide's map drawing nothing), the two sessions taking turns change by change."""
    import numpy as np
    import shapely
    from streamlit.testing.v1 import AppTest

    from tsunagu.access import auth, users
    from tsunagu.dashboard import mapview, public

    os.environ["TSUNAGU_DATA_DIR"] = str(root)
    _bench_user(tmp)
    store = Store(root)
    pref, muni, n_schools = map_municipality(store)
    month = store.latest_month("boundaries")
    mine = store.read_month("boundaries", month, [(pref, muni)])
    shapes = shapely.from_wkb(mine["geometry_display"].to_list())
    box = shapely.bounds(shapely.union_all(shapes))
    parts = int(shapely.get_num_geometries(shapes).sum())
    districts = mine["district"].unique(maintain_order=True).to_list()
    n = reruns or MAP_RERUNS
    muted = {"places": (mapview, "area_map"), "district": (mapview, "area_map"), "guide": (public, "_map")}

    def open_page(surface: str, page: str, query: dict) -> tuple[AppTest, float]:
        """The page on the municipality, and the time of the run that first shows it there."""
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=1800)
        for k, v in query.items():
            at.query_params[k] = v
        if surface != "guide":  # a resident is not signed in
            for key, value in auth.session_state_for(users.start_session("bench")).items():
                at.session_state[key] = value
        at.run()  # the first page (and the store's first load, once per process)
        t = time.perf_counter()
        at.switch_page(page).run()
        picker = [w for w in at.selectbox if w.key == "guide_muni"]
        if picker:  # the guide: the municipality picked as a resident picks it
            t = time.perf_counter()
            picker[0].set_value(f"{pref}/{muni}").run()
        ms = (time.perf_counter() - t) * 1000
        shown = [w.value for w in at.selectbox if w.key in ("f_muni", "guide_muni")]
        # (a store of one municipality gives the guide no picker)
        if at.exception or shown not in ([muni], [f"{pref}/{muni}"], [] if surface == "guide" else None):
            raise RuntimeError(f"{surface}: {muni} を開けませんでした（{shown}、{at.exception}）")
        return at, ms

    def change(surface: str, at, i: int):
        """The i-th choice of area on the page: each district in turn, then the whole."""
        if surface == "places":
            choices = [[d] for d in districts] + [[]]
            return next(w for w in at.multiselect if w.key == "f_dists").set_value(choices[i % len(choices)])
        if surface == "district":  # the page's own picker
            return next(w for w in at.selectbox if w.label == "地区").set_value(districts[i % len(districts)])
        picker = next(w for w in at.selectbox if w.key == "guide_district")
        return picker.set_value(picker.options[(i + 1) % len(picker.options)])

    out: dict = {
        "prefecture": pref,
        "municipality": muni,
        "school_districts": n_schools,
        "polygons": parts,
        "vertices": int(statistics.median(shapely.get_num_coordinates(shapes))),
        "nation_polygons": store.manifest()["datasets"]["boundaries"][month]["rows"],
        "surfaces": {},
    }
    for surface, (_, page, extra) in MAP_SURFACES.items():
        query = {} if surface == "guide" else {"pref": pref, "muni": muni, **extra}
        module, name = muted[surface]
        drawn = getattr(module, name)
        r: dict = {
            "ms": {"map": [], "without": []},
            "cpu_ms": [],
            "bytes": [],
            "sent_polygons": 0,
            "outside": 0,
        }
        try:
            setattr(module, name, lambda *a, **k: None)
            plain, r["first_without_ms"] = open_page(surface, page, query)
            setattr(module, name, drawn)
            with_map, r["first_ms"] = open_page(surface, page, query)
            for i in range(n):
                for mode, at in (("without", plain), ("map", with_map)):
                    setattr(module, name, drawn if mode == "map" else (lambda *a, **k: None))
                    target = change(surface, at, i)
                    t, cpu = time.perf_counter(), time.process_time()
                    target.run()
                    r["ms"][mode].append((time.perf_counter() - t) * 1000)
                    if (
                        mode == "map"
                    ):  # this process's CPU (the script's thread, DuckDB's): less shaken by others
                        r["cpu_ms"].append((time.process_time() - cpu) * 1000)
                    if at.exception:
                        raise RuntimeError(f"{surface}: {at.exception[0].message}")
                sent, polygons = _deck_sent(with_map)
                r["bytes"].append(sent)
                r["sent_polygons"] = max(r["sent_polygons"], len(polygons))
                # a polygon outside the municipality's own box is another municipality's
                outside = 0
                for rings in polygons:
                    xy = np.array(rings[0])
                    inside = (xy[:, 0] >= box[0] - 1e-4) & (xy[:, 0] <= box[2] + 1e-4)
                    inside &= (xy[:, 1] >= box[1] - 1e-4) & (xy[:, 1] <= box[3] + 1e-4)
                    outside += int(not inside.all())
                r["outside"] = max(r["outside"], outside)
        finally:
            setattr(module, name, drawn)
        out["surfaces"][surface] = r
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def map_section(results: dict[str, dict], command: str = "python -m tools bench") -> list[str]:
    lines = [
        f"{MAP_MARKER}（市町村を1つ選んだところ、小学校区の地図のあるページ）",
        "",
        f"測定日 {time.strftime('%Y-%m-%d')}（`{command}`）。直後のロードアベレージ {os.getloadavg()[0]:.1f}"
        "（2コアのマシンをほかの作業と共有）。",
        "",
        "| 規模 | 市町村（小学校区） | ページ | 最初の表示 (ms) | 再実行 中央値 (ms) | 再実行 p95 (ms) "
        "| 再実行の CPU 中央値 (ms) | 地図なしの同じページ 中央値 / p95 (ms) | 送った地図 (KB、中央値 / 最大) "
        "| 送った形 | 目標 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scale, r in results.items():
        for surface, s in r["surfaces"].items():
            median, p95 = statistics.median(s["ms"]["map"]), _p95(s["ms"]["map"])
            target = "—"
            if scale == "nation":
                target = f"{'達成' if p95 <= MAP_TARGET_MS else '未達'}（p95 ≤{MAP_TARGET_MS}）"
            lines.append(
                f"| {scale} | {r['municipality']}（{r['school_districts']:,}） | {MAP_SURFACES[surface][0]} "
                f"| {s['first_ms']:,.0f} | {median:,.0f} | {p95:,.0f} | {statistics.median(s['cpu_ms']):,.0f} "
                f"| {statistics.median(s['ms']['without']):,.0f} / {_p95(s['ms']['without']):,.0f} "
                f"| {statistics.median(s['bytes']) / 1024:,.0f} / {max(s['bytes']) / 1024:,.0f} "
                f"| {s['sent_polygons']:,} / {r['nation_polygons']:,}"
                + (f"（ほかの市町村の形 {s['outside']:,}）" if s["outside"] else "")
                + f" | {target} |"
            )
    n = len(next(iter(next(iter(results.values()))["surfaces"].values()))["ms"]["map"])
    lines += [
        "",
        "AppTest でページを開き（最初の表示）、地区を1つずつ選び直しては（ひと回りしたら全域、また最初から）"
        f"{n}回再実行したときの、1回あたりの時間（スクリプトは同じプロセスで動くので、ほぼサーバーの時間。"
        "ブラウザへの送信と描画は含みません）と、そのあいだのプロセスの CPU 時間（DuckDB のスレッドを含む。"
        "ほかの人の負荷で延びる待ち時間を含まない）。市町村は小学校区のいちばん多いところ（地図がいちばん大きい）。"
        "「地図なしの同じページ」は同じ実行の中で、地図を描く部分（mapview.area_map、ガイドの地図）だけを"
        "何もしないものに替えた同じページで、地図のあるページと1回ずつ交互に測っています。"
        "「送った地図」は deck.gl の JSON（st.pydeck_chart がブラウザに送るもの）の大きさ、"
        "「送った形」はその中の小学校区の形（ポリゴン）の数 / 保存されている全部の小学校区の数。"
        "最初の表示は、居場所・通いの場がその市町村の形を初めて読むとき（地区カルテとガイドはそのあと）。"
        "小学校区の形は合成データ（tools/synth.py: 市町村ごとのボロノイ分割の辺を曲げ、約15mおきに頂点を置いたもの。"
        "登録のときと同じく、表示用の形は一度だけ約2mで簡略化して保存）で、表示用の形の頂点は小学校区あたり中央値 "
        + "、".join(f"{scale} {r['vertices']:,}" for scale, r in results.items() if "vertices" in r)
        + "。",
        "",
    ]
    return lines
