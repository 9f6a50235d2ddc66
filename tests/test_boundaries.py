"""School-district boundaries (the `boundaries` dataset, docs/contract.md): 国土数値情報 A27 as a
GeoJSON or a zipped Shapefile in any projection, matched to `areas` by the school's name,
stored as WKB in WGS84 with versions and restore; every refusal names the feature; a hostile
file is refused before it costs much; the demo's synthetic school districts hold its places."""

from __future__ import annotations

import io
import json
import zipfile

import polars as pl
import pyproj
import pytest
import shapefile
import shapely
from shapely.geometry import Point, Polygon, box

from tests.conftest import tree_digest, tsunagu_cli
from tsunagu.ingest import geo
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database
from tsunagu.store.versions import Store

AREAS = """都道府県,市町村,地区,小学校区,人口,65歳以上人口,団体コード
岡山県,倉敷市,倉敷,万寿小,9000,2000,332020
岡山県,倉敷市,倉敷,万寿東小,8000,2000,332020
岡山県,倉敷市,玉島,玉島小,12000,3000,332020
岡山県,倉敷市,水島,連島東小,10000,2500,332020
岡山県,岡山市,北,岡山中央小,9000,2000,331007
"""
# school -> the lower-left corner (lon, lat) of its square, about 800 m a side
SQUARES = {
    "万寿": (133.770, 34.600),
    "万寿東": (133.780, 34.600),
    "玉島": (133.670, 34.540),
    "連島東": (133.740, 34.520),
}
SIDE = 0.008
GEOD = pyproj.Geod(ellps="GRS80")


@pytest.fixture
def bstore(tmp_path) -> Store:
    s = Store(tmp_path / "data")
    result = ingest(AREAS.encode(), "areas", "2024-04", s, file_name="areas.csv")
    assert result.ok, result.errors
    return s


def square(school: str, shift: float = 0.0) -> Polygon:
    x, y = SQUARES[school]
    return box(x + shift, y, x + SIDE + shift, y + SIDE)


def a27_feature(name: str, geometry, code: str = "33202", owner: str = "倉敷市立") -> dict:
    """A feature as 国土数値情報 A27 (2021) writes it: code, owner, school code, name, address."""
    return {
        "type": "Feature",
        "properties": {
            "A27_001": code,
            "A27_002": owner,
            "A27_003": "B133",
            "A27_004": name,
            "A27_005": "倉敷市",
        },
        "geometry": geometry if isinstance(geometry, dict) else shapely.geometry.mapping(geometry),
    }


def geojson(features: list[dict], crs: str | None = "urn:ogc:def:crs:EPSG::6668") -> bytes:
    data = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def a27_file(schools=tuple(SQUARES), with_okayama: bool = False) -> bytes:
    features = [a27_feature(f"{s}小学校", square(s)) for s in schools]
    if with_okayama:  # a prefecture's file: another municipality's school district too
        features.append(a27_feature("岡山中央小学校", box(133.92, 34.66, 133.93, 34.67), "33100", "岡山市立"))
    return geojson(features)


def zipped_shapefile(
    epsg: int = 6673,
    encoding: str = "cp932",
    cpg: str | None = None,
    prj: bool = True,
    schools=tuple(SQUARES),
    members: dict[str, bytes] | None = None,
) -> bytes:
    """The same school districts as a Shapefile in a projected CRS (平面直角座標系 第V系 by
    default), written by pyshp, its .dbf in `encoding`, zipped as a GIS tool would."""
    to = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    w = shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding)
    w.field("A27_001", "C", 5)
    w.field("A27_002", "C", 20)
    w.field("A27_004", "C", 40)
    for s in schools:
        ring = list(
            shapely.orient_polygons(square(s), exterior_cw=True).exterior.coords
        )  # a Shapefile's outer ring is clockwise
        w.poly([[to.transform(x, y) for x, y in ring]])
        w.record("33202", "倉敷市立", f"倉敷市立{s}小学校")
    w.close()
    files = {
        "A27-21_33.shp": shp.getvalue(),
        "A27-21_33.shx": shx.getvalue(),
        "A27-21_33.dbf": dbf.getvalue(),
    }
    if prj:
        files["A27-21_33.prj"] = pyproj.CRS.from_epsg(epsg).to_wkt(pyproj.enums.WktVersion.WKT1_ESRI).encode()
    if cpg:
        files["A27-21_33.cpg"] = cpg.encode()
    files |= members or {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(f"A27-21_33/{name}", data)
    return out.getvalue()


def stored_shapes(store: Store, month: str = "2024-04") -> dict[str, shapely.Geometry]:
    frame = store.read_month("boundaries", month)
    return {s: shapely.from_wkb(g) for s, g in frame.select("school_district", "geometry").iter_rows()}


def metres_apart(a, b) -> float:
    """The largest distance (m) from a vertex of one shape to the nearest vertex of the other."""
    worst = 0.0
    pb = shapely.get_coordinates(b)
    for x, y in shapely.get_coordinates(a):
        _, _, d = GEOD.inv([x] * len(pb), [y] * len(pb), pb[:, 0], pb[:, 1])
        worst = max(worst, min(d))
    return worst


def test_an_a27_geojson_of_the_prefecture_stores_the_municipalitys_school_districts(bstore):
    """A27 (2021) names 「万寿小学校」 with 設置主体 「倉敷市立」: matched to 「万寿小」 of areas; the
    岡山市 feature of the prefecture's file is skipped with one note; the map's query reads it."""
    result = ingest(a27_file(with_okayama=True), "boundaries", "2024-04", bstore, municipality="倉敷市")
    assert result.ok, [str(e) for e in result.errors]
    assert result.rows == 4
    assert [w.message for w in result.warnings] == [
        "ほかの市町村の地物 1件は読み飛ばしました（行政区域コードが 33202 以外のもの）。倉敷市の分だけを登録します。"
    ]
    assert "登録しました: 小学校区の境界 2024年4月（令和6年4月） 小学校区 4件" in result.summary
    frame = bstore.read_month("boundaries", "2024-04")
    assert frame.select("district", "school_district", "feature_name").rows() == [
        ("倉敷", "万寿小", "万寿小学校"),
        ("倉敷", "万寿東小", "万寿東小学校"),
        ("玉島", "玉島小", "玉島小学校"),
        ("水島", "連島東小", "連島東小学校"),
    ]
    for school, shape in stored_shapes(bstore).items():
        assert shape.equals_exact(shapely.orient_polygons(square(school.removesuffix("小"))), 1e-9)
    # the live file is Parquet with WKB any tool reads, and the map reads it by its query
    live = pl.read_parquet(bstore.live_path("boundaries", "2024-04"))
    assert live.schema["geometry"] == pl.Binary
    geo_key = json.loads(
        pl.read_parquet_metadata(bstore.live_path("boundaries", "2024-04"))["geo"]
    )  # GeoParquet
    assert geo_key["primary_column"] == "geometry" and geo_key["columns"]["geometry"]["encoding"] == "WKB"
    rows = Database(bstore, cache=False).query("school_district_boundaries", municipality="倉敷市")
    assert rows["school_district"].to_list() == ["万寿小", "万寿東小", "玉島小", "連島東小"]
    assert rows["boundaries_month"].unique().to_list() == ["2024-04"] and rows["is_in_areas"].all()
    manju = shapely.from_wkb(rows["geometry"][0])
    assert manju.is_valid and manju.contains(Point(rows["label_lon"][0], rows["label_lat"][0]))
    # a later month has the latest upload at or before it; a month before the first upload
    # has the first (boundaries are reference data, often uploaded after the months began)
    moved = geojson([a27_feature(f"{s}小学校", square(s, 0.001)) for s in SQUARES])
    assert ingest(moved, "boundaries", "2025-01", bstore).ok
    db = Database(bstore, cache=False)

    def month_of(month: str) -> list[str]:
        got = db.query("school_district_boundaries", municipality="倉敷市", month=month)
        assert got.height == 4
        return got["boundaries_month"].unique().to_list()

    assert month_of("2024-03") == month_of("2024-12") == ["2024-04"]
    assert month_of("2025-01") == month_of("2025-03") == ["2025-01"]


@pytest.mark.parametrize(
    "epsg, encoding, cpg",
    [(6673, "cp932", None), (2447, "utf-8", "UTF-8"), (6673, "cp932", "932")],
    ids=["JGD2011-V-cp932", "JGD2000-V-utf8-cpg", "cp932-cpg"],
)
def test_a_zipped_shapefile_in_a_plane_rectangular_crs_gives_the_same_shapes(
    bstore, tmp_path, epsg, encoding, cpg
):
    """平面直角座標系 第V系 (JGD2011 or JGD2000), .dbf in Shift_JIS or UTF-8: the stored shapes are
    the GeoJSON's within 1 m."""
    assert ingest(a27_file(), "boundaries", "2024-04", bstore).ok
    expected = stored_shapes(bstore)
    result = ingest(zipped_shapefile(epsg, encoding, cpg), "boundaries", "2024-05", bstore)
    assert result.ok, [str(e) for e in result.errors]
    got = stored_shapes(bstore, "2024-05")
    assert got.keys() == expected.keys()
    for school in expected:
        assert metres_apart(got[school], expected[school]) < 1.0
        assert metres_apart(expected[school], got[school]) < 1.0
    names = bstore.read_month("boundaries", "2024-05")["feature_name"].to_list()
    assert names[0] == "倉敷市立万寿小学校"  # read in the .dbf's own encoding


def test_every_refusal_names_the_feature_and_nothing_is_written(bstore):
    bow_tie = Polygon([(133.77, 34.60), (133.778, 34.608), (133.778, 34.60), (133.77, 34.608)])
    features = [
        a27_feature("倉敷市立万寿小学校", square("万寿")),
        a27_feature("倉敷市立青葉小学校", square("万寿東")),
        a27_feature("倉敷市立玉島小学校", bow_tie),
        a27_feature("倉敷市立連島東小学校", Point(133.74, 34.52)),
        a27_feature("", square("連島東")),
    ]
    before = tree_digest(bstore.root)
    result = ingest(geojson(features), "boundaries", "2024-04", bstore)
    assert not result.ok
    assert {e.place: e.message for e in result.errors} == {
        "2番目の地物（倉敷市立青葉小学校）": "「倉敷市立青葉小学校」に当たる小学校区が倉敷市の圏域マスタにありません"
        "（比べた名前: 「青葉」）。圏域マスタの小学校区: 万寿小、万寿東小、玉島小、連島東小",
        "3番目の地物（倉敷市立玉島小学校）": "辺どうしが交差しています（自己交差）。経度 133.77400・緯度 34.60400 のあたりです。",
        "4番目の地物（倉敷市立連島東小学校）": "形が点（Point）です。小学校区の範囲を表すポリゴンかマルチポリゴンにしてください。",
        "5番目の地物": "名前（属性「A27_004」）が空です。小学校区の名前か学校名を入れてください。",
    }
    assert [str(e) for e in result.errors][0].startswith("[エラー] 2番目の地物（倉敷市立青葉小学校）: ")
    assert tree_digest(bstore.root) == before
    assert bstore.history("boundaries")[-1]["outcome"] == "refused"


def test_a_school_district_split_over_two_features_is_joined_with_a_warning(bstore):
    """A27 gives an enclave its own feature: both parts become the school district's one shape."""
    enclave = square("万寿", 0.02)
    features = [
        a27_feature("倉敷市立万寿小学校", square("万寿")),
        a27_feature("倉敷市立万寿東小学校", square("万寿東")),
        a27_feature("万寿小", enclave),
    ]
    result = ingest(geojson(features), "boundaries", "2024-04", bstore)
    assert result.ok, [str(e) for e in result.errors]
    assert (
        "小学校区「万寿小」の形が2つの地物（1番目（倉敷市立万寿小学校）、3番目（万寿小））に分かれていたので、"
        "1つの形（マルチポリゴン）にまとめて登録します。" in [w.message for w in result.warnings]
    )
    manju = stored_shapes(bstore)["万寿小"]
    assert manju.geom_type == "MultiPolygon"
    assert manju.area == pytest.approx(square("万寿").area + enclave.area, rel=1e-6)


@pytest.mark.parametrize(
    "content, expected",
    [
        (zipped_shapefile(prj=False), "ZIP の中に A27-21_33.prj（座標系）がありません。"),
        (
            geojson([a27_feature("万寿小学校", square("万寿"))], "EPSG:999999"),
            "GeoJSON の座標系「EPSG:999999」が分かりません",
        ),
        (b"PK\x03\x04 not a zip", "ZIP として読めません"),
        (b'{"type": "Topology"}', "GeoJSON の FeatureCollection"),
        (
            "通いの場ID,名称\n".encode("cp932"),
            "GeoJSON として読めません（文字コードが UTF-8 ではありません）",
        ),
    ],
    ids=["no-prj", "unknown-crs", "broken-zip", "not-geojson", "a-csv"],
)
def test_a_file_whose_projection_or_format_is_unknown_is_refused(bstore, content, expected):
    before = tree_digest(bstore.root)
    result = ingest(content, "boundaries", "2024-04", bstore)
    assert not result.ok and expected in result.errors[0].message, [str(e) for e in result.errors]
    assert tree_digest(bstore.root) == before


def test_metres_without_a_crs_are_an_unknown_projection_named_by_feature(bstore):
    to = pyproj.Transformer.from_crs(4326, 6673, always_xy=True)
    metres = shapely.transform(square("万寿"), lambda x, y: to.transform(x, y), interleaved=False)
    result = ingest(geojson([a27_feature("万寿小学校", metres)], crs=None), "boundaries", "2024-04", bstore)
    [error] = result.errors
    assert error.place == "1番目の地物（万寿小学校）"
    assert error.message.startswith(
        "座標が経度・緯度ではありません（メートル単位の平面直角座標などのようです）。座標系が分かりません。"
    )


def test_a_file_with_none_of_the_chosen_municipality_is_refused(bstore):
    result = ingest(a27_file(), "boundaries", "2024-04", bstore, municipality="岡山市")
    assert [e.message for e in result.errors] == [
        "岡山市の地物が1つもありません（4件すべてがほかの市町村のものです）。選んだ市町村とファイルを確かめてください。"
    ]


def test_a_school_district_without_a_shape_is_a_warning_and_the_rest_is_stored(bstore):
    result = ingest(a27_file(("万寿", "玉島")), "boundaries", "2024-04", bstore, municipality="倉敷市")
    assert result.ok and result.rows == 2
    assert [w.message for w in result.warnings] == [
        "形のない小学校区が 2件あります: 万寿東小、連島東小。地図ではこの小学校区を塗らずに表示します。"
    ]


def test_names_are_matched_as_the_contract_says():
    assert geo.school_key("倉敷市立万寿小学校", "倉敷市") == "万寿"
    assert geo.school_key("岡山県倉敷市立万寿小学校", "倉敷市", "岡山県") == "万寿"
    assert geo.school_key("万寿小", "倉敷市") == "万寿"
    assert geo.school_key("ＭＡＮＪＵ小学校区", "倉敷市") == "MANJU"
    assert geo.school_key("立石小学校", "倉敷市") == "立石"  # a school named 立… keeps its name
    assert geo.school_key("南箕輪村立南部小学校", "南箕輪村") == "南部"


def test_the_name_property_is_detected_or_named(bstore):
    """A27 2010 names the school in A27_007; another source's property is named on upload."""
    old = geojson(
        [
            {
                "type": "Feature",
                "properties": {"A27_005": "33202", "A27_006": "倉敷市立", "A27_007": f"{s}小学校"},
                "geometry": shapely.geometry.mapping(square(s)),
            }
            for s in SQUARES
        ]
    )
    assert ingest(old, "boundaries", "2024-04", bstore).ok
    own = geojson(
        [
            {
                "type": "Feature",
                "properties": {"ID": str(i), "学区": s, "備考": "市の資料から"},
                "geometry": shapely.geometry.mapping(square(s)),
            }
            for i, s in enumerate(SQUARES)
        ],
        crs=None,
    )
    refused = ingest(own, "boundaries", "2024-05", bstore, municipality="倉敷市", name_field="校区名")
    assert refused.errors[0].message == "属性「校区名」がファイルにありません。ある属性: ID、学区、備考"
    result = ingest(own, "boundaries", "2024-05", bstore, municipality="倉敷市", name_field="学区")
    assert result.ok and result.rows == 4


def test_restore_puts_the_previous_boundaries_back(bstore):
    first = ingest(a27_file(), "boundaries", "2024-04", bstore)
    moved = geojson([a27_feature(f"{s}小学校", square(s, 0.001)) for s in SQUARES])
    second = ingest(moved, "boundaries", "2024-04", bstore)
    assert second.ok and second.replaced_version == first.version
    assert stored_shapes(bstore)["万寿小"].bounds[0] == pytest.approx(133.771)
    bstore.restore("boundaries", "2024-04", first.version, user="kanri", municipality=("岡山県", "倉敷市"))
    assert stored_shapes(bstore)["万寿小"].bounds[0] == pytest.approx(133.770)
    assert [v["live"] for v in bstore.versions("boundaries", "2024-04")] == [False, False, True]
    assert bstore.history("boundaries")[-1]["action"] == "restore"


def test_a_hostile_file_is_refused_before_it_costs_much(bstore, tmp_path, monkeypatch):
    before = tree_digest(bstore.root)
    monkeypatch.setattr(geo, "MAX_FILE_BYTES", 10_000)
    big = ingest(
        b'{"type":"FeatureCollection","features":[' + b" " * 20_000 + b"]}", "boundaries", "2024-04", bstore
    )
    assert big.errors[0].message.startswith("ファイルが大きすぎます（0MB、0MBまで）。")
    monkeypatch.undo()
    # a zip bomb: 50 MB of zeros in a few KB, refused from the sizes the zip declares
    bomb = zipped_shapefile(members={"A27-21_33.shp": b"\0" * 50_000_000})
    assert len(bomb) < 200_000
    result = ingest(bomb, "boundaries", "2024-04", bstore)
    assert "が大きすぎます（展開すると 48MB）" in result.errors[0].message
    # thousands of vertices: refused by the count, before shapely builds anything
    monkeypatch.setattr(geo, "MAX_VERTICES", 1000)
    circle = Point(133.774, 34.604).buffer(0.003, quad_segs=600)
    result = ingest(geojson([a27_feature("万寿小学校", circle)]), "boundaries", "2024-04", bstore)
    assert result.errors[0].message.startswith("頂点が多すぎます（1,001個以上、1,000個まで）。")
    assert tree_digest(bstore.root) == before  # each refused whole, nothing written
    # a member named to climb out of the folder is only ever read in memory
    evil = zipped_shapefile(members={"../../evil.txt": b"x"})
    assert ingest(evil, "boundaries", "2024-04", bstore).ok
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert [p for p in tree_digest(bstore.root) if "evil" in p] == []


def test_the_command_line_ingests_boundaries(bstore, tmp_path):
    path = tmp_path / "A27-21_33.geojson"
    path.write_bytes(a27_file(with_okayama=True))
    args = ["ingest", "--dataset", "boundaries", "--month", "令和6年4月", "--data-dir", bstore.root]
    proc = tsunagu_cli(*args, "--municipality", "倉敷市", path)
    assert proc.returncode == 0, proc.stderr
    assert "登録しました: 小学校区の境界 2024年4月（令和6年4月） 小学校区 4件" in proc.stdout
    proc = tsunagu_cli(*args, path)  # a prefecture's file: which municipality is not guessed
    assert (
        proc.returncode == 1
        and "どの市町村の境界か決められません。登録する市町村を選んでください" in proc.stderr
    )
    proc = tsunagu_cli(*args, "--municipality", "倉敷市", "--name-field", "学校名", path)
    assert proc.returncode == 1
    assert (
        "属性「学校名」がファイルにありません。ある属性: A27_001、A27_002、A27_003、A27_004、A27_005"
        in proc.stderr
    )


def test_the_demo_school_districts_cover_kurashiki_and_hold_its_places(demo_db):
    """Synthetic, not A27: one valid polygon per school district of 倉敷市, none overlapping, and
    every demo place with coordinates inside its own school district."""
    rows = demo_db.query("school_district_boundaries", municipality="倉敷市")
    areas = demo_db.query("school_districts", municipality="倉敷市")
    assert (
        rows.select("district", "school_district").rows()
        == areas.select("district", "school_district").rows()
    )
    assert rows.height == 63 and rows["feature_name"][0].startswith("倉敷市立")
    shapes = {
        (d, s): shapely.from_wkb(g)
        for d, s, g in rows.select("district", "school_district", "geometry").iter_rows()
    }
    assert all(g.is_valid and g.geom_type == "Polygon" for g in shapes.values())
    union = shapely.union_all(list(shapes.values()))
    assert sum(g.area for g in shapes.values()) == pytest.approx(union.area, rel=1e-5)  # no overlaps
    places = demo_db.sql(
        "select district, school_district, lat, lon from places_latest where municipality = '倉敷市'"
    )
    located = places.filter(pl.col("lat").is_not_null())
    assert 0.6 < located.height / places.height < 0.8  # some places have no coordinates, as before
    outside = [r for r in located.iter_rows() if not shapes[(r[0], r[1])].contains(Point(r[3], r[2]))]
    assert outside == []


def test_the_upload_page_checks_a_geojson_and_commits_it(bstore, monkeypatch):
    """An editor picks 小学校区の境界, chooses a GeoJSON: the matches are listed, then stored."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from tests.test_app import signed_in

    class Uploaded:
        name = "A27-21_33.geojson"

        def getvalue(self) -> bytes:
            return a27_file(("万寿", "万寿東", "玉島"), with_okayama=True)

    real = st.file_uploader
    monkeypatch.setattr(
        st, "file_uploader", lambda label, *a, **k: Uploaded() if "GeoJSON" in label else real(label, *a, **k)
    )
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(bstore.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(at, "sc_tanaka")
    at.run()
    at.switch_page("pages/upload.py").run()
    next(s for s in at.selectbox if s.label == "市町村").set_value(("岡山県", "倉敷市"))
    next(s for s in at.selectbox if s.label == "データの種類").set_value("boundaries").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success[0].value.startswith("確認できました: 倉敷市の小学校区 3件の形。")
    warnings = [w.value.replace("\\", "") for w in at.warning]  # shown escaped (fmt.plain)
    assert any("ほかの市町村の地物 1件は読み飛ばしました" in w for w in warnings)
    assert any("形のない小学校区が 1件あります: 連島東小" in w for w in warnings), warnings
    preview = next(d.value for d in at.dataframe if "変化" in d.value.columns)
    assert preview["小学校区"].to_list() == ["万寿小", "万寿東小", "玉島小"]
    assert set(preview["変化"]) == {"新しく登録"}
    picker = next(s for s in at.selectbox if s.label == "学校名（小学校区名）の属性")
    assert picker.options[:2] == ["自動（A27_004）", "A27_001"] and picker.value is None
    next(b for b in at.button if b.label == "登録する").click().run()
    assert any(s.value.startswith("登録しました: 小学校区の境界") for s in at.success)
    month = next(s for s in at.selectbox if s.label == "対象の月").value
    assert bstore.read_month("boundaries", month)["school_district"].to_list() == [
        "万寿小",
        "万寿東小",
        "玉島小",
    ]


def test_the_history_page_lists_the_boundaries_versions_to_restore(bstore, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from tests.test_app import signed_in

    first = ingest(a27_file(), "boundaries", "2024-04", bstore, user="sc_tanaka")
    second = ingest(a27_file(("万寿", "玉島")), "boundaries", "2024-04", bstore, user="sc_tanaka")
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(bstore.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(at, "kanri")
    at.run()
    at.switch_page("pages/history.py").run()
    next(s for s in at.selectbox if s.label == "データの種類").set_value("boundaries").run()
    next(s for s in at.selectbox if s.label == "市町村").set_value(("岡山県", "倉敷市")).run()
    assert not at.exception, [e.message for e in at.exception]
    versions = next(d.value for d in at.dataframe if "いま有効" in d.value.columns)
    assert versions[["版", "いま有効", "行数（全体）"]].values.tolist() == [
        [first.version, "", 4],
        [second.version, "○", 2],
    ]
    assert next(s for s in at.selectbox if s.label == "戻す版").value == first.version
