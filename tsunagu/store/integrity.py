"""Checking the stored files, and putting a damaged month right.

A file damaged on disk (a failing disk, a bad copy, someone editing the data folder) must
not take the whole dashboard down: the months that read are served, and the damaged one is
named, in Japanese (which data, which month, which file), with what to do.
`python -m tsunagu check [--repair]` runs `find_damaged()` and `restore_last_intact()`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tsunagu.store.versions import (
    ARCHIVED_MODE,
    CHECKSUM_MISMATCH,
    Store,
    StoreError,
    damaged_message,
    file_sha256,
    verify,
)


@dataclass(frozen=True)
class Problem:
    dataset: str
    month: str
    version: str
    file: str  # relative to the data dir
    reason: str

    def __str__(self) -> str:
        return damaged_message(self.dataset, self.month, self.file, self.reason)


def unreadable(path: Path) -> str | None:
    """Why the Parquet file cannot be read whole, or None if it can. Reads every page:
    a damaged data page passes a metadata-only look."""
    try:
        pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as e:
        return str(e).splitlines()[0][:200] or type(e).__name__
    return None


def verified(store: Store, manifest: dict) -> list[Problem]:
    """The live months whose file is missing or not the bytes committed (by checksum, each
    file hashed once per identity: see store.verify). Run when a new manifest is loaded."""
    problems = []
    for dataset, months in sorted(manifest["datasets"].items()):
        for month, entry in sorted(months.items()):
            reason = verify(store.root / entry["file"], entry.get("sha256"))
            if reason:
                problems.append(Problem(dataset, month, entry["version"], entry["file"], reason))
    return problems


def screen(store: Store, manifest: dict) -> list[Problem]:
    """The live months whose file cannot be read (the slow path, taken only when loading
    everything at once failed). Checksums first: a damaged file is never parsed."""
    problems = verified(store, manifest)
    known = {(p.dataset, p.month) for p in problems}
    for dataset, months in sorted(manifest["datasets"].items()):
        for month, entry in sorted(months.items()):
            if (dataset, month) in known:
                continue
            reason = unreadable(store.root / entry["file"])
            if reason:
                problems.append(Problem(dataset, month, entry["version"], entry["file"], reason))
    return problems


def without(manifest: dict, problems: list[Problem]) -> dict:
    """The manifest minus the damaged months, so the rest can be served."""
    out = json.loads(json.dumps(manifest))
    for p in problems:
        months = out["datasets"].get(p.dataset, {})
        if months.get(p.month, {}).get("version") == p.version:  # not if replaced meanwhile
            del months[p.month]
    return out


def find_damaged(store: Store) -> list[Problem]:
    """Every live month: its file exists, has the checksum it was committed with, reads
    whole, and the month's file under <dataset>/ is the same bytes in a file of its own."""
    problems = []
    for dataset, months in sorted(store.manifest()["datasets"].items()):
        for month, entry in sorted(months.items()):
            path = store.root / entry["file"]

            def bad(reason: str, e=entry, d=dataset, m=month) -> None:
                problems.append(Problem(d, m, e["version"], e["file"], reason))

            if not path.exists():
                bad("ファイルがありません")
                continue
            if file_sha256(path) != entry["sha256"]:
                bad(CHECKSUM_MISMATCH)
                continue
            reason = unreadable(path)
            if reason:
                bad(reason)
                continue
            live = store.live_path(dataset, month)
            reason = None
            if not live.exists() or file_sha256(live) != entry["sha256"]:
                reason = "公開用のファイルが有効な版と違います"
            elif os.path.samefile(live, path):  # written before live files were copies
                reason = "公開用のファイルが保管した版と同じ実体（ハードリンク）で、書き換えると保管した版まで変わります"
            if reason:
                problems.append(
                    Problem(dataset, month, entry["version"], str(live.relative_to(store.root)), reason)
                )
    return problems


def restore_last_intact(store: Store, user: str) -> list[str]:
    """Put each damaged live month right, saying what was done (in Japanese):
    a wrong live file is copied again from its intact archive version; a damaged version is
    replaced by the newest earlier version that is intact (a new version, in the audit log
    as action "repair"; the damaged file is kept as evidence); a month with no intact
    version is reported for re-upload. Nothing is deleted."""
    done = []
    for p in find_damaged(store):
        label = f"{p.dataset} {p.month}"
        entry = store.current(p.dataset, p.month)
        archive = store.root / entry["file"]
        if p.file != entry["file"]:  # only the live file is wrong; the archive is intact
            with store.lock():
                store._publish(p.dataset, p.month, archive)
                archive.chmod(ARCHIVED_MODE)
            done.append(f"{label}: 公開用のファイルを版 {p.version} から作り直しました。")
            continue
        if entry.get("composed"):
            # a month composed of several uploads: write it again from their versions
            try:
                again = store.recompose(p.dataset, p.month, user=user)
            except StoreError as e:
                done.append(f"{label}: 作り直せませんでした（{e}）。この月のCSVをもう一度登録してください。")
            else:
                done.append(
                    f"{label}: 市町村ごとの版から月のファイルを作り直しました（新しい版 {again['version']}、"
                    f"{again['rows']:,}行）。"
                )
            continue
        good = None
        for meta in reversed(store.versions(p.dataset, p.month)):
            path = store.root / meta["file"]
            if meta["version"] == p.version or not path.exists():
                continue
            if file_sha256(path) == meta.get("sha256") and unreadable(path) is None:
                good = meta
                break
        if good is None:
            done.append(f"{label}: 読める前の版がありません。この月のCSVをもう一度登録してください。")
            continue
        frame = pl.read_parquet(store.root / good["file"])
        new, _ = store.commit(
            p.dataset,
            p.month,
            frame,
            user=user,
            source_name=good.get("source_name", ""),
            source_sha256=good.get("source_sha256", ""),
            demo=store.is_demo(),
            extra={"action": "repair", "restored_version": good["version"], "damaged_version": p.version},
        )
        done.append(
            f"{label}: 版 {p.version} が壊れていたため、前の版 {good['version']} を"
            f"新しい版 {new.version}（{new.rows:,}行）として戻しました。"
        )
    return done
