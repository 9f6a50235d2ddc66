"""団体コード and 事業グループ of the areas table: read as coordinators type them, refused with
the row and the column when wrong, one per municipality; the code then names the municipality
in links and in the names of downloaded files."""

from __future__ import annotations

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tsunagu.contract import codes
from tsunagu.contract.issues import RefusedError
from tsunagu.contract.schema import AREAS
from tsunagu.documents import handout
from tsunagu.ingest.pipeline import ingest
from tsunagu.ingest.read import read_table
from tsunagu.ingest.validate import validate
from tsunagu.store.versions import Store

HEADER = "都道府県,市町村,地区,小学校区,人口,65歳以上人口,団体コード,事業グループ"


def areas_csv(*rows: str) -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode()


def refused(tmp_path, content: bytes) -> list[tuple[int | None, str | None, str]]:
    result = ingest(content, "areas", "2024-04", Store(tmp_path / "data"))
    assert not result.ok, "the file should have been refused"
    return [(e.row, e.column, e.message) for e in result.errors]


def test_check_digits_of_real_codes():
    # 倉敷市, 立科町, 武蔵野市, and 府中市 in 東京都 and in 広島県 (総務省's list)
    for five, six in [
        ("33202", "332020"),
        ("20324", "203246"),
        ("13203", "132039"),
        ("13206", "132063"),
        ("34208", "342084"),
    ]:
        assert five + codes.check_digit(five) == six
        assert codes.normalise(five) == codes.normalise(six) == six
    assert codes.normalise("332021") is None and codes.normalise("倉敷市") is None


def test_five_and_six_digits_full_width_and_blanks_are_stored_as_six(tmp_path):
    store = Store(tmp_path / "data")
    content = areas_csv(
        "岡山県,倉敷市,玉島,玉島小,1000,300,33202,",
        "岡山県,倉敷市,玉島,長尾小,800,200,,",  # blank: the municipality's code
        "長野県,立科町,芦田,立科小,900,350,２０３２４６,身近な圏域",
        "長野県,立科町,山部,立科小,500,200,203246,",
        "北海道,札幌市,中央,中央小,700,150,11002,",  # 011002 after Excel dropped its 0
        "東京都,武蔵野市,中央,中町,600,120,,",  # no code at all
    )
    result = ingest(content, "areas", "2024-04", store)
    assert result.ok, [str(e) for e in result.errors]
    stored = store.read_month("areas", "2024-04").select(
        "municipality", "school_district", "municipality_code", "project_group"
    )
    assert stored.rows() == [
        ("倉敷市", "玉島小", "332020", None),
        ("倉敷市", "長尾小", "332020", None),
        ("立科町", "立科小", "203246", "身近な圏域"),
        ("立科町", "立科小", "203246", "身近な圏域"),
        ("札幌市", "中央小", "011002", None),
        ("武蔵野市", "中町", None, None),
    ]


@pytest.mark.parametrize(
    "cell, message",
    [
        (
            "332021",
            "「332021」は検査数字（6桁目）が合いません。最初の5桁が「33202」なら6桁目は「0」です。"
            "打ち間違いがないか確かめてください。",
        ),
        (
            "3320",
            "「3320」は4桁です。全国地方公共団体コードの6桁（例: 倉敷市は 332020）か、最後の検査数字を除いた"
            "5桁（33202）を入力してください。Excel で先頭の0が消えた場合は、列を「文字列」にして入れ直してください。",
        ),
        (
            "33202O",
            "「33202O」は数字ではありません。全国地方公共団体コードの6桁（例: 倉敷市は 332020）か、"
            "最後の検査数字を除いた5桁（33202）を入力してください。",
        ),
        (
            "203246",
            "「203246」は長野県の団体コードです（最初の2桁「20」）。この行の都道府県は「岡山県」（33）です。"
            "団体コードか都道府県を確かめてください。",
        ),
    ],
)
def test_a_wrong_code_names_the_row_the_column_and_what_was_expected(tmp_path, cell, message):
    errors = refused(
        tmp_path,
        areas_csv("岡山県,倉敷市,玉島,玉島小,1000,300,,", f"岡山県,倉敷市,玉島,長尾小,800,200,{cell},"),
    )
    assert errors == [(3, "団体コード", message)]


def test_one_code_per_municipality_and_the_code_of_the_rows_prefecture(tmp_path):
    errors = refused(
        tmp_path,
        areas_csv(
            "岡山県,倉敷市,玉島,玉島小,1000,300,332020,",
            "岡山県,倉敷市,玉島,長尾小,800,200,33203,",  # another code for 倉敷市
            "東京都,府中市,中央,府中第一小,900,200,132063,",
            "広島県,府中市,中央,府中小,500,190,１３２０６,",  # 東京都's 府中市's code, full-width
        ),
    )
    assert errors == [
        (
            3,
            "団体コード",
            "「33203」は2行目の団体コード「332020」と違います。倉敷市の団体コードは1つにしてください。",
        ),
        (
            5,
            "団体コード",
            "「１３２０６」は東京都の団体コードです（最初の2桁「13」）。この行の都道府県は「広島県」（34）です。"
            "団体コードか都道府県を確かめてください。",
        ),
    ]


def test_two_municipalities_may_not_share_a_code(tmp_path):
    errors = refused(
        tmp_path,
        areas_csv(
            "長野県,立科町,芦田,立科小,900,350,203246,",
            "長野県,軽井沢町,軽井沢,軽井沢東部小,2000,600,203246,",
        ),
    )
    assert errors == [
        (
            3,
            "団体コード",
            "「203246」は2行目の長野県立科町と同じ団体コードです。団体コードは市町村ごとに違います。"
            "コードか市町村名を確かめてください。",
        )
    ]


def test_a_code_already_stored_for_another_municipality_is_refused():
    """An areas upload of one municipality, checked against the live areas of the others given
    as `areas`; the municipality's own stored code may change."""
    stored = pl.DataFrame(
        {
            "prefecture": ["長野県", "長野県"],
            "municipality": ["立科町", "軽井沢町"],
            "municipality_code": ["203246", "203211"],
        }
    )
    content = areas_csv(
        "長野県,軽井沢町,軽井沢,軽井沢東部小,2000,600,203246,",
        "長野県,軽井沢町,追分,軽井沢西部小,900,300,,",
    )
    with pytest.raises(RefusedError) as refused_:
        validate(read_table(content), AREAS, "2024-04", stored)
    assert [(i.row, i.column, i.message) for i in refused_.value.issues] == [
        (
            2,
            "団体コード",
            "「203246」は圏域マスタに登録済みの長野県立科町の団体コードです。団体コードは市町村ごとに違います。"
            "コードか市町村名を確かめてください。",
        )
    ]
    own_new_code = areas_csv("長野県,軽井沢町,軽井沢,軽井沢東部小,2000,600,203211,")
    ok = validate(
        read_table(own_new_code), AREAS, "2024-04", stored.filter(pl.col("municipality") == "立科町")
    )
    assert ok.frame["municipality_code"].to_list() == ["203211"]


def test_one_project_group_per_municipality(tmp_path):
    errors = refused(
        tmp_path,
        areas_csv(
            "長野県,立科町,芦田,立科小,900,350,,身近な圏域",
            "長野県,立科町,山部,立科小,500,200,,",
            "長野県,立科町,西塩沢,立科小,400,150,,多機関協働",
        ),
    )
    assert errors == [
        (
            4,
            "事業グループ",
            "「多機関協働」は2行目の事業グループ「身近な圏域」と違います。立科町の事業グループは1つにしてください。",
        )
    ]


# links and downloads --------------------------------------------------------------------

FUCHU_AREAS = (
    "都道府県,市町村,地区,小学校区,人口,65歳以上人口,団体コード\n"
    "東京都,府中市,中央,府中第一小,9000,2000,132063\n"
    "広島県,府中市,中央,府中小,5000,1900,34208\n"
)
FUCHU_PLACES = (
    "都道府県,市町村,地区,小学校区,通いの場ID,名称,種別,補助金対象,状態\n"
    "東京都,府中市,中央,府中第一小,T-1,けやきサロン,サロン,はい,活動中\n"
    "広島県,府中市,中央,府中小,H-1,備後カフェ,カフェ,いいえ,活動中\n"
)


@pytest.fixture
def fuchu(tmp_path, monkeypatch):
    """A store whose only municipalities are the two 府中市."""
    store = Store(tmp_path / "data")
    assert ingest(FUCHU_AREAS.encode(), "areas", "2024-04", store).ok
    assert ingest(FUCHU_PLACES.encode(), "places", "2024-07", store).ok
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(store.root))

    def run(query: dict) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in query.items():
            at.query_params[k] = v
        signed_in(at, "kacho")
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


@pytest.mark.parametrize("code, where", [("132063", "東京都府中市全域"), ("342084", "広島県府中市全域")])
def test_a_link_with_the_code_opens_that_municipality(fuchu, code, where):
    at = fuchu({"code": code})
    assert where in at.markdown[0].value
    assert dict(at.query_params) == {"code": code, "m": "2024-07"}


def test_a_link_by_name_is_rewritten_with_the_code(fuchu):
    at = fuchu({"pref": "東京都", "muni": "府中市", "m": "2024-07"})
    assert "東京都府中市全域" in at.markdown[0].value
    assert dict(at.query_params) == {"code": "132063", "m": "2024-07"}
    # the 5 digits before the check digit open it too
    assert "東京都府中市全域" in fuchu({"code": "13206"}).markdown[0].value


def test_file_names_lead_with_the_code():
    with_code = handout.Area("岡山県", "倉敷市", "船穂", "2025-03", "332020")
    assert handout.file_name("handout", with_code) == "配布資料_332020_倉敷市_船穂_2025-03.pdf"
    assert handout.file_name("places", with_code) == "通いの場一覧表_332020_倉敷市_船穂_2025-03.pdf"
    without = handout.Area("岡山県", "倉敷市", None, "2025-03")
    assert handout.file_name("handout", without) == "配布資料_倉敷市_全域_2025-03.pdf"


def test_the_handouts_page_names_files_by_the_code_of_the_linked_municipality(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    named = []
    real = handout.file_name
    monkeypatch.setattr(handout, "file_name", lambda kind, area: named.append(real(kind, area)) or named[-1])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["code"] = "203246"
    at.query_params["d"] = "芦田"
    signed_in(at, "kacho")
    at.run()
    at.switch_page("pages/handouts.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert named == [
        "配布資料_203246_立科町_芦田_2025-03.pdf",
        "通いの場一覧表_203246_立科町_芦田_2025-03.pdf",
    ]


def test_the_wall_opens_on_the_municipality_of_the_code(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["code"] = "20324"  # 立科町, the 5 digits before the check digit
    signed_in(at, "etsuran")
    at.run()
    at.switch_page("pages/present.py").run()
    assert not at.exception, [e.message for e in at.exception]
    where = [m.value for m in at.markdown if m.value.startswith('<p class="slide-where">')]
    assert where and "立科町" in where[0]


def test_a_store_written_before_the_codes_still_lists_its_municipalities(tmp_path):
    """Areas stored without the two columns (today's stores, the benchmark's synthetic ones):
    the municipalities come with empty codes and groups."""
    from tsunagu.query.database import Database

    store = Store(tmp_path / "data")
    old = pl.DataFrame(
        {
            "prefecture": ["岡山県"],
            "municipality": ["倉敷市"],
            "district": ["玉島"],
            "school_district": ["玉島小"],
            "population": [1000],
            "population_65plus": [300],
            "households": [400],
        }
    )
    store.commit("areas", "2024-04", old, user="old", source_name="old.csv", source_sha256="")
    listed = Database(store).query("municipalities")
    assert listed.select("municipality", "municipality_code", "project_group").rows() == [
        ("倉敷市", None, None)
    ]
