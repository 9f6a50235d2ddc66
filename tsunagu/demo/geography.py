"""The demo's geography: 架空 (synthetic) school-district shapes for 倉敷市 and a point inside
its own school district for each demo place that has coordinates.

Nothing here is 国土数値情報 A27 or any real boundary. The districts lie around the real
districts' approximate centres (倉敷 34.60 N 133.77 E, 水島 34.52/133.74, 児島 34.47/133.80,
玉島 34.54/133.67, 真備 34.64/133.69, 船穂 34.58/133.70) inside a rough outline of the city;
each district is cut into its school districts by a Voronoi diagram of school points relaxed
a few times (Lloyd), so every school district is one valid polygon inside its district. It is
written as an A27-like GeoJSON and stored through the same ingest path as an upload.
Deterministic: no draw depends on the process's hash seed.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache

import shapely
from shapely.geometry import MultiPoint, Point, Polygon, mapping

from tsunagu.demo.areas import KURASHIKI, KURASHIKI_SCHOOLS

# approximate, from docs (lat, lon): where each district lies
DISTRICT_CENTRES = {
    "倉敷": (34.60, 133.77),
    "水島": (34.52, 133.74),
    "児島": (34.47, 133.80),
    "玉島": (34.54, 133.67),
    "真備": (34.64, 133.69),
    "船穂": (34.58, 133.70),
}
# a rough outline of the city (lon, lat), the Seto Inland Sea to the south: plausible, not surveyed
OUTLINE = Polygon(
    [
        (133.615, 34.655),
        (133.655, 34.690),
        (133.715, 34.695),
        (133.760, 34.672),
        (133.815, 34.650),
        (133.860, 34.622),
        (133.870, 34.575),
        (133.850, 34.520),
        (133.870, 34.470),
        (133.840, 34.430),
        (133.780, 34.435),
        (133.745, 34.470),
        (133.700, 34.495),
        (133.640, 34.500),
        (133.600, 34.530),
        (133.605, 34.600),
    ]
)
KURASHIKI_CODE = "33202"  # 倉敷市's 全国地方公共団体コード without its check digit (real)
SYNTHETIC_NOTE = "架空の境界（デモ用に作ったもの。国土数値情報 A27 ではありません）"
_LLOYD_ROUNDS = 4
_DIGITS = 6  # about 0.1 m


def _district_regions() -> dict[str, Polygon]:
    """Each district's part of the city: the Voronoi cell of its centre, cut to the outline."""
    centres = {d: Point(lon, lat) for d, (lat, lon) in DISTRICT_CENTRES.items()}
    cells = shapely.voronoi_polygons(MultiPoint(list(centres.values())), extend_to=OUTLINE.envelope)
    regions = {}
    for district, centre in centres.items():
        cell = next(c for c in cells.geoms if c.contains(centre))
        regions[district] = cell.intersection(OUTLINE)
    return regions


def _points_in(region: Polygon, n: int, rng: random.Random) -> list[Point]:
    lo_x, lo_y, hi_x, hi_y = region.bounds
    points: list[Point] = []
    while len(points) < n:
        p = Point(rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y))
        if region.contains(p):
            points.append(p)
    return points


def _cells(region: Polygon, points: list[Point]) -> list[Polygon]:
    """The Voronoi cells of the points inside the region, in the points' order."""
    if len(points) == 1:
        return [region]
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=region.envelope)
    out = []
    for p in points:
        cell = next(c for c in cells.geoms if c.contains(p) or c.touches(p))
        part = cell.intersection(region)
        if part.geom_type != "Polygon":  # keep the piece holding the school's point
            part = max(part.geoms, key=lambda g: (g.contains(p), g.area))
        out.append(part)
    return out


@lru_cache(maxsize=1)
def school_polygons() -> dict[tuple[str, str], Polygon]:
    """(district, school district) -> its synthetic polygon (lon/lat), every 倉敷市 school district."""
    shapes: dict[tuple[str, str], Polygon] = {}
    for district, region in _district_regions().items():
        schools = KURASHIKI_SCHOOLS[district]
        rng = random.Random(f"tsunagu-demo-geography-{district}")
        points = _points_in(region, len(schools), rng)
        for _ in range(_LLOYD_ROUNDS):  # spread the schools evenly over the district
            points = [
                c.centroid if c.contains(c.centroid) else p for c, p in zip(_cells(region, points), points)
            ]
        for school, cell in zip(schools, _cells(region, points), strict=True):
            cell = shapely.set_precision(cell, 10**-_DIGITS)
            if cell.geom_type != "Polygon":
                cell = max(cell.geoms, key=lambda g: g.area)
            shapes[(district, school)] = shapely.orient_polygons(cell)
    return shapes


def boundaries_geojson() -> bytes:
    """The synthetic school districts as an A27-like GeoJSON (A27_001 行政区域コード, A27_002
    設置主体, A27_004 名称 holding 「倉敷市立万寿小学校」), in JGD2011 longitude/latitude."""
    features = []
    for (_district, school), poly in school_polygons().items():
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "A27_001": KURASHIKI_CODE,
                    "A27_002": f"{KURASHIKI}立",
                    "A27_004": f"{KURASHIKI}立{school}小学校",
                    "備考": SYNTHETIC_NOTE,
                },
                "geometry": mapping(poly),
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "A27_倉敷市_架空",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6668"}},
        "features": features,
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def place_point(district: str, school: str, seed: str) -> tuple[float, float] | None:
    """(lat, lon) of a point inside the school district's polygon, the same for the same seed
    (a place's ID); None where the demo has no polygon (outside 倉敷市)."""
    poly = school_polygons().get((district, school))
    if poly is None:
        return None
    rng = random.Random(f"tsunagu-demo-place-{seed}")
    inner = poly.buffer(-0.0004)  # about 40 m from the edge: clearly inside its own district
    area = inner if not inner.is_empty and inner.area > 0 else poly
    lo_x, lo_y, hi_x, hi_y = area.bounds
    for _ in range(1000):
        lon, lat = round(rng.uniform(lo_x, hi_x), 5), round(rng.uniform(lo_y, hi_y), 5)
        if area.contains(Point(lon, lat)):
            return lat, lon
    p = poly.representative_point()
    return round(p.y, 5), round(p.x, 5)
