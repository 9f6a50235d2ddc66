"""What every page shares: the database, cached queries, the demo banner, filters."""

from __future__ import annotations

import polars as pl
import streamlit as st

from tsunagu.config import data_dir
from tsunagu.db import Database
from tsunagu.store import Store

DEMO_NOTICE = (
    ":material/info: **デモデータを表示しています。** 倉敷市・武蔵野市・長野県の公表資料にある数値は"
    "そのまま再現し、資料にない数値は架空のものです。実際の登録データとは混ざりません。"
)


@st.cache_resource
def database(root: str) -> Database:
    """One DuckDB connection per process; each query takes its own cursor."""
    return Database(Store(root))


def db() -> Database:
    return database(str(data_dir()))


@st.cache_data(max_entries=1024, show_spinner=False)
def _cached(root: str, name: str, version: int, params: tuple) -> pl.DataFrame:
    return database(root).query(name, **dict(params))


def run_query(name: str, **params) -> pl.DataFrame:
    """A named query from queries/, cached per parameters and data version."""
    root = str(data_dir())
    version = database(root).refresh()
    return _cached(root, name, version, tuple(sorted(params.items())))


def demo_banner() -> None:
    if db().store.is_demo():
        st.info(DEMO_NOTICE)


def no_data_notice() -> bool:
    """True (and a message) when the store has nothing to show yet."""
    if db().store.manifest()["datasets"]:
        return False
    st.warning(
        "まだデータが登録されていません。デモデータで試すには `python -m tsunagu demo`、"
        "実データは `python -m tsunagu ingest` で登録してください（README を参照）。",
        icon=":material/inbox:",
    )
    return True


def municipality_filter() -> tuple[str, str] | None:
    """Sidebar choice of 都道府県 and 市町村; kept in the URL so a link opens the same view."""
    munis = run_query("municipalities")
    if munis.is_empty():
        return None
    prefs = munis["prefecture"].unique(maintain_order=True).to_list()
    wanted_pref = st.query_params.get("pref")
    pref = st.sidebar.selectbox(
        "都道府県", prefs, index=prefs.index(wanted_pref) if wanted_pref in prefs else 0)
    names = munis.filter(pl.col("prefecture") == pref)["municipality"].to_list()
    wanted = st.query_params.get("muni")
    muni = st.sidebar.selectbox(
        "市町村", names, index=names.index(wanted) if wanted in names else 0)
    st.query_params["pref"] = pref
    st.query_params["muni"] = muni
    return pref, muni
