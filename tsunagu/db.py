"""DuckDB over the snapshot store, and the runner for the named queries in queries/.

One connection per process; every call gets its own cursor, because Streamlit serves
sessions on threads and a shared connection fails with "connection is busy". The store's
live files are loaded into in-memory tables once per data version, inside one
transaction, so a query sees either the whole old data or the whole new data.

Views that pages read (the on-disk layout is known only here):
    areas          the latest areas upload (it validates uploads and gives populations)
    places, pantry, forums   every month, with a `month` column ('YYYY-MM')
    places_latest  the latest month of places
    municipalities, districts   one row per area of `areas`, with populations
    uploads        the live version of every uploaded month (a month may have no rows)
Macros: fiscal_year('YYYY-MM') -> 2024, fiscal_year_label(2024) -> '令和6年度',
month_before('2024-01') -> '2023-12', area_match(...) for the shared area filters
(null = all; $districts is a list).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import duckdb
import polars as pl

from tsunagu import integrity
from tsunagu.config import QUERIES_DIR
from tsunagu.schema import DATASETS, POLARS_TYPES
from tsunagu.store import Store

_DUCK_TYPES = {pl.String: "varchar", pl.Int64: "bigint", pl.Float64: "double",
               pl.Boolean: "boolean", pl.Date: "date"}
LIST_PARAMS = {"districts"}  # bound as lists; the command line gives them comma-separated
_PARAM = re.compile(r"(?<![\w$:])\$([A-Za-z_]\w*)")


class QueryError(Exception):
    """A query that does not exist or was called wrongly, said in Japanese."""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_select(dataset: str) -> str:
    cols = [f"null::{_DUCK_TYPES[POLARS_TYPES[c.type]]} as {c.key}"
            for c in DATASETS[dataset].columns]
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


class Database:
    def __init__(self, store: Store):
        self.store = store
        self.con = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        self._loaded: tuple | None = None
        self.problems: list = []  # damaged months left out of the last load (integrity.Problem)

    def _signature(self, manifest: dict) -> tuple:
        return tuple(
            (ds, month, entry["version"])
            for ds, months in sorted(manifest["datasets"].items())
            for month, entry in sorted(months.items())
        )

    def refresh(self) -> int:
        """Load the store's current versions if they changed since the last call. A damaged
        file must not take every page down: the months that read are served, the others
        are named in `problems`."""
        try:
            return self._refresh()
        except duckdb.Error:
            problems = integrity.screen(self.store, self.store.manifest())
            if not problems:
                raise
            return self._refresh(problems)

    def _refresh(self, problems: list | None = None) -> int:
        manifest = self.store.manifest()
        sig = self._signature(manifest)
        if sig == self._loaded:
            return manifest.get("data_version", 0)
        with self._lock:
            if sig == self._loaded:
                return manifest.get("data_version", 0)
            if problems:
                manifest = integrity.without(manifest, problems)
            cur = self.con.cursor()
            cur.execute("begin transaction")
            try:
                for ds in DATASETS:
                    files = self.store.live_files(ds, manifest)
                    if files:
                        listed = ", ".join(_sql_string(str(f)) for f in files)
                        source = (f"select * from read_parquet([{listed}], hive_partitioning = true,"
                                  " hive_types = {'month': varchar},"
                                  f" union_by_name = true)")
                    else:
                        source = _empty_select(ds)
                    # area_order keeps districts in the order the areas file lists them
                    order = ", row_number() over () as area_order" if ds == "areas" else ""
                    cur.execute(f"create or replace table {ds}_all as select *{order} from ({source})")
                cur.execute(_UPLOADS_TABLE)
                uploads = [(ds, month, e["rows"], e["version"], e["committed_at"], e["user"],
                            e["source_name"])
                           for ds, months in manifest["datasets"].items()
                           for month, e in months.items()]
                if uploads:
                    cur.executemany("insert into uploads values (?, ?, ?, ?, ?, ?, ?)", uploads)
                cur.execute(_VIEWS)
                cur.execute("commit")
            except Exception:
                cur.execute("rollback")
                raise
            finally:
                cur.close()
            self._loaded = sig
            self.problems = list(problems or [])
        return manifest.get("data_version", 0)

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
            raise QueryError(f"このクエリにないパラメータです: {', '.join(unknown)}"
                             f"（使えるもの: {', '.join(wanted) or 'なし'}）")
        # a parameter left out is NULL: queries treat NULL as "all" or "the latest"
        bound = {k: (None if params.get(k) in (None, "") else params[k]) for k in wanted}
        for k in LIST_PARAMS & set(bound):
            if isinstance(bound[k], str):
                bound[k] = [v.strip() for v in re.split(r"[,、]", bound[k]) if v.strip()]
            elif bound[k] is not None:
                bound[k] = list(bound[k])
        cur = self.con.cursor()
        try:
            return cur.sql(sql, params=bound).pl() if bound else cur.sql(sql).pl()
        finally:
            cur.close()


_UPLOADS_TABLE = """
create or replace table uploads (
    dataset varchar, month varchar, n_rows bigint, version varchar, committed_at varchar,
    user_name varchar, source_name varchar
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
create or replace view areas as
    select * from areas_all where month = (select max(month) from areas_all);
create or replace view places as select * from places_all;
create or replace view places_latest as
    select * from places_all where month = (select max(month) from places_all);
create or replace view pantry as select * from pantry_all;
create or replace view forums as select * from forums_all;
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
"""
