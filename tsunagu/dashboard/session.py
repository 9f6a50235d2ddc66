"""The data a page reads: one database per process, named queries cached per parameters and
data version, and the disclosure rule decided once per municipality and version."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import polars as pl
import streamlit as st

from tsunagu.access import scopes
from tsunagu.config import data_dir
from tsunagu.contract.scope import Municipality
from tsunagu.dashboard.gate import can_detail
from tsunagu.display import charts, privacy
from tsunagu.query.database import Database
from tsunagu.store.versions import OldStoreError, Store


@st.cache_resource(show_spinner="データを開いています…")  # Streamlit's own wording is English
def database(root: str) -> Database:
    """One DuckDB connection per process; each query takes its own cursor."""
    return Database(Store(root))


_old: dict = {}  # data folder -> (its manifest file's identity, the answer for it)


def old_store() -> str | None:
    """Why the data folder cannot be shown yet (written before uploads were kept per
    municipality: the message names the command that moves it on), or None. Asked on every
    run: the manifest (140 KB at city scale and up) is parsed again only when its file changed."""
    store = Store(data_dir())
    try:
        info = os.stat(store.manifest_path)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size, info.st_ctime_ns)
    except FileNotFoundError:
        stamp = None
    known = _old.get(str(store.root))
    if known is not None and known[0] == stamp and stamp is not None and charts.reusing():
        return known[1]
    answer = str(OldStoreError(store.root)) if store.is_old() else None
    _old[str(store.root)] = (stamp, answer)
    return answer


def db() -> Database:
    return database(str(data_dir()))


@st.cache_data(max_entries=2048, show_spinner=False)
def _cached(root: str, name: str, version: int, params: tuple) -> pl.DataFrame:
    return database(root).query(name, **{k: list(v) if isinstance(v, tuple) else v for k, v in params})


# query results kept in this process, shared by every session: st.cache_data hashed the
# arguments and unpickled a copy on every call (a few ms a query, several queries a rerun)
RESULTS_MAX = 2048
_results: OrderedDict = OrderedDict()
_results_lock = threading.Lock()


def run_query(name: str, **params) -> pl.DataFrame:
    """A named query from queries/, cached per parameters and data version."""
    root = str(data_dir())
    db_ = database(root)
    version = db_.refresh()
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    if not charts.reusing():
        return _cached(root, name, version, key)
    found = (root, name, version, key)
    with _results_lock:
        frame = _results.get(found)
        if frame is not None:
            _results.move_to_end(found)
    if frame is None:
        frame = db_.query(name, **{k: list(v) if isinstance(v, tuple) else v for k, v in key})
        with _results_lock:
            _results[found] = frame
            while len(_results) > RESULTS_MAX:
                _results.popitem(last=False)
    return frame.clone()  # a page that changed its frame in place would not change the kept one


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
