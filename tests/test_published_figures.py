"""Every published figure (tsunagu/demo/published.py; docs/published-figures.md names the
documents), read back through the named queries over the demo store (which was built through
the real ingest path)."""

from __future__ import annotations

import pytest

from tests.conftest import q, tsunagu_cli
from tsunagu.demo.published import (
    ACTIVITY_2022_10,
    ACTIVITY_2024_07,
    NAGANO_GROUPS,
    SUPPORTER_2022_10,
    SUPPORTER_2024_07,
)

FISCAL_YEARS = [
    "平成28年度",
    "平成29年度",
    "平成30年度",
    "令和元年度",
    "令和2年度",
    "令和3年度",
    "令和4年度",
    "令和5年度",
]
ACTIVE = [430, 499, 600, 705, 771, 840, 876, 839]
SUBSIDIZED = [160, 223, 263, 275, 290, 288, 305, 311]


def test_kurashiki_places_per_fiscal_year(demo_db):
    rows = q(demo_db, "places_by_fiscal_year", municipality="倉敷市")
    published = [
        (label, month, n, s)
        for label, month, n, s in zip(
            FISCAL_YEARS, [f"{y}-03" for y in range(2017, 2025)], ACTIVE, SUBSIDIZED
        )
    ]
    assert [(r[1], r[2], r[3], r[4]) for r in rows[:8]] == published


def test_mabi_places_before_and_after_the_2018_flood(demo_db):
    rows = q(demo_db, "places_by_fiscal_year", municipality="倉敷市", districts=["真備"])
    assert [(r[1], r[3]) for r in rows[:4]] == [
        ("平成28年度", 38),
        ("平成29年度", 51),
        ("平成30年度", 58),
        ("令和元年度", 98),
    ]


def test_kurashiki_area_summary(demo_db):
    (row,) = demo_db.query("area_summary", municipality="倉敷市").rows(named=True)
    assert row["population"] == 478_570
    assert row["households"] == 218_097
    assert row["aging_rate_pct"] == 27.8
    assert row["n_school_districts"] == 63
    assert (row["min_school_aging_rate_pct"], row["max_school_aging_rate_pct"]) == (15.0, 50.0)
    assert [r[2] for r in q(demo_db, "districts", municipality="倉敷市")] == [
        "倉敷",
        "水島",
        "児島",
        "玉島",
        "真備",
        "船穂",
    ]


@pytest.mark.parametrize(
    "month, expected",
    [
        ("2022-10", [("倉敷", 29), ("水島", 15), ("児島", 11), ("玉島", 15), ("真備", 6), ("船穂", 3)]),
        ("2024-07", [("倉敷", 29), ("水島", 19), ("児島", 17), ("玉島", 19), ("真備", 6), ("船穂", 5)]),
    ],
)
def test_pantry_sites_by_district(demo_db, month, expected):
    rows = q(demo_db, "pantry_sites_by_district", municipality="倉敷市", month=month)
    assert rows == expected
    assert sum(n for _, n in rows) == {"2022-10": 79, "2024-07": 95}[month]


def test_pantry_activity_types(demo_db):
    """As published (tsunagu/demo/published.py, whose values docs/published-figures.md lists
    with their source and test_published_figures_doc.py checks), most frequent first."""
    for month, published in (("2022-10", ACTIVITY_2022_10), ("2024-07", ACTIVITY_2024_07)):
        rows = q(demo_db, "pantry_breakdown", municipality="倉敷市", dimension="activity_type", month=month)
        assert rows == list(published.items()), month


def test_pantry_supporter_types(demo_db):
    """As published, like the activity types."""
    for month, published in (("2022-10", SUPPORTER_2022_10), ("2024-07", SUPPORTER_2024_07)):
        rows = q(demo_db, "pantry_breakdown", municipality="倉敷市", dimension="supporter_type", month=month)
        assert dict(rows) == published, month


def test_pantry_donors_and_start(demo_db):
    monthly = {r["month"]: r for r in demo_db.query("pantry_monthly", municipality="倉敷市").rows(named=True)}
    assert monthly["2022-10"]["cumulative_donors"] > 350
    assert monthly["2024-07"]["cumulative_donors"] > 760
    # the project started about 1.5 years before 2022-10
    assert min(monthly) == "2021-04"
    assert monthly["2022-10"]["n_sites"] == 79 and monthly["2024-07"]["n_sites"] == 95


def test_kurashiki_forums_every_fiscal_year(demo_db):
    rows = demo_db.query("forums_by_fiscal_year", municipality="倉敷市").rows(named=True)
    by = {(r["fiscal_year"], r["event_type"]): r for r in rows}
    for fy in range(2016, 2025):
        assert by[(fy, "住民フォーラム")]["n_events"] == 2
        assert by[(fy, "通いの場交流会")]["n_events"] == 6
        assert by[(fy, "通いの場交流会")]["n_districts"] == 6
        assert by[(fy, "サポーター養成講座")]["n_events"] == 9


def test_musashino_ibasho_events(demo_db):
    rows = demo_db.query("forum_events", municipality="武蔵野市", event_type="居場所交流会・学習会").rows(
        named=True
    )
    assert sorted((str(r["held_on"]), r["attendees_total"]) for r in rows) == [
        ("2017-08-31", 23),
        ("2017-09-06", 16),
        ("2017-09-09", 15),
        ("2018-09-08", 58),
        ("2020-01-25", 17),
        ("2021-03-13", 19),
    ]
    (musashino,) = [r for r in q(demo_db, "municipalities") if r[1] == "武蔵野市"]
    assert (musashino[6], musashino[7]) == (3, 13)  # 3 圏域, 13 地域社協 areas


def test_musashino_15_subsidised_groups_in_march_2021(demo_db):
    rows = {r[0]: r for r in q(demo_db, "places_by_fiscal_year", municipality="武蔵野市")}
    assert rows[2020][4] == 15


def test_summit_session(demo_db):
    rows = demo_db.query("forum_events", event_type="研修会・セミナー").rows(named=True)
    (summit,) = [r for r in rows if "サミット" in r["title"]]
    assert (
        summit["attendees_total"],
        summit["attendees_online"],
        summit["attendees_onsite"],
        summit["survey_responses"],
    ) == (243, 234, 9, 70)


def test_nagano_conference_municipalities(demo_db):
    nagano = {r[1]: r for r in q(demo_db, "municipalities", prefecture="長野県")}
    assert len(nagano) == 18
    # the report's two groups of nine (published.py, listed with its source in the docs)
    assert set(nagano) == {muni for group in NAGANO_GROUPS.values() for muni in group}
    # each carries its group as the 事業グループ of the areas table
    groups = demo_db.query("municipalities", prefecture="長野県").select("municipality", "project_group")
    assert dict(groups.iter_rows()) == {muni: g for g, munis in NAGANO_GROUPS.items() for muni in munis}
    assert nagano["生坂村"][2] == 1_800 and nagano["生坂村"][5] == 41.0
    assert 19_000 <= nagano["軽井沢町"][2] <= 21_000
    assert nagano["南箕輪村"][6] == 12
    assert nagano["飯綱町"][6] == 50


def test_nagano_report_figures(demo_db):
    # 南箕輪村: 14 懇談会 in all 12 地区, 95% wanted closer neighbourly ties
    (m,) = (
        demo_db.query("forums_by_fiscal_year", municipality="南箕輪村", event_type="地区懇談会")
        .filter(fiscal_year=2017)
        .rows(named=True)
    )
    assert (m["n_events"], m["n_districts"], m["positive_rate_pct"]) == (14, 12, 95.0)
    # 飯綱町, H29: 45 学習会 in 28 of its 50 行政区
    (i,) = (
        demo_db.query("forums_by_fiscal_year", municipality="飯綱町", event_type="地区懇談会")
        .filter(fiscal_year=2017)
        .rows(named=True)
    )
    assert (i["n_events"], i["n_districts"]) == (45, 28)
    # 軽井沢町: 情報市庭 monthly from November, about 25 people each
    events = demo_db.query("forum_events", municipality="軽井沢町", event_type="その他").rows(named=True)
    assert sorted(str(e["held_on"])[:7] for e in events) == [
        "2017-11",
        "2017-12",
        "2018-01",
        "2018-02",
        "2018-03",
    ]
    assert round(sum(e["attendees_total"] for e in events) / len(events)) == 25
    # 大桑村's 18 cafés; 南木曽町's about 30 salons with over 1,000 participations a year
    oguwa = dict(
        (r[0], r[1]) for r in q(demo_db, "places_breakdown", municipality="大桑村", dimension="category")
    )
    assert oguwa["カフェ"] == 18
    nagiso = {
        r["value"]: r
        for r in demo_db.query("places_breakdown", municipality="南木曽町", dimension="category").rows(
            named=True
        )
    }
    assert nagiso["サロン"]["n_active"] == 30
    assert nagiso["サロン"]["participations_per_year"] > 1_000


@pytest.fixture
def cli(demo_dir):
    def run(*args):
        return tsunagu_cli(*args, "--data-dir", demo_dir)

    return run


def test_cli_query_reproduces_published_series(cli):
    out = cli("query", "places_by_fiscal_year", "--param", "municipality=倉敷市")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "fiscal_year,fiscal_year_label,as_of_month,n_active,n_subsidized"
    assert lines[1] == "2016,平成28年度,2017-03,430,160"
    assert lines[8] == "2023,令和5年度,2024-03,839,311"


def test_cli_query_unknown_name_and_param(cli):
    out = cli("query", "nope")
    assert out.returncode == 2 and "クエリ「nope」はありません" in out.stderr
    out = cli("query", "districts", "--param", "municipality=倉敷市", "--param", "distrct=玉島")
    assert out.returncode == 2 and "distrct" in out.stderr


def test_school_districts_add_up_to_the_city(demo_db):
    rows = demo_db.query("school_districts", municipality="倉敷市").rows(named=True)
    assert len(rows) == 63
    assert sum(r["population"] for r in rows) == 478_570
    assert sum(r["households"] for r in rows) == 218_097
    assert all(15.0 <= r["aging_rate_pct"] <= 50.0 for r in rows)
    tamashima = demo_db.query("school_districts", municipality="倉敷市", districts=["玉島"])
    assert tamashima.height == 11 and set(tamashima["district"]) == {"玉島"}


def test_cli_accepts_one_district_or_a_list(cli):
    one = cli(
        "query",
        "pantry_sites_by_district",
        "--param",
        "municipality=倉敷市",
        "--param",
        "district=玉島",
        "--param",
        "month=2024-07",
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines() == ["district,n_sites", "玉島,19"]
    two = cli(
        "query",
        "pantry_sites_by_district",
        "--param",
        "municipality=倉敷市",
        "--param",
        "districts=玉島,真備",
        "--param",
        "month=2024-07",
    )
    assert two.stdout.splitlines() == ["district,n_sites", "玉島,19", "真備,6"]
