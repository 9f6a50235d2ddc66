"""The map the 協議体 meets around, as data: school districts shaded (高齢化率, 通いの場 per
1,000 people 65+, or the gaps), the gap districts outlined, places as points by 種別 sized by
their participants, pantry sites per school district; each with a legend and a Japanese title
naming the area and period. The screen (deck.gl through Streamlit) and paper (matplotlib)
draw the same layers from here.

What a viewer may see of a place on a map (this module is where that rule lives, beside the
counts' rule in privacy.py): no place name, and a 個人宅 place no finer than its school
district — the 個人宅 places of a school district are one point at the district's
representative point, with their number and kinds. Managers and up, within their scope, see
names and coordinates. Pantry sites are counted per school district and carry no
consultation or referral count, whoever looks.

The basemap is 地理院タイル (its terms ask for the attribution 「地理院タイル」 linked to the
list of tiles); $TSUNAGU_TILE_URL points at a council's own mirror (`{style}` stands for std
or pale), or `none` for no tiles at all. Offline, the map still draws on a plain background.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import shapely

from tsunagu.contract import fmt

TILE_ENV = "TSUNAGU_TILE_URL"
GSI_TILES = "https://cyberjapandata.gsi.go.jp/xyz/{style}/{z}/{x}/{y}.png"
ATTRIBUTION_URL = "https://maps.gsi.go.jp/development/ichiran.html"
ATTRIBUTION = "地理院タイル"
# the choices of background, in the order offered; pale first: shading reads best on it
BASEMAPS = {"pale": "淡色地図", "std": "標準地図", "none": "背景地図なし"}
BACKGROUND = "#EEF0F2"  # what shows where no tile arrived (offline), and with 背景地図なし
BOUNDARY_SOURCE = "国土数値情報（小学校区データ）"
DEMO_BOUNDARIES = "小学校区の境界は架空のデモデータです（実在の通学区域ではありません）"
DEMO_SOURCE = "架空のデモデータ（実在の通学区域ではありません）"  # after 「小学校区の境界：」
DEMO_SHORT = "境界は架空（デモデータ）"  # the wall's legend, where room is short

PRIVATE_VENUES = frozenset({"個人宅"})

MODES = {
    "aging": "高齢化率",
    "density": "通いの場（65歳以上1,000人あたり）",
    "gaps": "手薄な小学校区",
}
GAP_RULE = (
    "「手薄」= 高齢化率が市町村全体より高く、65歳以上1,000人あたりの通いの場が市町村全体の"
    "4分の3未満の小学校区"
)

Color = tuple[int, int, int, int]
FILL_ALPHA = 165  # the streets show through the shading
# sequential, light to dark (ColorBrewer OrRd and GnBu, 5 classes: colour-blind safe)
AGING_COLORS = ["#FEF0D9", "#FDCC8A", "#FC8D59", "#E34A33", "#B30000"]
AGING_BREAKS = [25.0, 30.0, 35.0, 40.0]  # fixed, so areas and months compare
DENSITY_COLORS = ["#F0F9E8", "#BAE4BC", "#7BCCC4", "#43A2CA", "#0868AC"]
DENSITY_SHARES = [0.5, 0.75, 1.0, 1.5]  # of the municipality's own figure; 0.75 is the gap rule's
GAP_COLOR, NOT_GAP_COLOR, NO_DATA_COLOR = "#D55E00", "#C8CDD3", "#FFFFFF"
GAP_LINE: Color = (17, 17, 17, 255)
GAP_LINE_PX = 4.0
EDGE_LINE: Color = (90, 90, 90, 220)
EDGE_LINE_PX = 1.0
CONTEXT_LINE: Color = (120, 120, 120, 160)

# 種別 in five colours (Okabe–Ito): more could not be told apart on a map
CATEGORY_GROUPS = {
    "サロン": "サロン・カフェ",
    "カフェ": "サロン・カフェ",
    "体操・運動": "体操・運動",
    "会食・地域食堂": "会食・子ども食堂",
    "子ども食堂": "会食・子ども食堂",
    "趣味・習いごと": "趣味・多世代交流",
    "多世代交流": "趣味・多世代交流",
    "見守り・訪問": "見守り・その他",
    "その他": "見守り・その他",
}
GROUP_COLORS = {
    "サロン・カフェ": "#0072B2",
    "体操・運動": "#009E73",
    "会食・子ども食堂": "#E69F00",
    "趣味・多世代交流": "#CC79A7",
    "見守り・その他": "#56B4E9",
}
PRIVATE_GROUP = "個人宅（小学校区ごとに1点）"
PRIVATE_COLOR = "#8C8C8C"  # grey: a gathering of several kinds
PANTRY_COLOR = "#111111"
ONE_COLOR = "#0B3D6B"  # every place alike, on the wall

Key = tuple[str, str]  # (district, school_district): a school district's name is unique in its district


def rgba(hex_color: str, alpha: int = 255) -> Color:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha)


# the basemap


def tile_url(basemap: str) -> str | None:
    """The XYZ address of a basemap's tiles, or None: 背景地図なし, or $TSUNAGU_TILE_URL=none."""
    if basemap not in BASEMAPS or basemap == "none":
        return None
    template = os.environ.get(TILE_ENV, "").strip() or GSI_TILES
    if template.lower() in {"none", "off"}:
        return None
    return template.replace("{style}", basemap)


def map_style(basemap: str) -> str:
    """The basemap as a Mapbox GL style (version 8, what the basemap Streamlit bundles reads) in
    a data: address, so there is nothing to serve: the plain background and the tiles over
    it. The attribution is the page's, under the map (attribution_markdown): the basemap's own
    corner control lists links under role=list, which screen readers (and axe) refuse."""
    url = tile_url(basemap)
    style: dict = {
        "version": 8,
        "sources": {},
        "layers": [{"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}],
    }
    if url:
        style["sources"]["tiles"] = {
            "type": "raster",
            "tiles": [url],
            "tileSize": 256,
            "maxzoom": 18,
        }
        style["layers"].append({"id": "tiles", "type": "raster", "source": "tiles"})
    return "data:application/json;charset=utf-8," + urllib.parse.quote(
        json.dumps(style, ensure_ascii=False, separators=(",", ":"))
    )


def attribution_markdown(basemap: str) -> str | None:
    """「背景地図：地理院タイル」 linked to the list of tiles, as the terms ask; None without tiles."""
    if not tile_url(basemap):
        return None
    return f"背景地図：[{ATTRIBUTION}]({ATTRIBUTION_URL})（{BASEMAPS[basemap]}）"


# geometry


class Rings(Sequence):
    """One polygon part as deck.gl draws it (its outer ring, then its holes, [lon, lat]), held as
    the JSON text the browser is sent and put into each map's JSON as it is (deck_json); read
    back into lists only if paper draws it. Written from NumPy's numbers without a Python list
    per vertex: a municipality's ~15,000 vertices as lists, made on every rerun, set off
    Python's full garbage collection (0.1–0.2 s) every few reruns."""

    __slots__ = ("json", "_lists")

    def __init__(self, text: str):
        self.json = text
        self._lists: list | None = None

    def _value(self) -> list:
        if self._lists is None:
            self._lists = json.loads(self.json)
        return self._lists

    def __getitem__(self, i):
        return self._value()[i]

    def __len__(self) -> int:
        return len(self._value())

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"Rings({self.json[:60]}…)"


class Shapes(dict):
    """Each school district's polygon (Key -> shapely geometry, WGS84 lon/lat), with what a map
    draws of it worked out once and kept for the next map of the same shapes (mapview keeps one
    per municipality and data version): its rings as deck.gl's JSON, and the point inside it
    that the boundaries' ingest stored (label_lon / label_lat)."""

    def __init__(self, geoms: dict[Key, shapely.Geometry], points: dict[Key, tuple[float, float]]):
        super().__init__(geoms)
        self.points = points
        self._rings: dict[Key, list[Rings]] = {}

    def rings(self, key: Key) -> list[Rings]:
        found = self._rings.get(key)
        if found is None:  # two sessions may both work one out: the same text either way
            found = self._rings[key] = _rings(self[key])
        return found


def shapes(boundaries: pl.DataFrame) -> Shapes:
    """Each school district's polygon (WGS84 lon/lat) from the stored WKB."""
    if boundaries.is_empty():
        return Shapes({}, {})
    geoms = shapely.from_wkb(boundaries["geometry"].to_list())
    keys = list(zip(boundaries["district"].to_list(), boundaries["school_district"].to_list()))
    kept = {k: g for k, g in zip(keys, geoms) if g is not None and not g.is_empty}
    points = {}
    if {"label_lon", "label_lat"} <= set(boundaries.columns):
        for k, lon, lat in zip(keys, boundaries["label_lon"].to_list(), boundaries["label_lat"].to_list()):
            if k in kept and lon is not None and lat is not None:
                points[k] = (round(lon, 5), round(lat, 5))
    return Shapes(kept, points)


def representative_points(shapes_: dict[Key, shapely.Geometry]) -> dict[Key, tuple[float, float]]:
    """A point inside each school district (not its centroid, which may fall outside): where a
    district's own figures, its pantry sites and a viewer's 個人宅 places are drawn. The point
    stored at ingest where there is one (working it out takes a few ms a polygon)."""
    stored = shapes_.points if isinstance(shapes_, Shapes) else {}
    out = {}
    for key, geom in shapes_.items():
        if key in stored:
            out[key] = stored[key]
            continue
        p = geom.representative_point()
        out[key] = (round(p.x, 5), round(p.y, 5))
    return out


def _ring_json(coords: np.ndarray) -> str:
    """[[lon, lat], …] rounded to ~1 m, as json.dumps writes it (a float's repr)."""
    xy = np.round(coords, 5)
    return "[" + ",".join(map("[{!r},{!r}]".format, xy[:, 0].tolist(), xy[:, 1].tolist())) + "]"


def _rings(geom: shapely.Geometry) -> list[Rings]:
    """deck.gl's polygons: one per part, each its outer ring then its holes, [lon, lat] rounded
    to ~1 m (what a screen can show; it keeps the page small)."""
    out = []
    for part in shapely.get_parts(geom):
        if not isinstance(part, shapely.Polygon) or part.is_empty:
            continue
        rings = ",".join(_ring_json(shapely.get_coordinates(ring)) for ring in shapely.get_rings(part))
        out.append(Rings(f"[{rings}]"))
    return out


def rings_of(shapes_: dict[Key, shapely.Geometry], key: Key) -> list:
    """A school district's polygon parts for deck.gl: the kept ones of a Shapes."""
    return shapes_.rings(key) if isinstance(shapes_, Shapes) else _rings(shapes_[key])


# the figures of each school district


def school_table(coverage: pl.DataFrame, populations: pl.DataFrame, pantry: pl.DataFrame) -> pl.DataFrame:
    """Every school district of the municipality: people, 65+, 高齢化率, active places, places per
    1,000 people 65+, the gap flag (places_coverage: the one gap rule) and pantry sites."""
    people = populations.select("district", "school_district", "population")
    sites = pantry.select("district", "school_district", "n_sites")
    return (
        coverage.join(people, on=["district", "school_district"], how="left")
        .join(sites, on=["district", "school_district"], how="left")
        .with_columns(pl.col("n_sites").fill_null(0), pl.col("is_gap").fill_null(False))
    )


@dataclass(frozen=True)
class Whole:
    """The municipality's figures a school district is read against."""

    aging_rate_pct: float | None
    per_1000: float | None
    avg_places: float | None
    avg_sites: float | None
    avg_population: float | None
    avg_65plus: float | None


def whole(table: pl.DataFrame) -> Whole:
    n = table.height
    pop, old = table["population"].sum(), table["population_65plus"].sum()
    per = table["municipality_per_1000_65plus"].drop_nulls()
    return Whole(
        round(100 * old / pop, 1) if pop else None,
        per[0] if len(per) else None,
        table["n_active"].sum() / n if n else None,
        table["n_sites"].sum() / n if n else None,
        pop / n if n else None,
        old / n if n else None,
    )


def school_figures(table: pl.DataFrame, key: Key) -> list[tuple[str, str, str]]:
    """A small 地区カルテ for the 第3層: (label, the school district's figure, the municipality's
    beside it: the whole for rates, the average school district for counts)."""
    w = whole(table)
    rows = table.filter((pl.col("district") == key[0]) & (pl.col("school_district") == key[1]))
    if rows.is_empty():
        return []
    r = rows.row(0, named=True)

    def pct(v):
        return "—" if v is None else f"{v:.1f}%"

    def avg(v, unit):
        return "—" if v is None else f"平均 {v:,.1f}{unit}" if v < 100 else f"平均 {round(v):,}{unit}"

    def per(v):
        return "—" if v is None else f"{v:.2f}"

    return [
        ("人口", fmt.number(r["population"], "人"), avg(w.avg_population, "人")),
        ("65歳以上", fmt.number(r["population_65plus"], "人"), avg(w.avg_65plus, "人")),
        ("高齢化率", pct(r["aging_rate_pct"]), f"全体 {pct(w.aging_rate_pct)}"),
        ("通いの場", fmt.number(r["n_active"], "か所"), avg(w.avg_places, "か所")),
        ("65歳以上1,000人あたり", per(r["active_per_1000_65plus"]), f"全体 {per(w.per_1000)}"),
        ("パントリー", fmt.number(r["n_sites"], "か所"), avg(w.avg_sites, "か所")),
        ("手薄", "はい" if r["is_gap"] else "いいえ", "—"),
    ]


# the shading and its legend


@dataclass
class Legend:
    title: str
    swatches: list[tuple[str, str]] = field(default_factory=list)  # (label, #RRGGBB) of the fills
    outline: str | None = None  # what the thick outline means
    points: list[tuple[str, str]] = field(default_factory=list)  # (label, #RRGGBB) of the points
    pantry: str | None = None
    notes: list[str] = field(default_factory=list)


def _classes(breaks: list[float], value: float | None) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return sum(value >= b for b in breaks)


def _range_labels(breaks: list[float], unit: str, digits: int) -> list[str]:
    f = [f"{b:,.{digits}f}" for b in breaks]
    return [f"{f[0]}{unit}未満"] + [f"{a}〜{b}{unit}" for a, b in zip(f, f[1:])] + [f"{f[-1]}{unit}以上"]


def shading(mode: str, table: pl.DataFrame) -> tuple[list[str], Legend]:
    """Each row's fill colour (#RRGGBB) and the legend of the shading."""
    per_city = table["municipality_per_1000_65plus"].drop_nulls()
    city = per_city[0] if len(per_city) else None
    outline = "太い黒線：手薄な小学校区"
    if mode == "aging":
        labels = _range_labels(AGING_BREAKS, "%", 0)
        fills = [
            NO_DATA_COLOR if c is None else AGING_COLORS[c]
            for c in (_classes(AGING_BREAKS, v) for v in table["aging_rate_pct"].to_list())
        ]
        return fills, Legend("高齢化率", list(zip(labels, AGING_COLORS)), outline)
    if mode == "density":
        if not city:
            fills = [NO_DATA_COLOR] * table.height
            return fills, Legend(MODES[mode], [("データなし", NO_DATA_COLOR)], outline)
        breaks = [round(city * s, 2) for s in DENSITY_SHARES]
        labels = _range_labels(breaks, "", 2)
        fills = [
            NO_DATA_COLOR if c is None else DENSITY_COLORS[c]
            for c in (_classes(breaks, v) for v in table["active_per_1000_65plus"].to_list())
        ]
        note = f"市町村全体は{city:.2f}。{breaks[1]:.2f}未満が全体の4分の3未満です。"
        return fills, Legend(MODES[mode], list(zip(labels, DENSITY_COLORS)), outline, notes=[note])
    fills = [GAP_COLOR if g else NOT_GAP_COLOR for g in table["is_gap"].to_list()]
    swatches = [("手薄な小学校区", GAP_COLOR), ("そのほかの小学校区", NOT_GAP_COLOR)]
    return fills, Legend(MODES["gaps"], swatches, outline, notes=[GAP_RULE])


def title(mode: str, area: str, period: str) -> str:
    what = {
        "aging": "小学校区の高齢化率と通いの場",
        "density": "65歳以上1,000人あたりの通いの場",
        "gaps": "手薄な小学校区",
    }[mode]
    return f"{what}（{area}、{period}）"


# points


def radius_m(participants: float | None) -> float:
    """A point's radius by its 平均参加者数 (by area, so 40 people look twice 10, not four times),
    in metres: small when the whole city is in view, larger as one zooms in (the layer keeps
    it between a few pixels and a dozen)."""
    if participants is None or participants <= 0:
        return 50.0
    return round(min(400.0, 40.0 + 22.0 * math.sqrt(participants)))


def place_points(
    places: pl.DataFrame, points_of: dict[Key, tuple[float, float]], names: bool
) -> tuple[list[dict], int, list[str]]:
    """The active places as points (lon, lat, colour by 種別, radius by participants, tooltip),
    how many of them could not be placed (no coordinates; for a viewer, a 個人宅 place in a
    school district with no boundary), and the legend's groups that were drawn. For a viewer
    (`names` False) no point carries a name or place ID, and 個人宅 places are gathered into
    one point per school district, drawn at the district's representative point: their
    coordinates never leave the server."""
    out, unplaced, groups = [], 0, set()
    private: dict[Key, list[dict]] = {}
    for r in places.iter_rows(named=True):
        key = (r["district"], r["school_district"])
        if not names and r.get("venue_type") in PRIVATE_VENUES:
            private.setdefault(key, []).append(r)
            continue
        if r["lat"] is None or r["lon"] is None:
            unplaced += 1
            continue
        group = CATEGORY_GROUPS.get(r["category"], "見守り・その他")
        groups.add(group)
        lines = [f"種別：{r['category']}", f"小学校区：{r['school_district']}（{r['district']}地区）"]
        if r.get("participants_avg") is not None:
            lines.append(f"平均参加者数：{r['participants_avg']:,}人")
        if names and r.get("venue_type"):
            lines.append(f"会場：{r['venue_type']}")
        out.append(
            {
                "position": [round(r["lon"], 5), round(r["lat"], 5)],
                "color": list(rgba(GROUP_COLORS[group], 235)),
                "radius": radius_m(r.get("participants_avg")),
                "district": r["district"],
                "school_district": r["school_district"],
                "tip_title": r["name"] if names else r["category"],
                "tip": "\n".join(lines),
            }
        )
    for key, rows in private.items():
        if key not in points_of:
            unplaced += len(rows)
            continue
        kinds: dict[str, int] = {}
        for r in rows:
            kinds[r["category"]] = kinds.get(r["category"], 0) + 1
        people = sum(r.get("participants_avg") or 0 for r in rows)
        groups.add(PRIVATE_GROUP)
        out.append(
            {
                "position": list(points_of[key]),
                "color": list(rgba(PRIVATE_COLOR, 235)),
                "radius": radius_m(people),
                "district": key[0],
                "school_district": key[1],
                "tip_title": f"個人宅の通いの場 {len(rows):,}か所",
                "tip": "\n".join(
                    [
                        f"小学校区：{key[1]}（{key[0]}地区）",
                        "種別：" + "、".join(f"{k} {n}" for k, n in kinds.items()),
                        "個人宅のため、場所は小学校区の代表点に示しています",
                    ]
                ),
            }
        )
    order = [*GROUP_COLORS, PRIVATE_GROUP]
    return out, unplaced, [g for g in order if g in groups]


def pantry_points(table: pl.DataFrame, points_of: dict[Key, tuple[float, float]]) -> list[dict]:
    """Pantry sites per school district, a ring at the district's representative point: site
    counts only (the contract gives pantry sites no coordinates; consultations and referrals
    never reach a map)."""
    out = []
    for r in table.filter(pl.col("n_sites") > 0).iter_rows(named=True):
        key = (r["district"], r["school_district"])
        if key not in points_of:
            continue
        out.append(
            {
                "position": list(points_of[key]),
                "radius": round(120 + 60 * math.sqrt(r["n_sites"])),
                "district": key[0],
                "school_district": key[1],
                "tip_title": f"互近助パントリー {r['n_sites']:,}か所",
                "tip": f"小学校区：{key[1]}（{key[0]}地区）",
            }
        )
    return out


# the view


def bounds_of(geoms: Iterable[shapely.Geometry], points: Iterable[Iterable[float]] = ()) -> tuple | None:
    """(west, south, east, north) of the shapes and points, or None when there is nothing."""
    boxes = [g.bounds for g in geoms]
    boxes += [(p[0], p[1], p[0], p[1]) for p in points]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _merc_y(lat: float) -> float:
    s = math.sin(math.radians(max(-85.0, min(85.0, lat))))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def _lat_of(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def fit_view(bounds: tuple, width: int = 640, height: int = 480, padding: float = 0.06) -> dict:
    """The view (centre and zoom, deck.gl's 512-pixel world) that shows the bounds whole in a
    map of about width × height pixels. The page's width is not known to the server: the
    default is a narrow map's, so wider screens show a margin rather than cut the area."""
    west, south, east, north = bounds
    x0, x1 = (west + 180) / 360, (east + 180) / 360
    y0, y1 = _merc_y(north), _merc_y(south)
    dx, dy = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    usable = 1 - 2 * padding
    zoom = math.log2(min(width * usable / (512 * dx), height * usable / (512 * dy)))
    zoom = max(5.0, min(16.0, zoom))
    return {
        "longitude": round((x0 + x1) / 2 * 360 - 180, 6),
        "latitude": round(_lat_of((y0 + y1) / 2), 6),
        "zoom": round(zoom, 2),
        "minZoom": 4,
        "maxZoom": 18,
        "pitch": 0,
        "bearing": 0,
    }


# the whole map


@dataclass
class Map:
    """One map as every surface draws it."""

    title: str
    legend: Legend
    schools: list[dict]  # the shaded school districts, one row per polygon part
    context: list[dict]  # the municipality's other school districts, outlined only
    places: list[dict]
    pantry: list[dict]
    labels: list[dict]
    view: dict | None
    unplaced: int  # places that could not be put on the map
    missing: list[str]  # school districts of the area without a boundary
    keys: list[Key]  # the area's school districts


def build(
    mode: str,
    table: pl.DataFrame,
    shapes_: dict[Key, shapely.Geometry],
    places: pl.DataFrame | None,
    area: str,
    period: str,
    names: bool,
    districts: Iterable[str] = (),
    school_district: str | None = None,
    pantry: bool = True,
    labels: int = 0,
    size: tuple[int, int] = (640, 480),
    one_color: bool = False,
    label_all: bool = False,
) -> Map:
    """The map of an area: `table` is school_table for the whole municipality (its figures
    are read against the whole); the area is the chosen districts (none = all) or one school
    district, shaded, fitted in view, and the rest of the municipality outlined around it.
    `labels` (a font size in pixels) names the gap districts (`label_all`: every school
    district) on the map, the oldest first where names would overlap; `one_color` draws every
    place alike (the wall: few colours)."""
    districts = set(districts)
    chosen = table.filter(
        (pl.col("district").is_in(list(districts)) if districts else pl.lit(True))
        & (pl.col("school_district") == school_district if school_district else pl.lit(True))
    )
    fills, legend = shading(mode, chosen)
    points_of = representative_points(shapes_)
    w = whole(table)
    rows, keys, missing = [], [], []
    for r, fill in zip(chosen.iter_rows(named=True), fills):
        key = (r["district"], r["school_district"])
        keys.append(key)
        geom = shapes_.get(key)
        if geom is None:
            missing.append(r["school_district"])
            continue
        tip = _school_tip(r, w)
        for rings in rings_of(shapes_, key):
            rows.append(
                {
                    "polygon": rings,
                    "fill": list(rgba(fill, FILL_ALPHA)),
                    "line": list(GAP_LINE if r["is_gap"] else EDGE_LINE),
                    "line_px": GAP_LINE_PX if r["is_gap"] else EDGE_LINE_PX,
                    "district": key[0],
                    "school_district": key[1],
                    "tip_title": f"{key[1]}学区（{key[0]}地区）",
                    "tip": tip,
                }
            )
    inside = set(keys)
    context = [{"polygon": rings} for key in shapes_ if key not in inside for rings in rings_of(shapes_, key)]
    place_rows, unplaced, groups = ([], 0, []) if places is None else place_points(places, points_of, names)
    pantry_rows = pantry_points(chosen, points_of) if pantry else []
    colors = {**GROUP_COLORS, PRIVATE_GROUP: PRIVATE_COLOR}
    legend.points = [(g, colors[g]) for g in groups]
    if one_color and place_rows:
        for p in place_rows:
            p["color"] = list(rgba(ONE_COLOR, 235))
        legend.points = [("通いの場", ONE_COLOR)]
    if place_rows:
        legend.notes.append("点の大きさ：平均参加者数")
    if pantry_rows:
        legend.pantry = "黒い輪：互近助パントリー（小学校区ごとの設置数）"
    shown = [shapes_[k] for k in keys if k in shapes_]
    box = bounds_of(shown, [p["position"] for p in place_rows])
    view = fit_view(box, *size) if box else None
    label_rows = []
    if labels and view:
        named_rows = chosen if label_all else chosen.filter(pl.col("is_gap"))
        gaps = named_rows.sort("aging_rate_pct", descending=True, nulls_last=True)
        named = [
            (points_of[k], k[1])
            for k in zip(gaps["district"].to_list(), gaps["school_district"].to_list())
            if k in points_of
        ]
        label_rows = [{"position": list(at), "text": text} for at, text in unpiled(named, view, labels)]
    return Map(
        title(mode, area, period),
        legend,
        rows,
        context,
        place_rows,
        pantry_rows,
        label_rows,
        view,
        unplaced,
        missing,
        keys,
    )


def unpiled(named: list[tuple[tuple[float, float], str]], view: dict, px: int) -> list:
    """The names that fit without overlapping, in the order given (the first wins), as they
    fall in the initial view (a name is about 1 em a character wide, drawn above its point)."""
    scale = 512 * 2 ** view["zoom"]
    kept, boxes = [], []
    for (lon, lat), text in named:
        x, y = (lon + 180) / 360 * scale, _merc_y(lat) * scale
        box = (x - len(text) * px / 2 - 4, y - 10 - 1.3 * px, x + len(text) * px / 2 + 4, y - 6)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        boxes.append(box)
        kept.append(((lon, lat), text))
    return kept


def _school_tip(r: dict, w: Whole) -> str:
    rate = "—" if r["aging_rate_pct"] is None else f"{r['aging_rate_pct']:.1f}%"
    whole_rate = "—" if w.aging_rate_pct is None else f"{w.aging_rate_pct:.1f}%"
    per = "—" if r["active_per_1000_65plus"] is None else f"{r['active_per_1000_65plus']:.2f}"
    whole_per = "—" if w.per_1000 is None else f"{w.per_1000:.2f}"
    lines = [
        f"高齢化率：{rate}（市町村全体 {whole_rate}）",
        f"通いの場：{r['n_active']:,}か所",
        f"65歳以上1,000人あたり：{per}（市町村全体 {whole_per}）",
        f"互近助パントリー：{r['n_sites']:,}か所",
    ]
    if r["is_gap"]:
        lines.append("手薄な小学校区")
    return "\n".join(lines)


# deck.gl's JSON (what the browser is sent)

LABEL_FONT = '"Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, sans-serif'
TOOLTIP = {
    "html": "<b>{tip_title}</b><br/>{tip}",
    "style": {
        "white-space": "pre-line",
        "font-size": "14px",
        "line-height": "1.5",
        "background-color": "#FFFFFF",
        "color": "#111111",
        "border": "1px solid #888888",
        "max-width": "320px",
    },
}
SCHOOL_LAYER, PLACES_LAYER, PANTRY_LAYER = "schools", "places", "pantry"


_KEPT = f"@@rings-{secrets.token_hex(6)}-"  # stands for a kept polygon's text while the rest is encoded


def deck_json(spec: dict) -> str:
    """deck_spec's JSON, compact, as the browser is sent it: each kept polygon (Rings) put in as
    the text written once for its municipality, not its thousands of numbers encoded again on
    every rerun; the same JSON as encoding the lists."""
    kept: list[str] = []

    def keep(row):
        rings = row.get("polygon") if isinstance(row, dict) else None
        if not isinstance(rings, Rings):
            return row
        kept.append(rings.json)
        return {**row, "polygon": f"{_KEPT}{len(kept) - 1}"}

    layers = [
        {**layer, "data": [keep(r) for r in layer["data"]]} if isinstance(layer.get("data"), list) else layer
        for layer in spec["layers"]
    ]
    text = json.dumps({**spec, "layers": layers}, ensure_ascii=False, separators=(",", ":"))
    if not kept:
        return text
    return re.sub(f'"{re.escape(_KEPT)}(\\d+)"', lambda found: kept[int(found[1])], text)


def deck_spec(m: Map, basemap: str, label_px: int = 20, point_scale: float = 1.0) -> dict:
    """The map as deck.gl's JSON (@deck.gl/json, as Streamlit's st.pydeck_chart reads it);
    `label_px` as given to build()."""
    layers: list[dict] = []
    if m.context:
        layers.append(
            {
                "@@type": "PolygonLayer",
                "id": "context",
                "data": m.context,
                "getPolygon": "@@=polygon",
                "filled": False,
                "stroked": True,
                "getLineColor": list(CONTEXT_LINE),
                "lineWidthUnits": "pixels",
                "getLineWidth": 1,
                "pickable": False,
            }
        )
    layers.append(
        {
            "@@type": "PolygonLayer",
            "id": SCHOOL_LAYER,
            "data": m.schools,
            "getPolygon": "@@=polygon",
            "getFillColor": "@@=fill",
            "getLineColor": "@@=line",
            "getLineWidth": "@@=line_px",
            "lineWidthUnits": "pixels",
            "stroked": True,
            "filled": True,
            "pickable": True,
            "autoHighlight": True,
            "highlightColor": [255, 255, 255, 70],
        }
    )
    if m.pantry:
        layers.append(
            {
                "@@type": "ScatterplotLayer",
                "id": PANTRY_LAYER,
                "data": m.pantry,
                "getPosition": "@@=position",
                "getRadius": "@@=radius",
                "radiusUnits": "meters",
                "radiusMinPixels": 5 * point_scale,
                "radiusMaxPixels": 18 * point_scale,
                "filled": True,
                "getFillColor": [255, 255, 255, 90],
                "stroked": True,
                "getLineColor": list(rgba(PANTRY_COLOR)),
                "lineWidthUnits": "pixels",
                "getLineWidth": 2.5 * point_scale,
                "pickable": True,
            }
        )
    if m.places:
        layers.append(
            {
                "@@type": "ScatterplotLayer",
                "id": PLACES_LAYER,
                "data": m.places,
                "getPosition": "@@=position",
                "getFillColor": "@@=color",
                "getRadius": "@@=radius",
                "radiusUnits": "meters",
                "radiusMinPixels": 2.5 * point_scale,
                "radiusMaxPixels": 14 * point_scale,
                "stroked": True,
                "getLineColor": [255, 255, 255, 255],
                "lineWidthUnits": "pixels",
                "getLineWidth": 1.2,
                "pickable": True,
            }
        )
    if m.labels:
        layers.append(
            {
                "@@type": "TextLayer",
                "id": "labels",
                "data": m.labels,
                "getPosition": "@@=position",
                "getText": "@@=text",
                "getSize": label_px,
                "sizeUnits": "pixels",
                "getColor": [17, 17, 17, 255],
                "characterSet": "auto",
                "fontFamily": LABEL_FONT,
                "fontWeight": 700,
                "fontSettings": {"sdf": True},
                "outlineWidth": 4,
                "outlineColor": [255, 255, 255, 255],
                "getTextAnchor": "middle",
                "getAlignmentBaseline": "bottom",
                "getPixelOffset": [0, -10],
                "pickable": False,
            }
        )
    return {
        "initialViewState": m.view or {"longitude": 137.0, "latitude": 36.5, "zoom": 4.5},
        "layers": layers,
        "mapStyle": map_style(basemap),
        "views": [{"@@type": "MapView", "controller": True}],
    }
