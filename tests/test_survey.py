"""The yearly national 通いの場 survey filled in from the monthly lists: for crafted places (each
frequency band at its boundary, places with and without counts, 休止中 and 終了) the report's
figures are the hand-computed ones, the workbook carries the same figures in the survey's order,
the demo's report equals a count from its CSVs, and the page shows it (the list of places only
to those who may see places by name)."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from tests.test_app import UNUSUAL, metrics
from tests.test_participation import opened, read_csv
from tsunagu.contract.schema import OPERATOR_TYPES, PLACE_CATEGORIES, SURVEY_ACTIVITIES, VENUE_TYPES
from tsunagu.contract.survey import BANDS, OPERATORS, VENUES, band_of, mapping_rows
from tsunagu.documents import survey_workbook
from tsunagu.ingest.pipeline import ingest
from tsunagu.query import survey
from tsunagu.query.database import Database

COLUMNS = (
    "place_id",
    "status",
    "sessions_per_month",
    "category",
    "main_activity",
    "operator_type",
    "venue_type",
    "participants_real",
    "participants_65plus",
    "participants_75plus",
)
PLACES = [
    # counted: 活動中 and at least once a month, each band at its edges
    ("A", "活動中", 4.0, "体操・運動", "体操（運動）", "住民グループ", "集会所・公民館", 20, 18, 10),
    ("B", "活動中", 3.99, "サロン", None, "社協直営", "個人宅", 10, 9, 6),
    ("C", "活動中", 2.0, "子ども食堂", None, None, None, None, None, None),
    ("D", "活動中", 1.99, "カフェ", "認知症予防", "個人", "コミュニティセンター", 8, 8, 8),
    ("E", "活動中", 1.0, "趣味・習いごと", None, "地区社協", "福祉施設", 12, None, None),
    ("J", "活動中", 31.0, "会食・地域食堂", "会食", "NPO・ボランティア団体", "店舗・喫茶店", 40, 30, 12),
    # not counted: their counts are not the survey's
    ("F", "活動中", 0.99, "サロン", "茶話会", "住民グループ", "集会所・公民館", 30, 30, 20),
    ("G", "活動中", None, "サロン", None, "住民グループ", "集会所・公民館", 15, 15, 9),
    ("H", "休止中", 4.0, "体操・運動", None, "住民グループ", "集会所・公民館", None, None, None),
    ("I", "終了", 8.0, "サロン", None, "住民グループ", "集会所・公民館", 5, 5, 5),
]
PEOPLE_65 = 1_000


@pytest.fixture(scope="module")
def crafted() -> survey.SurveyReport:
    frame = pl.DataFrame(
        [dict(zip(COLUMNS, p)) for p in PLACES],
        schema={
            "place_id": pl.String,
            "status": pl.String,
            "sessions_per_month": pl.Float64,
            "category": pl.String,
            "main_activity": pl.String,
            "operator_type": pl.String,
            "venue_type": pl.String,
            "participants_real": pl.Int64,
            "participants_65plus": pl.Int64,
            "participants_75plus": pl.Int64,
        },
    ).with_columns(
        as_of_month=pl.lit("2025-03"),
        name=pl.col("place_id") + "のつどい",
        district=pl.lit("玉島"),
        school_district=pl.lit("玉島小"),
    )
    return survey.summarise(frame, "岡山県", "倉敷市", 2024, PEOPLE_65)


@pytest.mark.parametrize(
    "sessions, band",
    [
        (None, None),
        (0.5, None),
        (0.99, None),
        (1.0, "月1〜2回未満"),
        (1.99, "月1〜2回未満"),
        (2.0, "月2〜4回未満"),
        (3.99, "月2〜4回未満"),
        (4.0, "週1回以上"),
        (31.0, "週1回以上"),
    ],
)
def test_frequency_bands_at_their_boundaries(sessions, band):
    assert band_of(sessions) == band


def test_the_report_counts_what_the_survey_counts(crafted):
    assert crafted.as_of_month == "2025-03" and crafted.n_listed == 10
    assert crafted.n_counted == 6  # A B C D E J
    assert crafted.by_band == [("週1回以上", 2), ("月2〜4回未満", 2), ("月1〜2回未満", 2)]
    assert crafted.by_activity == [
        ("体操（運動）", 1),  # A, as its list says
        ("会食", 1),  # J
        ("茶話会", 1),  # B, a サロン with no 主な活動: read from 種別
        ("認知症予防", 1),  # D: the list's 主な活動 wins over 種別 カフェ
        ("趣味活動", 1),  # E
        ("農作業", 0),
        ("生涯学習", 0),
        ("ボランティア活動", 0),
        ("就労的活動", 0),
        ("多世代交流", 1),  # C, a 子ども食堂
        ("その他", 0),
    ]
    assert crafted.by_operator == [
        ("住民団体", 2),  # A 住民グループ, E 地区社協
        ("住民個人", 1),
        ("社会福祉協議会", 1),
        ("社会福祉法人", 0),
        ("NPO法人", 1),
        ("その他", 0),
        ("未入力", 1),  # C
    ]
    assert crafted.by_venue == [
        ("公民館・自治会館・集会所", 2),  # A, D (コミュニティセンター)
        ("介護関係施設・事業所の空きスペース", 1),
        ("個人宅", 1),
        ("空き家・空き店舗", 0),
        ("商店・喫茶店等", 1),
        ("公園・屋外", 0),
        ("その他", 0),
        ("未入力", 1),
    ]
    # participants of the counted places only: C gives none, E no age split
    assert (crafted.participants_real, crafted.participants_65plus, crafted.participants_75plus) == (
        90,
        65,
        36,
    )
    assert crafted.n_reporting == 4
    assert crafted.rate_pct == pytest.approx(6.5)
    assert dict(crafted.not_counted) == {
        "月1回未満（0.99回/月）のため数えない": 1,
        "開催頻度が空欄のため数えない（月1回以上か確かめられない）": 1,
        "休止中のため数えない": 1,
        "終了のため数えない": 1,
    }
    why = dict(crafted.places.select("place_id", "reason").iter_rows())
    assert why["A"] == "活動中・4回/月（週1回以上）" and why["E"] == "活動中・1回/月（月1〜2回未満）"
    source = dict(crafted.places.select("place_id", "activity_source").iter_rows())
    assert source["A"] == survey.FROM_LIST and source["B"] == survey.FROM_CATEGORY


def test_a_year_without_counts_has_no_rate():
    frame = (
        pl.DataFrame(
            {
                "as_of_month": ["2025-03"],
                "status": ["活動中"],
                "sessions_per_month": [4.0],
                "category": ["サロン"],
            }
        )
        .with_columns(
            pl.lit(None, dtype=pl.String).alias(c) for c in ("main_activity", "operator_type", "venue_type")
        )
        .with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c)
            for c in ("participants_real", "participants_65plus", "participants_75plus")
        )
    )
    report = survey.summarise(frame, "岡山県", "倉敷市", 2024, PEOPLE_65)
    assert report.n_counted == 1 and report.participants_65plus is None and report.rate_pct is None


def sheet_rows(ws) -> list[tuple]:
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_the_workbook_opens_with_the_same_figures_in_the_survey_order(crafted):
    book = openpyxl.load_workbook(io.BytesIO(survey_workbook.workbook(crafted)))
    assert book.sheetnames == ["調査票の項目", "通いの場の一覧", "区分の対応表"]
    rows = sheet_rows(book["調査票の項目"])
    assert rows[0][0] == "通いの場の状況（倉敷市、令和6年度（2024年度））"
    assert "2025年3月" in rows[1][0]
    assert rows[3] == survey_workbook.SUMMARY_HEADER
    table = [r for r in rows[4:] if r[0] and r[1]]
    cells = {(r[0], r[1]): r[2] for r in table}
    assert cells[("通いの場の数（月1回以上・活動中）", "計")] == 6
    assert [cells[("開催頻度別", b.label)] for b in BANDS] == [2, 2, 2]
    assert cells[("主な活動内容別", "茶話会")] == 1 and cells[("運営主体別", "未入力")] == 1
    assert cells[("参加者実人数", "計")] == 90 and cells[("参加者実人数", "うち65歳以上")] == 65
    assert (
        cells[("参加者実人数", "うち75歳以上")] == 36 and cells[("参加者実人数", "入力がある通いの場")] == 4
    )
    assert cells[("65歳以上人口", "圏域マスタ")] == 1000
    assert cells[("参加率（65歳以上）", "うち65歳以上 ÷ 65歳以上人口")] == pytest.approx(6.5)
    # the survey's order: places, 主な活動内容, 運営主体, 会場, 頻度, participants, 参加率
    items = list(dict.fromkeys(r[0] for r in table))
    assert items == [
        "通いの場の数（月1回以上・活動中）",
        "主な活動内容別",
        "運営主体別",
        "会場別",
        "開催頻度別",
        "参加者実人数",
        "65歳以上人口",
        "参加率（65歳以上）",
    ]
    assert [r[1] for r in table if r[0] == "主な活動内容別"] == list(SURVEY_ACTIVITIES)
    national = {(r[0], r[1]): r[5] for r in table}
    assert national[("主な活動内容別", "体操（運動）")] == 53.9  # context, with its year in the header
    assert "令和4年度" in rows[3][5]

    places = sheet_rows(book["通いの場の一覧"])
    header = places[0]
    by_id = {r[0]: dict(zip(header, r)) for r in places[1:]}
    assert len(by_id) == 10
    assert by_id["F"]["調査で数える"] == "×" and by_id["F"]["理由"] == "月1回未満（0.99回/月）のため数えない"
    assert by_id["I"]["理由"] == "終了のため数えない" and by_id["H"]["理由"] == "休止中のため数えない"
    assert (
        by_id["B"]["主な活動内容（調査の区分）"] == "茶話会"
        and by_id["B"]["主な活動内容の根拠"] == "種別から読み替え"
    )
    assert by_id["J"]["参加実人数"] == 40 and by_id["J"]["開催頻度の区分"] == "週1回以上"
    mapping = sheet_rows(book["区分の対応表"])
    assert mapping[1:] == mapping_rows()


def test_the_one_table_maps_every_category_onto_a_survey_heading():
    rows = mapping_rows()
    assert len(rows) == len(PLACE_CATEGORIES) + len(OPERATOR_TYPES) + len(VENUE_TYPES)
    headings = {"主な活動内容": SURVEY_ACTIVITIES, "運営主体": OPERATORS, "会場": VENUES}
    assert all(heading in headings[item] for _, _, item, heading in rows)


def test_the_survey_month_is_the_years_last_upload(store):
    """A 年度 not over yet is counted in its latest month; a 年度 with no list has no report."""
    from tests.test_ingest_formats import PLACES_ROWS, places_csv

    for month in ("2024-07", "2024-09"):
        assert ingest(places_csv(PLACES_ROWS[:1]).encode(), "places", month, store).ok
    db = Database(store, cache=False)
    assert survey.report(db, "岡山県", "倉敷市", 2024).as_of_month == "2024-09"
    empty = survey.report(db, "岡山県", "倉敷市", 2023)
    assert empty.as_of_month is None and empty.n_counted == 0


def test_the_demo_report_equals_a_count_from_its_csvs(demo_dir, demo_db):
    rows = read_csv(demo_dir / "_demo_csv" / "places" / "places_2025-03_kurashiki.csv", "cp932")
    counted = [
        r
        for r in rows
        if r["状態"] == "活動中" and r["開催頻度（回/月）"] and float(r["開催頻度（回/月）"]) >= 1
    ]
    report = survey.report(demo_db, "岡山県", "倉敷市", 2024)
    assert (
        report.as_of_month == "2025-03" and report.n_listed == len(rows) and report.n_counted == len(counted)
    )
    weekly = sum(float(r["開催頻度（回/月）"]) >= 4 for r in counted)
    assert report.by_band[0] == ("週1回以上", weekly)
    older = sum(int(r["うち65歳以上"]) for r in counted if r["うち65歳以上"])
    assert report.participants_65plus == older
    assert report.rate_pct == pytest.approx(100 * older / report.population_65plus)
    assert report.n_counted < sum(r["状態"] == "活動中" for r in rows)  # some meet less than monthly


@pytest.fixture
def app(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return opened


def test_the_survey_page_for_a_manager_and_for_a_viewer(app, demo_db):
    report = survey.report(demo_db, "岡山県", "倉敷市", 2024)
    manager = app("pages/survey.py", query={"fy": "2024"})
    m = metrics(manager)
    assert m["通いの場（月1回以上・活動中）"] == f"{report.n_counted:,}か所"
    assert m["参加率（65歳以上）"] == f"{report.rate_pct:.1f}%"
    assert any("年度の最後の月" in c.value for c in manager.caption)
    assert any("開催頻度（回/月）が 4 以上" in c.value for c in manager.caption)
    summary = next(d.value for d in manager.dataframe if "区分" in d.value.columns)
    assert list(summary["値"])[0] == report.n_counted
    listed = next(
        d.value for d in manager.dataframe if "理由" in d.value.columns and "名称" in d.value.columns
    )
    assert len(listed) == report.n_listed
    assert [b.proto.label for b in manager.get("download_button") if b.proto.label == "Excelでダウンロード"]

    # a viewer sees the figures, not the places by name (個人宅 among them) nor the workbook
    viewer = app("pages/survey.py", query={"fy": "2024"}, user="etsuran")
    assert metrics(viewer)["参加率（65歳以上）"] == f"{report.rate_pct:.1f}%"
    assert not any("名称" in d.value.columns for d in viewer.dataframe)
    assert not [b for b in viewer.get("download_button") if b.proto.label == "Excelでダウンロード"]


@pytest.mark.parametrize("query", UNUSUAL, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_unusual_filters_never_break_the_survey_page(app, query):
    at = app("pages/survey.py", query=query)
    assert at.title[0].value == "国の調査（通いの場）"
