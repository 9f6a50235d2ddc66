"""What every page shares: the database, cached queries, filters, banners, tables."""

from __future__ import annotations

import io
import re

import polars as pl
import streamlit as st

from tsunagu import auth, charts, filters, fmt, privacy
from tsunagu.config import PROJECT_ROOT, data_dir
from tsunagu.db import Database
from tsunagu.filters import Filters
from tsunagu.labels import COLUMNS
from tsunagu.store import Store

DEMO_NOTICE = (
    ":material/info: **デモデータを表示しています。** 倉敷市・武蔵野市・長野県の公表資料にある数値は"
    "そのまま再現し、資料にない数値は架空のものです。実際の登録データとは混ざりません。"
)


@st.cache_resource(show_spinner="データを開いています…")  # Streamlit's own wording is English
def database(root: str) -> Database:
    """One DuckDB connection per process; each query takes its own cursor."""
    return Database(Store(root))


def db() -> Database:
    return database(str(data_dir()))


@st.cache_data(max_entries=2048, show_spinner=False)
def _cached(root: str, name: str, version: int, params: tuple) -> pl.DataFrame:
    return database(root).query(name, **{k: list(v) if isinstance(v, tuple) else v
                                         for k, v in params})


def run_query(name: str, **params) -> pl.DataFrame:
    """A named query from queries/, cached per parameters and data version."""
    root = str(data_dir())
    version = database(root).refresh()
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _cached(root, name, version, key)


def districts_of(pref: str, muni: str) -> tuple[list[str], dict[str, list[str]]]:
    rows = run_query("school_districts", municipality=muni, prefecture=pref)
    schools: dict[str, list[str]] = {}
    for d, s in rows.select("district", "school_district").iter_rows():
        schools.setdefault(d, []).append(s)
    return list(schools), schools


def demo_banner() -> None:
    database = db()
    database.refresh()
    if database.is_demo:
        st.info(DEMO_NOTICE)
    damaged_banner()


def damaged_banner() -> None:
    """Months left out because their stored file is damaged: named, with what to do."""
    database = db()
    database.refresh()
    for problem in database.problems:
        st.error(fmt.plain(f"一部のデータを読み込めないため、その月を除いて表示しています。{problem}"),
                 icon=":material/broken_image:")


def through_app() -> None:
    """Make sure app.py runs. With a pages/ folder, Streamlit's older multipage mode runs a
    page file on its own until st.navigation has been called once in the process (e.g. when
    a server's first visitor opens /pantry): switch that mode off and run app.py here, in
    this same run, so a click that started it (say, a sign-in) is not lost to a rerun."""
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(PROJECT_ROOT / "app.py"), run_name="__main__")
        st.stop()


def require(role: str = "viewer"):
    """The signed-in user if their role allows this page; otherwise a message and stop.
    Every guarded page checks this itself, not only by not being registered."""
    through_app()
    user = auth.current_user()
    if user is None:
        authenticator = st.session_state.get("_authenticator")
        user = auth.sign_in(authenticator) if authenticator is not None else None
    if user is None:
        if st.session_state.get("_authenticator") is None:
            st.warning("サインインしてください。", icon=":material/login:")
        st.stop()
    if not user.can(role):
        st.error("このページを使う権限がありません。", icon=":material/block:")
        st.stop()
    return user


def page_header(title: str, role: str = "viewer", with_filters: bool = True) -> Filters | None:
    """Role check, title, demo banner, the shared filters, and the area and period always
    on screen; stops with a message when there is nothing to show."""
    user = require(role)
    st.session_state["_png_seq"] = 0
    auth.sign_out_button()
    st.title(title)
    demo_banner()
    if not with_filters:
        return None
    database = db()
    database.refresh()  # a stat of the manifest; the flag is kept from its last read
    if not database.has_data:
        st.warning("まだデータが登録されていません。デモデータで試すには `python -m tsunagu demo`、"
                   "実データは「データ更新」ページか `python -m tsunagu ingest` で登録してください（README を参照）。",
                   icon=":material/inbox:")
        st.stop()
    f = filters.sidebar(run_query("municipalities"), run_query("months"), districts_of,
                        home_district=user.district)
    if f is None:
        st.warning("圏域マスタ（areas）か月次データが未登録のため、表示できません。先に登録してください。",
                   icon=":material/inbox:")
        st.stop()
    st.markdown(f"## :material/location_on: {fmt.plain(f.prefecture + f.area_label)}　"
                f":material/calendar_month: {f.period_label}")
    return f


def can(role: str) -> bool:
    user = auth.current_user()
    return bool(user and user.can(role))


@st.cache_resource(max_entries=64, show_spinner=False)
def _disclosure(root: str, version: int, k: int, prefecture: str, municipality: str) -> privacy.Disclosure:
    # one decision per municipality and data version, shared by every session and page
    return privacy.Disclosure(database(root).query("pantry_disclosure_counts", prefecture=prefecture,
                                                   municipality=municipality), k)


def disclosed(prefecture: str, municipality: str, districts=(), school_district: str | None = None,
              wall: bool = False) -> privacy.View:
    """The disclosure rule for an area: exact for managers and up on their own screens, never
    on the wall (or on paper, which asks privacy.Disclosure itself)."""
    root = str(data_dir())
    rule = _disclosure(root, database(root).refresh(), privacy.threshold(), prefecture, municipality)
    return rule.view(districts, school_district, exact=not wall and can("manager"))


def safe_cell(value):
    """Excel runs a cell starting with = + - @ as a formula: prefix a quote to keep it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_excel_csv(df: pl.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel reads Japanese correctly), Japanese headers, no formulas."""
    out = df.with_columns([
        pl.col(c).map_elements(safe_cell, return_dtype=pl.String)
        for c, t in df.schema.items() if t == pl.String
    ]).rename({c: COLUMNS.get(c, c) for c in df.columns})
    buf = io.BytesIO()
    out.write_csv(buf)
    return b"\xef\xbb\xbf" + buf.getvalue()


YEAR_COLUMNS = {"fiscal_year"}
# what a table shows for a missing value (Streamlit's own default is the word "None")
EMPTY_CELL = "—"


def yes_no(df: pl.DataFrame) -> pl.DataFrame:
    """True/false columns as はい/いいえ: the grid reads them out (and copies them) as
    "true"/"false" otherwise."""
    return df.with_columns(pl.col(c).replace_strict({True: "はい", False: "いいえ"}, default=None,
                                                    return_dtype=pl.String)
                           for c, t in df.schema.items() if t == pl.Boolean)


def table(df: pl.DataFrame, file_name: str, empty: str = "該当するデータはありません。",
          key: str | None = None, height: int | str = "auto", detail: bool = False) -> None:
    """A table with Japanese headers and, for managers and up, a CSV download that Excel
    opens cleanly. A `detail` table (names of places and sites, event lists) is for
    managers and up only."""
    if detail and not can("manager"):
        st.caption(":material/lock: 詳細な表とダウンロードは「管理職」以上の役割で表示されます。")
        return
    if df.is_empty():
        st.info(empty, icon=":material/search_off:")
        return
    shown = yes_no(df).rename({c: COLUMNS.get(c, c) for c in df.columns})
    # 1,234 style: numbers follow the reader's locale (ja-JP) rather than raw digits
    numbers = {c: st.column_config.NumberColumn(format="localized")
               for c, t in shown.schema.items() if t.is_numeric()}
    for c in YEAR_COLUMNS & set(df.columns):  # a year is 2024, never 2,024
        numbers[COLUMNS.get(c, c)] = st.column_config.NumberColumn(format="%d")
    st.dataframe(shown, hide_index=True, height=height, column_config=numbers, placeholder=EMPTY_CELL,
                 alt=file_name.removesuffix(".csv").replace("_", " "))
    if not can("manager"):
        return
    # made when clicked, not on every rerun (~5 ms a table, seven tables on a page)
    st.download_button("CSVでダウンロード", data=lambda: to_excel_csv(df), file_name=file_name,
                       mime="text/csv", icon=":material/download:", on_click="ignore",
                       key=key or f"dl-{file_name}")


def chart(spec, empty: bool = False, message: str = "該当するデータはありません。",
          png: bool = True) -> None:
    """A chart across the page, with a PNG download for slides and reports (drawn only when
    clicked, offline, with the Japanese font embedded)."""
    if empty:
        st.info(message, icon=":material/search_off:")
        return
    # the spec made here, not by st.altair_chart: it validates every chart against the schema
    # again and serialises conversions behind one lock for all sessions
    title = spec.title if isinstance(getattr(spec, "title", None), str) else "グラフ"
    st.vega_lite_chart(charts.spec(spec), width="stretch", alt=title)  # read out by screen readers
    if png:
        name = re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_") + ".png"
        # numbered in page order (reset by page_header each run): stable across reruns, and
        # cheap — hashing the chart's data cost ~15 ms a chart
        seq = st.session_state.get("_png_seq", 0) + 1
        st.session_state["_png_seq"] = seq
        st.download_button("PNGで保存", data=lambda: charts.to_png(spec), file_name=name,
                           mime="image/png", icon=":material/image:", on_click="ignore",
                           type="tertiary", key=f"png-{seq}")
