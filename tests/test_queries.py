"""A named query's documented default holds: every parameter its header marks optional is left
out, on the demo store, and the answer is the one the header promises: the same as an explicit
run (the latest month, 岡山県 for 倉敷市, a limit of 10), or every value at once (its figure is
the sum of each value's). The optional parameters are read from the headers, so a new query or
parameter without a row in CHECKS fails here."""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl
import pytest

from tests.conftest import ROOT
from tsunagu.query.database import load_query, query_params

QUERIES = sorted(p.stem for p in (ROOT / "queries").glob("*.sql"))


def documented_params(sql: str) -> dict[str, str]:
    """Each $parameter of the header's `params:` and what the header says of it."""
    header = " ".join(line[2:].strip() for line in sql.splitlines() if line.startswith("--"))
    params = header.partition("params:")[2]
    # `$a (…)`, or names sharing one description: `$from_month, $to_month (…)`
    found = {}
    for names, text in re.findall(r"((?:\$\w+\s*[,/]?\s*)+)\(([^()]*)\)", params):
        for name in re.findall(r"\$(\w+)", names):
            found[name] = text
    return found


def optional_params() -> list[tuple[str, str]]:
    return [
        (name, param)
        for name in QUERIES
        for param, text in documented_params(load_query(name)).items()
        if "optional" in text
    ]


LATEST = "2025-03"  # the demo's latest month of places, pantry and forums
FIRST = {"places": "2016-04", "pantry": "2021-04", "forums": "2016-04"}
KURASHIKI = {"municipality": "倉敷市"}
FY2023 = {"from_month": "2023-04", "to_month": "2024-03"}

# the required parameters of every query, and the optional ones the checks below start from
BASE = {
    "area_summary": KURASHIKI,
    "data_freshness": {"municipality": "倉敷市", "prefecture": "岡山県"},
    "data_sources": {
        "month": "2024-07",
        "from_month": "2024-04",
        "municipality": "倉敷市",
        "prefecture": "岡山県",
    },
    "district_card": KURASHIKI | {"district": "玉島"} | FY2023,
    "districts": KURASHIKI,
    "forum_events": KURASHIKI | FY2023,
    "forums_by_fiscal_year": KURASHIKI,
    "forums_by_type_district": KURASHIKI | FY2023,
    "forums_missing_koryukai": {"municipality": "南箕輪村", "fiscal_year": 2023},
    "forums_monthly": KURASHIKI,
    "months": {},
    "municipalities": {},
    "overview": KURASHIKI,
    "pantry_breakdown": KURASHIKI | {"dimension": "supporter_type"},
    "pantry_disclosure_counts": KURASHIKI,
    "pantry_monthly": KURASHIKI,
    "pantry_sites_by_district": KURASHIKI,
    "pantry_sites_by_school_district": KURASHIKI,
    "pantry_sites_by_month": KURASHIKI,
    "pantry_top_sites": KURASHIKI | FY2023,
    "participation_by_district": KURASHIKI,
    "participation_by_municipality": {"prefecture": "長野県"},
    "participation_coverage": KURASHIKI,
    "participation_monthly": KURASHIKI,
    "places_breakdown": KURASHIKI | {"dimension": "category"},
    "places_by_district": KURASHIKI,
    "places_by_fiscal_year": KURASHIKI,
    "places_changes": KURASHIKI | FY2023,
    "places_coverage": KURASHIKI,
    "places_directory": KURASHIKI,
    "places_list": KURASHIKI,
    "prefecture_compare": {"prefecture": "長野県"} | FY2023,
    "prefecture_groups": {"prefecture": "長野県"} | FY2023,
    "school_districts": KURASHIKI,
    "school_district_boundaries": KURASHIKI,
    "similar_municipalities": {"prefecture": "長野県", "municipality": "辰野町"},
    "survey_places": KURASHIKI | {"fiscal_year": 2024},
    "upload_status": {"prefecture": "長野県"},
}

Run = Callable[..., pl.DataFrame]
Check = Callable[[Run, dict], None]


def same(**explicit) -> Check:
    """Left out = the run with these values."""

    def check(run: Run, base: dict) -> None:
        assert run().equals(run(**explicit))

    return check


def every_district(run: Run, base: dict) -> None:
    """Left out = the list of every district of the municipality."""
    districts = run.db.query("districts", municipality=base["municipality"])["district"].to_list()
    assert run().equals(run(districts=districts))


def each(values: Callable | list, figure: Callable, **fixed) -> Check:
    """Left out = every value at once: the figure is the sum of each value's figure."""

    def check(run: Run, base: dict) -> None:
        listed = values(run.db) if callable(values) else values
        assert len(listed) > 1
        parts = [figure(run(**fixed, **{run.param: v})) for v in listed]
        assert figure(run(**fixed)) == tuple(map(sum, zip(*parts)))

    return check


def counted(figure: Callable, sql: str) -> Check:
    """Left out = everything the store holds, counted straight from its tables."""

    def check(run: Run, base: dict) -> None:
        assert figure(run()) == run.db.sql(sql).row(0)

    return check


# a figure is a tuple of numbers
def total(*columns: str) -> Callable[[pl.DataFrame], tuple]:
    return lambda frame: tuple(frame[c].sum() for c in columns)


def rows(frame: pl.DataFrame) -> tuple:
    return (frame.height,)


def mabi_schools(db) -> list[str]:
    return db.query("school_districts", municipality="倉敷市", districts=["真備"])[
        "school_district"
    ].to_list()


def event_types(db) -> list[str]:
    return db.sql("select distinct event_type from forums order by 1")["event_type"].to_list()


MABI = {"districts": ["真備"]}
KURASHIKI_EVENTS = "select count(*) from forums where municipality = '倉敷市'"
PREFECTURE = same(prefecture="岡山県")  # 倉敷市 is in one prefecture only
LATEST_MONTH = same(month=LATEST)
TO_LATEST = same(to_month=LATEST)

ALL_MONTHS = "select count(distinct month) from uploads where dataset <> 'areas'"

CHECKS: dict[tuple[str, str], Check] = {
    ("months", "municipality"): counted(rows, ALL_MONTHS),
    ("months", "prefecture"): counted(rows, ALL_MONTHS),
    ("area_summary", "prefecture"): PREFECTURE,
    ("district_card", "prefecture"): PREFECTURE,
    ("district_card", "month"): LATEST_MONTH,
    ("district_card", "from_month"): same(from_month=FIRST["forums"]),
    ("district_card", "to_month"): TO_LATEST,
    ("districts", "prefecture"): PREFECTURE,
    ("forum_events", "municipality"): each(
        lambda db: db.query("municipalities")["municipality"].to_list(), rows
    ),
    ("forum_events", "prefecture"): PREFECTURE,
    # events of the whole municipality have no district: left out, the list has them too
    ("forum_events", "districts"): counted(
        rows, f"{KURASHIKI_EVENTS} and month between '2023-04' and '2024-03'"
    ),
    ("forum_events", "event_type"): each(event_types, rows),
    ("forum_events", "from_month"): same(from_month=FIRST["forums"]),
    ("forum_events", "to_month"): TO_LATEST,
    ("forums_by_fiscal_year", "prefecture"): PREFECTURE,
    ("forums_by_fiscal_year", "event_type"): each(event_types, total("n_events")),
    ("forums_by_type_district", "prefecture"): PREFECTURE,
    ("forums_by_type_district", "districts"): counted(
        total("n_events"), f"{KURASHIKI_EVENTS} and month between '2023-04' and '2024-03'"
    ),
    ("forums_by_type_district", "from_month"): same(from_month=FIRST["forums"]),
    ("forums_by_type_district", "to_month"): TO_LATEST,
    ("forums_missing_koryukai", "prefecture"): same(prefecture="長野県"),
    ("forums_missing_koryukai", "districts"): every_district,
    ("forums_monthly", "prefecture"): PREFECTURE,
    ("forums_monthly", "districts"): counted(total("n_events"), KURASHIKI_EVENTS),
    ("municipalities", "prefecture"): each(
        lambda db: db.sql("select distinct prefecture from areas")["prefecture"].to_list(), rows
    ),
    ("overview", "prefecture"): PREFECTURE,
    ("overview", "districts"): counted(
        lambda f: (f["n_active_places"][0], f["n_events"][0]),
        f"select (select count(*) from places where municipality = '倉敷市' and month = '{LATEST}'"
        f" and status = '活動中'), ({KURASHIKI_EVENTS} and month = '{LATEST}')",
    ),
    # events have no school district: the figures that have one add up
    ("overview", "school_district"): each(
        mabi_schools, lambda f: (f["n_active_places"][0], f["n_pantry_sites"][0]), **MABI
    ),
    ("overview", "month"): LATEST_MONTH,
    ("pantry_breakdown", "prefecture"): PREFECTURE,
    ("pantry_breakdown", "districts"): every_district,
    ("pantry_breakdown", "school_district"): each(mabi_schools, total("n_sites"), **MABI),
    ("pantry_breakdown", "month"): LATEST_MONTH,
    ("pantry_disclosure_counts", "prefecture"): PREFECTURE,
    ("pantry_monthly", "prefecture"): PREFECTURE,
    ("pantry_monthly", "districts"): every_district,
    ("pantry_monthly", "school_district"): each(
        mabi_schools, total("n_sites", "households_served", "consultations"), **MABI
    ),
    ("pantry_sites_by_district", "prefecture"): PREFECTURE,
    ("pantry_sites_by_district", "districts"): every_district,
    ("pantry_sites_by_district", "month"): LATEST_MONTH,
    ("pantry_sites_by_school_district", "prefecture"): PREFECTURE,
    ("pantry_sites_by_school_district", "districts"): every_district,
    ("pantry_sites_by_school_district", "month"): LATEST_MONTH,
    ("pantry_sites_by_month", "prefecture"): PREFECTURE,
    ("pantry_sites_by_month", "districts"): every_district,
    ("pantry_sites_by_month", "school_district"): each(mabi_schools, total("n_sites"), **MABI),
    ("pantry_top_sites", "prefecture"): PREFECTURE,
    ("pantry_top_sites", "districts"): every_district,
    # 真備 has fewer than 10 sites: all of them are listed
    ("pantry_top_sites", "school_district"): each(mabi_schools, total("households_served"), **MABI),
    ("pantry_top_sites", "from_month"): same(from_month=FIRST["pantry"]),
    ("pantry_top_sites", "to_month"): TO_LATEST,
    ("pantry_top_sites", "limit"): same(limit=10),
    ("participation_by_district", "prefecture"): PREFECTURE,
    ("participation_by_district", "districts"): every_district,
    ("participation_by_district", "month"): LATEST_MONTH,
    ("participation_by_municipality", "month"): LATEST_MONTH,
    ("participation_coverage", "prefecture"): PREFECTURE,
    ("participation_coverage", "districts"): every_district,
    ("participation_coverage", "month"): LATEST_MONTH,
    ("participation_monthly", "prefecture"): PREFECTURE,
    ("participation_monthly", "districts"): every_district,
    ("participation_monthly", "school_district"): each(
        mabi_schools, total("n_active", "n_reporting", "participants_65plus", "population_65plus"), **MABI
    ),
    ("places_breakdown", "prefecture"): PREFECTURE,
    ("places_breakdown", "districts"): every_district,
    ("places_breakdown", "school_district"): each(mabi_schools, total("n_active"), **MABI),
    ("places_breakdown", "month"): LATEST_MONTH,
    ("places_by_district", "prefecture"): PREFECTURE,
    ("places_by_district", "districts"): every_district,
    ("places_by_district", "month"): LATEST_MONTH,
    ("places_by_fiscal_year", "prefecture"): PREFECTURE,
    ("places_by_fiscal_year", "districts"): every_district,
    ("places_by_fiscal_year", "school_district"): each(
        mabi_schools, total("n_active", "n_subsidized"), **MABI
    ),
    ("places_changes", "prefecture"): PREFECTURE,
    ("places_changes", "districts"): every_district,
    ("places_changes", "school_district"): each(mabi_schools, rows, **MABI),
    ("places_changes", "from_month"): same(from_month=FIRST["places"]),
    ("places_changes", "to_month"): TO_LATEST,
    ("places_coverage", "prefecture"): PREFECTURE,
    ("places_coverage", "districts"): every_district,
    ("places_coverage", "month"): LATEST_MONTH,
    ("places_directory", "prefecture"): PREFECTURE,
    ("places_directory", "districts"): every_district,
    ("places_directory", "month"): LATEST_MONTH,
    ("places_list", "prefecture"): PREFECTURE,
    ("places_list", "districts"): every_district,
    ("places_list", "school_district"): each(mabi_schools, rows, **MABI),
    ("places_list", "month"): LATEST_MONTH,
    ("places_list", "search"): counted(
        rows, f"select count(*) from places where municipality = '倉敷市' and month = '{LATEST}'"
    ),
    ("places_list", "status"): each(["活動中", "休止中", "終了"], rows),
    ("prefecture_compare", "month"): LATEST_MONTH,
    ("prefecture_compare", "from_month"): same(from_month=FIRST["forums"]),
    ("prefecture_compare", "to_month"): TO_LATEST,
    ("school_districts", "prefecture"): PREFECTURE,
    ("school_districts", "districts"): every_district,
    ("school_district_boundaries", "prefecture"): PREFECTURE,
    ("school_district_boundaries", "month"): LATEST_MONTH,
    ("prefecture_groups", "month"): LATEST_MONTH,
    ("prefecture_groups", "from_month"): same(from_month=FIRST["forums"]),
    ("prefecture_groups", "to_month"): TO_LATEST,
    ("similar_municipalities", "limit"): same(limit=5),
    ("similar_municipalities", "everywhere"): same(everywhere=False),
    ("survey_places", "prefecture"): PREFECTURE,
    ("upload_status", "month"): LATEST_MONTH,
}


def test_every_query_is_in_the_table_and_documents_each_parameter_once():
    for name in QUERIES:
        sql = load_query(name)
        documented = documented_params(sql)
        assert set(documented) == set(query_params(sql)), name
        required = {p for p, text in documented.items() if "optional" not in text}
        assert required <= set(BASE[name]), f"{name}: BASE has no value for {required - set(BASE[name])}"
    assert set(BASE) == set(QUERIES)
    assert set(CHECKS) == set(optional_params()), "a row of CHECKS names no optional parameter"


@pytest.mark.parametrize("name, param", optional_params())
def test_an_omitted_parameter_means_what_the_header_says(demo_db, name, param):
    months = {
        ds: (first, last)
        for ds, first, last in demo_db.sql(
            "select dataset, min(month), max(month) from uploads group by 1"
        ).rows()
    }
    assert {ds: months[ds] for ds in FIRST} == {ds: (m, LATEST) for ds, m in FIRST.items()}  # the demo
    check = CHECKS.get((name, param))
    assert check, f"{name}: no row in CHECKS for the optional ${param}"
    base = {k: v for k, v in BASE[name].items() if k != param}

    def run(**params) -> pl.DataFrame:
        return demo_db.query(name, **base | params)

    run.db, run.param = demo_db, param
    assert not run().is_empty(), f"{name} without ${param} answers nothing"
    check(run, base)


@pytest.mark.parametrize("name, measure", [("places_breakdown", "n_active"), ("pantry_breakdown", "n_sites")])
def test_a_breakdown_splits_by_the_dimensions_its_header_lists_and_no_other(demo_db, name, measure):
    dimensions = re.search(r"text: (\w+(?: \| \w+)+)", documented_params(load_query(name))["dimension"])[1]
    assert len(dimensions.split(" | ")) >= 2
    whole = None
    for dimension in dimensions.split(" | "):
        split = demo_db.query(name, **BASE[name] | {"dimension": dimension})
        assert split.height > 1 and split["value"].n_unique() == split.height
        whole = whole or split[measure].sum()
        assert split[measure].sum() == whole  # every place or site counted once, whatever the split
    for unknown in (None, "district", "category; drop table places_all"):
        assert demo_db.query(name, **BASE[name] | {"dimension": unknown}).is_empty()
