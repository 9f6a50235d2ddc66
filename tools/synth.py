"""Synthetic stores at city, prefecture and nation scale, for the benchmark.

Deterministic (a fixed seed per scale), vectorised with NumPy and Polars. Written as councils
upload (each upload covers its municipalities, see tsunagu.store.versions): at city and
prefecture scale each municipality uploads its own months; at nation scale each prefecture
uploads its municipalities' months together, except the latest month, where the councils of
the prefecture the dashboard opens on upload their own. The history is written by
tools.bulkstore (as those commits would leave it, in minutes instead of hours); the latest
month goes through Store.commit itself. Names are obviously made up (「合成市0001」), so a
synthetic store is never mistaken for a council's data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely

from tools.bulkstore import BulkStore, Upload
from tsunagu.contract.codes import PREFECTURES
from tsunagu.contract.schema import DATASETS
from tsunagu.ingest.geo import SIMPLIFY_DEGREES
from tsunagu.store.versions import Municipality, Store, covered


@dataclass(frozen=True)
class Scale:
    name: str
    prefectures: int
    municipalities: int
    places: int  # places alive at the end; more have come and gone
    place_months: int
    pantry_sites: int
    pantry_months: int
    events_per_municipality_month: float
    by_prefecture: bool = False  # a prefecture uploads its municipalities' months together


SCALES = {
    "city": Scale("city", 1, 1, 900, 96, 100, 120, 3.0),
    "prefecture": Scale("prefecture", 1, 77, 8_000, 96, 1_000, 120, 1.5),
    "nation": Scale("nation", 47, 1_700, 150_000, 96, 20_000, 120, 0.25, by_prefecture=True),
    # the nation's shape in a few seconds, for the tests
    "mini": Scale("mini", 3, 9, 400, 6, 30, 6, 1.0, by_prefecture=True),
}
LAST_MONTH = "2025-03"


def _values(dataset: str, key: str) -> list[str]:
    """The contract's allowed values (tsunagu.contract.schema), so synthetic rows pass validation."""
    return list(DATASETS[dataset].column(key).values)


CATEGORIES, VENUES = _values("places", "category"), _values("places", "venue_type")
OPERATORS, TARGETS = _values("places", "operator_type"), _values("places", "target")


def months_back(last: str, n: int) -> list[str]:
    y, m = int(last[:4]), int(last[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _enum(values: list[str], rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(np.array(values, dtype=object)[rng.integers(0, len(values), n)], dtype=pl.String)


def areas(scale: Scale, rng: np.random.Generator) -> pl.DataFrame:
    """Municipalities with 1–8 districts of 1–6 school districts each, populations lognormal."""
    prefs = PREFECTURES[: scale.prefectures] if scale.prefectures > 1 else ["合成県"]
    muni_pref = np.sort(rng.integers(0, len(prefs), scale.municipalities))
    n_dist = rng.integers(1, 9, scale.municipalities) if scale.municipalities > 1 else np.array([6])
    rows = {"prefecture": [], "municipality": [], "district": [], "school_district": []}
    for i in range(scale.municipalities):
        muni = f"合成市{i + 1:04d}"
        for d in range(n_dist[i]):
            for s in range(int(rng.integers(1, 7)) if scale.municipalities > 1 else 10 + d % 2):
                rows["prefecture"].append(prefs[muni_pref[i]])
                rows["municipality"].append(muni)
                rows["district"].append(f"地区{d + 1:02d}")
                rows["school_district"].append(f"第{d + 1}-{s + 1}小")
    n = len(rows["prefecture"])
    population = np.clip(rng.lognormal(8.6, 0.8, n), 300, 80_000).astype(np.int64)
    aging = np.clip(rng.normal(0.30, 0.06, n), 0.12, 0.6)
    return pl.DataFrame(rows).with_columns(
        population=pl.Series(population),
        population_65plus=pl.Series((population * aging).astype(np.int64)),
        households=pl.Series((population / rng.uniform(1.9, 2.6, n)).astype(np.int64)),
    )


def _spread(area: pl.DataFrame, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """n rows placed in school districts in proportion to their people aged 65+."""
    weights = area["population_65plus"].to_numpy().astype(float)
    idx = rng.choice(area.height, size=n, p=weights / weights.sum())
    return area.select("prefecture", "municipality", "district", "school_district")[idx]


# ---------------------------------------------------------------- school districts on the map

# Municipalities sit on a jittered grid over western and central Japan, about 14 km apart (a
# cell of ~200 km², Japan's average); each is cut into its districts and school districts by
# Voronoi cells, whose edges are then bent by a smooth displacement (three sine waves, 70 m
# to 3 km long) with a vertex every ~15 m. A school district gets the few hundred vertices
# an A27 polygon has (a city's 63 about 34,000, a municipality's A27 some 10,000–200,000),
# about a third of them left after the 2 m simplification for display, and neighbours still
# share their edges.
MUNI_STEP = np.array([0.16, 0.13])  # degrees of longitude and latitude between municipalities
ORIGIN = np.array([130.0, 31.5])
CITY_CENTRE = np.array([133.77, 34.60])  # a one-municipality store: about 倉敷市's place and size
SEGMENT_DEG = 0.00015  # about 15 m between vertices
# (wavelength, amplitude, direction) in degrees and radians: the displacement's slope stays
# under 0.45 on each axis, so it is one-to-one and no polygon comes to cross itself
WAVES = ((0.030, 0.0004, 0.3), (0.006, 0.00008, 1.9), (0.0006, 0.000026, 4.1))
COORDINATES_SHARE = 0.85  # places with coordinates; councils' lists leave some blank


def _bend(xy: np.ndarray) -> np.ndarray:
    """The displacement, a function of the position alone: an edge two polygons share bends
    the same way in both."""
    x, y = xy[:, 0], xy[:, 1]
    dx, dy = np.zeros(len(xy)), np.zeros(len(xy))
    for length, amp, angle in WAVES:
        k = 2 * np.pi / length
        dx += amp * np.sin(k * (x * np.cos(angle) + y * np.sin(angle)) + angle)
        dy += amp * np.sin(k * (x * np.cos(angle + 1.3) + y * np.sin(angle + 1.3)) + 2 * angle)
    return np.column_stack([x + dx, y + dy])


def _points_in(region: shapely.Polygon, n: int, rng: np.random.Generator, digits: int = 9) -> np.ndarray:
    """n random points inside the region (still inside once rounded to `digits`)."""
    lo_x, lo_y, hi_x, hi_y = region.bounds
    shapely.prepare(region)
    out = np.empty((0, 2))
    while len(out) < n:
        xy = np.round(rng.uniform((lo_x, lo_y), (hi_x, hi_y), (max(8, 3 * n), 2)), digits)
        out = np.vstack([out, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _cells(points: np.ndarray, region: shapely.Polygon) -> np.ndarray:
    """The Voronoi cells of the points, in their order, cut to the (convex) region."""
    if len(points) == 1:
        return np.array([region], dtype=object)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region, ordered=True)
    return shapely.intersection(np.asarray(cells.geoms), region)


def _municipality_regions(sizes: list[int], rng: np.random.Generator) -> np.ndarray:
    """Each municipality's land, convex: on a grid, or for a one-municipality store a round
    city sized by its school districts."""
    if len(sizes) == 1:
        radius = 0.012 * np.sqrt(sizes[0])
        angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
        radii = radius * rng.uniform(0.8, 1.15, 24)
        ring = CITY_CENTRE + np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
        return np.array([shapely.convex_hull(shapely.multipoints(ring))], dtype=object)
    n = len(sizes)
    cols = int(np.ceil(np.sqrt(n * 1.3)))
    i = np.arange(n)
    grid = np.column_stack([i % cols, i // cols]) * MUNI_STEP
    centres = ORIGIN + grid + rng.uniform(-0.3, 0.3, (n, 2)) * MUNI_STEP
    lo, hi = centres.min(axis=0) - MUNI_STEP / 2, centres.max(axis=0) + MUNI_STEP / 2
    return _cells(centres, shapely.box(*lo, *hi))


def school_polygons(area: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """A polygon (WGS84 lon/lat, outer rings counterclockwise) for every row of areas, in its
    order: each municipality's districts are Voronoi cells of random centres, its school
    districts the cells of points spread over their districts (relaxed once, Lloyd), bent."""
    groups = area.with_row_index("_i").partition_by(["prefecture", "municipality"], maintain_order=True)
    regions = _municipality_regions([g.height for g in groups], rng)
    out = np.empty(area.height, dtype=object)
    for g, region in zip(groups, regions, strict=True):
        dists = g["district"].to_list()
        names = list(dict.fromkeys(dists))
        dcells = _cells(_points_in(region, len(names), rng), region)
        points = np.empty((g.height, 2))
        for d, cell in zip(names, dcells, strict=True):
            rows = [j for j, x in enumerate(dists) if x == d]
            points[rows] = _points_in(cell, len(rows), rng)
        cells = _cells(points, region)
        if g.height > 1:  # one Lloyd step: school districts of more even size
            cells = _cells(shapely.get_coordinates(shapely.centroid(cells)), region)
        out[g["_i"].to_numpy()] = cells
    bent = shapely.transform(shapely.segmentize(out, SEGMENT_DEG), _bend)
    broken = ~shapely.is_valid(bent)
    if broken.any():  # not expected (the bend is one-to-one); the straight cell if it happens
        bent[broken] = shapely.segmentize(out[broken], SEGMENT_DEG)
    return shapely.orient_polygons(bent)


def boundaries(area: pl.DataFrame, polygons: np.ndarray) -> pl.DataFrame:
    """The boundaries dataset's stored rows, as its ingest (tsunagu.ingest.geo) leaves them
    for an A27 file named 「合成市0001立第1-1小学校」: the shape, the shape simplified once for
    display (within about 2 m; the shape itself where that would break it) and a point
    inside for the name."""
    display = shapely.simplify(polygons, SIMPLIFY_DEGREES, preserve_topology=True)
    kept = shapely.is_valid(display) & ~shapely.is_empty(display)
    display = np.where(kept, display, polygons)
    point = shapely.point_on_surface(polygons)
    names = area.select(
        pl.col("municipality") + "立" + pl.col("school_district").str.replace(r"小$", "") + "小学校"
    ).to_series()
    return pl.DataFrame(
        {
            "prefecture": area["prefecture"],
            "municipality": area["municipality"],
            "district": area["district"],
            "school_district": area["school_district"],
            "feature_name": names,
            "geometry": list(shapely.to_wkb(polygons)),
            "geometry_display": list(shapely.to_wkb(shapely.orient_polygons(display))),
            "label_lon": np.round(shapely.get_x(point), 6),
            "label_lat": np.round(shapely.get_y(point), 6),
        },
        schema=DATASETS["boundaries"].stored_schema,
    )


def place_coordinates(
    base: pl.DataFrame, area: pl.DataFrame, polygons: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """Each place at a random point inside its own school district, or (1 in 7 or so) with no
    coordinates, as councils' lists have them."""
    keys = ["prefecture", "municipality", "district", "school_district"]
    index = base.select(keys).join(
        area.select(keys).with_row_index("_s"), on=keys, how="left", maintain_order="left"
    )["_s"]
    which = index.to_numpy()
    lon, lat = np.full(base.height, np.nan), np.full(base.height, np.nan)
    order = np.argsort(which, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(which[order]) != 0])
    for a, b in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        rows = order[a:b]
        xy = _points_in(polygons[which[rows[0]]], len(rows), rng, digits=5)  # ~1 m, as places keep them
        lon[rows], lat[rows] = xy[:, 0], xy[:, 1]
    blank = rng.random(base.height) >= COORDINATES_SHARE
    return base.with_columns(
        lat=pl.Series(lat).scatter(np.flatnonzero(blank), None),
        lon=pl.Series(lon).scatter(np.flatnonzero(blank), None),
    )


# what residents read on the public guide (weekdays, hours, fee, contact, 公開) and the
# national survey's participants; 主な活動 left blank (read from 種別)
WEEKDAY_TEXTS = ["毎週月曜", "毎週火曜", "毎週水曜", "毎週木曜", "毎週金曜", "第1・第3火曜", "第2・第4木曜"]
WEEKDAY_TEXTS += ["月・水・金", "平日", "毎月15日"]
HOURS = ["10:00～12:00", "13:30～15:30", "9:30～11:30", "14:00～16:00"]
FEES = [0, 0, 100, 200, 300]
PUBLISHED_SHARE = 0.45


def guide_columns(n: int, rng: np.random.Generator) -> dict[str, pl.Series]:
    def some(values: pl.Series, share: float) -> pl.Series:
        return values.scatter(np.flatnonzero(rng.random(n) >= share), None)

    real = rng.integers(5, 60, n)
    old = (real * rng.uniform(0.6, 0.95, n)).astype(np.int64)
    oldest = (old * rng.uniform(0.3, 0.7, n)).astype(np.int64)
    blank = np.flatnonzero(rng.random(n) >= 0.7)  # the survey's counts are kept by most, not all
    return {
        "main_activity": pl.Series([None] * n, dtype=pl.String),
        "participants_real": pl.Series(real).scatter(blank, None),
        "participants_65plus": pl.Series(old).scatter(blank, None),
        "participants_75plus": pl.Series(oldest).scatter(blank, None),
        "weekdays": some(_enum(WEEKDAY_TEXTS, rng, n), 0.9),
        "hours": some(_enum(HOURS, rng, n), 0.8),
        "fee_yen": some(pl.Series(np.array(FEES)[rng.integers(0, len(FEES), n)]), 0.85),
        "contact": some(pl.Series(["社会福祉協議会（生活支援コーディネーター）"] * n), 0.6),
        "published": pl.Series(rng.random(n) < PUBLISHED_SHARE),
    }


def places(scale: Scale, area: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, list[str]]:
    """Every place that ever existed, with the months it opened and ended."""
    months = months_back(LAST_MONTH, scale.place_months)
    born = int(scale.places * 1.25)
    n = born
    start = rng.integers(-400, len(months), n)  # most opened before the first snapshot
    ends = rng.random(n) < 0.2
    end = np.where(ends, start + rng.integers(6, 96, n), 10_000)
    base = _spread(area, n, rng).with_columns(
        place_id=pl.Series([f"S{i:07d}" for i in range(n)]),
        name=pl.Series([f"つどい{i:06d}" for i in range(n)]),
        category=_enum(CATEGORIES, rng, n),
        venue_type=_enum(VENUES, rng, n),
        operator_type=_enum(OPERATORS, rng, n),
        target=_enum(TARGETS, rng, n),
        sessions_per_month=pl.Series(rng.choice([0.5, 1.0, 2.0, 4.0, 8.0], n)),
        subsidized=pl.Series(rng.random(n) < 0.37),
        participants_avg=pl.Series(rng.integers(4, 40, n)),
        lat=pl.Series(np.round(rng.uniform(31.0, 43.0, n), 5)),
        lon=pl.Series(np.round(rng.uniform(130.0, 144.0, n), 5)),
        _start=pl.Series(start),
        _end=pl.Series(end),
        _pause=pl.Series(rng.random(n) < 0.01),
    )
    base = base.with_columns(
        started_on=pl.when(pl.col("_start") >= 0)
        .then(pl.col("_start").map_elements(lambda i: months[i], return_dtype=pl.String))
        .otherwise(None)
    )
    return base, months


def place_month(base: pl.DataFrame, i: int, month: str) -> pl.DataFrame:
    cols = [c.key for c in DATASETS["places"].columns]
    return (
        base.filter((pl.col("_start") <= i) & (pl.col("_end") >= i))
        .with_columns(
            status=pl.when(pl.col("_end") == i)
            .then(pl.lit("終了"))
            .when(pl.col("_pause"))
            .then(pl.lit("休止中"))
            .otherwise(pl.lit("活動中"))
        )
        .select(cols)
    )


def pantry(scale: Scale, area: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = scale.pantry_sites
    return _spread(area, n, rng).with_columns(
        pantry_id=pl.Series([f"P{i:06d}" for i in range(n)]),
        site_name=pl.Series([f"パントリー{i:06d}" for i in range(n)]),
        supporter_type=_enum(_values("pantry", "supporter_type"), rng, n),
        activity_type=_enum(_values("pantry", "activity_type"), rng, n),
        opened_on=pl.lit("2015-04"),
        _lam=pl.Series(rng.uniform(2, 30, n)),
    )


def pantry_month(base: pl.DataFrame, month: str, rng: np.random.Generator) -> pl.DataFrame:
    n = base.height
    lam = base["_lam"].to_numpy()
    households = rng.poisson(lam)
    consultations = rng.binomial(households, 0.2)
    return base.with_columns(
        new_donors=pl.Series(rng.poisson(0.3, n)),
        donations=pl.Series(rng.poisson(lam / 2)),
        households_served=pl.Series(households),
        items_distributed=pl.Series(households * 3),
        consultations=pl.Series(consultations),
        referrals=pl.Series(rng.binomial(consultations, 0.25)),
    ).select([c.key for c in DATASETS["pantry"].columns])


def forums_month(
    scale: Scale, area: pl.DataFrame, month: str, serial: int, rng: np.random.Generator
) -> pl.DataFrame:
    dists = area.select("prefecture", "municipality", "district").unique(maintain_order=True)
    n = max(1, int(rng.poisson(scale.events_per_municipality_month * scale.municipalities)))
    pick = dists[rng.integers(0, dists.height, n)]
    onsite = rng.integers(5, 120, n)
    responses = (onsite * rng.uniform(0.3, 0.9, n)).astype(np.int64)
    y, m = int(month[:4]), int(month[5:7])
    return pick.with_columns(
        event_id=pl.Series([f"E{serial + i:08d}" for i in range(n)]),
        held_on=pl.Series([f"{y:04d}-{m:02d}-{d:02d}" for d in rng.integers(1, 29, n)]).str.to_date(),
        title=pl.Series([f"交流会{serial + i}" for i in range(n)]),
        event_type=_enum(_values("forums", "event_type"), rng, n),
        venue=pl.lit("公民館"),
        format=_enum(_values("forums", "format")[:1] * 3 + _values("forums", "format"), rng, n),
        attendees_onsite=pl.Series(onsite),
        attendees_online=pl.Series(np.zeros(n, dtype=np.int64)),
        survey_responses=pl.Series(responses),
        survey_positive=pl.Series((responses * rng.uniform(0.6, 0.95, n)).astype(np.int64)),
    ).select([c.key for c in DATASETS["forums"].columns])


def frames(scale_name: str) -> Iterator[tuple[str, str, pl.DataFrame]]:
    """Every (dataset, month, frame) of a synthetic store, in the order they are uploaded,
    rows by municipality (as a month composed from municipalities' uploads holds them);
    the same each time (a fixed seed per scale)."""
    scale = SCALES[scale_name]
    seed = int(hashlib.sha256(scale_name.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)
    area = areas(scale, rng)
    yield "areas", "2015-04", area
    # the map's geography from its own stream: the other datasets stay as they were before it
    geo_rng = np.random.default_rng([seed, 17])
    polygons = school_polygons(area, geo_rng)
    yield "boundaries", "2015-04", boundaries(area, polygons)
    base, months = places(scale, area, rng)
    base = place_coordinates(base, area, polygons, geo_rng).with_columns(
        **guide_columns(base.height, geo_rng)
    )
    for i, month in enumerate(months):
        yield "places", month, _by_municipality(place_month(base, i, month))
    sites = pantry(scale, area, rng)
    serial = 0
    for month in months_back(LAST_MONTH, scale.pantry_months):
        yield "pantry", month, _by_municipality(pantry_month(sites, month, rng))
        events = forums_month(scale, area, month, serial, rng)
        serial += events.height
        yield "forums", month, _by_municipality(events)


def _by_municipality(frame: pl.DataFrame) -> pl.DataFrame:
    # municipalities are numbered in their prefectures' order, so this also groups prefectures
    return frame.sort("municipality", maintain_order=True)


def uploads(scale: Scale, area: pl.DataFrame, dataset: str, frame: pl.DataFrame, own: str | None = None):
    """The uploads of one month: each municipality's own, or each prefecture's for all its
    municipalities (but the councils of prefecture `own` upload their own), in areas' order.
    A forums upload covers every municipality of its uploader: a council reports its month
    even when it held no event."""
    munis: list[Municipality] = covered(area) if dataset == "forums" else covered(frame)
    groups: dict[tuple, list[Municipality]] = {}
    for p, m in munis:
        # a boundaries file is one municipality's (the contract), whoever uploads it
        alone = not scale.by_prefecture or p == own or dataset == "boundaries"
        groups.setdefault((p, m) if alone else (p,), []).append((p, m))
    keyed = pl.concat_str([pl.col("prefecture"), pl.lit("/"), pl.col("municipality")])
    parts = frame.with_columns(keyed.alias("_k")).partition_by("_k", as_dict=True, include_key=False)
    empty = frame.clear()
    out: list[Upload] = []
    for group in groups.values():
        rows = [parts[(f"{p}/{m}",)] for p, m in group if (f"{p}/{m}",) in parts]
        out.append((pl.concat(rows) if rows else empty, group))
    return out


def plan(scale_name: str) -> Iterator[tuple[str, str, list[Upload]]]:
    """Every month of a synthetic store as its uploads, in the order they are written: the
    history first, then the latest month of places, pantry and forums."""
    scale = SCALES[scale_name]
    latest, area, own = [], None, None
    for dataset, month, frame in frames(scale_name):
        if dataset == "areas":
            # the councils of the prefecture the dashboard opens on (the first by name)
            area, own = frame, frame["prefecture"].min()
        if month == LAST_MONTH and dataset != "areas":
            latest.append((dataset, month, uploads(scale, area, dataset, frame, own)))
        else:
            yield dataset, month, uploads(scale, area, dataset, frame)
    yield from latest


def commit(store: Store, scale_name: str, dataset: str, month: str, ups: list[Upload]) -> None:
    """The month's uploads through Store.commit, one after the other."""
    for frame, munis in ups:
        store.commit(
            dataset,
            month,
            frame,
            user="synth",
            source_name=f"synth-{scale_name}",
            source_sha256="",
            extra={"action": "synth"},
            municipalities=munis,
        )


def write_synth(root, scale_name: str, progress: Callable[[str], None] | None = None) -> dict:
    """Write a whole synthetic store into a new folder: the history in bulk
    (tools.bulkstore), the latest month through Store.commit. Returns the row counts per
    dataset."""
    bulk = BulkStore(root, user="synth", source_name=f"synth-{scale_name}", action="synth")
    counts = {"areas": 0, "boundaries": 0, "places": 0, "pantry": 0, "forums": 0}
    commits = 0
    for dataset, month, ups in plan(scale_name):
        counts[dataset] += sum(f.height for f, _ in ups)
        if month == LAST_MONTH and dataset != "areas":
            if bulk is not None:
                bulk.close()
                bulk = None
            commit(Store(root), scale_name, dataset, month, ups)
            commits += len(ups)
            continue
        bulk.month(dataset, month, ups)
        if progress and dataset == "places" and month.endswith("-03"):
            progress(f"places {month}: {counts['places']:,} rows")
    if bulk is not None:
        bulk.close()
    if progress:
        progress(f"done: {counts}; {LAST_MONTH} in {commits} uploads through Store.commit")
    return counts
