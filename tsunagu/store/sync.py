"""Feeding a read-only replica: `python -m tsunagu sync --from DIR --to DIR` (docs/scaling.md).

The same order that makes a commit safe makes a copy safe: the archive files first (each
written under a name no reader looks at, renamed whole, its SHA-256 checked against what the
store recorded), the manifest last with one atomic rename (from that instant the replica's
dashboards load the new data, whole), then the live month files for other Parquet tools. A
sync cut short at any point leaves the replica answering the data it had; run again, it
copies only what is missing (idempotent, resumable). The source is a data folder, or a backup
folder (its latest snapshot).

The replica keeps `_replica.json`: the manifest it last wrote (so an upload made on the
replica by mistake is noticed, not overwritten), which version each live file holds, and the
archive files the source has tidied away, removed here once no page can still be reading them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tsunagu.store.backup import (
    DATA,
    INDEX,
    LATEST,
    BackupError,
    Recorded,
    month_dirs,
    named_files,
    snapshot_of,
    store_files,
)
from tsunagu.store.files import copy_file, write_atomic
from tsunagu.store.versions import (
    ARCHIVED_MODE,
    KEEP_COMPOSED_SECONDS,
    MANIFEST,
    Store,
    file_sha256,
    publish_copy,
)

STATE = "_replica.json"


@dataclass
class SyncResult:
    source: Path
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0  # already on the replica
    published: int = 0  # live month files written
    removed: int = 0
    changed: bool = False  # the replica's manifest was replaced
    data_version: int = 0
    warnings: list[str] = field(default_factory=list)


def source_root(source: Path) -> Path:
    """The data folder to copy from: the folder itself, or a backup's latest snapshot's data."""
    if (source / MANIFEST).is_file():
        return source
    if (source / LATEST).is_file() or (source / INDEX).is_file():
        return snapshot_of(source) / DATA
    raise BackupError(
        f"「{source}」はデータフォルダでもバックアップでもありません（{MANIFEST} がありません）。", 2
    )


def _read_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_state(path: Path, state: dict) -> None:
    write_atomic(path, json.dumps(state, ensure_ascii=False).encode(), mode=0o644)


def sync(source: Path, replica: Path, *, force: bool = False) -> SyncResult:
    src = source_root(Path(source))
    replica = Path(replica)
    if replica.resolve() == src.resolve():
        raise BackupError("同期元と同期先が同じフォルダです。", 2)
    result = SyncResult(src)
    store = Store(replica)
    with store.lock():  # one sync at a time into this replica
        state_path = replica / STATE
        state = _read_state(state_path)
        if store.manifest_path.exists() and not force:
            # (or the one it was about to write, if it was stopped right after writing it)
            if file_sha256(store.manifest_path) not in (state.get("manifest_sha256"), state.get("writing")):
                raise BackupError(
                    f"同期先「{replica}」のデータは、同期で書いたものと違います（同期先で登録されたか、"
                    "別のデータフォルダです）。上書きすると失われるため、同期を中止しました。同期先は読み取り専用にし、"
                    "登録は書き込み用の1台で行ってください。確かめたうえで上書きするときは --force を付けてください。",
                    2,
                )
        manifest_bytes = (src / MANIFEST).read_bytes()  # first: every file it names is already there
        manifest = json.loads(manifest_bytes)
        recorded = Recorded(src, manifest)
        # only the months whose entry differs from the replica's (a commit changes its month's
        # entry, and writes files only in that month's folder), and those with files to tidy
        gone = state.setdefault("gone", {})
        dirs = sorted(
            set(month_dirs(store.manifest(), manifest)) | {"/".join(r.split("/")[:3]) for r in gone}
        )
        within = tuple(f"{d}/" for d in dirs)
        named = {n for n in named_files(manifest) if n.startswith(within)}
        listing = store_files(src, tuple(dirs))
        missing = named - set(listing)
        if missing:
            raise BackupError(
                f"同期元の有効な月のファイルがありません（{sorted(missing)[0]} ほか{len(missing)}件）。"
                f"同期元で `python -m tsunagu check` を実行してください。同期先は前のデータのままです。"
            )
        for rel in listing:
            dst = replica / rel
            try:
                size = os.stat(src / rel).st_size
                if dst.exists() and dst.stat().st_size == size:  # archived files never change
                    result.skipped += 1
                    continue
                size, sha = copy_file(src / rel, dst, mode=ARCHIVED_MODE, durable=False)
            except FileNotFoundError:
                if rel in named:
                    raise BackupError(
                        f"同期の途中で同期元のファイル（{rel}）がなくなりました。もう一度実行してください"
                        "（同期先は前のデータのままです）。"
                    ) from None
                continue  # a superseded composed month the source tidied away meanwhile
            result.copied, result.copied_bytes = result.copied + 1, result.copied_bytes + size
            expected = recorded(rel)
            if expected and sha != expected:
                if rel in named:
                    dst.unlink()
                    raise BackupError(
                        f"同期元のファイル（{rel}）が登録したときと違います（SHA-256）。同期元で "
                        "`python -m tsunagu check` を実行してください。同期先は前のデータのままです。"
                    )
                result.warnings.append(rel)  # an old version, damaged at the source: copied as it is
        for rel in store_files(
            src, ("_mappings", "_settings", "_audit")
        ):  # small files that change: whole each time
            dst = replica / rel
            with contextlib.suppress(FileNotFoundError):
                if not dst.exists() or file_sha256(dst) != file_sha256(src / rel):
                    copy_file(src / rel, dst, mode=0o644, durable=False)
        os.sync()  # every file the manifest names is on disk before the manifest is
        digest = hashlib.sha256(manifest_bytes).hexdigest()
        if not store.manifest_path.exists() or store.manifest_path.read_bytes() != manifest_bytes:
            _write_state(state_path, state | {"writing": digest})
            write_atomic(store.manifest_path, manifest_bytes, tmp_dir=store.staging, mode=0o644)
            result.changed = True
        state["manifest_sha256"] = digest
        state.pop("writing", None)
        _write_state(state_path, state)
        # then the live month files, for tools that read <dataset>/*/*.parquet
        live = state.setdefault("live", {})
        current = set()
        for dataset, months in manifest["datasets"].items():
            for month, entry in months.items():
                key, path = f"{dataset}/{month}", store.live_path(dataset, month)
                current.add(key)
                if live.get(key) != entry["version"] or not path.exists():
                    publish_copy(replica / entry["file"], path, durable=False)
                    live[key] = entry["version"]
                    result.published += 1
        for key in set(live) - current:  # a month the source no longer has
            dataset, month = key.split("/", 1)
            with contextlib.suppress(FileNotFoundError):
                store.live_path(dataset, month).unlink()
            del live[key]
        # archive files the source tidied away (superseded composed months and parts lists):
        # removed once a page that read the previous manifest can no longer be opening them
        now, kept = time.time(), set(listing) | named
        for path in [p for d in dirs if (replica / d).is_dir() for p in (replica / d).rglob("*")]:
            rel = path.relative_to(replica).as_posix()
            if not path.is_file() or rel in kept:
                gone.pop(rel, None)
                continue
            if path.name.startswith(".") and path.name.endswith(".tmp"):  # a copy cut short
                path.unlink()
                continue
            if now - gone.setdefault(rel, now) > KEEP_COMPOSED_SECONDS:
                path.unlink()
                del gone[rel]
                result.removed += 1
        os.sync()  # the live files on disk before the state says they are there
        for rel in [r for r in gone if not (replica / r).exists()]:
            del gone[rel]
        state["synced_from"] = str(src.resolve())
        _write_state(state_path, state)
    result.data_version = int(manifest.get("data_version", 0))
    return result
