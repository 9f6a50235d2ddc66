"""A store written in bulk, as a sequence of commits would leave it: for the benchmark's
synthetic history (tools.synth), never for a council's data.

Store.commit composes the month again at every upload (it reads the month file, adds the new
rows, writes it whole) and writes the month's parts list again: right for one upload, but a
nation's history as uploads through it took about 95 ms a prefecture-month (17 minutes for
the nation store) and left every intermediate month file and parts list behind (about 10 GB).
Here each month is written once, as its last commit would leave it: every upload's version
file and sidecar, the month file (the one version, or the uploads composed in the order
commits compose them), the parts list, the live copy, the manifest and an audit line per
upload. Files are not fsynced: a bench store that a crash cuts short is written again.
tests/test_bench.py checks a store written here against the same uploads through
Store.commit: same layout, same sidecars and parts, `check` passes, every query answers
the same.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import polars as pl

from tsunagu.store.files import write_atomic
from tsunagu.store.versions import (
    AUDIT_SKIP,
    COMPOSED,
    ENTRY_KEYS,
    FORMAT,
    PARTS,
    Municipality,
    Store,
    covered,
    file_sha256,
    muni_key,
    new_version_id,
    write_parquet,
)

Upload = tuple[pl.DataFrame, list[Municipality]]  # its rows, and the municipalities it covers


def _now() -> str:  # as the store stamps a commit
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _key(frame: pl.DataFrame) -> pl.Expr:
    return pl.concat_str([pl.col("prefecture").fill_null(""), pl.lit("/"), pl.col("municipality")])


class BulkStore:
    """Months written whole into a new store; `close()` writes the manifest (the commit point
    of everything written) and the audit log."""

    def __init__(self, root: str | os.PathLike, *, user: str, source_name: str, action: str):
        self.store = Store(root)
        if self.store.manifest_path.exists():
            raise FileExistsError(f"{root} already holds a store")
        self.user, self.source_name, self.action = user, source_name, action
        self.manifest = {"format": FORMAT, "data_version": 0, "demo": False, "datasets": {}}
        self.audit: list[dict] = []

    def month(self, dataset: str, month: str, uploads: list[Upload]) -> None:
        """The month as committing these uploads, one after the other, leaves it (each covers
        municipalities no earlier one did)."""
        months = self.manifest["datasets"].setdefault(dataset, {})
        if month in months:
            raise ValueError(f"{dataset} {month} is already written")
        adir = self.store.archive_dir(dataset, month)
        adir.mkdir(parents=True, exist_ok=True)
        parts: dict[str, dict] = {}
        meta: dict = {}
        for frame, munis in uploads:
            munis = [tuple(m) for m in munis or covered(frame)]
            version = new_version_id()
            path = adir / f"{version}.parquet"
            write_parquet(frame, path)
            meta = {
                "dataset": dataset,
                "month": month,
                "version": version,
                "file": str(path.relative_to(self.store.root)),
                "rows": frame.height,
                "user": self.user,
                "source_name": self.source_name,
                "source_sha256": "",
                "action": self.action,
                "municipalities": [list(m) for m in munis],
                "sha256": file_sha256(path),
                "committed_at": _now(),
            }
            (adir / f"{version}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
            counts = dict(frame.group_by(_key(frame).alias("k")).len().iter_rows()) if frame.height else {}
            for p, m in munis:
                k = muni_key(p, m)
                if k in parts:
                    raise ValueError(f"{k} is in two uploads of {dataset} {month}")
                parts[k] = {key: meta[key] for key in ENTRY_KEYS} | {
                    "rows": counts.get(k, 0),
                    "prefecture": p,
                    "municipality": m,
                }
            self.audit.append(
                {
                    "at": meta["committed_at"],
                    "action": self.action,
                    "outcome": "committed",
                    "dataset": dataset,
                    "month": month,
                    "municipalities": meta["municipalities"],
                    "user": self.user,
                    "file_name": self.source_name,
                    "sha256": "",
                    "rows": frame.height,
                    "version": version,
                    "replaced_version": None,
                    **{k: v for k, v in meta.items() if k not in AUDIT_SKIP},
                }
            )
        if len(uploads) == 1:
            entry = {k: meta[k] for k in ENTRY_KEYS}  # the upload is the whole month
        else:
            entry = self._compose(dataset, month, uploads, meta)
        ppath = adir / PARTS / f"{entry['version']}.json"
        ppath.parent.mkdir(exist_ok=True)
        ppath.write_text(json.dumps(parts, ensure_ascii=False), "utf-8")
        entry["parts_file"] = str(ppath.relative_to(self.store.root))
        months[month] = entry
        self.manifest["data_version"] += len(uploads)
        live = self.store.live_path(dataset, month)
        live.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.store.root / entry["file"], live)  # a copy, as Store._publish leaves it

    def _compose(self, dataset: str, month: str, uploads: list[Upload], last: dict) -> dict:
        """The month file the last commit composes: every upload's rows, municipality by
        municipality in the order they first came, each municipality's rows in its file's order."""
        order: dict[str, int] = {}
        for frame, _ in uploads:
            for m in covered(frame):
                order.setdefault(muni_key(*m), len(order))
        rank = pl.DataFrame(
            {"_k": list(order), "_i": list(order.values())}, schema={"_k": pl.String, "_i": pl.Int64}
        )
        whole = (
            pl.concat([f for f, _ in uploads], how="diagonal_relaxed")
            .with_columns(_key(uploads[0][0]).alias("_k"))
            .join(rank, on="_k", how="left", maintain_order="left")
            .sort("_i", maintain_order=True)
            .drop("_k", "_i")
        )
        cid = "c" + new_version_id()[1:]
        path = self.store.archive_dir(dataset, month) / COMPOSED / f"{cid}.parquet"
        path.parent.mkdir(exist_ok=True)
        write_parquet(whole, path)
        return {
            "version": cid,
            "file": str(path.relative_to(self.store.root)),
            "rows": whole.height,
            "sha256": file_sha256(path),
            "committed_at": last["committed_at"],
            "user": self.user,
            "source_name": self.source_name,
            "composed": True,
        }

    def close(self) -> None:
        audit = self.store.audit_path
        audit.parent.mkdir(parents=True, exist_ok=True)
        with open(audit, "a", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in self.audit)
        data = json.dumps(self.manifest, ensure_ascii=False, sort_keys=True).encode()
        write_atomic(self.store.manifest_path, data, tmp_dir=self.store.staging)
