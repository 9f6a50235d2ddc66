"""The upload page's parts: the column mapping (each of the council's own column names beside
a choice of the contract's columns, or 「使わない」, with the mapped rows previewed), the
month a coordinator downloads to edit in Excel, and for a boundaries file the name property's
picker and the school districts it matched."""

from __future__ import annotations

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.schema import DATASETS
from tsunagu.dashboard import widgets
from tsunagu.store.versions import Municipality, Store, StoreError, muni_key

UNUSED = "使わない"


def mapping_form(cols, dataset: str, state_key: str) -> None:
    """Draw the choices for the columns the contract does not know by name (and those known
    through a saved mapping, to change it); keep the user's choices in session_state.
    `cols`: ingest.pipeline.file_columns()'s answer (the page passes it: the dashboard layer
    does not import ingest)."""
    ds = DATASETS[dataset]
    own = [c for c in cols.columns if c.key is None or c.by_mapping]
    if not own:
        return
    unknown = [c for c in own if c.key is None]
    headers = {c.key: c.header for c in ds.columns}
    options = [UNUSED, *headers]  # keys, shown by their Japanese header
    chosen: dict[str, str | None] = dict(st.session_state.get(state_key, {}))
    where = f"{cols.sheet} の " if cols.sheet else ""
    with st.container(border=True, key="column_mapping"):
        st.markdown("### 列の対応")
        if unknown:
            st.info(
                f"{where}見出し行（{cols.header_row}行目）に、つなぐの列名と違う列が {len(unknown)} 列あります。"
                "それぞれ、どの列にあたるかを選んでください。選んだ対応は市町村ごとに保存され、来月からは自動で使います。",
                icon=":material/swap_horiz:",
            )
        else:
            st.caption("保存してある列の対応を使っています。変えるときは選び直してください。")
        with st.form(f"mapping-form-{state_key}", border=False):
            picks = {}
            for c in own:
                current = chosen[c.header] if c.header in chosen else c.key
                current = UNUSED if (current == "" or (current is None and c.header in chosen)) else current
                index = options.index(current) if current in options else None  # unknown: not guessed
                sample = "、".join(fmt.plain(str(v)) for v in c.samples) or "（空欄）"
                picks[c.header] = st.selectbox(
                    f"{c.letter}列「{fmt.plain(c.header)}」",
                    options,
                    index=index,
                    format_func=lambda k: UNUSED if k == UNUSED else f"{headers[k]}",
                    placeholder="選んでください",
                    help=f"この列の値の例: {sample}",
                    key=f"map-{state_key}-{c.letter}",
                )
            if st.form_submit_button("この対応で確かめる", type="primary", icon=":material/check:"):
                # a column left unchosen stays unknown (and is named among the errors)
                st.session_state[state_key] = {
                    h: (None if k == UNUSED else k) for h, k in picks.items() if k is not None
                }
                st.rerun()
        preview = cols.preview.clone()
        preview.columns = [f"{c.letter}列 → {_target(c, chosen, headers)}" for c in cols.columns]
        st.caption("対応させたときの先頭の行（ファイルのまま）")
        st.dataframe(pl.DataFrame(preview), hide_index=True, placeholder=widgets.EMPTY_CELL)


def _target(c, chosen: dict, headers: dict) -> str:
    key = chosen[c.header] if c.header in chosen else c.key
    if key:
        return headers[key]
    return UNUSED if key == "" or c.header in chosen else "未選択"


def month_to_edit(
    store: Store, dataset: str, month: str, munis: list[Municipality]
) -> tuple[str, pl.DataFrame] | None:
    """(month, rows) of these municipalities to start an edit from: the month itself if it
    has an upload, or else the latest before it; None when there is nothing yet."""
    if not munis:
        return None
    try:
        for source in (month, store.latest_month(dataset, before=month)):
            if source and any(muni_key(*m) in store.parts(dataset, source) for m in munis):
                return source, store.read_month(dataset, source, munis)
    except StoreError:
        return None  # a damaged month: the page says so where it compares
    return None


AUTO = None  # the name property the check detects


def name_field_picker(described, key: str) -> str | None:
    """The property holding the school's name (default: the detected one), with what the file is.
    `described`: ingest.pipeline.describe_boundaries()'s answer."""
    detected = described.detected
    options = [AUTO, *described.fields]
    st.caption(f"{described.kind}・地物 {described.n_features:,}件・座標系: {fmt.plain(described.crs)}")
    return st.selectbox(
        "学校名（小学校区名）の属性",
        options,
        format_func=lambda f: (f"自動（{detected}）" if detected else "自動") if f is AUTO else f,
        key=key,
        help="国土数値情報 A27 なら自動で選びます（名称の属性）。ほかの出典のファイルは、学校名か小学校区名の入った属性を選んでください。",
    )


def boundaries_before(store: Store, month: str, munis: list[Municipality]) -> pl.DataFrame | None:
    """The boundaries the map shows now for these municipalities at this month: the month's
    own, or else the latest before it; None when there are none (or they cannot be read)."""
    try:
        if any(muni_key(*m) in store.parts("boundaries", month) for m in munis):
            return store.read_month("boundaries", month, munis)
        return store.previous_rows("boundaries", month, munis)[0]
    except StoreError:
        return None


def boundaries_preview(frame: pl.DataFrame, before: pl.DataFrame | None) -> None:
    """Which school districts got a shape, each against what the map shows now."""
    keys = ["district", "school_district"]
    old = {} if before is None else {(d, s): g for d, s, g in before.select(*keys, "geometry").iter_rows()}
    new_keys = set(frame.select(keys).iter_rows())

    def change(d: str, s: str, g: bytes) -> str:
        if before is None:
            return "新しく登録"
        if (d, s) not in old:
            return "形が加わる"
        return "変わらない" if old[(d, s)] == g else "形が変わる"

    rows = [
        {"地区": d, "小学校区": s, "ファイルの名前": n, "変化": change(d, s, g)}
        for d, s, n, g in frame.select(*keys, "feature_name", "geometry").iter_rows()
    ]
    rows += [
        {"地区": d, "小学校区": s, "ファイルの名前": None, "変化": "形がなくなる"}
        for d, s in old
        if (d, s) not in new_keys
    ]
    table = pl.DataFrame(
        rows, schema=dict.fromkeys(["地区", "小学校区", "ファイルの名前", "変化"], pl.String)
    )
    counts = table["変化"].value_counts(sort=True)
    st.markdown(
        f"## 照合できた小学校区（{frame.height:,}件）"
        + ("（この市町村の最初の登録です）" if before is None else "（いま地図に出ている境界との比較）")
    )
    st.caption("、".join(f"{c} {n:,}件" for c, n in counts.iter_rows()))
    st.dataframe(
        table, hide_index=True, width="stretch", placeholder=widgets.EMPTY_CELL, key="boundaries_preview"
    )
