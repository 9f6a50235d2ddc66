"""School-district boundaries (the `boundaries` dataset): a GeoJSON or a zipped Shapefile,
read, reprojected to WGS84 longitude/latitude and matched to the school districts of `areas`.

Geometry, projections and Shapefiles come from maintained libraries: shapely (GEOS) checks
and measures shapes, pyproj (PROJ) reprojects, pyshp reads Shapefiles. A hostile file is
bounded before it costs much: the file's size, a zip's members (declared and real sizes,
read in memory, never extracted to disk) and the number of vertices.

国土数値情報 A27 (小学校区) is the expected source. Its polygon attributes changed between
editions: 2010 (第2.0版) has A27_005 行政区域コード, A27_006 設置主体 (「倉敷市立」), A27_007 名称
(「万寿小学校」), A27_008 所在地; 2016 and 2021 (第3.0版) have A27_001 行政区域コード, A27_002
設置主体, A27_003 学校コード (2021) and A27_004 名称, A27_005 所在地. The name property is the one
whose values match the municipality's school districts best, unless the uploader names it.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl
import pyproj
import shapefile
import shapely
from shapely.geometry import shape

from tsunagu.contract.issues import Issue, RefusedError
from tsunagu.contract.parse import area_key, nfkc
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.scope import EVERYWHERE, Scope

MAX_FILE_BYTES = 64 * 2**20  # a prefecture's A27 GeoJSON is well under this
MAX_UNZIPPED_BYTES = 256 * 2**20  # the Shapefile's parts together, as the zip declares and as read
MAX_RATIO = 200  # a zip member expanding more than this is a zip bomb, not a Shapefile
MAX_MEMBERS = 2000
MAX_FEATURES = 100_000
MAX_VERTICES = 3_000_000  # in the features kept (a municipality's A27 has some 10,000–200,000)
MAX_FEATURE_VERTICES = 500_000
MAX_ISSUES = 500
SIMPLIFY_DEGREES = 0.00002  # about 2 m: invisible at the zoom levels a map of school districts shows
JAPAN_LON, JAPAN_LAT = (122.0, 154.0), (20.0, 46.0)
WGS84 = pyproj.CRS.from_epsg(4326)
LONLAT_AS_IS = ("World Geodetic System 1984", "Japanese Geodetic Datum 2000", "Japanese Geodetic Datum 2011")

# A27's attributes, newest edition first (see the module's docstring)
NAME_FIELDS = (
    "A27_004",
    "A27_007",
    "A27_003",
    "名称",
    "学校名",
    "小学校名",
    "小学校区",
    "name",
    "NAME",
    "Name",
)
CODE_FIELDS = ("A27_001", "A27_005", "行政区域コード", "団体コード", "municipality_code")
OWNER_FIELDS = ("A27_002", "A27_006", "設置主体")
POLYGONS = ("Polygon", "MultiPolygon")

EXPECTED_FILE = "小学校区の境界は GeoJSON（.geojson・.json）か、Shapefile（.shp・.shx・.dbf・.prj）をまとめた ZIP で登録します"


@dataclass
class Feature:
    index: int  # 1 = the file's first feature
    props: dict
    geojson: dict | None = None  # the geometry as GeoJSON (a Shapefile's, converted)
    problem: str | None = None  # why the geometry cannot be used, before it is built
    name: str = ""
    geometry: object = None  # shapely, WGS84 lon/lat


@dataclass
class GeoFile:
    features: list[Feature]
    crs: pyproj.CRS | None  # None: not said (GeoJSON: longitude/latitude by RFC 7946)
    kind: str  # "GeoJSON" / "Shapefile"
    encoding: str | None = None  # a Shapefile's .dbf


@dataclass
class Matched:
    """What an upload matched, for the upload page's preview."""

    frame: pl.DataFrame
    warnings: list[Issue] = field(default_factory=list)
    source_rows: int = 0
    municipalities: list[tuple[str, str]] = field(default_factory=list)
    name_field: str = ""
    skipped: int = 0  # features of other municipalities
    sheet: str | None = None  # (the upload page reads these of any upload)
    sheets: list[str] = field(default_factory=list)


def _error(message: str) -> RefusedError:
    return RefusedError([Issue(None, None, message)])


# reading


def read_file(content: bytes) -> GeoFile:
    """A GeoJSON or a zipped Shapefile, bounded; RefusedError says what is wrong in Japanese."""
    if len(content) > MAX_FILE_BYTES:
        raise _error(
            f"ファイルが大きすぎます（{len(content) / 2**20:,.0f}MB、{MAX_FILE_BYTES // 2**20}MBまで）。"
            "県全体のファイルなら、登録する市町村の分だけを切り出してください。"
        )
    if not content.strip():
        raise _error(f"ファイルが空です。{EXPECTED_FILE}。")
    if content[:4] == b"PK\x03\x04" or content[:4] == b"PK\x05\x06":
        return _read_zip(content)
    return _read_geojson(content)


def _read_geojson(content: bytes) -> GeoFile:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _error(
            f"GeoJSON として読めません（文字コードが UTF-8 ではありません）。{EXPECTED_FILE}。"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _error(
            f"GeoJSON として読めません（{e.lineno:,}行目・{e.colno:,}文字目: JSON の書き方が正しくありません）。"
            f"{EXPECTED_FILE}。"
        ) from None
    except RecursionError:
        raise _error("GeoJSON として読めません（入れ子が深すぎます）。") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise _error(
            'GeoJSON の FeatureCollection（"type": "FeatureCollection"）ではありません。'
            + EXPECTED_FILE
            + "。"
        )
    raw = data.get("features") if data["type"] == "FeatureCollection" else [data]
    if not isinstance(raw, list):
        raise _error("GeoJSON に地物の一覧（features）がありません。")
    if len(raw) > MAX_FEATURES:
        raise _error(
            f"地物が多すぎます（{len(raw):,}件、{MAX_FEATURES:,}件まで）。市町村の分だけを切り出してください。"
        )
    crs = _geojson_crs(data.get("crs"))
    features = []
    for i, f in enumerate(raw, start=1):
        if not isinstance(f, dict):
            features.append(Feature(i, {}, problem="地物（Feature）ではありません"))
            continue
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        geom = f.get("geometry")
        if not isinstance(geom, dict) or not geom.get("type"):
            features.append(Feature(i, props, problem="形（geometry）がありません"))
        elif geom["type"] not in POLYGONS:
            features.append(Feature(i, props, problem=_not_polygon(geom["type"])))
        else:
            features.append(Feature(i, props, geojson=geom))
    return GeoFile(features, crs, "GeoJSON")


def _geojson_crs(member) -> pyproj.CRS | None:
    """The old GeoJSON `crs` member (QGIS and 国土数値情報 still write it), honoured; None if absent."""
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise _error(
            "GeoJSON の座標系（crs）が読めません。crs を消して経度・緯度で書き出すか、EPSG の番号を付けてください。"
        )
    try:
        return pyproj.CRS.from_user_input(name.strip())
    except pyproj.exceptions.CRSError:
        raise _error(
            f"GeoJSON の座標系「{name[:80]}」が分かりません。"
            "EPSG の番号（例: EPSG:6668 JGD2011、EPSG:4326 WGS84）で書き出してください。"
        ) from None


def _not_polygon(kind: str) -> str:
    named = {"Point": "点", "MultiPoint": "点", "LineString": "線", "MultiLineString": "線"}
    what = f"{named[kind]}（{kind}）" if kind in named else f"「{str(kind)[:40]}」"
    return f"形が{what}です。小学校区の範囲を表すポリゴンかマルチポリゴンにしてください"


_CODECS = {"932": "cp932", "sjis": "cp932", "shift_jis": "cp932", "shiftjis": "cp932", "ansi 932": "cp932"}


def _read_zip(content: bytes) -> GeoFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _error(f"ZIP として読めません（壊れているか、ZIP ではありません）。{EXPECTED_FILE}。") from None
    if len(infos) > MAX_MEMBERS:
        raise _error(
            f"ZIP の中のファイルが多すぎます（{len(infos):,}個）。Shapefile 1組だけを ZIP にしてください。"
        )
    members = {}
    for info in infos:
        name = info.filename.replace("\\", "/")
        base = name.rsplit("/", 1)[-1]
        if info.is_dir() or base.startswith(".") or name.startswith("__MACOSX/"):
            continue
        members[name] = info
    shps = [n for n in members if n.lower().endswith(".shp")]
    if not shps:
        listed = "、".join(sorted(members)[:10]) or "なし"
        raise _error(
            f"ZIP の中に Shapefile（.shp）がありません（入っていたファイル: {listed}）。{EXPECTED_FILE}。"
        )
    budget = [MAX_UNZIPPED_BYTES]

    def part(stem: str, ext: str) -> bytes | None:
        found = [n for n in members if n.lower() == (stem + ext).lower()]
        return _member(zf, members[found[0]], budget) if found else None

    candidates = []
    for shp_name in sorted(shps):
        stem = shp_name[:-4]
        head = _member(zf, members[shp_name], budget, limit=100)
        kind = int.from_bytes(head[32:36], "little") if len(head) >= 36 else 0
        candidates.append((stem, kind))
    # A27-10 ships the schools (points) beside the school districts (polygons): take the polygons
    polygons = [c for c in candidates if c[1] in (5, 15, 25)]
    if len(polygons) > 1:
        listed = "、".join(s.rsplit("/", 1)[-1] + ".shp" for s, _ in polygons)
        raise _error(
            f"ZIP の中にポリゴンの Shapefile が複数あります（{listed}）。小学校区の1組だけを ZIP にしてください。"
        )
    stem = (polygons or candidates)[0][0]
    label = stem.rsplit("/", 1)[-1]
    shp, shx, dbf, prj, cpg = (part(stem, e) for e in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    if dbf is None:
        raise _error(
            f"ZIP の中に {label}.dbf（属性。学校名が入っています）がありません。Shapefile の4つのファイルをそろえてください。"
        )
    if prj is None:
        raise _error(
            f"ZIP の中に {label}.prj（座標系）がありません。座標系が分からないと位置を決められません。"
            ".prj も一緒に ZIP にしてください（国土数値情報のファイルには付いています）。"
        )
    prj_text = prj.decode("utf-8", "replace").strip()
    try:
        crs = pyproj.CRS.from_user_input(prj_text)
    except pyproj.exceptions.CRSError:
        raise _error(
            f"{label}.prj の座標系が分かりません（「{prj_text[:60]}」）。GIS ソフトで座標系を付け直してください。"
        ) from None
    encodings = []
    if cpg is not None:
        named = cpg.decode("ascii", "replace").strip().lower()
        encodings.append(_CODECS.get(named, named))
    encodings += ["utf-8", "cp932"]
    last = None
    for encoding in dict.fromkeys(encodings):
        try:
            features = _shapes(shp, shx, dbf, encoding)
            return GeoFile(features, crs, "Shapefile", encoding)
        except (UnicodeDecodeError, LookupError) as e:
            last = e
        except shapefile.ShapefileException as e:
            if "decode" not in str(e):  # pyshp says a wrong encoding in its own words
                raise _error(
                    f"{label}.shp を読めません（壊れているか、Shapefile ではありません: {str(e)[:80]}）。"
                ) from None
            last = e
        except RefusedError:
            raise
        except Exception as e:  # pyshp raises its own and struct errors on a damaged file
            raise _error(
                f"{label}.shp を読めません（壊れているか、Shapefile ではありません: {str(e)[:80]}）。"
            ) from None
    raise _error(
        f"{label}.dbf の文字コードが分かりません（UTF-8 でも Shift_JIS でもありません: {str(last)[:80]}）。"
        "文字コードを書いた .cpg を付けるか、UTF-8 で保存し直してください。"
    )


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], limit: int | None = None) -> bytes:
    """A zip member's bytes, read in memory after its declared size is checked, and stopped
    when more comes out than declared (a forged header)."""
    if info.flag_bits & 0x1:
        raise _error(
            f"ZIP の中の {info.filename} にパスワードがかかっています。パスワードなしで ZIP にしてください。"
        )
    if limit is None:
        if info.file_size > budget[0] or (
            info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise _error(
                f"ZIP の中の {info.filename} が大きすぎます（展開すると {info.file_size / 2**20:,.0f}MB）。"
                "市町村の分だけを切り出してください。"
            )
    want = info.file_size if limit is None else min(limit, info.file_size)
    try:
        with zf.open(info) as f:
            data = f.read(want + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError):
        raise _error(
            f"ZIP の中の {info.filename} を読めません（壊れているか、対応していない圧縮方式です）。"
        ) from None
    if limit is None:
        if len(data) > info.file_size:
            raise _error(
                f"ZIP の中の {info.filename} の大きさが書かれている大きさと違います（壊れた ZIP です）。"
            )
        budget[0] -= len(data)
    return data[:want]


def _shapes(shp: bytes, shx: bytes | None, dbf: bytes, encoding: str) -> list[Feature]:
    reader = shapefile.Reader(
        shp=io.BytesIO(shp),
        shx=io.BytesIO(shx) if shx else None,
        dbf=io.BytesIO(dbf),
        encoding=encoding,
        encodingErrors="strict",
    )
    if len(reader) > MAX_FEATURES:
        raise _error(
            f"地物が多すぎます（{len(reader):,}件、{MAX_FEATURES:,}件まで）。市町村の分だけを切り出してください。"
        )
    features = []
    for i, rec in enumerate(reader.iterShapeRecords(), start=1):
        props = rec.record.as_dict()
        shp_type = rec.shape.shapeType
        if shp_type == 0:
            features.append(Feature(i, props, problem="形がありません（空の形）"))
        elif shp_type not in (5, 15, 25):
            kind = {1: "Point", 11: "Point", 21: "Point", 8: "MultiPoint", 3: "LineString", 13: "LineString"}
            features.append(Feature(i, props, problem=_not_polygon(kind.get(shp_type, str(shp_type)))))
        elif len(rec.shape.points) > MAX_FEATURE_VERTICES:
            features.append(Feature(i, props, problem=_too_many(len(rec.shape.points))))
        else:
            features.append(Feature(i, props, geojson=rec.shape.__geo_interface__))
    return features


def _too_many(n: int) -> str:
    return f"頂点が多すぎます（{n:,}個、1つの形に{MAX_FEATURE_VERTICES:,}個まで）。GIS ソフトで簡略化してください"


def _vertices(coords, cap: int) -> int:
    """How many positions a GeoJSON coordinates array holds (stops counting past `cap`)."""
    n, stack = 0, [coords]
    while stack and n <= cap:
        item = stack.pop()
        if isinstance(item, (list, tuple)) and item and isinstance(item[0], (list, tuple)):
            stack.extend(item)
        else:
            n += 1
    return n


# names and municipalities


def school_key(name: str, municipality: str, prefecture: str = "") -> str:
    """How a feature's name is compared with the school districts of `areas`: 「倉敷市立万寿小学校」
    and 「万寿小」 and 「万寿」 are all 「万寿」 (the municipality's name, 市立・町立・村立 and
    小学校・小 removed, after NFKC)."""
    s = re.sub(r"\s", "", nfkc(name))
    for prefix in (nfkc(prefecture), nfkc(municipality)):
        if prefix and s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix) :]
            if prefix == nfkc(municipality) and s.startswith("立") and len(s) > 1:
                s = s[1:]  # 「倉敷市」+「立万寿小学校」
    for owner in ("市立", "町立", "村立", "区立", "組合立", "公立"):
        if s.startswith(owner) and len(s) > len(owner):
            s = s[len(owner) :]
            break
    return area_key(s, school=True)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _code5(value) -> str:
    digits = nfkc(_text(value))
    return digits.zfill(5)[:5] if digits.isdigit() and len(digits) in (4, 5, 6) else ""


@dataclass
class _Place:
    """The municipality a file is for, and how its features are told from other municipalities'."""

    prefecture: str
    municipality: str
    code: str  # 5 digits, "" if areas has none
    schools: dict[str, list[tuple[str, str]]]  # school_key -> [(district, school_district)]
    order: list[tuple[str, str]]  # (district, school_district) in areas' order


def _place(areas: pl.DataFrame, muni: tuple[str, str]) -> _Place:
    rows = areas.filter((pl.col("prefecture") == muni[0]) & (pl.col("municipality") == muni[1]))
    code = ""
    if "municipality_code" in rows.columns:
        codes = rows["municipality_code"].drop_nulls().unique().to_list()
        code = codes[0][:5] if len(codes) == 1 else ""
    schools: dict[str, list[tuple[str, str]]] = defaultdict(list)
    order = []
    for dist, school in rows.select("district", "school_district").iter_rows():
        order.append((dist, school))
        schools[area_key(school, school=True)].append((dist, school))
    return _Place(muni[0], muni[1], code, dict(schools), order)


def _owner_municipality(text: str) -> str:
    """「倉敷市立」 -> 「倉敷市」; "" if the text does not name an owner so."""
    m = re.match(r"^(.+?[市町村区])立", nfkc(text))
    return m[1] if m else ""


def _other_municipality(f: Feature, place: _Place, code_field: str | None, owner_field: str | None) -> bool:
    """Whether a feature belongs to another municipality (a prefecture's A27 file)."""
    if code_field and place.code:
        code = _code5(f.props.get(code_field))
        if code:
            return code != place.code
    owner = _owner_municipality(_text(f.props.get(owner_field))) if owner_field else ""
    if not owner:
        owner = _owner_municipality(f.name)
    return bool(owner) and owner not in (nfkc(place.municipality), nfkc(place.municipality)[:-1])


def _string_fields(features: list[Feature]) -> list[str]:
    seen: dict[str, None] = {}
    for f in features[:2000]:
        for k, v in f.props.items():
            if isinstance(v, str) and v.strip():
                seen.setdefault(k, None)
    return list(seen)


def detect_name_field(features: list[Feature], place: _Place) -> str | None:
    """The property holding the school's name: the one whose values match the municipality's
    school districts most often (ties: A27's names first), else a known name, else None."""
    fields = _string_fields(features)
    known = {k: i for i, k in enumerate(NAME_FIELDS)}
    best, best_score = None, 0
    for key in sorted(fields, key=lambda k: known.get(k, len(known))):
        score = sum(
            1
            for f in features[:5000]
            if school_key(_text(f.props.get(key)), place.municipality, place.prefecture) in place.schools
        )
        if score > best_score:
            best, best_score = key, score
    if best is not None:
        return best
    return next((k for k in NAME_FIELDS if k in fields), None)


def _choose_municipality(
    features: list[Feature], areas: pl.DataFrame, scope: Scope, chosen: tuple[str, str] | None
) -> tuple[str, str]:
    """The municipality named on upload; else the only one the uploader may write; else the
    one the features' codes or 設置主体 name, if they name exactly one."""
    if chosen is not None:
        if not scope.everywhere and not scope.within([chosen]):
            raise RefusedError(
                [
                    Issue(
                        None,
                        None,
                        f"{chosen[1]}の境界は登録できません（あなたが登録できるのは {scope.label} です）。",
                    )
                ]
            )
        return chosen
    munis = [
        tuple(m) for m in areas.select("prefecture", "municipality").unique(maintain_order=True).iter_rows()
    ]
    mine = scope.within(munis)
    if len(mine) == 1:
        return mine[0]
    by_code, by_name = {}, {}
    for m in mine:
        p = _place(areas, m)
        if p.code:
            by_code[p.code] = m
        by_name.setdefault(nfkc(m[1]), []).append(m)
    named: set = set()
    for f in features[:5000]:
        for key in CODE_FIELDS:
            if _code5(f.props.get(key)) in by_code:
                named.add(by_code[_code5(f.props.get(key))])
        for key in (*OWNER_FIELDS, *NAME_FIELDS):
            owner = _owner_municipality(_text(f.props.get(key)))
            if len(by_name.get(owner, [])) == 1:
                named.add(by_name[owner][0])
    if len(named) == 1:
        return named.pop()
    raise RefusedError(
        [
            Issue(
                None,
                None,
                "どの市町村の境界か決められません。登録する市町村を選んでください"
                "（コマンドでは --municipality。境界は1回の登録で1つの市町村です）。",
            )
        ]
    )


# geometry


def _transformer(crs: pyproj.CRS | None) -> pyproj.Transformer | None:
    if crs is None:
        return None
    if crs.is_geographic and crs.datum is not None and crs.datum.name.startswith(LONLAT_AS_IS):
        return None  # WGS84, JGD2000 and JGD2011 agree to well under a metre here: lon/lat as written
    try:
        return pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    except pyproj.exceptions.ProjError:
        raise _error(f"座標系「{crs.name}」から経度・緯度に変換できません。") from None


_VALIDITY = {
    "Self-intersection": "辺どうしが交差しています（自己交差）",
    "Ring Self-intersection": "輪郭が自分自身と接しています",
    "Too few points in geometry component": "頂点が足りない輪郭があります（3点以上の閉じた輪郭が必要です）",
    "Hole lies outside shell": "穴が外側の輪郭の外にあります",
    "Interior is disconnected": "内側が分断されています（穴が輪郭を横切っています）",
    "Nested shells": "外側の輪郭が入れ子になっています（マルチポリゴンの部分が重なっています）",
    "Holes are nested": "穴の中に穴があります",
    "Nested holes": "穴の中に穴があります",
    "Duplicate Rings": "同じ輪郭が2回あります",
    "Invalid Coordinate": "数でない座標があります",
    "Ring is not closed": "輪郭が閉じていません（最初と最後の点が違います）",
    "Self-intersection in ring": "辺どうしが交差しています（自己交差）",
}


def explain_invalid(geom) -> str:
    """shapely's reason a shape is broken, in Japanese, with where (経度・緯度)."""
    reason = shapely.is_valid_reason(geom)
    m = re.match(r"^([^\[]+?)\s*(?:\[\s*([-\d.eE+]+)\s+([-\d.eE+]+)\s*\])?$", reason)
    head = m[1].strip() if m else reason
    text = _VALIDITY.get(head, f"形が正しくありません（{reason}）")
    if m and m[2]:
        x, y = float(m[2]), float(m[3])
        if math.isfinite(x) and math.isfinite(y):
            text += f"。経度 {x:.5f}・緯度 {y:.5f} のあたりです"
    return text


def _build(f: Feature, transformer: pyproj.Transformer | None, crs_said: bool) -> str | None:
    """Make the feature's shapely geometry in WGS84 lon/lat; the problem if it cannot be used."""
    try:
        geom = shape(f.geojson)
    except Exception:  # whatever the file's coordinates are, they are the file's problem, said so
        return "座標が読めません（ポリゴンの座標の並びになっていません）"
    if geom.is_empty:
        return "形が空です"
    coords = shapely.get_coordinates(geom)
    if not bool((coords == coords).all()) or not bool(abs(coords).max() < 1e12):
        return "数でない座標があります"
    if transformer is not None:
        try:
            geom = shapely.transform(
                geom, lambda x, y: transformer.transform(x, y, errcheck=True), interleaved=False
            )
        except pyproj.exceptions.ProjError:
            return "座標を経度・緯度に変換できません（座標系の範囲の外です）"
        coords = shapely.get_coordinates(geom)
        if not bool((coords == coords).all()) or not bool(abs(coords).max() < 1e12):
            return "座標を経度・緯度に変換できません（座標系の範囲の外です）"
    lon_lo, lat_lo = coords.min(axis=0)
    lon_hi, lat_hi = coords.max(axis=0)
    inside = (
        JAPAN_LON[0] <= lon_lo
        and lon_hi <= JAPAN_LON[1]
        and JAPAN_LAT[0] <= lat_lo
        and lat_hi <= JAPAN_LAT[1]
    )
    if not inside:
        if (
            JAPAN_LAT[0] <= lon_lo
            and lon_hi <= JAPAN_LAT[1]
            and JAPAN_LON[0] <= lat_lo
            and lat_hi <= JAPAN_LON[1]
        ):
            return "緯度と経度が逆になっています（経度, 緯度 の順に書き出してください）"
        if not crs_said and max(abs(lon_lo), abs(lon_hi)) > 180:
            return (
                "座標が経度・緯度ではありません（メートル単位の平面直角座標などのようです）。座標系が分かりません。"
                "GeoJSON に座標系（crs）を付けるか、経度・緯度（EPSG:4326 か EPSG:6668）で書き出してください"
            )
        return (
            f"日本の範囲の外にあります（経度 {lon_lo:.3f}〜{lon_hi:.3f}・緯度 {lat_lo:.3f}〜{lat_hi:.3f}）。"
            "座標系が正しいか確かめてください"
        )
    if not geom.is_valid:
        return explain_invalid(geom)
    f.geometry = shapely.orient_polygons(geom)  # RFC 7946: outer rings counterclockwise
    return None


# the whole check


def validate(
    content: bytes,
    areas: pl.DataFrame | None,
    scope: Scope = EVERYWHERE,
    municipality: tuple[str, str] | None = None,
    name_field: str | None = None,
) -> Matched:
    """Read, check and match a boundaries file for one municipality; RefusedError with every
    problem (each naming the feature), nothing written. `municipality`: as areas spells it
    (pipeline.choose_municipality), else decided from the file and the uploader's scope."""
    from tsunagu.ingest.areas import NO_AREAS  # noqa: PLC0415 - one message, said once

    if areas is None or areas.height == 0:
        raise _error(NO_AREAS)
    geo = read_file(content)
    features = geo.features
    if not features:
        raise _error("地物（小学校区の形）が1つもありません。")
    muni = _choose_municipality(features, areas, scope, municipality)
    place = _place(areas, muni)
    fields = _string_fields(features)
    if name_field:
        if name_field not in {k for f in features for k in f.props}:
            raise RefusedError(
                [
                    Issue(
                        None,
                        None,
                        f"属性「{name_field}」がファイルにありません。ある属性: {'、'.join(fields[:30]) or 'なし'}",
                    )
                ]
            )
        field_name = name_field
    else:
        detected = detect_name_field(features, place)
        if detected is None:
            raise RefusedError(
                [
                    Issue(
                        None,
                        None,
                        "小学校（小学校区）の名前が入った属性が見つかりません。名前の属性を選んでください"
                        f"（コマンドでは --name-field）。ある属性: {'、'.join(fields[:30]) or 'なし'}",
                    )
                ]
            )
        field_name = detected
    for f in features:
        f.name = _text(f.props.get(field_name))
    present = {k for f in features[:2000] for k in f.props}
    code_field = next((k for k in CODE_FIELDS if k in present), None)
    owner_field = next((k for k in OWNER_FIELDS if k in present), None)
    kept = [f for f in features if not _other_municipality(f, place, code_field, owner_field)]
    skipped = len(features) - len(kept)
    if not kept:
        raise RefusedError(
            [
                Issue(
                    None,
                    None,
                    f"{place.municipality}の地物が1つもありません（{skipped:,}件すべてがほかの市町村のものです）。"
                    "選んだ市町村とファイルを確かめてください。",
                )
            ]
        )
    transformer = _transformer(geo.crs)
    errors: list[Issue] = []
    warnings: list[Issue] = []

    def fail(f: Feature, message: str) -> None:
        if len(errors) < MAX_ISSUES:
            errors.append(Issue(None, None, message, feature=(f.index, f.name)))

    total = sum(_vertices(f.geojson.get("coordinates"), MAX_VERTICES) for f in kept if f.geojson)
    if total > MAX_VERTICES:
        raise _error(
            f"頂点が多すぎます（{total:,}個以上、{MAX_VERTICES:,}個まで）。"
            "GIS ソフトで簡略化するか、市町村の分だけを切り出してください。"
        )
    taken: dict[str, Feature] = {}
    rows = []
    for f in kept:
        problem = f.problem
        if (
            problem is None
            and _vertices(f.geojson.get("coordinates"), MAX_FEATURE_VERTICES) > MAX_FEATURE_VERTICES
        ):
            problem = _too_many(MAX_FEATURE_VERTICES + 1).replace(f"{MAX_FEATURE_VERTICES + 1:,}個", "多数")
        if problem is None:
            problem = _build(f, transformer, geo.crs is not None)
        if problem is not None:
            fail(f, problem + "。")
        if not f.name:
            fail(f, f"名前（属性「{field_name}」）が空です。小学校区の名前か学校名を入れてください。")
            continue
        key = school_key(f.name, place.municipality, place.prefecture)
        homes = place.schools.get(key)
        if not homes:
            fail(
                f,
                f"「{f.name}」に当たる小学校区が{place.municipality}の圏域マスタにありません（比べた名前: 「{key}」）。"
                f"圏域マスタの小学校区: {_listing([s for _, s in place.order])}",
            )
            continue
        if key in taken:
            first = taken[key]
            fail(
                f,
                f"小学校区「{homes[0][1]}」の形が2つあります（{first.index:,}番目の地物（{first.name}）と同じ小学校区）。"
                "1つの小学校区には1つの形にしてください（離れた区域があるならマルチポリゴンにまとめます）。",
            )
            continue
        taken[key] = f
        if problem is None:
            rows.append((f, homes))
    missing = [s for d, s in place.order if area_key(s, school=True) not in taken]
    if errors:
        raise RefusedError(errors)
    if skipped:
        how = (
            f"行政区域コードが {place.code} 以外"
            if code_field and place.code
            else "設置主体・名前がほかの市町村"
        )
        warnings.append(
            Issue(
                None,
                None,
                f"ほかの市町村の地物 {skipped:,}件は読み飛ばしました（{how}のもの）。{place.municipality}の分だけを登録します。",
                "warning",
            )
        )
    for key, f in taken.items():
        homes = place.schools[key]
        if len(homes) > 1:
            warnings.append(
                Issue(
                    None,
                    None,
                    f"小学校区「{homes[0][1]}」は圏域マスタで{len(homes)}つの地区（{'、'.join(d for d, _ in homes)}）に"
                    "あるため、同じ形をそれぞれの地区の小学校区として登録します。",
                    "warning",
                    feature=(f.index, f.name),
                )
            )
    if missing:
        warnings.append(
            Issue(
                None,
                None,
                f"形のない小学校区が {len(set(missing)):,}件あります: {_listing(list(dict.fromkeys(missing)))}。"
                "地図ではこの小学校区を塗らずに表示します。",
                "warning",
            )
        )
    return Matched(
        _frame(rows, place), warnings, len(features), [muni], name_field=field_name, skipped=skipped
    )


def _listing(names: list[str], limit: int = 30) -> str:
    shown = "、".join(names[:limit])
    return shown + (f" ほか{len(names) - limit:,}件" if len(names) > limit else "")


def _frame(rows: list[tuple[Feature, list[tuple[str, str]]]], place: _Place) -> pl.DataFrame:
    """The stored rows, in areas' order: one per school district of areas (a school district
    that areas lists under several districts gets the same shape under each)."""
    order = {pair: i for i, pair in enumerate(place.order)}
    out = []
    for f, homes in rows:
        geom = f.geometry
        display = shapely.simplify(geom, SIMPLIFY_DEGREES, preserve_topology=True)
        if not display.is_valid or display.is_empty:
            display = geom
        point = geom.representative_point()
        for dist, school in homes:
            out.append(
                {
                    "prefecture": place.prefecture,
                    "municipality": place.municipality,
                    "district": dist,
                    "school_district": school,
                    "feature_name": f.name,
                    "geometry": shapely.to_wkb(geom),
                    "geometry_display": shapely.to_wkb(shapely.orient_polygons(display)),
                    "label_lon": round(point.x, 6),
                    "label_lat": round(point.y, 6),
                    "_order": order[(dist, school)],
                }
            )
    schema = DATASETS["boundaries"].stored_schema | {"_order": pl.Int64}
    return pl.DataFrame(out, schema=schema).sort("_order").drop("_order")


@dataclass
class Described:
    """What the upload page shows before the check: the file's kind, size and name properties."""

    kind: str  # "GeoJSON" / "Shapefile"
    n_features: int
    fields: list[str]  # properties holding text: candidates for the school's name
    detected: str | None  # the one the check would use when none is chosen
    crs: str  # the coordinate system's name as the file says it


def describe(
    content: bytes,
    areas: pl.DataFrame | None,
    scope: Scope = EVERYWHERE,
    municipality: tuple[str, str] | None = None,
) -> Described:
    """The file read (RefusedError when it cannot be), its name properties and the detected one."""
    geo = read_file(content)
    fields = _string_fields(geo.features)
    detected = None
    if areas is not None and areas.height and geo.features:
        try:
            muni = _choose_municipality(geo.features, areas, scope, municipality)
            detected = detect_name_field(geo.features, _place(areas, muni))
        except RefusedError:
            detected = next((k for k in NAME_FIELDS if k in fields), None)
    crs = geo.crs.name if geo.crs is not None else "経度・緯度（WGS84）"
    return Described(geo.kind, len(geo.features), fields, detected, crs)
