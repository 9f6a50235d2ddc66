"""The data a page reads: one database per process, named queries cached per parameters and
data version, and the disclosure rule decided once per municipality and version."""

from __future__ import annotations

import polars as pl
import streamlit as st

from tsunagu.access import scopes
from tsunagu.config import data_dir
from tsunagu.contract.scope import Municipality
from tsunagu.dashboard.gate import can_detail
from tsunagu.display import privacy
from tsunagu.query.database import Database
from tsunagu.store.versions import OldStoreError, Store


@st.cache_resource(show_spinner="データを開いています…")  # Streamlit's own wording is English
def database(root: str) -> Database:
    """One DuckDB connection per process; each query takes its own cursor."""
    return Database(Store(root))


def old_store() -> str | None:
    """Why the data folder cannot be shown yet (written before uploads were kept per
    municipality: the message names the command that moves it on), or None."""
    store = Store(data_dir())
    return str(OldStoreError(store.root)) if store.is_old() else None


def db() -> Database:
    return database(str(data_dir()))


@st.cache_data(max_entries=2048, show_spinner=False)
def _cached(root: str, name: str, version: int, params: tuple) -> pl.DataFrame:
    return database(root).query(name, **{k: list(v) if isinstance(v, tuple) else v for k, v in params})


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


@st.cache_resource(max_entries=64, show_spinner=False)
def _disclosure(root: str, version: int, k: int, prefecture: str, municipality: str) -> privacy.Disclosure:
    # one decision per municipality and data version, shared by every session and page
    return privacy.Disclosure(
        database(root).query("pantry_disclosure_counts", prefecture=prefecture, municipality=municipality), k
    )


def disclosed(
    prefecture: str, municipality: str, districts=(), school_district: str | None = None, wall: bool = False
) -> privacy.View:
    """The disclosure rule for an area: exact for managers and up on their own screens within
    their scope, never on the wall (or on paper, which asks privacy.Disclosure itself)."""
    root = str(data_dir())
    rule = _disclosure(root, database(root).refresh(), privacy.threshold(), prefecture, municipality)
    return rule.view(districts, school_district, exact=not wall and can_detail(prefecture, municipality))


@st.cache_data(max_entries=4, show_spinner=False)
def _known(root: str, version: int) -> list[Municipality]:
    return scopes.known_municipalities(Store(root))


def known_municipalities() -> list[Municipality]:
    """Every municipality of the stored areas (what a scope may name), per data version."""
    root = str(data_dir())
    return _known(root, database(root).refresh())
