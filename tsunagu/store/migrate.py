"""`python -m tsunagu migrate`: a store written when one upload replaced a whole month becomes
a store whose months are kept per municipality (format 2, see versions.py).

Nothing is rewritten but metadata. Before, an upload replaced its month for the whole store,
so each live month keeps its file and becomes the month of every municipality the store knows
(a municipality without rows in it had none that month); each kept version's sidecar learns
the same, so every old version stays restorable (for all of them, as before, or for one).
Running it again does nothing.
"""

from __future__ import annotations

import json

import polars as pl

from tsunagu.store.versions import (
    ARCHIVED_MODE,
    ENTRY_KEYS,
    FORMAT,
    Store,
    covered,
    muni_key,
    rows_per_municipality,
    verify,
)


def _municipalities_of(store: Store, file: str, sha256: str | None) -> list[tuple[str, str]] | None:
    """The municipalities a stored file's rows name; None if it cannot be read."""
    if verify(store.root / file, sha256):
        return None
    try:
        return covered(pl.read_parquet(store.root / file, columns=["prefecture", "municipality"]))
    except (pl.exceptions.PolarsError, OSError):
        return None


def migrate(store: Store) -> list[str]:
    """Bring the store to the current format; what was done, in Japanese."""
    done: list[str] = []
    with store.lock():
        store.finish_interrupted_commits()
        manifest = store.manifest()
        if int(manifest.get("format", 1)) >= FORMAT:
            return ["このデータフォルダは新しい形式です。移行は必要ありません。"]
        # before, an upload replaced its month for the whole store: a municipality with no row
        # in it had nothing that month. So each old month (and each kept version) becomes the
        # month of every municipality the store knows, most with their rows, some with none.
        everyone: list[tuple[str, str]] = []
        latest_areas = sorted(manifest["datasets"].get("areas", {}))
        if latest_areas:
            entry = manifest["datasets"]["areas"][latest_areas[-1]]
            everyone = _municipalities_of(store, entry["file"], entry.get("sha256")) or []
        for dataset, months in sorted(manifest["datasets"].items()):
            for month, entry in sorted(months.items()):
                found = _municipalities_of(store, entry["file"], entry.get("sha256"))
                if found is None:
                    done.append(
                        f"{dataset} {month}: 有効な版 {entry['version']} のファイルを読めないため、"
                        "市町村ごとの行数を数えられませんでした（この月はそのまま残しました）。"
                    )
                    rows = {}
                else:
                    rows = rows_per_municipality(
                        pl.read_parquet(store.root / entry["file"], columns=["prefecture", "municipality"])
                    )
                munis = list(dict.fromkeys(everyone + (found or [])))
                parts = {
                    muni_key(p, m): {k: entry[k] for k in ENTRY_KEYS}
                    | {"rows": rows.get(muni_key(p, m), 0), "prefecture": p, "municipality": m}
                    for p, m in munis
                }
                entry["parts_file"] = store._write_parts(dataset, month, entry["version"], parts)
        sidecars = 0
        for sidecar in sorted((store.root / "_archive").glob("*/month=*/v*.json")):
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if meta.get("municipalities") is not None:
                continue
            found = _municipalities_of(store, meta["file"], meta.get("sha256"))
            if found is None:
                done.append(
                    f"{meta['dataset']} {meta['month']}: 版 {meta['version']} のファイルを読めません"
                    "（そのまま残しました）。"
                )
            # restoring it puts back the whole store's month, as it did before
            meta["municipalities"] = [list(m) for m in dict.fromkeys(everyone + (found or []))]
            store._write_json(sidecar, meta, mode=ARCHIVED_MODE)
            sidecars += 1
        manifest["format"] = FORMAT
        manifest["data_version"] = int(manifest.get("data_version", 0)) + 1
        store._write_manifest(manifest)
        months_n = sum(len(m) for m in manifest["datasets"].values())
        store.audit(
            {
                "action": "migrate",
                "outcome": "committed",
                "user": "migrate",
                "months": months_n,
                "versions": sidecars,
                "format": FORMAT,
            }
        )
        done.insert(
            0,
            f"新しい形式に移しました: {months_n}か月分の登録、保管している版 {sidecars}件（ファイルはそのまま）。",
        )
    return done
