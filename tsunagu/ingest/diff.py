"""What an upload will change against the month it replaces, for the confirmation screen."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tsunagu.contract.schema import DATASETS, INT

WATCHED = {"status": "状態", "category": "種別", "district": "地区"}  # changes worth a line
NOT_SUMMED = {"fee_yen"}  # an amount per person: a total of every place's fee means nothing


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
    frame = DATASETS[dataset].conform(frame)  # a month stored before a column was added
    if dataset == "places":
        active = frame.filter(pl.col("status") == "活動中")
        out |= {
            "活動中": active.height,
            "うち補助金対象": int(active["subsidized"].sum() or 0),
            "休止中": frame.filter(pl.col("status") == "休止中").height,
            "終了": frame.filter(pl.col("status") == "終了").height,
            # what residents will see in the public guide: a change of consent shows here
            "公開（活動中）": int(active["published"].fill_null(False).sum() or 0),
        }
    for col in DATASETS[dataset].columns:
        if col.type == INT and col.key not in NOT_SUMMED:
            out[col.header] = int(frame[col.key].sum() or 0)
    return out


# each record's identity and the name a coordinator knows it by
KEYS = {
    "places": (["place_id"], "name"),
    "pantry": (["pantry_id"], "site_name"),
    "forums": (["event_id"], "title"),
    "areas": (["prefecture", "municipality", "district", "school_district"], "school_district"),
}


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def compare(dataset: str, before: pl.DataFrame | None, after: pl.DataFrame) -> Change:
    """Totals before and after, and record by record what was added, removed and changed —
    every field that differs, one line each, so an edited workbook shows just its edits."""
    b, a = _totals(dataset, before), _totals(dataset, after)
    totals = pl.DataFrame(
        {"measure": list(a), "before": [b[k] for k in a], "after": [a[k] for k in a]}
    ).with_columns((pl.col("after") - pl.col("before")).alias("difference"))
    ds = DATASETS[dataset]
    keys, name = KEYS[dataset]
    before = ds.conform(before) if before is not None else pl.DataFrame(schema=ds.stored_schema)
    after = ds.conform(after)
    shown = list(
        dict.fromkeys([*keys, name, *(c for c in ("district", "category", "status") if c in ds.keys)])
    )
    id_col = keys[0] if len(keys) == 1 else name
    added = after.join(before.select(keys), on=keys, how="anti").select(shown)
    removed = before.join(after.select(keys), on=keys, how="anti").select(shown)
    fields = [c for c in ds.columns if c.key not in keys]
    both = before.select(keys + [c.key for c in fields]).join(
        after.select(keys + [c.key for c in fields]), on=keys, suffix="_new"
    )
    rows = []
    for col in fields:
        diff = both.filter(pl.col(col.key).ne_missing(pl.col(f"{col.key}_new")))
        rows += [
            {
                "id": r[id_col],
                "name": r[f"{name}_new"] if name not in keys else r[name],
                "what": WATCHED.get(col.key, col.header),
                "before": _text(r[col.key]),
                "after": _text(r[f"{col.key}_new"]),
            }
            for r in diff.iter_rows(named=True)
        ]
    changed = pl.DataFrame(
        rows, schema={k: pl.String for k in ("id", "name", "what", "before", "after")}
    ).sort("id", maintain_order=True)
    return Change(totals, added, removed, changed.rename({"id": id_col}))
