"""Tables and charts as every page shows them: Japanese headers, 1,234-style numbers, and the
downloads each role may have."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import polars as pl
import streamlit as st
from streamlit import dataframe_util

from tsunagu.contract.labels import COLUMNS
from tsunagu.dashboard.export import to_excel_csv
from tsunagu.dashboard.gate import can, can_detail, detail_note
from tsunagu.display import charts

YEAR_COLUMNS = {"fiscal_year"}
# what a table shows for a missing value (Streamlit's own default is the word "None")
EMPTY_CELL = "—"


def yes_no(df: pl.DataFrame) -> pl.DataFrame:
    """True/false columns as はい/いいえ: the grid reads them out (and copies them) as
    "true"/"false" otherwise."""
    return df.with_columns(
        pl.col(c).replace_strict({True: "はい", False: "いいえ"}, default=None, return_dtype=pl.String)
        for c, t in df.schema.items()
        if t == pl.Boolean
    )


def table(
    df: pl.DataFrame,
    file_name: str,
    empty: str = "該当するデータはありません。",
    key: str | None = None,
    height: int | str = "auto",
    detail: tuple[str, str] | None = None,
) -> None:
    """A table with Japanese headers and, for managers and up, a CSV download that Excel
    opens cleanly. A `detail` table (names of places and sites, event lists) names the
    (prefecture, municipality) it is about: shown only to managers whose scope covers it."""
    if detail is not None and not can_detail(*detail):
        st.caption(f":material/lock: {detail_note(*detail)}")
        return
    if df.is_empty():
        st.info(empty, icon=":material/search_off:")
        return
    shown = yes_no(df).rename({c: COLUMNS.get(c, c) for c in df.columns})
    # 1,234 style: numbers follow the reader's locale (ja-JP) rather than raw digits
    numbers = {
        c: st.column_config.NumberColumn(format="localized")
        for c, t in shown.schema.items()
        if t.is_numeric()
    }
    for c in YEAR_COLUMNS & set(df.columns):  # a year is 2024, never 2,024
        numbers[COLUMNS.get(c, c)] = st.column_config.NumberColumn(format="%d")
    st.dataframe(
        shown.to_arrow(),  # as Arrow: Streamlit sends it as it is, where a frame went through pandas
        hide_index=True,
        height=height,
        column_config=numbers,
        placeholder=EMPTY_CELL,
        alt=file_name.removesuffix(".csv").replace("_", " "),
    )
    download(df, file_name, key)


def download(df: pl.DataFrame, file_name: str, key: str | None = None) -> None:
    """The CSV download of a table, for managers and up (Excel opens it cleanly)."""
    if not can("manager"):
        return
    # made when clicked, not on every rerun (~5 ms a table, seven tables on a page)
    st.download_button(
        "CSVでダウンロード",
        data=lambda: to_excel_csv(df),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key or f"dl-{file_name}",
    )


# the spec each reused chart (charts.reusing) is sent as, its data already Arrow bytes as
# Streamlit would make them on every run: {id(chart): (chart, spec)}
_SENT_MAX = 256
_sent: OrderedDict = OrderedDict()
_sent_lock = threading.Lock()


def _area_below(vega: dict) -> dict:
    """「通いの場の推移（倉敷市全域、各年度3月時点）」 as a title and, below it, the area and period:
    in one line, a phone's narrow chart cut the title off at its end, where the area is. (On the
    screen only: a PNG and the handouts keep their one line, on a page wide enough for it.)"""
    title = vega.get("title")
    if isinstance(title, str) and "（" in title and not title.startswith("（"):
        head, _, rest = title.partition("（")
        vega["title"] = {"text": head, "subtitle": "（" + rest}
    return vega


def _vega(chart) -> dict:
    key = id(chart)
    with _sent_lock:
        hit = _sent.get(key)
        # the same object: an id is only unique while it lives, and the entry holds it
        if hit is not None and hit[0] is chart and charts.reusing():
            _sent.move_to_end(key)
            return hit[1]
    vega = _area_below(charts.spec(chart))
    if not charts.reusing():
        return vega
    if "datasets" in vega:
        vega["datasets"] = {
            name: dataframe_util.convert_anything_to_arrow_bytes(rows)
            for name, rows in vega["datasets"].items()
        }
    with _sent_lock:
        _sent[key] = (chart, vega)
        while len(_sent) > _SENT_MAX:
            _sent.popitem(last=False)
    return vega


def chart(spec, empty: bool = False, message: str = "該当するデータはありません。", png: bool = True) -> None:
    """A chart across the page, with a PNG download for slides and reports (drawn only when
    clicked, offline, with the Japanese font embedded)."""
    if empty:
        st.info(message, icon=":material/search_off:")
        return
    # the spec made here, not by st.altair_chart: it validates every chart against the schema
    # again and serialises conversions behind one lock for all sessions
    title = spec.title if isinstance(getattr(spec, "title", None), str) else "グラフ"
    st.vega_lite_chart(_vega(spec), width="stretch", alt=title)  # read out by screen readers
    if png:
        name = re.sub(r'[\\/:*?"<>|\s]+', "_", title).strip("_") + ".png"
        # numbered in page order (reset by page_header each run): stable across reruns, and
        # cheap — hashing the chart's data cost ~15 ms a chart
        seq = st.session_state.get("_png_seq", 0) + 1
        st.session_state["_png_seq"] = seq
        st.download_button(
            "PNGで保存",
            data=lambda: charts.to_png(spec),
            file_name=name,
            mime="image/png",
            icon=":material/image:",
            on_click="ignore",
            type="tertiary",
            key=f"png-{seq}",
        )


def change_table(change, before: str, after: str, key: str, file_prefix: str) -> None:
    """What an upload or an edit changes (ingest.diff.compare): totals before and after in
    1,234 form, then the records added, removed and changed, one line per changed field."""
    totals = change.totals
    st.dataframe(
        pl.DataFrame(
            {
                "項目": totals["measure"],
                before: [f"{v:,}" for v in totals["before"]],
                after: [f"{v:,}" for v in totals["after"]],
                "差": ["±0" if v == 0 else f"{v:+,}" for v in totals["difference"]],
            }
        ),
        hide_index=True,
        placeholder=EMPTY_CELL,
    )
    tabs = st.tabs(
        [f"追加 {change.added.height}", f"なくなる {change.removed.height}", f"変更 {change.changed.height}"]
    )
    for tab, frame, name in zip(
        tabs, (change.added, change.removed, change.changed), ("追加", "なくなる", "変更")
    ):
        with tab:
            frame = frame.rename(
                {"what": "変わった項目", "before": "変更前", "after": "変更後"}, strict=False
            )
            table(frame, f"{file_prefix}_{name}.csv", empty="ありません。", key=f"{key}-{name}")
