"""What an upload will change against the month it replaces, for the confirmation screen."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tsunagu.contract.schema import DATASETS, INT

WATCHED = {"status": "状態", "category": "種別", "district": "地区"}  # changes worth a line


@dataclass
class Change:
    totals: pl.DataFrame  # measure, before, after, difference
    added: pl.DataFrame | None = None  # places only
    removed: pl.DataFrame | None = None
    changed: pl.DataFrame | None = None  # place_id, name, what, before, after


def _totals(dataset: str, frame: pl.DataFrame | None) -> dict[str, int]:
    out = {"行数": 0 if frame is None else frame.height}
    if frame is None:
        frame = pl.DataFrame(schema=DATASETS[dataset].stored_schema)
    if dataset == "places":
        active = frame.filter(pl.col("status") == "活動中")
        out |= {
            "活動中": active.height,
            "うち補助金対象": int(active["subsidized"].sum() or 0),
            "休止中": frame.filter(pl.col("status") == "休止中").height,
            "終了": frame.filter(pl.col("status") == "終了").height,
        }
    for col in DATASETS[dataset].columns:
        if col.type == INT:
            out[col.header] = int(frame[col.key].sum() or 0)
    return out


def compare(dataset: str, before: pl.DataFrame | None, after: pl.DataFrame) -> Change:
    b, a = _totals(dataset, before), _totals(dataset, after)
    totals = pl.DataFrame(
        {"measure": list(a), "before": [b[k] for k in a], "after": [a[k] for k in a]}
    ).with_columns((pl.col("after") - pl.col("before")).alias("difference"))
    if dataset != "places":
        return Change(totals)
    before = before if before is not None else pl.DataFrame(schema=DATASETS["places"].stored_schema)
    cols = ["place_id", "name", "district", "category", "status"]
    added = after.join(before.select("place_id"), on="place_id", how="anti").select(cols)
    removed = before.join(after.select("place_id"), on="place_id", how="anti").select(cols)
    both = before.select(cols).join(after.select(cols), on="place_id", suffix="_new")
    rows = []
    for key, label in WATCHED.items():
        diff = both.filter(pl.col(key) != pl.col(f"{key}_new"))
        rows += [
            {
                "place_id": r["place_id"],
                "name": r["name_new"],
                "what": label,
                "before": r[key],
                "after": r[f"{key}_new"],
            }
            for r in diff.iter_rows(named=True)
        ]
    changed = pl.DataFrame(
        rows,
        schema={
            "place_id": pl.String,
            "name": pl.String,
            "what": pl.String,
            "before": pl.String,
            "after": pl.String,
        },
    ).sort("place_id")
    return Change(totals, added, removed, changed)
