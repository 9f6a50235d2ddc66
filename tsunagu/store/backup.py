"""Backups that restore: `python -m tsunagu backup --to DIR` and `restore --from DIR --to DATA_DIR`.

An archived file never changes once written and the manifest is the commit point, so a copy
is consistent when the archive is copied first and the manifest last, under the store's
writer lock (no upload commits in between). Each backup is a dated snapshot folder complete on
its own; a file unchanged since the previous snapshot (same size and SHA-256) is a hard link
to it rather than a new copy, so a nightly backup costs what changed that day.

    <backup>/latest                      the name of the newest whole snapshot (written last)
    <backup>/<YYYY-MM-DD_HHMMSS>/
        BACKUP.json                      every file with its size and SHA-256; when; from where
        data/_archive/...                every archived version, parts list and composed month
        data/_mappings/..., data/_settings/..., data/_audit/uploads.jsonl
        data/_manifest.json              copied last
        private/users.yaml               the users file (password hashes: owner-only)
        private/users.cookie_key         only when asked for (--with-cookie-key)
    <backup>/.partial-<name>/            a snapshot being written: an interrupted one is removed
                                         by the next backup; `latest` still names the last whole one

The live month files are not kept: restore writes them again from the archive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tsunagu.store.files import copy_file, fsync_dir, write_atomic
from tsunagu.store.versions import ARCHIVED_MODE, MANIFEST, Store, file_sha256, publish_copy

INDEX = "BACKUP.json"
LATEST = "latest"
DATA = "data"
PRIVATE = "private"
KEPT = ("_archive", "_mappings", "_settings", "_audit")  # what the store needs besides its manifest
AUDIT = "_audit/uploads.jsonl"
SNAPSHOT = re.compile(r"\d{4}-\d{2}-\d{2}_\d{6}(-\d+)?")
BACKED_UP_MODE = 0o444  # a file in a backup is never written again (later snapshots share it)
PRIVATE_MODE = 0o600
KEEP = 30  # snapshots kept by default (a month of nightly backups)


class BackupError(Exception):
    """A refusal, or a backup that cannot be used, said in Japanese; `status` is the exit code."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def store_files(root: Path, folders: tuple[str, ...] = KEPT) -> list[str]:
    """The files under these folders of a data folder (relative, with /), in that order;
    files being written (dot-names) left out."""
    out = []
    for folder in folders:
        base = root / folder
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if not path.name.startswith(".") and path.is_file():
                    out.append(path.relative_to(root).as_posix())
    return out


class Recorded:
    """The SHA-256 the store recorded for a Parquet file (by path relative to the data
    folder): a live month's in the manifest, else a version's in its sidecar beside it (read
    only when asked: a nightly backup asks for the few new files, not the whole archive)."""

    def __init__(self, root: Path, manifest: dict):
        self.root = root
        self.live = {
            e["file"]: e["sha256"] for m in manifest.get("datasets", {}).values() for e in m.values()
        }

    def __call__(self, rel: str) -> str | None:
        if rel in self.live:
            return self.live[rel]
        if not rel.endswith(".parquet"):
            return None
        try:
            meta = json.loads((self.root / rel).with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta.get("sha256") if isinstance(meta, dict) and meta.get("file") == rel else None


def month_dirs(before: dict, after: dict) -> list[str]:
    """The archive folders of the months whose manifest entry differs between two manifests."""
    out = []
    for dataset in sorted(set(before.get("datasets", {})) | set(after.get("datasets", {}))):
        old, new = before.get("datasets", {}).get(dataset, {}), after.get("datasets", {}).get(dataset, {})
        out += [
            f"_archive/{dataset}/month={m}" for m in sorted(set(old) | set(new)) if old.get(m) != new.get(m)
        ]
    return out


def named_files(manifest: dict) -> set[str]:
    """The files a manifest names: each live month's file and its parts list."""
    return {
        name
        for months in manifest.get("datasets", {}).values()
        for entry in months.values()
        for name in (entry.get("file"), entry.get("parts_file"))
        if name
    }


def snapshot_of(source: Path) -> Path:
    """The snapshot a path names: a snapshot folder itself, or a backup folder (its latest)."""
    if (source / INDEX).is_file():
        return source
    try:
        name = (source / LATEST).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise BackupError(
            f"「{source}」にバックアップが見つかりません（{LATEST} も {INDEX} もありません）。", 2
        ) from None
    if not SNAPSHOT.fullmatch(name) or not (source / name / INDEX).is_file():
        raise BackupError(f"「{source / LATEST}」が指すバックアップ（{name[:40]}）が見つかりません。")
    return source / name


def read_index(snapshot: Path) -> dict:
    try:
        index = json.loads((snapshot / INDEX).read_text(encoding="utf-8"))
        if not isinstance(index.get("files"), dict):
            raise ValueError
    except (OSError, ValueError, AttributeError):
        raise BackupError(
            f"バックアップの目録（{snapshot / INDEX}）を読めません。このバックアップは使えません。"
        ) from None
    return index


def _latest(dest: Path) -> tuple[Path, dict] | None:
    """The previous whole snapshot and its index, if there is a usable one."""
    try:
        snapshot = snapshot_of(dest)
        return snapshot, read_index(snapshot)
    except BackupError:
        return None


@dataclass
class BackupResult:
    snapshot: Path
    files: int = 0
    copied: int = 0  # written anew
    copied_bytes: int = 0
    unchanged: int = 0  # the same size and SHA-256 as in the previous snapshot: linked, not copied
    damaged: list[str] = field(default_factory=list)  # store files not as committed (kept as found)
    private: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    data_version: int = 0


def _link(shared: Path, dst: Path, source: Path) -> None:
    """dst as a hard link to the previous snapshot's file; a copy where links are not possible."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(shared, dst)
    except OSError:  # a file system without hard links (FAT, some network shares)
        copy_file(source, dst, mode=BACKED_UP_MODE, durable=False)


def _name(dest: Path, now: dt.datetime) -> str:
    base = now.strftime("%Y-%m-%d_%H%M%S")
    name, n = base, 1
    while (dest / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def backup(
    store: Store,
    dest: Path,
    *,
    private: dict[str, Path] | None = None,
    keep: int = KEEP,
    now: dt.datetime | None = None,
) -> BackupResult:
    """A new snapshot of the store under dest (see the module's doc); `private`: files kept
    beside the data (name in the backup -> where it is), copied owner-only when they exist;
    `keep`: how many snapshots to keep (the oldest beyond it are removed, after the new one
    is whole). Damaged store files are kept as found and named in the result."""
    dest = Path(dest)
    root = store.root.resolve()
    if dest.resolve() == root or dest.resolve().is_relative_to(root):
        raise BackupError(
            "バックアップ先がデータフォルダの中です。別のディスクかフォルダを指定してください。", 2
        )
    if not store.manifest_path.exists():
        raise BackupError(f"データフォルダ「{store.root}」にはまだ何も登録されていません。")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)  # the users file holds password hashes
    for stale in dest.glob(".partial-*"):  # a backup cut short: the last whole one is still `latest`
        shutil.rmtree(stale, ignore_errors=True)
    previous = _latest(dest)
    before = previous[1]["files"] if previous else {}
    name = _name(dest, now or dt.datetime.now())
    work = dest / f".partial-{name}"
    work.mkdir(mode=0o700)
    result = BackupResult(dest / name)
    files: dict[str, dict] = {}

    def place(rel: str, recorded: Recorded) -> None:
        src, key = store.root / rel, f"{DATA}/{rel}"
        info = os.stat(src)
        ident = [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
        if key in files and files[key]["id"] == ident:
            return  # placed in the first pass and not changed since
        old, target = before.get(key), work / key
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        if old and old.get("id") == ident:  # the very file of the last backup, checked then
            _link(previous[0] / key, target, src)
            files[key] = {k: v for k, v in old.items() if k != "id"} | {"id": ident}
            result.unchanged += 1
            if old.get("damaged"):
                result.damaged.append(rel)
            return
        if old and old["size"] == info.st_size and file_sha256(src) == old["sha256"]:
            _link(previous[0] / key, target, src)
            files[key] = {"size": old["size"], "sha256": old["sha256"], "id": ident}
            result.unchanged += 1
        else:
            size, sha = copy_file(src, target, mode=BACKED_UP_MODE, durable=False)
            files[key] = {"size": size, "sha256": sha, "id": ident}
            result.copied, result.copied_bytes = result.copied + 1, result.copied_bytes + size
        expected = recorded(rel)
        if expected and files[key]["sha256"] != expected:
            if old and old["sha256"] == expected:  # the last backup has it as committed: keep that
                target.unlink()
                _link(previous[0] / key, target, src)
                files[key] = {"size": old["size"], "sha256": old["sha256"], "id": ident}
            else:
                files[key]["damaged"] = True
                result.damaged.append(rel)

    try:
        # first, outside the lock (uploads go on): the archive, which never changes
        first = store.manifest()  # read before the listing: a commit after it shows in the next
        recorded = Recorded(store.root, first)
        for rel in store_files(store.root, ("_archive",)):
            with contextlib.suppress(FileNotFoundError):  # a superseded composed month tidied away
                place(rel, recorded)
        # then, under the writer lock (kept short): the months committed since, the mappings,
        # the audit log, the manifest
        with store.lock():
            store.finish_interrupted_commits()
            manifest_bytes = store.manifest_path.read_bytes()
            manifest = json.loads(manifest_bytes)
            recorded = Recorded(store.root, manifest)
            changed = month_dirs(first, manifest)
            for rel in store_files(store.root, (*changed, "_mappings", "_settings")):
                place(rel, recorded)
            listed = set(store_files(store.root, (*changed, "_mappings", "_settings")))
            for key in [k for k in files if k.startswith(tuple(f"{DATA}/{d}/" for d in changed))]:
                if key.removeprefix(f"{DATA}/") not in listed:  # tidied away meanwhile
                    del files[key]
                    (work / key).unlink()
            if (store.root / AUDIT).exists():
                # appended outside the lock when an upload is refused: up to its last whole line
                data = (store.root / AUDIT).read_bytes()
                _place_bytes(work, f"{DATA}/{AUDIT}", data[: data.rfind(b"\n") + 1], files, before, previous)
            _place_bytes(work, f"{DATA}/{MANIFEST}", manifest_bytes, files, before, previous)
        for label, path in (private or {}).items():
            if path.is_file():
                size, sha = copy_file(path, work / PRIVATE / label, mode=PRIVATE_MODE, durable=False)
                files[f"{PRIVATE}/{label}"] = {"size": size, "sha256": sha}
                result.private.append(label)
        index = {
            "format": 1,
            "created_at": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
            "source": str(store.root.resolve()),
            "data_version": int(manifest.get("data_version", 0)),
            "private": result.private,
            "damaged": result.damaged,
            "files": files,
        }
        write_atomic(work / INDEX, json.dumps(index, ensure_ascii=False, indent=1).encode(), mode=0o444)
        os.sync()  # every file on disk before the snapshot becomes visible
        os.rename(work, result.snapshot)
        fsync_dir(dest)
        write_atomic(dest / LATEST, f"{name}\n".encode(), mode=0o644)  # the last step
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.files, result.data_version = len(files), index["data_version"]
    result.pruned = prune(dest, keep, name)
    return result


def _place_bytes(work: Path, key: str, data: bytes, files: dict, before: dict, previous) -> None:
    """A file read whole under the lock (the manifest, the audit log): linked when the
    previous snapshot has the same bytes."""
    sha = hashlib.sha256(data).hexdigest()
    old, target = before.get(key), work / key
    target.parent.mkdir(parents=True, exist_ok=True)
    files[key] = {"size": len(data), "sha256": sha}
    if old and old["sha256"] == sha and old["size"] == len(data):
        with contextlib.suppress(OSError):
            os.link(previous[0] / key, target)
            return
    write_atomic(target, data, mode=BACKED_UP_MODE)


def prune(dest: Path, keep: int, latest: str) -> list[str]:
    """Remove the oldest snapshots beyond `keep` (never the latest). A file they share with
    the snapshots kept stays (hard links)."""
    if keep <= 0:
        return []
    names = sorted(p.name for p in dest.iterdir() if p.is_dir() and SNAPSHOT.fullmatch(p.name))
    gone = [n for n in names[:-keep] if n != latest]
    for n in gone:
        shutil.rmtree(dest / n)
    return gone


@dataclass
class RestoreResult:
    target: Path
    snapshot: Path
    created_at: str
    files: int
    months: int
    versions: int
    private: list[str]
    aside: Path | None  # where the target's previous contents were moved (--force)
    damaged_before: list[str]  # store files already damaged when the backup was taken


def restore(
    source: Path,
    target: Path,
    *,
    private: dict[str, Path] | None = None,
    force: bool = False,
    user: str = "restore",
) -> RestoreResult:
    """Rebuild a data folder from a snapshot (a backup folder's latest, or the snapshot folder
    given): every file is copied into a folder beside the target and checked against the
    snapshot's list (size, SHA-256) and each month's file against the manifest; then the live
    month files are written, and only then the folder is renamed into place. A damaged or
    missing file stops the restore, naming every such file, with nothing written where it
    was asked to go. `private`: name in the backup -> where to put it (the users file, and the
    cookie key when the backup has it)."""
    snapshot = snapshot_of(Path(source))
    index = read_index(snapshot)
    target, private = Path(target), private or {}
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not force:
        raise BackupError(
            f"復元先「{target}」は空ではありません。空のフォルダか、まだないフォルダを指定してください"
            f"（--force を付けると、今の中身を「{target.name}.before-restore-…」に移して残し、そこへ復元します）。",
            2,
        )
    for label, path in private.items():
        rec = index["files"].get(f"{PRIVATE}/{label}")
        if rec and path.exists() and not force and file_sha256(path) != rec["sha256"]:
            raise BackupError(
                f"「{path}」はすでにあり、バックアップのものと違います。上書きしてよければ --force を付けてください。",
                2,
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.restoring-*"):  # a restore cut short
        shutil.rmtree(stale, ignore_errors=True)
    work = target.parent / f".{target.name}.restoring-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        damaged = []
        for key, rec in sorted(index["files"].items()):
            mode = PRIVATE_MODE if key.startswith(f"{PRIVATE}/") else 0o644
            if key.startswith(f"{DATA}/_archive/"):
                mode = ARCHIVED_MODE
            try:
                size, sha = copy_file(snapshot / key, work / key, mode=mode, durable=False)
            except FileNotFoundError:
                damaged.append(f"{key}（ファイルがありません）")
                continue
            if size != rec.get("size") or sha != rec.get("sha256"):
                damaged.append(f"{key}（SHA-256 が目録と違います）")
        manifest = {}
        if not damaged:
            try:
                manifest = json.loads((work / DATA / MANIFEST).read_bytes())
            except (OSError, ValueError):
                damaged.append(f"{DATA}/{MANIFEST}（読めません）")
        known_damaged = set(index.get("damaged") or [])
        for months in manifest.get("datasets", {}).values():
            for entry in months.values():
                rec = index["files"].get(f"{DATA}/{entry['file']}")
                if rec is None:
                    damaged.append(f"{DATA}/{entry['file']}（バックアップにありません）")
                elif rec["sha256"] != entry["sha256"] and entry["file"] not in known_damaged:
                    damaged.append(f"{DATA}/{entry['file']}（マニフェストの SHA-256 と違います）")
                if entry.get("parts_file") and f"{DATA}/{entry['parts_file']}" not in index["files"]:
                    damaged.append(f"{DATA}/{entry['parts_file']}（バックアップにありません）")
        if damaged:
            raise BackupError(
                f"バックアップ「{snapshot}」のファイルが壊れているか、足りません:\n"
                + "\n".join(f"  {d}" for d in damaged)
                + f"\n復元を中止しました（「{target}」には何も書き込んでいません）。別の日のバックアップ"
                f"（{snapshot.parent} の日付のフォルダ）を --from に指定してください。"
            )
        store = Store(work / DATA)
        months = 0
        for dataset, entries in manifest["datasets"].items():
            for month, entry in entries.items():
                publish_copy(store.root / entry["file"], store.live_path(dataset, month), durable=False)
                months += 1
        store.audit(
            {
                "action": "backup-restore",
                "outcome": "committed",
                "user": user,
                "backup": snapshot.name,
                "backup_created_at": index.get("created_at"),
                "data_version": manifest.get("data_version"),
            }
        )
        os.sync()
        restored = []
        for label, path in private.items():
            if (work / PRIVATE / label).exists():
                write_atomic(path, (work / PRIVATE / label).read_bytes(), mode=PRIVATE_MODE)
                restored.append(label)
        aside = None
        if target.exists():
            if target.is_dir() and not any(target.iterdir()):
                target.rmdir()
            else:
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                os.rename(target, aside)
        os.rename(work / DATA, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    versions = sum(
        1 for k in index["files"] if re.fullmatch(rf"{DATA}/_archive/[^/]+/month=[^/]+/v[^/]*\.parquet", k)
    )
    return RestoreResult(
        target,
        snapshot,
        index.get("created_at", ""),
        len(index["files"]),
        months,
        versions,
        restored,
        aside,
        sorted(known_damaged),
    )
