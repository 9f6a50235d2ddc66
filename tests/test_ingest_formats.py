"""Every CSV form the contract lists is read exactly, for every dataset (round trips)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from tsunagu.ingest.pipeline import ingest

PLACES_HEADER = "通いの場ID,名称,市町村,地区,小学校区,種別,補助金対象,状態,開始年月,開催頻度（回/月）,平均参加者数,緯度,経度"
PLACES_ROWS = [
    "TM-001,ふれあいサロン①,倉敷市,玉島,玉島小,サロン,はい,活動中,R6.7,2,12,34.54,133.67",
    "TM-002,髙橋さんちのお茶会～,倉敷市,玉島地区,長尾小学校区,カフェ,○,休止中,平成28年9月,0.5,,,",
]


def places_csv(rows=PLACES_ROWS, header=PLACES_HEADER, newline="\r\n") -> str:
    return newline.join([header, *rows]) + newline


def stored(store, dataset, month) -> pl.DataFrame:
    return store.read_month(dataset, month)


def expect_places(df: pl.DataFrame) -> None:
    rows = (
        df.sort("place_id")
        .select(
            "place_id",
            "name",
            "prefecture",
            "municipality",
            "district",
            "school_district",
            "category",
            "subsidized",
            "status",
            "started_on",
            "sessions_per_month",
            "participants_avg",
            "lat",
            "lon",
        )
        .rows()
    )
    assert rows == [
        (
            "TM-001",
            "ふれあいサロン①",
            "岡山県",
            "倉敷市",
            "玉島",
            "玉島小",
            "サロン",
            True,
            "活動中",
            "2024-07",
            2.0,
            12,
            34.54,
            133.67,
        ),
        (
            "TM-002",
            "髙橋さんちのお茶会～",
            "岡山県",
            "倉敷市",
            "玉島",
            "長尾小",
            "カフェ",
            True,
            "休止中",
            "2016-09",
            0.5,
            None,
            None,
            None,
        ),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_places_in_every_encoding_and_line_ending(store, encoding, newline):
    content = places_csv(newline=newline).encode(encoding)
    result = ingest(content, "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    expect_places(stored(store, "places", "2024-07"))


def test_utf16_tab_separated_unicode_text(store):
    """Excel's 「Unicode テキスト」: UTF-16 with a BOM, tab-separated."""
    text = places_csv().replace(",", "\t")
    result = ingest(text.encode("utf-16"), "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    expect_places(stored(store, "places", "2024-07"))


def test_english_keys_full_width_spaces_and_blank_rows_and_columns(store):
    header = "place_id,name,municipality,district,school_district,category,subsidized,status,started_on,sessions_per_month,participants_avg,lat,lon,,"
    rows = [
        ",,,,,,,,,,,,,,",
        "　ＴＭ-001 , ふれあいサロン① ,倉敷市, 玉島 ,玉島小,サロン,はい,活動中,Ｒ６．７,２,１２,34.54,133.67,,",
        "",
        "TM-002,髙橋さんちのお茶会～,倉敷市,玉島地区,長尾小学校区,カフェ,〇,休止中,平成28年9月,0.5,,,,,",
        ",,,,,,,,,,,,,,",
    ]
    result = ingest(places_csv(rows, header).encode("cp932"), "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    expect_places(stored(store, "places", "2024-07"))


def test_row_numbers_stay_excels_after_blank_rows(store):
    rows = ["", ",,,,,,,,,,,,", PLACES_ROWS[0], "", PLACES_ROWS[1].replace("カフェ", "喫茶店")]
    result = ingest(places_csv(rows).encode("cp932"), "places", "2024-07", store)
    assert not result.ok
    (error,) = result.errors
    assert (error.row, error.column) == (6, "種別")


def test_areas_round_trip_with_thousands_separators(tmp_path):
    from tsunagu.store.versions import Store

    s = Store(tmp_path / "d")
    csv = (
        "prefecture,municipality,district,school_district,population,population_65plus,households\r\n"
        '岡山県,倉敷市,玉島地区,玉島小,"12,000","3,000",\r\n'
        '岡山県,倉敷市,玉島,長尾小,８０００,２６００,"3,500"\r\n'
    )
    assert ingest(csv.encode("utf-8-sig"), "areas", "2024-04", s).ok
    # the optional 団体コード and 事業グループ are stored empty when the file has no such column
    assert s.read_month("areas", "2024-04").rows() == [
        ("岡山県", "倉敷市", "玉島地区", "玉島小", 12000, 3000, None, None, None),
        ("岡山県", "倉敷市", "玉島", "長尾小", 8000, 2600, 3500, None, None),
    ]


PANTRY_CSV = """パントリーID,設置場所名,市町村,地区,小学校区,サポーター種別,活動種別,設置年月,新規提供者数,提供件数,利用世帯数,配布点数,相談件数,つなぎ件数
P-001,玉島キリスト教会,倉敷市,玉島,玉島小,教会等,随時相談・対応,令和3年4月,3,12,"1,024","4,096",5,2
P-002,長尾ひかり作業所,倉敷市,玉島,長尾,障がい者(児)支援団体,見守り・訪問型,R5.10,0,4,7,30,0,0
"""


def test_pantry_round_trip(store):
    result = ingest(PANTRY_CSV.encode("cp932"), "pantry", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    assert stored(store, "pantry", "2024-07").select(
        "pantry_id",
        "district",
        "school_district",
        "supporter_type",
        "opened_on",
        "households_served",
        "items_distributed",
        "referrals",
    ).rows() == [
        ("P-001", "玉島", "玉島小", "教会等", "2021-04", 1024, 4096, 2),
        ("P-002", "玉島", "長尾小", "障がい者（児）支援団体", "2023-10", 7, 30, 0),
    ]


FORUMS_CSV = """行事ID,開催日,行事名,種別,市町村,地区,会場,開催形式,会場参加者数,オンライン参加者数,アンケート回答数,肯定的回答数
F-1,2024/7/6,支え合い住民フォーラム,住民フォーラム,倉敷市,,芸文館,ハイブリッド,210,"1,034",300,270
F-2,令和6年7月20日,玉島地区 通いの場交流会,通いの場交流会,倉敷市,玉島地区,玉島公民館,会場,45,0,,
F-3,R6.7.31,協議体会議,協議体会議,倉敷市,,,オンライン,0,18,,
"""


def test_forums_round_trip(store):
    result = ingest(FORUMS_CSV.encode("utf-8"), "forums", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    assert stored(store, "forums", "2024-07").select(
        "event_id", "held_on", "district", "attendees_online", "survey_positive"
    ).rows() == [
        ("F-1", dt.date(2024, 7, 6), None, 1034, 270),
        ("F-2", dt.date(2024, 7, 20), "玉島", 0, None),
        ("F-3", dt.date(2024, 7, 31), None, 18, None),
    ]


def test_forums_header_only_means_no_events(store):
    header = FORUMS_CSV.splitlines()[0] + "\r\n"
    result = ingest(header.encode("cp932"), "forums", "2024-08", store, municipality="倉敷市")
    assert result.ok and result.rows == 0
    assert [w.message for w in result.warnings] == [
        "行事が0件のファイルです。この月は開催がなかったものとして登録します。"
    ]
    assert store.months("forums", municipality=("岡山県", "倉敷市")) == ["2024-08"]
    assert stored(store, "forums", "2024-08").height == 0


def test_ambiguous_municipality_with_prefecture_column(store):
    csv = (
        "都道府県,市町村,地区,小学校区,通いの場ID,名称,種別,補助金対象,状態\n"
        "広島県,府中市,中央,府中小,H-1,中央サロン,サロン,いいえ,活動中\n"
        "東京都,府中市,中央地区,府中第一小,T-1,第一カフェ,カフェ,1,活動中\n"
    )
    result = ingest(csv.encode(), "places", "2024-07", store)
    assert result.ok, [str(e) for e in result.errors]
    assert stored(store, "places", "2024-07").select("place_id", "prefecture", "school_district").rows() == [
        ("H-1", "広島県", "府中小"),
        ("T-1", "東京都", "府中第一小"),
    ]


def test_live_layout_is_readable_by_any_parquet_tool(store):
    assert ingest(places_csv().encode(), "places", "2024-07", store).ok
    assert ingest(places_csv(PLACES_ROWS[:1]).encode(), "places", "2024-08", store).ok
    rows = duckdb.sql(
        f"select month, count(*) from read_parquet('{store.root}/places/*/*.parquet', "
        "hive_partitioning = true) group by month order by month"
    ).fetchall()
    assert rows == [("2024-07", 2), ("2024-08", 1)]


@pytest.mark.parametrize(
    "text",
    [
        places_csv(),
        places_csv(newline="\n"),
        places_csv(
            [
                "",
                ",,,,,,,,,,,,",
                PLACES_ROWS[0],
                "",
                '"TM-9","改行\r\nあり",倉敷市,玉島,玉島小,サロン,はい,活動中,,,,,',
            ]
        ),
        places_csv([PLACES_ROWS[0] + ",,"], PLACES_HEADER + ",,"),
    ],
)
def test_fast_and_fallback_readers_agree(text, monkeypatch):
    """Polars reads well-formed files; Python's csv takes odd ones. Both give the same cells."""
    from tsunagu.ingest import read as csvread

    fast = csvread.read_table(text.encode("cp932"))

    def refuse(*a, **k):
        raise pl.exceptions.ComputeError("forced")

    monkeypatch.setattr(csvread.pl, "read_csv", refuse)
    slow = csvread.read_table(text.encode("cp932"))
    assert (fast.header, fast.letters, fast.header_row) == (slow.header, slow.letters, slow.header_row)
    assert fast.data.rows() == slow.data.rows()


def test_area_names_resolve_the_same_when_two_combinations_share_a_hash(store, monkeypatch):
    """Rows find their areas by a hash of the names; a collision falls back to the exact join."""
    from tsunagu.ingest import areas

    rows = PLACES_ROWS + ["TM-003,水島のカフェ,倉敷市,水島,連島東小,カフェ,いいえ,活動中,,,,,"]
    assert ingest(places_csv(rows).encode("cp932"), "places", "2024-07", store).ok
    fast = stored(store, "places", "2024-07")
    monkeypatch.setattr(
        areas, "_combo_hash", lambda keyed, cols: pl.Series("_h", [7] * keyed.height, dtype=pl.UInt64)
    )
    assert ingest(places_csv(rows).encode("cp932"), "places", "2024-08", store).ok
    exact = stored(store, "places", "2024-08")
    assert exact.sort("place_id").equals(fast.sort("place_id"))
    assert exact["district"].sort().to_list() == ["水島", "玉島", "玉島"]


def test_plain_and_written_integers_give_the_same_values(store):
    """Integers cast directly ('+5', '007') and through the parser ('1,200', '１２', '12.0')."""
    rows = [
        f"TM-{i:03d},サロン{i},倉敷市,玉島,玉島小,サロン,はい,活動中,,,{v},,"
        for i, v in enumerate(["+5", "007", '"1,200"', "１２", "12.0", "△0", "8"])
    ]
    assert ingest(places_csv(rows).encode("cp932"), "places", "2024-07", store).ok
    got = stored(store, "places", "2024-07").sort("place_id")["participants_avg"].to_list()
    assert got == [5, 7, 1200, 12, 12, 0, 8]
