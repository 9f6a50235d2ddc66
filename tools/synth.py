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

from tools.bulkstore import BulkStore, Upload
from tsunagu.contract.codes import PREFECTURES
from tsunagu.contract.schema import DATASETS
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
    base, months = places(scale, area, rng)
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
        alone = not scale.by_prefecture or p == own
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
    counts = {"areas": 0, "places": 0, "pantry": 0, "forums": 0}
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
