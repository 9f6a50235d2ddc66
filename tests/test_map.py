"""The map's layers as data (tsunagu/display/maps.py): what the browser is sent for a viewer and
for a manager, the shading and its legend, the title, and the view that fits the chosen area.
Polygons are made here with shapely; the demo's own are tested through the pages."""

from __future__ import annotations

import json
import math
import urllib.parse

import polars as pl
import pytest
import shapely
import shapely.affinity

from tsunagu.display import maps

# two districts, three school districts side by side (lon 133.70–133.85, lat 34.55–34.65)
BOXES = {
    ("倉敷", "万寿小"): shapely.box(133.70, 34.55, 133.75, 34.65),
    ("倉敷", "大高小"): shapely.box(133.75, 34.55, 133.80, 34.65),
    ("玉島", "玉島小"): shapely.box(133.80, 34.55, 133.85, 34.65),
}
HOME = (133.71234, 34.61234)  # the 個人宅's own coordinates: never in a viewer's map


def table() -> pl.DataFrame:
    """school_table's shape: 大高小 is the gap (older than the whole, few places)."""
    return pl.DataFrame(
        {
            "district": ["倉敷", "倉敷", "玉島"],
            "school_district": ["万寿小", "大高小", "玉島小"],
            "population_65plus": [1_000, 2_000, 1_000],
            "aging_rate_pct": [20.0, 40.0, 25.0],
            "n_active": [8, 2, 6],
            "active_per_1000_65plus": [8.0, 1.0, 6.0],
            "municipality_per_1000_65plus": [4.0, 4.0, 4.0],
            "is_gap": [False, True, False],
            "population": [5_000, 5_000, 4_000],
            "n_sites": [2, 0, 1],
        }
    )


def places() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "place_id": ["P1", "P2", "P3"],
            "name": ["山田さん宅お茶会", "万寿公民館サロン", "玉島いきいき体操"],
            "district": ["倉敷", "倉敷", "玉島"],
            "school_district": ["万寿小", "万寿小", "玉島小"],
            "category": ["サロン", "サロン", "体操・運動"],
            "venue_type": ["個人宅", "集会所・公民館", None],
            "participants_avg": [6, 25, 16],
            "lat": [HOME[1], 34.60111, 34.58222],
            "lon": [HOME[0], 133.72111, 133.82222],
        },
        schema_overrides={"venue_type": pl.String},
    )


def built(names: bool, **kw) -> maps.Map:
    return maps.build("aging", table(), BOXES, places(), "倉敷市全域", "2025年3月（令和7年3月）", names, **kw)


def sent(m: maps.Map) -> str:
    """Everything the browser receives for the map."""
    return maps.deck_json(maps.deck_spec(m, "pale"))


def test_a_viewer_gets_no_name_and_no_home_coordinates():
    """A 個人宅 place reaches a viewer's browser as its school district's representative point,
    with neither its name nor its own coordinates; other places come without names."""
    m = built(names=False)
    text = sent(m)
    for name in places()["name"]:
        assert name not in text
    assert "P1" not in text and "place_id" not in text
    assert str(HOME[0]) not in text and str(HOME[1]) not in text
    (home,) = [p for p in m.places if p["tip_title"].startswith("個人宅")]
    inside = BOXES[("倉敷", "万寿小")].representative_point()
    assert home["position"] == [round(inside.x, 5), round(inside.y, 5)]
    assert home["tip_title"] == "個人宅の通いの場 1か所"
    assert "サロン 1" in home["tip"]
    # the other two at their own places, by 種別
    others = sorted(p["position"] for p in m.places if p is not home)
    assert others == [[133.72111, 34.60111], [133.82222, 34.58222]]
    assert (maps.PRIVATE_GROUP, maps.PRIVATE_COLOR) in m.legend.points


def test_two_homes_in_one_school_district_are_one_point():
    two = places().with_columns(pl.lit("個人宅").alias("venue_type"))
    m = maps.build("aging", table(), BOXES, two, "倉敷市全域", "2025年3月", False)
    homes = {p["school_district"]: p["tip_title"] for p in m.places}
    assert homes == {"万寿小": "個人宅の通いの場 2か所", "玉島小": "個人宅の通いの場 1か所"}


def test_a_home_without_a_boundary_is_left_off_not_placed_finer():
    m = maps.build(
        "aging", table(), {k: v for k, v in BOXES.items() if k[1] != "万寿小"}, places(), "a", "b", False
    )
    assert [p["school_district"] for p in m.places] == ["万寿小", "玉島小"]  # the 公民館 and 体操
    assert all(not p["tip_title"].startswith("個人宅") for p in m.places)
    assert m.unplaced == 1 and m.missing == ["万寿小"]


def test_a_manager_sees_names_and_coordinates():
    m = built(names=True)
    text = sent(m)
    assert "山田さん宅お茶会" in text and "万寿公民館サロン" in text
    home = next(p for p in m.places if p["tip_title"] == "山田さん宅お茶会")
    assert home["position"] == [HOME[0], HOME[1]]
    assert "会場：個人宅" in home["tip"]


def test_points_are_coloured_by_kind_and_sized_by_participants():
    m = built(names=True)
    by_name = {p["tip_title"]: p for p in m.places}
    assert (
        by_name["万寿公民館サロン"]["color"][:3] == list(maps.rgba(maps.GROUP_COLORS["サロン・カフェ"]))[:3]
    )
    assert by_name["玉島いきいき体操"]["color"][:3] == list(maps.rgba(maps.GROUP_COLORS["体操・運動"]))[:3]
    assert (
        by_name["山田さん宅お茶会"]["radius"]
        < by_name["玉島いきいき体操"]["radius"]
        < by_name["万寿公民館サロン"]["radius"]
    )
    assert len(set(maps.GROUP_COLORS.values())) == 5
    assert [g for g, _ in m.legend.points] == ["サロン・カフェ", "体操・運動"]


def test_pantry_rings_carry_site_counts_only():
    m = built(names=True)
    assert {(p["school_district"], p["tip_title"]) for p in m.pantry} == {
        ("万寿小", "互近助パントリー 2か所"),
        ("玉島小", "互近助パントリー 1か所"),
    }
    pantry_layer = next(la for la in maps.deck_spec(m, "pale")["layers"] if la["id"] == maps.PANTRY_LAYER)
    keys = {k for row in pantry_layer["data"] for k in row}
    assert keys == {"position", "radius", "district", "school_district", "tip_title", "tip"}


def test_gap_districts_are_outlined_and_shaded_by_class():
    m = built(names=False)
    rows = {r["school_district"]: r for r in m.schools}
    assert rows["大高小"]["line"] == list(maps.GAP_LINE) and rows["大高小"]["line_px"] == maps.GAP_LINE_PX
    assert rows["万寿小"]["line_px"] == maps.EDGE_LINE_PX
    # 20% < 25, 40% ≥ 40, 25% in 25–30
    assert rows["万寿小"]["fill"][:3] == list(maps.rgba(maps.AGING_COLORS[0]))[:3]
    assert rows["大高小"]["fill"][:3] == list(maps.rgba(maps.AGING_COLORS[4]))[:3]
    assert rows["玉島小"]["fill"][:3] == list(maps.rgba(maps.AGING_COLORS[1]))[:3]
    assert "手薄な小学校区" in rows["大高小"]["tip"] and "手薄" not in rows["万寿小"]["tip"]
    assert "高齢化率：40.0%（市町村全体 28.6%）" in rows["大高小"]["tip"]


def test_legends_and_titles_name_the_area_and_period():
    t = table()
    _, aging = maps.shading("aging", t)
    assert [label for label, _ in aging.swatches] == ["25%未満", "25〜30%", "30〜35%", "35〜40%", "40%以上"]
    assert aging.outline == "太い黒線：手薄な小学校区"
    fills, density = maps.shading("density", t)
    # the municipality has 4.00 per 1,000: classes at half, three quarters (the gap rule), 1 and 1.5
    assert [label for label, _ in density.swatches] == [
        "2.00未満",
        "2.00〜3.00",
        "3.00〜4.00",
        "4.00〜6.00",
        "6.00以上",
    ]
    assert fills == [maps.DENSITY_COLORS[4], maps.DENSITY_COLORS[0], maps.DENSITY_COLORS[4]]
    assert density.notes == ["市町村全体は4.00。3.00未満が全体の4分の3未満です。"]
    fills, gaps = maps.shading("gaps", t)
    assert fills == [maps.NOT_GAP_COLOR, maps.GAP_COLOR, maps.NOT_GAP_COLOR]
    assert gaps.swatches[0] == ("手薄な小学校区", maps.GAP_COLOR) and gaps.notes == [maps.GAP_RULE]
    assert (
        maps.title("gaps", "倉敷市 玉島", "2025年3月（令和7年3月）")
        == "手薄な小学校区（倉敷市 玉島、2025年3月（令和7年3月））"
    )
    assert built(names=False).title == "小学校区の高齢化率と通いの場（倉敷市全域、2025年3月（令和7年3月））"


def pixels(view: dict, lon: float, lat: float) -> tuple[float, float]:
    """Where a point falls, in pixels from the view's centre (deck.gl's 512-pixel world)."""
    scale = 512 * 2 ** view["zoom"]

    def merc(lo, la):
        return (lo + 180) / 360, 0.5 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / (2 * math.pi)

    cx, cy = merc(view["longitude"], view["latitude"])
    x, y = merc(lon, lat)
    return (x - cx) * scale, (y - cy) * scale


@pytest.mark.parametrize(
    ("districts", "school", "box"),
    [
        ((), None, (133.70, 34.55, 133.85, 34.65)),
        (("倉敷",), None, (133.70, 34.55, 133.80, 34.65)),
        ((), "玉島小", (133.80, 34.55, 133.85, 34.65)),
    ],
)
def test_the_view_fits_the_chosen_area(districts, school, box):
    """The municipality, a district or a school district: all of it in view, and not much more."""
    m = maps.build("gaps", table(), BOXES, None, "a", "b", False, districts, school, size=(640, 480))
    west, south, east, north = box
    corners = [pixels(m.view, lo, la) for lo in (west, east) for la in (south, north)]
    assert all(abs(x) <= 320 and abs(y) <= 240 for x, y in corners)
    # half a zoom level closer and a side would fall outside
    closer = {**m.view, "zoom": m.view["zoom"] + 0.5}
    assert any(
        abs(x) > 320 or abs(y) > 240
        for x, y in (pixels(closer, lo, la) for lo in (west, east) for la in (south, north))
    )
    assert {r["school_district"] for r in m.schools} == {k[1] for k in m.keys}
    assert len(m.context) == 3 - len(m.keys)  # the rest of the municipality, outlined only


def style_of(address: str) -> dict:
    assert address.startswith("data:application/json;charset=utf-8,")
    return json.loads(urllib.parse.unquote(address.split(",", 1)[1]))


def test_the_basemap_is_gsi_tiles_with_their_attribution_or_a_mirror(monkeypatch):
    monkeypatch.delenv(maps.TILE_ENV, raising=False)
    assert maps.tile_url("pale") == "https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png"
    assert maps.tile_url("std") == "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    assert maps.tile_url("none") is None
    decoded = style_of(maps.map_style("std"))
    assert decoded["sources"]["tiles"]["tiles"] == [
        "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    ]
    assert maps.attribution_markdown("std") == (
        "背景地図：[地理院タイル](https://maps.gsi.go.jp/development/ichiran.html)（標準地図）"
    )
    assert decoded["layers"][0]["paint"]["background-color"] == maps.BACKGROUND  # what shows offline
    monkeypatch.setenv(maps.TILE_ENV, "http://tiles.example.lg.jp/{style}/{z}/{x}/{y}.png")
    assert maps.tile_url("pale") == "http://tiles.example.lg.jp/pale/{z}/{x}/{y}.png"
    monkeypatch.setenv(maps.TILE_ENV, "none")
    assert maps.tile_url("std") is None
    assert style_of(maps.map_style("std"))["sources"] == {}
    assert maps.attribution_markdown("std") is None


def test_a_school_districts_figures_beside_the_municipalitys():
    rows = maps.school_figures(table(), ("倉敷", "大高小"))
    assert rows == [
        ("人口", "5,000人", "平均 4,667人"),
        ("65歳以上", "2,000人", "平均 1,333人"),
        ("高齢化率", "40.0%", "全体 28.6%"),
        ("通いの場", "2か所", "平均 5.3か所"),
        ("65歳以上1,000人あたり", "1.00", "全体 4.00"),
        ("パントリー", "0か所", "平均 1.0か所"),
        ("手薄", "はい", "—"),
    ]


def test_polygons_keep_their_holes_and_parts():
    ring = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    two = shapely.MultiPolygon([ring, shapely.box(10, 10, 11, 11)])
    parts = maps._rings(two)
    assert len(parts) == 2 and len(parts[0]) == 2  # outer ring and its hole
    assert parts[1][0][0] == [11.0, 10.0]


def test_polygons_are_sent_as_their_vertices_to_a_metre_and_kept_once():
    """What the browser gets of a school district is its outer ring and holes, every vertex
    rounded to 5 decimals (~1 m), the same from shapes kept per municipality (worked out once)
    as from shapes given as they are; private homes sit at the point stored at ingest."""
    holed = shapely.Polygon(
        shapely.affinity.rotate(BOXES[("倉敷", "万寿小")], 7, use_radians=False).exterior,
        [shapely.Point(133.725, 34.6).buffer(0.004, 8).exterior],
    )
    shapes_ = {**BOXES, ("倉敷", "万寿小"): shapely.orient_polygons(holed)}
    keys = list(shapes_)
    points = maps.representative_points(shapes_)
    frame = pl.DataFrame(
        {
            "district": [k[0] for k in keys],
            "school_district": [k[1] for k in keys],
            "geometry": [shapely.to_wkb(g) for g in shapes_.values()],
            "label_lon": [points[k][0] for k in keys],
            "label_lat": [points[k][1] for k in keys],
        }
    )
    kept = maps.shapes(frame)
    expected = [
        [[round(x, 5), round(y, 5)] for x, y in ring.coords] for ring in (holed.exterior, *holed.interiors)
    ]
    assert len(expected[1]) == 33 and any(
        x != round(x, 5) for x, _ in holed.exterior.coords
    )  # rounding shows
    for districts in ([], ["玉島"]):  # all shaded; one district shaded, the rest outlined
        m = maps.build("aging", table(), kept, places(), "倉敷市", "2025年3月", False, districts)
        plain = maps.build("aging", table(), shapes_, places(), "倉敷市", "2025年3月", False, districts)
        text = maps.deck_json(maps.deck_spec(m, "pale"))
        assert json.loads(text) == json.loads(sent(plain))
        layers = {la["id"]: la["data"] for la in json.loads(text)["layers"]}
        manju = [r["polygon"] for r in layers["context" if districts else maps.SCHOOL_LAYER] if r["polygon"]]
        assert expected in manju
    assert kept.rings(keys[0]) is kept.rings(keys[0])
    assert list(kept.rings(("倉敷", "万寿小"))[0]) == expected  # paper reads it as lists


@pytest.fixture(scope="module")
def two_municipalities(tmp_path_factory):
    """A store of two municipalities whose school districts carry the same names (東・西地区の
    一小・二小), each with its own synthetic boundaries (tools.synth) and places."""
    import numpy as np

    from tools import synth
    from tsunagu.store.versions import Store

    root = tmp_path_factory.mktemp("two") / "store"
    area = pl.DataFrame(
        {
            "prefecture": ["岡山県"] * 4,
            "municipality": ["甲市", "甲市", "乙町", "乙町"],
            "district": ["東", "西", "東", "西"],
            "school_district": ["一小", "二小", "一小", "二小"],
            "population": [9_000, 8_000, 7_000, 6_000],
            "population_65plus": [3_000, 2_500, 2_400, 2_000],
            "households": [4_000, 3_500, 3_000, 2_600],
        }
    )
    rng = np.random.default_rng(17)
    polygons = synth.school_polygons(area, rng)
    scale = synth.Scale("two", 1, 2, 60, 1, 1, 1, 1.0)
    base, months = synth.places(scale, area, rng)
    base = synth.place_coordinates(base, area, polygons, rng).with_columns(
        **synth.guide_columns(base.height, rng)
    )
    store = Store(root)
    kw = {"user": "t", "source_name": "t", "source_sha256": ""}
    store.commit("areas", "2015-04", area, **kw)
    bounds = synth.boundaries(area, polygons)
    for muni in ("甲市", "乙町"):  # a boundaries file is one municipality's
        store.commit("boundaries", "2015-04", bounds.filter(pl.col("municipality") == muni), **kw)
    store.commit("places", months[-1], synth.place_month(base, len(months) - 1, months[-1]), **kw)
    return root, bounds


def test_the_browser_gets_only_the_chosen_municipalitys_polygons(two_municipalities, monkeypatch):
    """On the places page's map and the public guide, 甲市 chosen: every polygon sent is one of
    甲市's (its display shapes), none of 乙町's, though their school districts share names."""
    from tests.test_app import signed_in
    from tsunagu.config import PROJECT_ROOT

    root, bounds = two_municipalities
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(root))

    def rings(muni: str) -> list[str]:
        mine = bounds.filter(pl.col("municipality") == muni)
        shapes_ = shapely.from_wkb(mine["geometry_display"].to_list())
        return sorted(json.dumps(list(part)) for g in shapes_ for part in maps._rings(g))

    def polygons(at) -> list[str]:
        [chart] = at.get("deck_gl_json_chart")
        layers = json.loads(chart.proto.json)["layers"]
        return sorted(
            json.dumps(row["polygon"])
            for la in layers
            if la["@@type"] == "PolygonLayer"
            for row in la["data"]
        )

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for k, v in {"pref": "岡山県", "muni": "甲市", "places_tab": "地図"}.items():
        at.query_params[k] = v
    signed_in(at, "kacho")
    at.run()
    at.switch_page("pages/places.py").run()
    assert not at.exception
    assert polygons(at) == rings("甲市") and len(rings("甲市")) == 2
    other = rings("乙町")
    assert not set(other) & set(polygons(at))
    next(w for w in at.multiselect if w.key == "f_dists").set_value(["西"]).run()  # 西 shaded, 東 outlined
    assert polygons(at) == rings("甲市")

    guide = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    guide.run()
    guide.switch_page("pages/guide.py").run()
    next(w for w in guide.selectbox if w.key == "guide_muni").set_value("岡山県/甲市").run()
    assert not guide.exception
    assert polygons(guide) == rings("甲市")

    # 甲市's school districts redrawn and uploaded for a later month than the figures shown:
    # the map of the month shown keeps the boundaries of that month, not the newer ones
    from tsunagu.store.versions import Store

    store = Store(root)
    mine = bounds.filter(pl.col("municipality") == "甲市")

    def shifted(column: str) -> pl.Series:
        moved = [shapely.affinity.translate(g, 0.01) for g in shapely.from_wkb(mine[column].to_list())]
        return pl.Series(column, shapely.to_wkb(moved).tolist(), dtype=pl.Binary)

    moved = mine.with_columns(shifted("geometry"), shifted("geometry_display"))
    later = "2099-04"
    store.commit("boundaries", later, moved, user="t", source_name="t", source_sha256="")
    at.run()
    assert not at.exception
    assert polygons(at) == rings("甲市")


@pytest.mark.slow  # ~15 s: 134 MB of shapes written and checksummed
def test_a_nations_exact_shapes_larger_than_the_databases_memory_still_load(tmp_path, monkeypatch):
    """The exact shapes stay in the store (GIS tools read them there); the dashboard's
    database loads only the display shapes it maps: a store whose exact shapes are larger than
    its memory limit opens and maps (it failed with Out of Memory before)."""
    import numpy as np

    from tsunagu.query.database import Database
    from tsunagu.store.versions import Store

    monkeypatch.setenv("TSUNAGU_DB_MEMORY", "100MB")
    munis = [f"合成市{i:04d}" for i in range(24)]
    area = pl.DataFrame(
        {
            "prefecture": ["岡山県"] * len(munis),
            "municipality": munis,
            "district": ["東"] * len(munis),
            "school_district": ["一小"] * len(munis),
            "population": [5_000] * len(munis),
            "population_65plus": [1_500] * len(munis),
        }
    )
    t = np.linspace(0, 2 * np.pi, 350_000)
    rows = []
    for i, muni in enumerate(munis):  # 350,000 vertices each: 134 MB of exact shapes in all
        ring = np.column_stack([133.0 + 0.1 * i + 0.04 * np.cos(t), 34.5 + 0.04 * np.sin(t)])
        exact = shapely.Polygon(ring)
        shown = shapely.simplify(exact, 0.001)
        point = shown.representative_point()
        rows.append((muni, shapely.to_wkb(exact), shapely.to_wkb(shown), point.x, point.y))
    bounds = pl.DataFrame(
        {
            "prefecture": ["岡山県"] * len(munis),
            "municipality": [r[0] for r in rows],
            "district": ["東"] * len(munis),
            "school_district": ["一小"] * len(munis),
            "feature_name": ["一小学校"] * len(munis),
            "geometry": [r[1] for r in rows],
            "geometry_display": [r[2] for r in rows],
            "label_lon": [r[3] for r in rows],
            "label_lat": [r[4] for r in rows],
        }
    )
    assert bounds["geometry"].bin.size().sum() > 130_000_000
    store = Store(tmp_path / "store")
    kw = {"user": "t", "source_name": "t", "source_sha256": ""}
    store.commit("areas", "2015-04", area, **kw)
    store.commit("boundaries", "2015-04", bounds, **kw)
    got = Database(store).query("school_district_boundaries", municipality="合成市0023")
    assert got["geometry"].to_list() == [rows[-1][2]]  # the display shape
    assert store.read_month("boundaries", "2015-04")["geometry"][23] == rows[-1][1]  # the exact one, kept
