"""参加率 (people aged 65+ taking part in 通いの場 ÷ people aged 65+): the new places columns are
checked as the contract writes them, a store from before them keeps working, the figure equals a
hand count from the demo's CSVs and an independent SQL over the Parquet store, and the pages,
the wall and the handout show it beside the national 8% target with what it covers."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter

import duckdb
import polars as pl
import pytest

from tests.conftest import ROOT, tree_digest
from tests.test_app import metrics, opened
from tests.test_ingest_formats import PLACES_HEADER, PLACES_ROWS
from tsunagu.contract.schema import DATASETS
from tsunagu.ingest.pipeline import ingest
from tsunagu.query import participation
from tsunagu.query.database import Database
from tsunagu.store.versions import Store


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return opened


HEADER = PLACES_HEADER + ",主な活動,参加実人数,うち65歳以上,うち75歳以上"
GOOD = PLACES_ROWS[0] + ",体操（運動）,14,12,7"


def places_file(*rows: str) -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode("utf-8")


def second(counts: str) -> str:
    """Row 3 of the file: the second place, with its own survey columns."""
    return PLACES_ROWS[1] + "," + counts


# --- the columns, as the contract writes them ------------------------------------------------


def test_a_good_row_is_stored_with_its_counts(store):
    result = ingest(places_file(GOOD, second("茶話会,20,20,0")), "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    rows = store.read_month("places", "2024-07").sort("place_id")
    assert rows.select(
        "main_activity", "participants_real", "participants_65plus", "participants_75plus"
    ).rows() == [
        ("体操（運動）", 14, 12, 7),
        ("茶話会", 20, 20, 0),
    ]


@pytest.mark.parametrize(
    "counts, column, expected",
    [
        (
            "茶話会,10,12,5",
            "うち65歳以上",
            "「12」は参加実人数（10）より多くなっています。参加実人数以下の整数で入力してください。",
        ),
        (
            "茶話会,10,8,9",
            "うち75歳以上",
            "「9」はうち65歳以上（8）より多くなっています。うち65歳以上以下の整数で入力してください。",
        ),
        (
            "茶話会,,8,",
            "うち65歳以上",
            "参加実人数が空欄です。うち65歳以上を入れるときは参加実人数も入れてください。",
        ),
        (
            "茶話会,10,,3",
            "うち75歳以上",
            "うち65歳以上が空欄です。うち75歳以上を入れるときはうち65歳以上も入れてください。",
        ),
        ("茶話会,-1,,", "参加実人数", "「-1」は範囲外です。0以上の整数で入力してください"),
        ("茶話会,10,-2,", "うち65歳以上", "「-2」は範囲外です。0以上の整数で入力してください"),
        ("茶話会,10,8,-3", "うち75歳以上", "「-3」は範囲外です。0以上の整数で入力してください"),
        ("茶話会,十人,,", "参加実人数", "「十人」は"),
        (
            "お茶会,10,8,3",
            "主な活動",
            "次のどれかにしてください: 体操（運動）、会食、茶話会、認知症予防、趣味活動、農作業、生涯学習、"
            "ボランティア活動、就労的活動、多世代交流、その他",
        ),
    ],
)
def test_each_rule_names_the_row_the_column_and_what_was_expected(store, counts, column, expected):
    before = tree_digest(store.root)
    result = ingest(places_file(GOOD, second(counts)), "places", "2024-07", store)
    assert not result.ok and tree_digest(store.root) == before  # refused whole, nothing written
    (error,) = result.errors
    assert (error.row, error.column) == (3, column)
    assert expected in error.message
    assert str(error).startswith(f"[エラー] 3行目・{error.letter}列（{column}）: ")


def test_equal_counts_and_blank_counts_are_accepted(store):
    """0 ≤ 75+ ≤ 65+ ≤ 実人数 holds with equality, and every column may stay blank."""
    result = ingest(
        places_file(
            GOOD,
            second("その他,5,5,5"),
        ),
        "places",
        "2024-07",
        store,
    )
    assert result.ok
    result = ingest(places_file(GOOD, second(",,,")), "places", "2024-08", store)
    assert result.ok


# --- a store written before the columns --------------------------------------------------


@pytest.fixture
def old_store(tmp_path) -> Store:
    """The store main wrote before these columns (tests/fixtures/store_format1), migrated."""
    from tsunagu.store.migrate import migrate

    shutil.copytree(ROOT / "tests" / "fixtures" / "store_format1", tmp_path / "data")
    store = Store(tmp_path / "data")
    migrate(store)
    files = list((store.root / "places").rglob("*.parquet"))
    assert files and all(
        "participants_real" not in duckdb.sql(f"describe select * from '{f}'").pl()["column_name"]
        for f in files
    )
    return store


def test_a_store_from_before_the_columns_keeps_working(old_store):
    """Its months read as having no counts; a new month with them is counted beside them, in a
    database that loaded the old months first (an upload loads only its month) and in a new one."""
    db = Database(old_store, cache=False)
    before = db.query("participation_monthly", municipality="倉敷市", prefecture="岡山県")
    assert before["month"].to_list() == ["2024-06", "2024-07"]
    assert before["n_reporting"].to_list() == [0, 0]
    assert before["participation_rate_pct"].null_count() == 2  # unknown, not 0
    from tsunagu.query import survey

    report = survey.report(db, "岡山県", "倉敷市", 2024)
    assert report.as_of_month == "2024-07" and report.participants_real is None and report.rate_pct is None

    # the old month, as diffs and the browser editor read it
    from tsunagu.dashboard import editing
    from tsunagu.ingest.diff import compare

    old_rows = old_store.read_month("places", "2024-07")
    assert "participants_real" not in old_rows.columns
    new = ingest(
        places_file(GOOD, second("茶話会,20,18,9")).replace(b"TM-002", b"TM-009"),
        "places",
        "2024-08",
        old_store,
        municipality=("岡山県", "倉敷市"),
    )
    assert new.ok, [str(e) for e in new.errors]
    change = compare("places", old_rows, old_store.read_month("places", "2024-08"))
    totals = dict(zip(change.totals["measure"], change.totals["after"]))
    assert totals["参加実人数"] == 34 and totals["うち65歳以上"] == 30
    start = editing.start(old_store, "places", ("岡山県", "倉敷市"), "2024-07")
    assert {"主な活動", "参加実人数", "うち65歳以上"} <= set(editing.grid(start).columns)

    for database in (db, Database(old_store, cache=False)):
        after = database.query("participation_monthly", municipality="倉敷市", prefecture="岡山県")
        people = after.filter(after["month"] == "2024-08").row(0, named=True)
        # the second place is 休止中: its counts are not the month's participation
        assert (people["n_active"], people["n_reporting"], people["participants_65plus"]) == (1, 1, 12)
        assert people["participation_rate_pct"] == rate(12, people["population_65plus"])
        assert after.filter(after["month"] == "2024-07")["n_reporting"].to_list() == [0]


# --- the demo's figure, counted by hand and by another SQL ------------------------------------


def read_csv(path, encoding: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


def hand_count(demo_dir, month: str, municipality: str = "倉敷市", council: str = "kurashiki"):
    """From the demo's CSVs alone: per district and in all, (65+ taking part in 活動中 places,
    活動中 places giving the count, 活動中 places, people aged 65+)."""
    areas = read_csv(demo_dir / "_demo_csv" / "areas" / f"areas_2022-09_{council}.csv", "utf-8-sig")
    folder = demo_dir / "_demo_csv" / "places"
    name = (
        f"places_{month}_{council}.csv"
        if (folder / f"places_{month}_{council}.csv").exists()
        else f"places_{month}.csv"
    )
    rows = [
        r for r in read_csv(folder / name, "cp932") if r["市町村"] == municipality and r["状態"] == "活動中"
    ]
    people, older, reporting, active = Counter(), Counter(), Counter(), Counter()
    for a in areas:
        people[a["地区"]] += int(a["65歳以上人口"].replace(",", ""))
    for r in rows:
        district = r["地区"].removesuffix("地区")
        active[district] += 1
        if r["うち65歳以上"]:
            reporting[district] += 1
            older[district] += int(r["うち65歳以上"])
    return {d: (older[d], reporting[d], active[d], people[d]) for d in people} | {
        None: (sum(older.values()), sum(reporting.values()), sum(active.values()), sum(people.values()))
    }


def rate(older: int, people: int) -> float:
    return pytest.approx(100 * older / people, rel=1e-12)


def test_the_demo_rate_equals_a_hand_count_from_its_csvs(demo_dir, demo_db):
    counted = hand_count(demo_dir, "2025-03")
    older, reporting, active, people = counted[None]
    assert 0.8 < reporting / active < 1  # most places give the count, not all: the gap shows
    monthly = demo_db.query("participation_monthly", municipality="倉敷市")
    now = participation.at(monthly, "2025-03")
    assert (now.participants_65plus, now.n_reporting, now.n_active, now.population_65plus) == counted[None]
    assert now.rate_pct == rate(older, people)
    assert now.coverage == f"参加実人数（うち65歳以上）の入力がある通いの場 {reporting:,} / {active:,}か所"
    by_district = demo_db.query("participation_by_district", municipality="倉敷市", month="2025-03")
    for r in by_district.iter_rows(named=True):
        o, n, a, p = counted[r["district"]]
        assert (r["participants_65plus"], r["n_reporting"], r["n_active"], r["population_65plus"]) == (
            o,
            n,
            a,
            p,
        )
        assert r["participation_rate_pct"] == rate(o, p)
    # a 年度's figure is its March
    year = participation.fiscal_years(monthly).filter(
        monthly.filter(monthly["is_fiscal_year_end"])["fiscal_year"] == 2024
    )
    assert year["as_of_month"].to_list() == ["2025-03"] and year["participation_rate_pct"][0] == now.rate_pct
    # no counts before 令和元年度, and none from the councils that do not collect them
    assert monthly.filter(monthly["month"] < "2019-04")["participation_rate_pct"].null_count() == 36
    tenryu = demo_db.query("participation_monthly", municipality="天龍村")
    assert tenryu["n_reporting"].sum() == 0 and tenryu["participation_rate_pct"].null_count() == tenryu.height


def test_every_area_rate_equals_an_independent_sql_over_the_parquet_store(demo_dir, demo_db):
    """Each district and school district of 倉敷市, read straight from the Parquet files."""
    glob = f"{demo_dir}/places/*/*.parquet"
    straight = duckdb.sql(
        f"""
        select district, school_district, sum(participants_65plus), count(participants_65plus), count(*)
        from read_parquet('{glob}', hive_partitioning = true, union_by_name = true)
        where month = '2024-07' and municipality = '倉敷市' and status = '活動中'
        group by all
        """
    ).fetchall()
    areas = duckdb.sql(
        f"""
        select district, school_district, population_65plus
        from read_parquet('{demo_dir}/areas/*/*.parquet', hive_partitioning = true)
        where municipality = '倉敷市'
        """
    ).fetchall()
    found = {(d, s): (o, n, a) for d, s, o, n, a in straight}
    schools = demo_db.query("participation_coverage", municipality="倉敷市", month="2024-07")
    assert schools.height == len(areas) == 63
    for d, s, p in areas:
        o, n, a = found.get((d, s), (None, 0, 0))
        got = schools.filter((schools["district"] == d) & (schools["school_district"] == s)).row(
            0, named=True
        )
        assert (got["participants_65plus"], got["n_reporting"], got["n_active"]) == (o, n, a), (d, s)
        assert got["participation_rate_pct"] == (0.0 if a == 0 else None if o is None else rate(o, p))


def test_gaps_are_older_school_districts_under_the_target(demo_db):
    schools = participation.with_gaps(demo_db.query("participation_coverage", municipality="倉敷市"))
    whole = schools["municipality_aging_rate_pct"][0]
    for r in schools.iter_rows(named=True):
        expected = (
            r["participation_rate_pct"] is not None
            and r["aging_rate_pct"] > whole
            and r["participation_rate_pct"] < 8
        )
        assert r["is_gap"] == expected
    assert 0 < schools["is_gap"].sum() < schools.height


def test_municipalities_are_ranked_by_rate_and_those_without_counts_last(demo_db):
    ranked = demo_db.query("participation_by_municipality", prefecture="長野県")
    assert ranked.height == 18
    rated = ranked.filter(ranked["participation_rate_pct"].is_not_null())
    assert rated["rank_participation"].to_list() == list(range(1, 17))
    assert rated["participation_rate_pct"].to_list() == sorted(
        rated["participation_rate_pct"].to_list(), reverse=True
    )
    assert sorted(ranked["municipality"].to_list()[-2:]) == ["信濃町", "天龍村"]
    assert ranked["rank_participation"].to_list()[-2:] == [None, None]


# --- what people see ------------------------------------------------------------------------


def _rules_on_target(spec: dict) -> bool:
    """Whether a spec (or a layer within it) draws a dashed rule from a `target` field."""
    mark = spec.get("mark")
    mark = mark if isinstance(mark, dict) else {"type": mark}
    if mark.get("type") == "rule" and "strokeDash" in mark:
        if any(isinstance(e, dict) and e.get("field") == "target" for e in spec.get("encoding", {}).values()):
            return True
    return any(_rules_on_target(layer) for layer in spec.get("layer", []))


def target_lines(at) -> list[float]:
    """The values of every dashed rule drawn from a `target` field, chart by chart (the data
    reach the browser as Arrow, beside the spec)."""
    found = []
    for chart in at.get("vega_lite_chart"):
        if not _rules_on_target(json.loads(chart.proto.spec)):
            continue
        for data in chart.proto.datasets:
            frame = pl.read_ipc_stream(io.BytesIO(data.data.data))
            if "target" in frame.columns:
                found += frame["target"].to_list()
    return found


def test_overview_shows_the_rate_with_the_target_and_what_it_covers(app, demo_dir):
    older, reporting, active, people = hand_count(demo_dir, "2025-03")[None]
    at = app()
    assert metrics(at)["参加率（2025年3月）"] == f"{100 * older / people:.1f}%"
    captions = " ".join(c.value for c in at.caption)
    assert f"参加実人数（うち65歳以上）の入力がある通いの場 {reporting:,} / {active:,}か所" in captions
    assert (
        "国の目標 8%" in captions and "令和元年度 6.7%" in captions
    )  # the national figures, with their year
    assert "3月" in captions and "年度の最後の月" in captions  # which month a 年度 uses
    assert target_lines(at) == [8.0], "the 年度 chart has one line at the national target"


def test_places_page_shows_the_rate_and_its_participation_axis(app, demo_dir):
    older, reporting, active, people = hand_count(demo_dir, "2025-03")[None]
    at = app("pages/places.py")
    assert metrics(at)["通いの場の参加率（65歳以上）"] == f"{100 * older / people:.1f}%"
    gaps = app("pages/places.py", query={"places_tab": "手薄な小学校区"})
    table = next(d.value for d in gaps.dataframe if "参加率（65歳以上、%）" in d.value.columns)
    assert len(table) > 0 and (table["参加率（65歳以上、%）"] < 8).all()
    assert target_lines(gaps) == [8.0]


def test_district_card_shows_the_district_beside_the_municipality(app, demo_dir):
    counted = hand_count(demo_dir, "2024-07")
    at = app("pages/district.py", query={"d": "玉島", "m": "2024-07"})
    m = metrics(at)
    assert m["玉島地区"] == f"{100 * counted['玉島'][0] / counted['玉島'][3]:.1f}%"
    assert m["倉敷市全体"] == f"{100 * counted[None][0] / counted[None][3]:.1f}%"
    assert target_lines(at) == [8.0]


def test_prefecture_board_ranks_the_rate(app):
    at = app("pages/prefecture.py", query={"pref": "長野県", "muni": "生坂村"})
    table = next(d.value for d in at.dataframe if "順位（参加率）" in d.value.columns)
    assert len(table) == 18 and list(table["順位（参加率）"])[:3] == [1, 2, 3]
    assert any("信濃町" in c.value and "天龍村" in c.value for c in at.caption)


def test_the_wall_shows_the_rate_under_the_count_of_places(app, demo_dir):
    counted = hand_count(demo_dir, "2025-03")
    at = app("pages/present.py", query={"district": "玉島"})
    lines = [m.value for m in at.markdown if 'class="slide-rate"' in m.value]
    o, n, a, p = counted["玉島"]
    assert len(lines) == 1 and f"参加率（65歳以上）{100 * o / p:.1f}%" in lines[0]
    assert "国の目標 8%" in lines[0] and f"{n:,} / {a:,}か所" in lines[0]


def test_the_handout_prints_the_rate_line(demo_db, demo_dir):
    from tests.test_handout import TODAY, flat, pages_text
    from tsunagu.documents import handout

    o, n, a, p = hand_count(demo_dir, "2024-07")["玉島"]
    text = flat(
        "".join(
            pages_text(
                handout.district_handout(demo_db, handout.Area("岡山県", "倉敷市", "玉島", "2024-07"), TODAY)
            )
        )
    )
    assert flat(f"通いの場の参加率（65歳以上）{100 * o / p:.1f}%") in text
    assert flat(f"入力がある通いの場 {n:,} / {a:,}か所") in text and "国の目標8%" in text


def test_the_places_columns_are_documented_and_templated():
    from tsunagu.ingest.template import template_csv

    header = template_csv("places").decode("utf-8-sig").strip().split(",")
    at = header.index("主な活動")
    assert header[at : at + 4] == ["主な活動", "参加実人数", "うち65歳以上", "うち75歳以上"]
    assert DATASETS["places"].column("main_activity").values[0] == "体操（運動）"


def test_the_workbook_round_trips_the_counts_and_offers_the_headings(store):
    """The month as the editable workbook and back: the counts and 主な活動 come back as they
    were, and 主な活動 is a drop-down of the survey's headings (the empty template too)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    from tsunagu.ingest.workbook import OPTIONS_SHEET, edit_workbook, template_workbook

    assert ingest(places_file(GOOD, second("茶話会,20,18,9")), "places", "2024-07", store).ok
    month = store.read_month("places", "2024-07")
    book = edit_workbook("places", month, "2024-07")
    assert ingest(book, "places", "2024-08", store, file_name="places.xlsx").ok
    survey_columns = [
        "place_id",
        "main_activity",
        "participants_real",
        "participants_65plus",
        "participants_75plus",
    ]
    assert (
        store.read_month("places", "2024-08").select(survey_columns).sort("place_id").rows()
        == month.select(survey_columns).sort("place_id").rows()
    )
    for data in (book, template_workbook("places")):
        wb = load_workbook(io.BytesIO(data))
        ws, options = wb.worksheets[0], wb[OPTIONS_SHEET]
        letter = get_column_letter([c.value for c in ws[1]].index("主な活動") + 1)
        (dv,) = [d for d in ws.data_validations.dataValidation if str(d.sqref).startswith(f"{letter}2")]
        first, last = dv.formula1.split("!")[1].replace("$", "").split(":")
        column = first.rstrip("0123456789")
        listed = [
            options[f"{column}{r}"].value
            for r in range(int(first[len(column) :]), int(last[len(column) :]) + 1)
        ]
        assert listed == list(DATASETS["places"].column("main_activity").values)


def test_the_diff_names_a_changed_count(store):
    from tsunagu.ingest.diff import compare

    assert ingest(places_file(GOOD, second("茶話会,20,18,9")), "places", "2024-07", store).ok
    before = store.read_month("places", "2024-07")
    after = before.with_columns(
        participants_real=pl.when(pl.col("place_id") == "TM-001")
        .then(16)
        .otherwise(pl.col("participants_real"))
    )
    change = compare("places", before, after)
    assert change.changed.select("place_id", "what", "before", "after").rows() == [
        ("TM-001", "参加実人数", "14", "16")
    ]
    totals = dict(zip(change.totals["measure"], change.totals["difference"]))
    assert totals["参加実人数"] == 2 and totals["うち65歳以上"] == 0


def test_a_municipality_without_the_months_list_has_no_rate_not_zero(tmp_path):
    """県域比較 in a month one council has not sent yet: unknown, unranked, not 0%."""
    store = Store(tmp_path / "data")
    areas = "都道府県,市町村,地区,小学校区,人口,65歳以上人口\r\n岡山県,倉敷市,玉島,玉島小,12000,3000\r\n岡山県,総社市,総社,総社小,9000,2500\r\n"
    assert ingest(areas.encode(), "areas", "2024-04", store).ok
    row = "S-1,みんなの体操,総社市,総社,総社小,体操・運動,はい,活動中,,4,,,,体操（運動）,30,25,12"
    assert ingest(places_file(row), "places", "2024-07", store).ok
    ranked = Database(store, cache=False).query(
        "participation_by_municipality", prefecture="岡山県", month="2024-07"
    )
    assert ranked.select(
        "municipality", "has_list", "participation_rate_pct", "rank_participation"
    ).rows() == [
        ("総社市", True, 1.0, 1),
        ("倉敷市", False, None, None),
    ]
