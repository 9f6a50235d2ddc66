"""DuckDB over the snapshot store, and the runner for the named queries in queries/.

One connection per process; every call gets its own cursor, because Streamlit serves
sessions on threads and a shared connection fails with "connection is busy". The store's
live files are loaded into tables (in a DuckDB file of this process, see Database) once
per data version, inside one transaction, so a query sees either the whole old data or
the whole new data.

Views that pages read (the on-disk layout is known only here):
    areas          each municipality's latest areas upload (it validates uploads, gives populations)
    places, pantry, forums   every month, with a `month` column ('YYYY-MM')
    places_latest  the latest month of places
    boundaries     every month's school-district shapes (WKB geometry; reference data like areas)
    municipalities, districts   one row per area of `areas`, with populations
    uploads        the live part of every municipality's uploaded month (a month may have no rows)
Macros: fiscal_year('YYYY-MM') -> 2024, fiscal_year_label(2024) -> '令和6年度',
month_before('2024-01') -> '2023-12', area_match(...) for the shared area filters
(null = all; $districts is a list).
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
import weakref
from pathlib import Path

import duckdb
import polars as pl

from tsunagu.config import QUERIES_DIR
from tsunagu.contract.schema import DATASETS, POLARS_TYPES
from tsunagu.query import warm
from tsunagu.store import integrity
from tsunagu.store.versions import Store

_DUCK_TYPES = {
    pl.String: "varchar",
    pl.Int64: "bigint",
    pl.Float64: "double",
    pl.Boolean: "boolean",
    pl.Date: "date",
    pl.Binary: "blob",  # boundaries' WKB geometry
}
LIST_PARAMS = {"districts"}  # bound as lists; the command line gives them comma-separated
_PARAM = re.compile(r"(?<![\w$:])\$([A-Za-z_]\w*)")


log = logging.getLogger(__name__)
# the cache writers of this process: at exit they write what is pending and are waited for,
# so a short-lived process (python -m tsunagu query) leaves its load behind for the next
_savers: weakref.WeakSet = weakref.WeakSet()
_savers_lock = threading.Lock()
_savers_registered = False
_stopping = threading.Event()


def _stop_savers() -> None:
    _stopping.set()
    with _savers_lock:
        running = list(_savers)
    for thread in running:
        thread.join(timeout=120)


def _remove_cache(box: dict, folder: str, lock: threading.Lock) -> None:
    # at exit the cache writer may still be copying this file: let it finish first
    held = lock.acquire(timeout=120)
    try:
        box["closed"] = True
        with contextlib.suppress(duckdb.Error):
            box["con"].close()
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        if held:
            lock.release()


# DuckDB warns that Arrow from execute() copies the rows once: for the small frames pages
# get, that copy costs far less than the second bind of con.sql() (see Database.sql)
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


class QueryError(Exception):
    """A query that does not exist or was called wrongly, said in Japanese."""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_select(dataset: str) -> str:
    cols = [
        f"null::{_DUCK_TYPES[POLARS_TYPES[c.type]]} as {c.key}"
        for c in DATASETS[dataset].columns
        if c.key not in NOT_LOADED.get(dataset, ())
    ]
    return f"select {', '.join(cols)}, null::varchar as month where false"


def load_query(name: str, queries_dir: Path = QUERIES_DIR) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise QueryError(f"クエリ名「{name}」は使えません（英小文字・数字・_ のみ）。")
    path = queries_dir / f"{name}.sql"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in queries_dir.glob("*.sql")))
        raise QueryError(f"クエリ「{name}」はありません。使えるクエリ: {known}")
    return path.read_text(encoding="utf-8")


def query_params(sql: str) -> list[str]:
    """Names of the $parameters a query uses (comments and strings ignored)."""
    body = re.sub(r"--[^\n]*", "", sql)
    body = re.sub(r"'(?:[^']|'')*'", "''", body)
    return sorted(set(_PARAM.findall(body)))


class SetupError(Exception):
    """The database cannot start as configured (e.g. $TSUNAGU_DB_MEMORY), said in Japanese."""


DEFAULT_MEMORY = "400MB"
# columns kept in the Parquet store but not loaded: the boundaries' exact shapes (GIS tools read
# them from the store; the map reads geometry_display). A nation's in one Parquet column chunk
# is larger than the memory limit: reading it failed the first load with DuckDB's Out of Memory.
NOT_LOADED = {"boundaries": ("geometry",)}
MIN_MEMORY = 100_000_000  # catches a slip like 400KB for 400MB, which fails only at the first load
_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def _connect(path: str, spill: str):
    """The DuckDB file of this process, with $TSUNAGU_DB_MEMORY as its memory limit; a value
    DuckDB cannot use (or too small to load anything) is said in Japanese. Returns the
    connection and the config it was opened with."""
    memory = os.environ.get("TSUNAGU_DB_MEMORY") or DEFAULT_MEMORY
    small = SetupError(
        f"環境変数 TSUNAGU_DB_MEMORY の値「{memory}」では小さすぎて、データベースを開けません。"
        f"100MB 以上にしてください（既定は {DEFAULT_MEMORY}）。"
    )
    size = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*", memory, re.IGNORECASE)
    if size and float(size[1]) * _UNITS[size[2].lower()] < MIN_MEMORY:
        raise small
    config = {"memory_limit": memory, "temp_directory": spill}
    try:
        return duckdb.connect(path, config=config), config
    except duckdb.OutOfMemoryException:
        raise small from None
    except duckdb.Error:
        raise SetupError(
            f"環境変数 TSUNAGU_DB_MEMORY の値「{memory}」は使えません。"
            f"メモリの上限を 400MB や 2GB のように、半角の数と単位（MB・GB）で指定してください"
            f"（既定は {DEFAULT_MEMORY}）。"
        ) from None


class Database:
    """The store, queried through DuckDB. Tables live in a DuckDB file of this process (in a
    temporary folder), not in memory: DuckDB keeps only what queries touch in its buffer
    pool ($TSUNAGU_DB_MEMORY, default 400MB), so a nation-size store (14 M place rows) runs
    in a few hundred MB. Rows are sorted by prefecture, municipality and month, so a filter
    on a municipality reads only its row groups. After the first load, an upload reloads
    only the months that changed.

    The loaded file is kept in the data folder (query.warm) for the next process to start
    from: a restart on an unchanged store copies it back instead of loading (`cache=False`
    or $TSUNAGU_DB_CACHE=off: never read nor written)."""

    SAVE_DELAY_S = 10.0  # after an upload, wait this long for more before writing the cache again

    def __init__(self, store: Store, cache: bool | None = None):
        self.store = store
        self._dir = tempfile.mkdtemp(prefix="tsunagu-db-")
        self._path = os.path.join(self._dir, "cache.duckdb")
        try:
            con, self._config = _connect(self._path, os.path.join(self._dir, "spill"))
        except SetupError:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._box = {"con": con}  # a warm start opens another connection: the finalizer closes it
        self._lock = threading.Lock()
        weakref.finalize(self, _remove_cache, self._box, self._dir, self._lock)
        self._refresh_lock = threading.Lock()
        self._loaded: dict | None = None  # {(dataset, month): version} of what the tables hold
        self._stamp: tuple | None = None  # the manifest file's identity when last loaded
        self._data_version = 0
        self._parts: dict | None = None  # {(dataset, month): parts file} of the uploads table
        self.problems: list = []  # damaged months left out of the last load (integrity.Problem)
        # what pages ask on every run, kept from the manifest last read (not parsed per run)
        self.is_demo = False
        self.has_data = False
        self._cache = warm.Cache(store.root) if (warm.enabled() if cache is None else cache) else None
        self._key: str | None = None  # the cache key of what the tables hold (None: not to be kept)
        # the key this process last found, wrote, or could not write (a read-only data folder,
        # another process writing): not tried again until the tables change
        self._saved: str | None = None
        self._save_lock = threading.Lock()
        self._saving = False
        self.warm_started = False  # this process started from the cache (no load from Parquet)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self._box["con"]

    @staticmethod
    def _versions(manifest: dict) -> dict:
        return {
            (ds, month): entry["version"]
            for ds, months in manifest["datasets"].items()
            for month, entry in months.items()
        }

    @staticmethod
    def _wanted_parts(manifest: dict) -> dict:
        return {
            (ds, month): entry.get("parts_file")
            for ds, months in manifest["datasets"].items()
            for month, entry in months.items()
        }

    def _manifest(self) -> tuple[dict, bytes | None]:
        """The manifest and its bytes (the cache key is their hash); None bytes if there is none."""
        try:
            raw = self.store.manifest_path.read_bytes()
        except FileNotFoundError:
            return self.store.manifest(), None
        return json.loads(raw), raw

    def refresh(self) -> int:
        """Load the store's current versions if they changed since the last call. Every query
        calls this: the manifest is only re-read when its file changed (it is replaced by
        rename, so a new commit is a new inode). A damaged file must not take every page
        down, nor be served: each file's checksum is checked when a new manifest is loaded
        (hashed once per file, see store.verify), the months that pass are served, the
        others are named in `problems`. The first load of a process starts from the cache
        when it holds this manifest's tables and no file is damaged."""
        try:
            info = os.stat(self.store.manifest_path)
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp == self._stamp:
            return self._data_version
        with self._refresh_lock:  # sessions arriving together hash each new file once
            if stamp is not None and stamp == self._stamp:
                return self._data_version
            manifest, raw = self._manifest()
            self.store.check_format(manifest)  # an old store: say which command moves it on
            key = warm.key(raw, _FINGERPRINT) if raw is not None and manifest["datasets"] else None
            if self._loaded is None and key and self._cache is not None:
                return self._first_load(stamp, manifest, key)
            version = self._verified_load(stamp, manifest, key)
            self._save_later(self.SAVE_DELAY_S)
            return version

    def _verified_load(self, stamp: tuple | None, manifest: dict, key: str | None) -> int:
        problems = integrity.verified(self.store, manifest)
        try:
            return self._refresh(stamp, manifest, problems, key)
        except duckdb.Error:
            # a file with the right checksum that still does not read (written damaged)
            screened = integrity.screen(self.store, manifest)
            if len(screened) == len(problems):
                raise
            return self._refresh(stamp, manifest, screened, key)

    def _first_load(self, stamp: tuple | None, manifest: dict, key: str) -> int:
        """This process's first load: from the cache if it holds this manifest and every
        file still has its checksum (a damaged file is left out and named, as a load from
        Parquet would), else from Parquet by one process at a time: the others wait for it,
        then start from the file it wrote."""
        if integrity.verified(self.store, manifest):  # the load leaves out what it names
            return self._verified_load(stamp, manifest, key)
        if self._warm_start(stamp, manifest, key):
            return self._data_version
        lock = self._cache.lock()
        held = lock.acquire(warm.WAIT_S)
        try:
            if held and self._warm_start(stamp, manifest, key):  # written while this one waited
                lock.release()
                return self._data_version
            version = self._verified_load(stamp, manifest, key)
        except BaseException:
            lock.release()
            raise
        if held and self._key == key:
            self._save_later(0.0, lock)  # the lock goes with the writing, so waiters find the file
        else:
            lock.release()
            self._save_later(self.SAVE_DELAY_S)
        return version

    def _warm_start(self, stamp: tuple | None, manifest: dict, key: str) -> bool:
        """Open the cache's copy of this manifest's tables in place of a load; False (and an
        empty database, as before) if there is none or it does not check out."""
        with self._lock:
            self.con.close()
            for p in (self._path, self._path + ".wal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
            ok = self._cache.restore(key, Path(self._path))
            if ok:
                try:
                    con = duckdb.connect(self._path, config=self._config)
                    # what every page reads is there (a file from another release would fail here)
                    con.execute(_WARM_CHECK).fetchall()
                except duckdb.Error as e:
                    log.warning("読み込み済みデータベースのキャッシュを開けないため使いません（%s）", e)
                    with contextlib.suppress(Exception):
                        con.close()
                    os.unlink(self._path)
                    self._cache.damaged.add(key)  # written again after the load
                    ok = False
            if not ok:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path + ".wal")
                self._box["con"] = _connect(self._path, self._config["temp_directory"])[0]
                return False
            self._box["con"] = con
            self._loaded, self._parts = self._versions(manifest), self._wanted_parts(manifest)
            self.problems = []
            self._key = self._saved = key
            self._data_version = manifest.get("data_version", 0)
            self.is_demo, self.has_data = bool(manifest.get("demo")), bool(manifest["datasets"])
            self.warm_started = True
        self._stamp = stamp
        return True

    def _save_later(self, delay: float, lock: warm.WriterLock | None = None) -> None:
        """Write the cache for what the tables now hold, in the background (one writer thread
        per process; it writes again if the tables changed while it wrote)."""
        if self._cache is None or self._key is None or self._key == self._saved:
            if lock is not None:
                lock.release()
            return
        with self._save_lock:
            if self._saving:  # the running writer looks at the key again when it is done
                if lock is not None:
                    lock.release()
                return
            self._saving = True
        thread = threading.Thread(target=self._save_loop, args=(delay, lock), daemon=True)
        with _savers_lock:
            global _savers_registered
            if not _savers_registered:
                # registered after the first Database's finalizer, so it runs before them
                atexit.register(_stop_savers)
                _savers_registered = True
            _savers.add(thread)
        thread.start()

    def _save_loop(self, delay: float, lock: warm.WriterLock | None) -> None:
        try:
            while True:
                _stopping.wait(delay)  # at exit: write now (see _stop_savers)
                self.save_cache(lock)
                lock, delay = None, self.SAVE_DELAY_S
                with self._save_lock:
                    if self._key is None or self._key == self._saved:
                        self._saving = False
                        return
        except BaseException:
            with self._save_lock:
                self._saving = False
            raise

    def save_cache(self, lock: warm.WriterLock | None = None) -> bool:
        """Write what the tables hold to the cache now (unless it is there already); True if
        the cache then holds it. Waits for the writer's lock unless given it held."""
        if self._cache is None:
            return False
        key = self._key
        if lock is None:
            lock = self._cache.lock()
            if not lock.acquire(5.0 if _stopping.is_set() else warm.WAIT_S):  # at exit, not for long
                self._saved = key
                return False
        try:
            with self._lock:  # no load changes the file while it is copied
                key = self._key
                if key is None or self._box.get("closed"):
                    return False
                self._saved = key
                if not self._cache.has(key):
                    cur = self.con.cursor()
                    try:
                        cur.execute("checkpoint")  # every change in the file itself, none in a log
                    finally:
                        cur.close()
                    if os.path.exists(self._path + ".wal") and os.path.getsize(self._path + ".wal"):
                        return False
                    self._cache.save(key, Path(self._path))
                return True
        except (OSError, duckdb.Error) as e:
            log.warning("読み込み済みデータベースをデータフォルダに保存できませんでした（%s）", e)
            return False
        finally:
            lock.release()

    def _refresh(self, stamp: tuple | None, manifest: dict, problems: list, key: str | None = None) -> int:
        self._data_version = manifest.get("data_version", 0)
        self.is_demo, self.has_data = bool(manifest.get("demo")), bool(manifest["datasets"])
        keep = None if problems else key  # tables without the damaged months are not kept
        if problems:
            manifest = integrity.without(manifest, problems)
        versions = self._versions(manifest)
        if versions == self._loaded and not (problems or self.problems):
            self._key = keep
            self._stamp = stamp
            return self._data_version
        with self._lock:
            if versions == self._loaded and not (problems or self.problems):
                self._key = keep
                return self._data_version  # another thread loaded it meanwhile
            cur = self.con.cursor()
            cur.execute("begin transaction")
            try:
                for ds in DATASETS:
                    self._load(cur, ds, manifest, versions)
                parts = self._load_uploads(cur, manifest)
                cur.execute(_VIEWS)
                cur.execute("commit")
            except Exception:
                cur.execute("rollback")
                raise
            finally:
                cur.close()
            self._loaded, self._parts = versions, parts
            self.problems = list(problems or [])
            self._key = keep
        self._stamp = stamp
        return manifest.get("data_version", 0)

    def _load_uploads(self, cur, manifest: dict) -> dict:
        """Bring the uploads table up to the manifest (each municipality's live part, from the
        parts file beside its month): whole on the first load, else only the months whose
        parts changed; a nation has 565,000 parts, which executemany bound row by row for
        minutes. Returns {(dataset, month): parts file} of what the table then holds."""
        wanted = self._wanted_parts(manifest)
        if self._parts is None:
            cur.execute(_UPLOADS_TABLE)
            changed = sorted(wanted)
        else:
            changed = sorted(
                k for k in wanted.keys() | self._parts.keys() if wanted.get(k) != self._parts.get(k)
            )
            for ds, month in changed:
                cur.execute("delete from uploads where dataset = $1 and month = $2", [ds, month])
        for ds, month in changed:
            name = wanted.get((ds, month))
            if not name:
                continue
            with open(self.store.root / name, "rb") as f:
                parts = list(json.load(f).values())
            rows = pl.DataFrame(
                {
                    "dataset": [ds] * len(parts),
                    "month": [month] * len(parts),
                    **{column: [p[key] for p in parts] for column, key in _UPLOADS_KEYS.items()},
                },
                schema=_UPLOADS_COLUMNS,
            )
            cur.register("uploads_rows", rows.to_arrow())
            cur.execute("insert into uploads select * from uploads_rows")
            cur.unregister("uploads_rows")
        return wanted

    def _load(self, cur, ds: str, manifest: dict, versions: dict) -> None:
        """Bring one dataset's table up to the manifest: whole on the first load (and for
        areas, whose file order matters), else only the months whose version changed."""

        left = NOT_LOADED.get(ds, ())

        def source(files: list[Path]) -> str:
            listed = ", ".join(_sql_string(str(f)) for f in files)
            columns = f"* exclude ({', '.join(left)})" if left else "*"
            return (
                f"select {columns} from read_parquet([{listed}], hive_partitioning = true,"
                " hive_types = {'month': varchar}, union_by_name = true)"
            )

        def mine(v: dict) -> dict:
            return {k: x for k, x in v.items() if k[0] == ds}

        if self._loaded is not None and mine(self._loaded) == mine(versions):
            return
        if self._loaded is None or ds == "areas":
            files = self.store.live_files(ds, manifest)
            select = source(files) if files else _empty_select(ds)
            if ds == "areas":  # area_order keeps districts in the order the areas file lists them
                cur.execute(
                    f"create or replace table areas_all as "
                    f"select *, row_number() over () as area_order from ({select})"
                )
            else:
                cur.execute(
                    f"create or replace table {ds}_all as select * from ({select}) "
                    "order by prefecture, municipality, month"
                )
            # a store written before a column was added (団体コード, …) has files without it:
            # the table still has every column of the contract, empty there
            have = {r[0] for r in cur.execute(f"select column_name from (describe {ds}_all)").fetchall()}
            for c in DATASETS[ds].columns:
                if c.key not in have and c.key not in left:
                    cur.execute(
                        f"alter table {ds}_all add column {c.key} {_DUCK_TYPES[POLARS_TYPES[c.type]]}"
                    )
            return
        old, new = mine(self._loaded), mine(versions)
        changed = sorted(
            {m for (_, m), v in new.items() if old.get((ds, m)) != v}
            | {m for (_, m) in old if (ds, m) not in new}
        )
        cur.execute(f"delete from {ds}_all where list_contains($months, month)", {"months": changed})
        entries = manifest["datasets"].get(ds, {})
        files = [self.store.root / entries[m]["file"] for m in changed if m in entries]
        if files:
            cur.execute(
                f"insert into {ds}_all by name select * from ({source(files)}) "
                "order by prefecture, municipality, month"
            )

    def query(self, name: str, **params) -> pl.DataFrame:
        sql = load_query(name)
        return self.sql(sql, **params)

    def sql(self, sql: str, **params) -> pl.DataFrame:
        self.refresh()
        wanted = query_params(sql)
        if "district" in params and "district" not in wanted and "districts" in wanted:
            # one district, as people naturally type it: the same as a list of one
            params = dict(params)
            params.setdefault("districts", params.pop("district"))
            params.pop("district", None)
        unknown = sorted(set(params) - set(wanted))
        if unknown:
            raise QueryError(
                f"このクエリにないパラメータです: {', '.join(unknown)}"
                f"（使えるもの: {', '.join(wanted) or 'なし'}）"
            )
        # a parameter left out is NULL; each query's header says what that means (tests/test_queries.py)
        bound = {k: (None if params.get(k) in (None, "") else params[k]) for k in wanted}
        for k in LIST_PARAMS & set(bound):
            if isinstance(bound[k], str):
                bound[k] = [v.strip() for v in re.split(r"[,、]", bound[k]) if v.strip()]
            elif bound[k] is not None:
                bound[k] = list(bound[k])
        cur = self.con.cursor()
        try:
            # execute() binds and plans once; sql() binds to build a relation and again to
            # run it, a few ms more per query (most of a query's time at city size)
            result = cur.execute(sql, bound) if bound else cur.execute(sql)
            return pl.from_arrow(result.to_arrow_reader().read_all())
        finally:
            cur.close()


_UPLOADS_COLUMNS = {
    "dataset": pl.String,
    "month": pl.String,
    "prefecture": pl.String,
    "municipality": pl.String,
    "n_rows": pl.Int64,
    "version": pl.String,
    "committed_at": pl.String,
    "user_name": pl.String,
    "source_name": pl.String,
}
_UPLOADS_KEYS = {  # uploads column -> key of a part in the parts file
    "prefecture": "prefecture",
    "municipality": "municipality",
    "n_rows": "rows",
    "version": "version",
    "committed_at": "committed_at",
    "user_name": "user",
    "source_name": "source_name",
}
_UPLOADS_TABLE = """
create or replace table uploads (
    dataset varchar, month varchar, prefecture varchar, municipality varchar, n_rows bigint,
    version varchar, committed_at varchar, user_name varchar, source_name varchar
)
"""

_VIEWS = """
create or replace macro fiscal_year(m) as
    case when m[6:7]::int >= 4 then m[1:4]::int else m[1:4]::int - 1 end;
create or replace macro fiscal_year_label(fy) as
    case
        when fy >= 2019 then '令和' || case when fy = 2019 then '元' else (fy - 2018)::varchar end
        when fy >= 1989 then '平成' || case when fy = 1989 then '元' else (fy - 1988)::varchar end
        else '昭和' || (fy - 1925)::varchar
    end || '年度';
create or replace macro area_match(pref, muni, dist, school, p_pref, p_muni, p_dists, p_school) as
    (p_muni is null or muni = p_muni)
    and (p_pref is null or pref = p_pref)
    and (p_dists is null or len(p_dists) = 0 or list_contains(p_dists, dist))
    and (p_school is null or school = p_school);
create or replace macro month_before(m) as
    strftime(strptime(m || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m');
create or replace view areas as  -- each municipality's own latest areas upload
    select a.* from areas_all as a
    join (
        select prefecture, municipality, max(month) as month from uploads
        where dataset = 'areas' group by all
    ) as latest using (prefecture, municipality, month);
create or replace view places as select * from places_all;
create or replace view places_latest as
    select * from places_all where month = (select max(month) from uploads where dataset = 'places');
create or replace view pantry as select * from pantry_all;
create or replace view forums as select * from forums_all;
create or replace view boundaries as select * from boundaries_all;  -- WKB, WGS84 lon/lat
create or replace view municipalities as
    select
        prefecture,
        municipality,
        sum(population) as population,
        sum(population_65plus) as population_65plus,
        sum(households) as households,
        count(distinct district) as n_districts,
        count(*) as n_school_districts,
        min(area_order) as area_order,
        max(municipality_code) as municipality_code,  -- one per municipality (ingest fills blanks)
        max(project_group) as project_group,
    from areas
    group by prefecture, municipality;
create or replace view districts as
    select
        prefecture,
        municipality,
        district,
        sum(population) as population,
        sum(population_65plus) as population_65plus,
        sum(households) as households,
        count(*) as n_school_districts,
        min(area_order) as area_order,
    from areas
    group by prefecture, municipality, district;
-- each municipality of a prefecture with its people and its counts (prefecture_compare and
-- prefecture_groups): 活動中 places and pantry sites in one month (null = each dataset's latest),
-- forum events and attendance in a period (null = from the first / to the latest month)
create or replace macro municipality_counts(p_pref, p_month, p_from, p_to) as table
    with places_now as (
        select municipality, count(*) filter (where status = '活動中') as n_active,
        from places
        where month = coalesce(p_month, (select max(month) from uploads where dataset = 'places'))
          and prefecture = p_pref
        group by all
    ),
    pantry_now as (
        select municipality, count(*) as n_pantry_sites,
        from pantry
        where month = coalesce(p_month, (select max(month) from uploads where dataset = 'pantry'))
          and prefecture = p_pref
        group by all
    ),
    forum_period as (
        select
            municipality,
            count(*) as n_events,
            sum(attendees_onsite + attendees_online) as attendees_total,
        from forums
        where (p_from is null or month >= p_from) and (p_to is null or month <= p_to)
          and prefecture = p_pref
        group by all
    )
    select
        m.municipality,
        m.project_group,
        m.population,
        m.population_65plus,
        coalesce(p.n_active, 0) as n_active,
        coalesce(s.n_pantry_sites, 0) as n_pantry_sites,
        coalesce(f.n_events, 0) as n_events,
        coalesce(f.attendees_total, 0) as attendees_total,
    from municipalities as m
    left join places_now as p using (municipality)
    left join pantry_now as s using (municipality)
    left join forum_period as f using (municipality)
    where m.prefecture = p_pref;
-- each school district of a municipality with its people and its 活動中 places in one month
-- (null = the latest): how many, how many give their participants aged 65+, and those people
-- (places_coverage and participation_coverage)
create or replace macro school_district_places(p_pref, p_muni, p_month) as table
    with snapshot as (
        select *
        from places
        where month = coalesce(p_month, (select max(month) from uploads where dataset = 'places'))
          and status = '活動中'
    )
    select
        a.district,
        a.school_district,
        a.area_order,
        a.population,
        a.population_65plus,
        count(p.place_id) as n_active,
        count(p.participants_65plus) as n_reporting,
        sum(p.participants_65plus)::bigint as participants_65plus,
    from areas as a
    left join snapshot as p
        on p.prefecture = a.prefecture
        and p.municipality = a.municipality
        and p.district = a.district
        and p.school_district = a.school_district
    where area_match(a.prefecture, a.municipality, a.district, a.school_district, p_pref, p_muni, null, null)
    group by all;
"""

# what a cached file must answer before it is used in place of a load
_WARM_CHECK = "select (select count(*) from uploads), (select count(*) from areas), " + ", ".join(
    f"(select count(*) from {ds}_all)" for ds in DATASETS
)


def _source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # no source at hand: warm.LOAD_VERSION still keys the code
        return ""


# the code that shapes the tables: a change here is another cache key (see warm.LOAD_VERSION)
_FINGERPRINT = "\n".join(
    [_VIEWS, _UPLOADS_TABLE, repr(_UPLOADS_KEYS), repr(_DUCK_TYPES)]
    + [_source(Database._load), _source(Database._load_uploads)]
    + [f"{ds}: {[(c.key, c.type) for c in d.columns]}" for ds, d in DATASETS.items()]
)
