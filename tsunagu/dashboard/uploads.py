"""The upload page's parts: the column mapping (each of the council's own column names beside
a choice of the contract's columns, or 「使わない」, with the mapped rows previewed) and the
month a coordinator downloads to edit in Excel."""

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
