"""The data a page reads: one database per process, named queries cached per parameters and
data version, and the disclosure rule decided once per municipality and version."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import queue
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

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner="データを開いています…")  # Streamlit's own wording is English
def database(root: str) -> Database:
    """One DuckDB connection per process; each query takes its own cursor."""
    loaded = Database(Store(root))
    if not gc.get_freeze_count():
        # what the first load leaves (the modules, the store's manifests and areas) stays for the
        # life of the process: kept out of the collector's passes, which scanned it all again on
        # a rerun now and then (~0.15 s at nation scale; the busy room's p95 fell from 1.1 s to 0.13 s)
        gc.freeze()
        atexit.register(gc.unfreeze)  # collected as usual at exit (bindings count leaks there)
    return loaded


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
    key = _key(params)
    if not charts.reusing():
        return _cached(root, name, version, key)
    found = (root, name, version, key)
    with _results_lock:
        frame = _results.get(found)
        if frame is not None:
            _results.move_to_end(found)
    if frame is None:
        frame = db_.query(name, **_params(key))
        _keep(found, frame)
    _warm_siblings(root, db_, version, name, params)
    return frame.clone()  # a page that changed its frame in place would not change the kept one


def _key(params: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def _params(key: tuple) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in key}


def _keep(found: tuple, frame: pl.DataFrame) -> None:
    with _results_lock:
        _results[found] = frame
        while len(_results) > RESULTS_MAX:
            _results.popitem(last=False)


# A district nobody has looked at yet cost its first viewer ~0.1 s of queries at nation scale,
# and in a meeting everyone's first choice comes at once, so those first views queued behind each
# other. A query asked for one area of a municipality (its `districts`) is therefore run in the
# background for each of its other districts and the whole, once per data version: the next
# choice finds its figures ready. Only for municipalities with few districts (a city's 日常生活圏域),
# not for 50 行政区, whose every query would be run 50 times for a choice few make.
SIBLINGS_MAX = 24
_warmed: OrderedDict = OrderedDict()
# one daemon thread: a stopping server does not wait for the districts it was warming
_jobs: queue.Queue = queue.Queue()
_worker_lock = threading.Lock()
_worker: threading.Thread | None = None
_stopping = threading.Event()


@atexit.register
def _stop_warming() -> None:
    # a stopping server finishes the one query under way (so its connection closes cleanly) and
    # drops the rest of the districts it was warming
    _stopping.set()
    _jobs.put(None)  # wakes an idle worker
    if _worker is not None and _worker.is_alive():
        _worker.join(timeout=10)


def _work() -> None:
    while not _stopping.is_set():
        job = _jobs.get()
        try:
            if job is not None:
                _warm(*job)
        except Exception:  # the thread stays for the next job
            log.warning("warming failed", exc_info=True)
        finally:
            # hold no store between jobs: at exit a daemon thread's references are never released
            del job
            _jobs.task_done()


def _submit(*job) -> None:
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="tsunagu-warm", daemon=True)
            _worker.start()
    _jobs.put(job)


def warmed() -> None:
    """Until the background runs asked for so far are done (for tests and the benchmark)."""
    _jobs.join()


def _warm_siblings(root: str, db_: Database, version: int, name: str, params: dict) -> None:
    if "districts" not in params or not params.get("municipality") or params.get("school_district"):
        return
    pref, muni = params.get("prefecture"), params["municipality"]
    job = (root, name, version, _key(params | {"districts": "*"}))
    with _results_lock:
        if job in _warmed:
            return
        _warmed[job] = True
        while len(_warmed) > RESULTS_MAX:
            _warmed.popitem(last=False)
    dists, _ = districts_of(pref, muni)
    if len(dists) > SIBLINGS_MAX:
        return
    _submit(root, db_, version, name, params, dists)


def _warm(root: str, db_: Database, version: int, name: str, params: dict, dists: list[str]) -> None:
    for chosen in [None, *([d] for d in dists)]:
        if _stopping.is_set():
            return
        key = _key(params | {"districts": chosen})
        found = (root, name, version, key)
        with _results_lock:
            if found in _results:
                continue
        try:
            if db_.refresh() != version:  # an upload since: its figures are the ones to warm
                return
            _keep(found, db_.query(name, **_params(key)))
        except Exception:  # a page asking for it will run it again and show what went wrong
            log.warning("warming %s for %s failed", name, chosen, exc_info=True)
            return


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
