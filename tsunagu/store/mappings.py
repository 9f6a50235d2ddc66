"""Each council's own column names, remembered with its data.

A coordinator's workbook says 「サロン名」 where the contract says 「名称」. Once they have said
so on the upload page, the mapping is kept per municipality and dataset (in the data
folder, so backups and other processes have it), used for next month's upload, and each
change is written to the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote

from tsunagu.contract.parse import header_key
from tsunagu.store.files import write_atomic
from tsunagu.store.versions import Municipality, Store

FOLDER = "_mappings"  # outside every dataset folder: no Parquet glob sees it


def _safe(name: str) -> str:
    # names come from areas; one with a slash or a leading dot must not leave the folder
    return quote(name, safe="") if "/" in name or "\\" in name or name.startswith(".") else name


def _path(store: Store, dataset: str, municipality: Municipality) -> Path:
    prefecture, name = municipality
    return store.root / FOLDER / dataset / _safe(prefecture) / f"{_safe(name)}.json"


def load(store: Store, dataset: str, municipality: Municipality) -> dict[str, str | None]:
    """header (as parse.header_key spells it) -> contract key, or None for 「使わない」."""
    try:
        data = json.loads(_path(store, dataset, municipality).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return {}
    columns = data.get("columns", {})
    return {str(k): (v if isinstance(v, str) and v else None) for k, v in columns.items()}


def saved(store: Store, dataset: str) -> dict[Municipality, dict[str, str | None]]:
    """Every municipality's saved mapping for a dataset."""
    out = {}
    base = store.root / FOLDER / dataset
    if not base.is_dir():
        return out
    for path in sorted(base.glob("*/*.json")):
        muni = (unquote(path.parent.name), unquote(path.stem))
        mapping = load(store, dataset, muni)
        if mapping:
            out[muni] = mapping
    return out


def save(
    store: Store,
    dataset: str,
    municipality: Municipality,
    columns: dict[str, str | None],
    *,
    user: str,
    headers: dict[str, str] | None = None,
) -> bool:
    """Keep the mapping (merged over the saved one); audit it when it changes. True if it did."""
    with store.lock():
        before = load(store, dataset, municipality)
        after = {**before, **{header_key(k): (v or None) for k, v in columns.items()}}
        if after == before:
            return False
        path = _path(store, dataset, municipality)
        data = {
            "dataset": dataset,
            "prefecture": municipality[0],
            "municipality": municipality[1],
            "columns": after,
            "headers": headers or {},
            "user": user,
        }
        write_atomic(
            path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), tmp_dir=store.staging
        )
        store.audit(
            {
                "action": "mapping",
                "outcome": "saved",
                "dataset": dataset,
                "prefecture": municipality[0],
                "municipality": municipality[1],
                "user": user,
                "before": before,
                "after": after,
            }
        )
        return True
