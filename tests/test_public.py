"""The public guide for residents (通いの場ガイド): its query reads only published, running
places and only a card's columns; its search finds by area, weekday, kind, who it is for and
「無料」; the page runs signed out with no sidebar, and nothing of a place not 公開 (nor a 個人宅
place's coordinates) is in anything it sends; an admin's switch, audited, turns it off kindly."""

from __future__ import annotations

import re

import polars as pl
import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tsunagu.dashboard import public
from tsunagu.ingest.pipeline import ingest
from tsunagu.query import guide
from tsunagu.query.database import Database
from tsunagu.store import settings

PLACES = """通いの場ID,名称,市町村,地区,小学校区,種別,会場種別,対象,補助金対象,状態,緯度,経度,開催曜日,開催時間,参加費（円）,問い合わせ先,公開
P-1,火曜のひだまりサロン,倉敷市,玉島,玉島小,サロン,集会所・公民館,高齢者,はい,活動中,34.5401,133.6701,毎週火曜,10:00～12:00,無料,運営グループ 086-000-1111,はい
P-2,ひみつのサロン,倉敷市,玉島,玉島小,サロン,集会所・公民館,高齢者,はい,活動中,34.5402,133.6702,毎週火曜,10:00～12:00,無料,086-000-2222,いいえ
P-3,おうちカフェ,倉敷市,玉島,長尾小,カフェ,個人宅,限定なし,いいえ,活動中,34.56789,133.65432,第1・第3木曜,13:30～15:30,300円,倉敷市社協 玉島事務所 086-000-1500,はい
P-4,休んでいる体操,倉敷市,玉島,長尾小,体操・運動,屋外,限定なし,いいえ,休止中,,,月・水・金,,0,,はい
P-5,水島の子ども食堂,倉敷市,水島,連島東小,子ども食堂,福祉施設,子ども・子育て,いいえ,活動中,,,土日,17:00～19:00,100,086-000-3333,○
P-6,真備の会食,倉敷市,真備,箭田小,会食・地域食堂,,限定なし,いいえ,活動中,34.64012,133.69013,毎月15日,11:30～13:30,,086-000-4444,はい
P-7,名前を出さないサロン,倉敷市,真備,箭田小,サロン,集会所・公民館,高齢者,いいえ,活動中,,,毎週水曜,,,,
"""
SECRET = ("ひみつのサロン", "086-000-2222", "休んでいる体操", "名前を出さないサロン")
PRIVATE_COORDS = ("34.56789", "133.65432", "34.64012", "133.69013")  # 個人宅; a venue not given
PUBLIC_COLUMNS = [
    "district",
    "school_district",
    "name",
    "category",
    "venue_type",
    "target",
    "weekdays",
    "hours",
    "fee_yen",
    "contact",
    "lat",
    "lon",
    "month",
]


@pytest.fixture
def guide_store(store):
    result = ingest(PLACES.encode("cp932"), "places", "2025-03", store, file_name="places.csv")
    assert result.ok, result.errors
    return store


@pytest.fixture
def places(guide_store) -> pl.DataFrame:
    return guide.published(Database(guide_store), "岡山県", "倉敷市")


def names(frame: pl.DataFrame) -> list[str]:
    return frame["name"].to_list()


def test_the_query_reads_only_published_running_places_and_a_cards_columns(guide_store):
    db = Database(guide_store)
    rows = db.query("public_places", prefecture="岡山県", municipality="倉敷市")
    assert rows.columns == PUBLIC_COLUMNS
    # in the order areas lists the school districts; not 公開 (P-2, P-7), 休止中 (P-4) left out
    assert names(rows) == ["火曜のひだまりサロン", "おうちカフェ", "水島の子ども食堂", "真備の会食"]
    coords = {r["name"]: (r["lat"], r["lon"]) for r in rows.iter_rows(named=True)}
    assert coords["火曜のひだまりサロン"] == (34.5401, 133.6701)
    assert coords["おうちカフェ"] == (None, None)  # 個人宅: its school district only
    assert coords["真備の会食"] == (None, None)  # a venue not given may be a home
    assert db.query("public_municipalities").rows() == [("岡山県", "倉敷市", None, 4)]


def test_the_weekday_search_finds_what_開催曜日_names(places):
    def on(day: int) -> list[str]:
        return names(guide.search(places, guide.Search(weekday=day)))

    assert on(1) == ["火曜のひだまりサロン"]
    assert on(3) == ["おうちカフェ"]
    assert on(5) == on(6) == ["水島の子ども食堂"]
    assert on(0) == on(2) == on(4) == []  # 月・水・金 is paused; 毎週水曜 is not published
    # 毎月15日 names no weekday: found by area, never by a weekday
    assert "真備の会食" in names(guide.search(places, guide.Search(district="真備")))


def test_free_means_a_fee_of_0_written_as_無料(places):
    assert names(guide.search(places, guide.Search(free=True))) == ["火曜のひだまりサロン"]
    fees = dict(zip(places["name"], places["fee_yen"]))
    assert fees["おうちカフェ"] == 300 and fees["真備の会食"] is None  # blank: not known to be free
    assert [guide.fee_label(f) for f in (0, 300, None, 1200)] == ["無料", "300円", "—", "1,200円"]


def test_area_kind_and_target(places):
    s = guide.Search
    assert names(guide.search(places, s(district="玉島"))) == ["火曜のひだまりサロン", "おうちカフェ"]
    assert names(guide.search(places, s(school_district="長尾小"))) == ["おうちカフェ"]
    assert names(guide.search(places, s(category="子ども食堂"))) == ["水島の子ども食堂"]
    # a target finds places for it and places open to all (限定なし)
    assert names(guide.search(places, s(target="高齢者"))) == [
        "火曜のひだまりサロン",
        "おうちカフェ",
        "真備の会食",
    ]
    assert names(guide.search(places, s(district="玉島", weekday=1, category="サロン", free=True))) == [
        "火曜のひだまりサロン"
    ]


def test_fee_and_weekday_cells_as_people_type_them(store):
    bad = PLACES.replace(",300円,", ",実費,").replace(",毎週水曜,", ",不定期,")
    result = ingest(bad.encode(), "places", "2025-03", store, file_name="places.csv")
    assert not result.ok
    (error,) = result.errors
    assert error.row == 4 and error.column == "参加費（円）"
    assert "「実費」は円の整数か「無料」で入力してください" in error.message
    fixed = bad.replace(",実費,", ",¥1,000,")
    fixed = fixed.replace("¥1,000", '"¥1,000"')
    result = ingest(fixed.encode(), "places", "2025-03", store, file_name="places.csv")
    assert result.ok, result.errors
    (warning,) = [w for w in result.warnings if w.column == "開催曜日"]
    assert warning.row == 8 and "「不定期」からは曜日を読み取れません" in warning.message
    month = store.read_month("places", "2025-03")
    assert dict(zip(month["place_id"], month["fee_yen"]))["P-3"] == 1000
    # 公開 blank (P-7) is いいえ, stored as such
    assert dict(zip(month["place_id"], month["published"]))["P-7"] is False


def sent(at: AppTest) -> str:
    """Everything the page's run put on the screen, as the protobuf messages say it."""
    out = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


@pytest.fixture
def signed_out(guide_store, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(guide_store.root))

    def run(query: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        at.run()
        at.switch_page("pages/guide.py").run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def test_signed_out_the_page_shows_only_published_places_and_no_sidebar(signed_out):
    at = signed_out({"d": "玉島"})
    everything = sent(at)
    assert "2か所 見つかりました" in everything
    assert [e.label for e in at.expander] == ["火曜のひだまりサロン　火", "おうちカフェ　木"]
    assert "個人のお宅（場所はお問い合わせください）" in everything
    assert not at.sidebar.children  # no navigation into the dashboard, no filters
    assert "サインイン" not in everything
    for secret in (*SECRET, *PRIVATE_COORDS):
        assert secret not in everything, secret
    # the map (the 地図 tab) is drawn in the same run: its points carry no private coordinates
    deck = [e for e in at.get("deck_gl_json_chart")]
    assert deck and "火曜のひだまりサロン" in deck[0].proto.json
    assert "133.6701" in deck[0].proto.json and "133.65432" not in deck[0].proto.json


def test_the_maps_legend_shows_each_kinds_colour_under_one_heading(signed_out):
    """A resident tells the dots apart by the legend: its swatches are drawn (the map's style
    sheet is on the page) and 通いの場（種別） heads it once."""
    (legend,) = [m.value for m in signed_out().markdown if 'class="map-legend' in m.value]
    assert ".map-legend .pt {display: inline-block; width: 0.8em;" in legend
    assert legend.count("通いの場（種別）") == 1
    assert '<span class="pt" style="background:' in legend


def test_the_search_narrows_on_the_page(signed_out):
    at = signed_out()
    assert "4か所 見つかりました" in sent(at)
    at.button_group(key="guide_day").set_value(1).run()
    at.toggle(key="guide_free").set_value(True).run()
    assert [e.label for e in at.expander] == ["火曜のひだまりサロン　火"]


def test_switched_off_the_page_says_so_kindly_and_shows_nothing(signed_out, guide_store):
    assert settings.save(guide_store, settings.PublicGuide(enabled=False), user="kanri")
    at = signed_out()
    everything = sent(at)
    assert public.OFF_MESSAGE in everything
    assert "火曜のひだまりサロン" not in everything and not at.expander
    (record,) = [r for r in guide_store.history() if r.get("action") == "public_guide"]
    assert record["user"] == "kanri" and record["before"]["enabled"] is True
    assert record["after"]["enabled"] is False
    assert not settings.save(guide_store, settings.PublicGuide(enabled=False), user="kanri")  # no change


def test_a_bad_address_is_refused_and_the_settings_stay(guide_store):
    with pytest.raises(settings.SettingsError, match="https://"):
        settings.save(guide_store, settings.PublicGuide(address="tsunagu.example.jp/guide"), user="kanri")
    assert settings.load(guide_store) == settings.PublicGuide()


def test_the_page_runs_only_the_guides_own_queries():
    """Query names are fixed in the page's module, never taken from the address or a widget."""
    source = (ROOT / "tsunagu" / "dashboard" / "public.py").read_text(encoding="utf-8")
    source += (ROOT / "tsunagu" / "query" / "guide.py").read_text(encoding="utf-8")
    called = set(re.findall(r'(?:run_query|\.query)\(\s*"(\w+)"', source))
    assert called == set(guide.QUERIES)
    assert "run_query(name" not in source and "query_params.get" in source
    page = (ROOT / "pages" / "guide.py").read_text(encoding="utf-8")
    assert "gate.require" not in page and "header." not in page


def test_the_guidebook_is_one_click_away_only_when_the_admin_allows_it(signed_out, guide_store):
    def offered(at: AppTest) -> list[str]:
        return [b.proto.label for b in at.get("download_button")]

    at = signed_out({"m": "倉敷市", "d": "玉島", "s": "長尾小"})
    assert offered(at) == ["ガイドブック（倉敷市 長尾小学区・PDF）を印刷用にダウンロード"]
    assert [e.label for e in at.expander] == ["おうちカフェ　木"]  # the address's area, preselected
    assert settings.save(guide_store, settings.PublicGuide(guidebook=False), user="kanri")
    assert offered(signed_out()) == []
