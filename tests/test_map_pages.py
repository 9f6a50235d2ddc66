"""The map where people meet it (AppTest on the demo store): the places page's map and gaps
tabs, 地区カルテ and the wall's two map slides — what the browser is sent for each role, the
title and legend, the view fitted to the chosen area, and a school district's figures beside
the municipality's."""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.test_app import app, widget  # noqa: F401 (the fixture)
from tsunagu.display import maps

MAP_TAB = {"places_tab": "地図"}
GAPS_TAB = {"places_tab": "手薄な小学校区"}


def spec(at, which: int = 0) -> dict:
    """The map's deck.gl spec (`which`: the wall has two, a 1080p and a 720p fit)."""
    return json.loads(at.get("deck_gl_json_chart")[which].proto.json)


def layer(s: dict, layer_id: str) -> list[dict]:
    return next(la["data"] for la in s["layers"] if la["id"] == layer_id)


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture(scope="module")
def homes(demo_dir) -> pl.DataFrame:
    """The demo's 個人宅 places active in the latest month (倉敷市), with coordinates or not."""
    from tsunagu.query.database import Database
    from tsunagu.store.versions import Store

    rows = Database(Store(demo_dir)).query("places_list", municipality="倉敷市", status="活動中")
    return rows.filter(pl.col("venue_type") == "個人宅")


def test_a_viewer_is_sent_no_home_and_no_name(app, homes):  # noqa: F811
    at = app("pages/places.py", MAP_TAB, user="etsuran")
    text = at.get("deck_gl_json_chart")[0].proto.json
    assert homes.drop_nulls("lat").height > 20
    for r in homes.iter_rows(named=True):
        assert r["name"] not in text
        if r["lat"] is None:
            continue
        assert f"{round(r['lon'], 5)},{round(r['lat'], 5)}" not in text.replace(" ", "")
    points = layer(spec(at), maps.PLACES_LAYER)
    gathered = [p for p in points if p["tip_title"].startswith("個人宅の通いの場")]
    assert sum(int(p["tip_title"].split()[1].removesuffix("か所")) for p in gathered) == homes.height
    # every 個人宅 place, at its school district's point (with coordinates or without)
    # pantry rings: site counts only, whoever looks
    for word in ("consultations", "referrals", "相談", "つなぎ"):
        assert word not in text


def test_a_manager_sees_each_home_where_it_is(app, homes):  # noqa: F811
    at = app("pages/places.py", MAP_TAB, user="kacho")
    points = {(p["tip_title"], *p["position"]) for p in layer(spec(at), maps.PLACES_LAYER)}
    for r in homes.drop_nulls("lat").iter_rows(named=True):
        assert (r["name"], round(r["lon"], 5), round(r["lat"], 5)) in points


def test_the_map_tab_titles_its_layers_and_changes_the_shading(app):  # noqa: F811
    at = app("pages/places.py", MAP_TAB)
    assert "### 小学校区の高齢化率と通いの場（倉敷市全域、2025年3月（令和7年3月））" in markdown(at)
    assert "25%未満" in markdown(at) and "太い黒線：手薄な小学校区" in markdown(at)
    under = [c.value for c in at.caption if "背景地図" in c.value]
    assert under == [
        "地図上の通いの場：593 / 852か所（座標のない場所は表示していません）　"
        "背景地図：[地理院タイル](https://maps.gsi.go.jp/development/ichiran.html)（淡色地図）。"
        "インターネットにつながらないときは背景なしで表示します　"
        "小学校区の境界：架空のデモデータ（実在の通学区域ではありません）"
    ]
    schools = layer(spec(at), maps.SCHOOL_LAYER)
    assert len({r["school_district"] for r in schools}) == 63
    widget(at, "radio", "places_map_mode").set_value("gaps").run()
    assert "### 手薄な小学校区（倉敷市全域、2025年3月（令和7年3月））" in markdown(at)
    gaps = {
        r["school_district"] for r in layer(spec(at), maps.SCHOOL_LAYER) if r["line_px"] == maps.GAP_LINE_PX
    }
    filled = {
        r["school_district"]
        for r in layer(spec(at), maps.SCHOOL_LAYER)
        if r["fill"][:3] == list(maps.rgba(maps.GAP_COLOR))[:3]
    }
    assert gaps == filled and 0 < len(gaps) < 63


def test_the_view_fits_the_district_and_the_school_district(app):  # noqa: F811
    whole = spec(app("pages/places.py", MAP_TAB))
    tamashima = spec(app("pages/places.py", {**MAP_TAB, "d": "玉島"}))
    one = spec(app("pages/places.py", {**MAP_TAB, "d": "玉島", "s": "柏島小"}))
    assert (
        whole["initialViewState"]["zoom"]
        < tamashima["initialViewState"]["zoom"]
        < one["initialViewState"]["zoom"]
    )
    assert {r["school_district"] for r in layer(one, maps.SCHOOL_LAYER)} == {"柏島小"}
    assert len(layer(one, "context")) >= 62  # the rest of the city, outlined round it
    kashiwa = [r["polygon"][0] for r in layer(one, maps.SCHOOL_LAYER)][0]
    lon = sum(p[0] for p in kashiwa) / len(kashiwa)
    assert abs(one["initialViewState"]["longitude"] - lon) < 0.02


def test_picking_a_school_district_shows_its_figures_beside_the_citys(app):  # noqa: F811
    at = app("pages/places.py", MAP_TAB)
    assert "この学区" not in markdown(at)
    widget(at, "selectbox", "places_map_school").set_value("柏島小（玉島地区）").run()
    text = markdown(at)
    assert "柏島小学区（玉島地区）" in text
    assert '<th scope="row">高齢化率</th><td>33.2%</td><td class="c">全体 27.8%</td>' in text
    assert '<th scope="row">手薄</th><td>はい</td>' in text


def test_the_gaps_tab_is_a_map_and_the_table(app):  # noqa: F811
    at = app("pages/places.py", GAPS_TAB)
    assert "### 手薄な小学校区（倉敷市全域、2025年3月（令和7年3月））" in markdown(at)
    # the gaps' own table; the participation axis below it has another
    table = at.dataframe[0]
    assert "参加率" not in " ".join(table.value.columns)
    gaps = {
        r["school_district"] for r in layer(spec(at), maps.SCHOOL_LAYER) if r["line_px"] == maps.GAP_LINE_PX
    }
    assert set(table.value["小学校区"]) == gaps


def test_the_district_card_maps_its_district(app):  # noqa: F811
    at = app("pages/district.py", {"d": "玉島"})
    s = spec(at)
    districts = {r["district"] for r in layer(s, maps.SCHOOL_LAYER)}
    assert districts == {"玉島"}
    assert "### 小学校区の高齢化率と通いの場（倉敷市 玉島、2025年3月（令和7年3月））" in markdown(at)


def test_the_wall_has_a_map_slide_and_a_gap_slide(app):  # noqa: F811
    at = app("pages/present.py", {"agenda": "map,gapmap"}, user="etsuran")  # the wall's agenda link
    assert "高齢化率と通いの場（小学校区）" in markdown(at)
    tall, short = spec(at, 0), spec(at, 1)
    assert short["initialViewState"]["zoom"] < tall["initialViewState"]["zoom"]  # the whole city on either
    points = layer(tall, maps.PLACES_LAYER)
    assert {tuple(p["color"]) for p in points} == {tuple(maps.rgba(maps.ONE_COLOR, 235))}  # few colours
    at.button(key="present_next").click().run()
    text = markdown(at)
    assert "手薄な小学校区 14か所（高齢化率の高い順）" in text and "ほか 4か所" in text
    labels = layer(spec(at), "labels")
    assert 0 < len(labels) <= 14
    assert maps.DEMO_SHORT in text
