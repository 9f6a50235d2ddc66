"""The snapshot store: one live Parquet file per dataset and month, every version kept.

Layout under the data dir (see docs/contract.md):

    <dataset>/month=YYYY-MM/data.parquet     the live month, for any Parquet tool
    _archive/<dataset>/month=YYYY-MM/<version>.parquet (+ .json once committed)
                                             every version ever committed, never changed
    _manifest.json                           which version of each month is live
    _audit/uploads.jsonl                     every upload attempt and restore
    _pending/<version>.json                  a commit under way (removed when whole)
    _staging/                                half-written files (never *.parquet)

The manifest is the commit point: it is replaced atomically, and the app reads the
immutable archive files it names, so a page never sees a half-written or mixed month.
The live file under <dataset>/ is a hard link to the archive file, swapped in with an
atomic rename, so `read_parquet('<dataset>/*/*.parquet', hive_partitioning = true)` also
sees exactly one whole version per month — the live one, except after a crash between the
manifest and the swap, when it may show the previous version until the next writer (or
`finish_interrupted_commits()`) finishes the swap. A crash at any point leaves either the old
or the new manifest; `finish_interrupted_commits()` finishes or records what a crash cut short.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tsunagu.store.files import fsync_dir, write_atomic

MANIFEST = "_manifest.json"
LIVE_NAME = "data.parquet"
FORMAT = 1


class StoreError(Exception):
    """A store-level refusal (e.g. real data into the demo store), said in Japanese."""


@dataclass(frozen=True)
class Version:
    dataset: str
    month: str
    version: str
    file: str  # relative to the data dir
    rows: int
    sha256: str  # of the Parquet file
    committed_at: str
    user: str
    source_name: str
    # committed, but what follows the commit point (sidecar, live link, audit line) failed
    # with this error: the next writer finishes it from the _pending marker
    unfinished: str | None = None

    def unfinished_note(self) -> str | None:
        """What to tell the user when the tidying after the commit failed (the month is live)."""
        if not self.unfinished:
            return None
        return (
            f"保存の後片付けの途中で問題が起きました（{self.unfinished}）。"
            "次の登録のときに自動で仕上がります。続くようなら管理者に連絡してください。"
        )


ENTRY_KEYS = ("version", "file", "rows", "sha256", "committed_at", "user", "source_name")
AUDIT_SKIP = {
    "dataset",
    "month",
    "version",
    "file",
    "rows",
    "user",
    "source_name",
    "source_sha256",
    "sha256",
    "committed_at",
    "action",
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


CHECKSUM_MISMATCH = "登録したときとチェックサム（SHA-256）が違います"
_verified: dict[str, tuple[tuple, str | None]] = {}  # path -> (file identity, reason or None)
_verified_lock = threading.Lock()


def verify(path: Path, sha256: str | None) -> str | None:
    """Why the file is not the one committed (missing, or other bytes), or None if it is.

    A damaged Parquet file may still parse (changed IDs read as other IDs) or may abort the
    process inside the reader, so the checksum is checked before any read. Hashed once per
    file identity: a file whose inode, size, mtime and ctime are unchanged is not hashed
    again (ctime cannot be set back by a tool that restores mtime)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "ファイルがありません"
    except OSError as e:
        return f"ファイルを開けません（{e.strerror}）"
    if not sha256:
        return None  # nothing recorded to compare with
    key = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, sha256)
    with _verified_lock:
        known = _verified.get(str(path))
    if known is not None and known[0] == key:
        return known[1]
    try:
        reason = None if file_sha256(path) == sha256 else CHECKSUM_MISMATCH
    except OSError as e:
        reason = f"ファイルを読めません（{e.strerror}）"
    with _verified_lock:
        _verified[str(path)] = (key, reason)
    return reason


def damaged_message(dataset: str, month: str, file: str, error: Exception | str) -> str:
    """Which stored file is damaged, in Japanese, with what to do."""
    from tsunagu.contract.schema import DATASETS

    label = DATASETS[dataset].label if dataset in DATASETS else dataset
    return (
        f"保存されている「{label}」{month} のファイル（{file}）が壊れているか見つからないため、"
        f"読み込めません（{str(error).splitlines()[0][:160]}）。管理者は `python -m tsunagu check` で確かめ、"
        "`python -m tsunagu check --repair` で前の版に戻すか、この月をもう一度登録してください。"
    )


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Polars reports a full disk (ENOSPC) or a file-size limit (EFBIG) as its own error;
    raise it as the OSError it is, so the caller refuses cleanly instead of crashing."""
    try:
        frame.write_parquet(path, compression="zstd", statistics=True)
    except pl.exceptions.PolarsError as e:
        found = re.search(r"os error (\d+)", str(e))
        code = int(found.group(1)) if found else errno.EIO
        raise OSError(code, os.strerror(code)) from e


def new_version_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"v{stamp}-{secrets.token_hex(3)}"


class Store:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # paths
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def audit_path(self) -> Path:
        return self.root / "_audit" / "uploads.jsonl"

    @property
    def staging(self) -> Path:
        return self.root / "_staging"

    @property
    def pending(self) -> Path:
        return self.root / "_pending"

    def live_path(self, dataset: str, month: str) -> Path:
        return self.root / dataset / f"month={month}" / LIVE_NAME

    def archive_dir(self, dataset: str, month: str) -> Path:
        return self.root / "_archive" / dataset / f"month={month}"

    # reading
    def manifest(self) -> dict:
        try:
            with open(self.manifest_path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {"format": FORMAT, "data_version": 0, "demo": False, "datasets": {}}

    def data_version(self) -> int:
        return int(self.manifest().get("data_version", 0))

    def is_demo(self) -> bool:
        return bool(self.manifest().get("demo"))

    def months(self, dataset: str, manifest: dict | None = None) -> list[str]:
        m = manifest or self.manifest()
        return sorted(m["datasets"].get(dataset, {}))

    def latest_month(self, dataset: str, before: str | None = None) -> str | None:
        months = [m for m in self.months(dataset) if before is None or m < before]
        return months[-1] if months else None

    def live_files(self, dataset: str, manifest: dict | None = None) -> list[Path]:
        m = manifest or self.manifest()
        entries = m["datasets"].get(dataset, {})
        return [self.root / entries[month]["file"] for month in sorted(entries)]

    def read_month(self, dataset: str, month: str) -> pl.DataFrame | None:
        entry = self.manifest()["datasets"].get(dataset, {}).get(month)
        if entry is None:
            return None
        return self._read_parquet(dataset, month, entry["file"], entry.get("sha256"))

    def _read_parquet(self, dataset: str, month: str, file: str, sha256: str | None) -> pl.DataFrame:
        """A stored file, or a StoreError naming it when it is damaged or missing: its
        checksum is checked first, so changed bytes are caught even where they would parse."""
        reason = verify(self.root / file, sha256)
        if reason:
            raise StoreError(damaged_message(dataset, month, file, reason))
        try:
            return pl.read_parquet(self.root / file)
        except (pl.exceptions.PolarsError, OSError) as e:
            raise StoreError(damaged_message(dataset, month, file, e)) from None

    def current(self, dataset: str, month: str) -> dict | None:
        return self.manifest()["datasets"].get(dataset, {}).get(month)

    def versions(self, dataset: str, month: str) -> list[dict]:
        """Every committed version of a month, oldest first, with which one is live."""
        live = (self.current(dataset, month) or {}).get("version")
        out = []
        for meta_path in sorted(self.archive_dir(dataset, month).glob("v*.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            out.append(meta | {"live": meta["version"] == live})
        return out

    def history(self, dataset: str | None = None) -> list[dict]:
        try:
            lines = self.audit_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash mid-append; the rest is still good
            if dataset is None or rec.get("dataset") == dataset:
                records.append(rec)
        return records

    # writing
    @contextlib.contextmanager
    def lock(self):
        """One writer at a time, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "_lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def audit(self, record: dict) -> None:
        self.audit_path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": _now(), **record}, ensure_ascii=False) + "\n"
        with open(self.audit_path, "a+b") as f:
            # a crash mid-append leaves a line without its newline: end it, or this record
            # would be glued to the torn one and lost with it
            end = f.seek(0, os.SEEK_END)
            if end:
                f.seek(end - 1)
                if f.read(1) != b"\n":
                    line = "\n" + line  # (an empty line, if another writer raced us, is skipped)
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

    def _write_manifest(self, manifest: dict) -> None:
        data = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
        write_atomic(self.manifest_path, data, tmp_dir=self.staging)

    def _publish(self, dataset: str, month: str, archive_file: Path) -> None:
        """Point <dataset>/month=M/data.parquet at the archive file with one atomic rename."""
        live = self.live_path(dataset, month)
        live.parent.mkdir(parents=True, exist_ok=True)
        tmp = live.parent / f".{LIVE_NAME}.{secrets.token_hex(4)}.tmp"  # outside the glob
        try:
            try:
                os.link(archive_file, tmp)
            except OSError:
                shutil.copyfile(archive_file, tmp)  # a file system without hard links
            os.replace(tmp, live)
            fsync_dir(live.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def commit(
        self,
        dataset: str,
        month: str,
        frame: pl.DataFrame,
        *,
        user: str,
        source_name: str,
        source_sha256: str,
        demo: bool = False,
        extra: dict | None = None,
    ) -> tuple[Version, dict | None]:
        """Store a validated month. Returns (the new version, the replaced entry or None)."""
        extra = dict(extra or {})
        action = extra.pop("action", "ingest")
        with self.lock():
            self.finish_interrupted_commits()
            manifest = self.manifest()
            has_data = any(manifest["datasets"].values())
            if manifest.get("demo") and not demo:
                raise StoreError(
                    "このデータフォルダにはデモデータが入っています。実データと混ざらないよう登録を中止しました。"
                    "実データは別のフォルダ（--data-dir か環境変数 TSUNAGU_DATA_DIR）に登録してください。"
                )
            if demo and has_data and not manifest.get("demo"):
                raise StoreError(
                    "このデータフォルダには実データが入っています。デモデータは別のフォルダに作成してください。"
                )
            version = new_version_id()
            adir = self.archive_dir(dataset, month)
            final = adir / f"{version}.parquet"
            meta = {
                "dataset": dataset,
                "month": month,
                "version": version,
                "file": str(final.relative_to(self.root)),
                "rows": frame.height,
                "user": user,
                "source_name": source_name,
                "source_sha256": source_sha256,
                "action": action,
                **extra,
            }
            # the marker says "a commit of this version was under way" until it is whole
            self._write_json(self.pending / f"{version}.json", meta)
            adir.mkdir(parents=True, exist_ok=True)
            tmp = self.staging / f"{version}.tmp"
            try:
                write_parquet(frame, tmp)
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
                meta["sha256"] = file_sha256(tmp)
                os.replace(tmp, final)
                fsync_dir(adir)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            meta["committed_at"] = _now()
            replaced = manifest["datasets"].get(dataset, {}).get(month)
            new = json.loads(json.dumps(manifest))
            new["format"] = FORMAT
            new["demo"] = bool(demo or manifest.get("demo"))
            new["data_version"] = int(manifest.get("data_version", 0)) + 1
            new["datasets"].setdefault(dataset, {})[month] = {k: meta[k] for k in ENTRY_KEYS}
            self._write_manifest(new)  # the commit point: from here on the new version is live
            unfinished = None
            try:
                self._finish(meta, replaced["version"] if replaced else None, audited=set())
            except OSError as e:  # a refusal now would say the old data stayed, which is untrue
                unfinished = e.strerror or str(e)
            entry = {k: meta[k] for k in ENTRY_KEYS}
            return Version(**entry, dataset=dataset, month=month, unfinished=unfinished), replaced

    def _write_json(self, path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode(), tmp_dir=self.staging)

    def _finish(self, meta: dict, replaced: str | None, audited: set, recovered: bool = False):
        """Everything after the commit point; safe to run again after a crash."""
        dataset, month, version = meta["dataset"], meta["month"], meta["version"]
        sidecar = self.archive_dir(dataset, month) / f"{version}.json"
        if not sidecar.exists():
            self._write_json(sidecar, meta)  # a sidecar marks a committed version
        self._publish(dataset, month, self.root / meta["file"])
        if version not in audited:
            self.audit(
                {
                    "action": meta.get("action", "ingest"),
                    "outcome": "committed (recovered)" if recovered else "committed",
                    "dataset": dataset,
                    "month": month,
                    "user": meta["user"],
                    "file_name": meta["source_name"],
                    "sha256": meta["source_sha256"],
                    "rows": meta["rows"],
                    "version": version,
                    "replaced_version": replaced,
                    **{k: v for k, v in meta.items() if k not in AUDIT_SKIP},
                }
            )
        with contextlib.suppress(FileNotFoundError):
            (self.pending / f"{version}.json").unlink()

    def restore(self, dataset: str, month: str, version: str, *, user: str) -> Version:
        """Make a kept version live again; recorded in the audit log, nothing deleted."""
        sidecar = self.archive_dir(dataset, month) / f"{version}.json"
        if not sidecar.exists():
            raise StoreError(f"{dataset} の {month} に版「{version}」はありません。")
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        frame = self._read_parquet(dataset, month, meta["file"], meta.get("sha256"))
        info, _ = self.commit(
            dataset,
            month,
            frame,
            user=user,
            source_name=meta.get("source_name", ""),
            source_sha256=meta.get("source_sha256", ""),
            demo=self.is_demo(),
            extra={"action": "restore", "restored_version": version},
        )
        return info

    def finish_interrupted_commits(self) -> list[str]:
        """Finish or record commits a crash cut short. Call under lock().

        Each commit leaves a marker in _pending/ until it is whole, so only those are looked
        at: a commit whose version the manifest names is finished (sidecar, live link,
        audit); any other is recorded as interrupted, its files kept but never live.
        """
        done: list[str] = []
        if self.staging.exists():
            for leftover in self.staging.iterdir():
                leftover.unlink()
                done.append(f"removed {leftover.name}")
        markers = sorted(self.pending.glob("*.json")) if self.pending.exists() else []
        if not markers:
            return done
        manifest = self.manifest()
        audited = {r.get("version") for r in self.history() if r.get("version")}
        for marker in markers:
            try:
                meta = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                marker.unlink()
                continue
            dataset, month, version = meta["dataset"], meta["month"], meta["version"]
            entry = manifest["datasets"].get(dataset, {}).get(month, {})
            for stray in self.live_path(dataset, month).parent.glob(".*.tmp"):
                stray.unlink()
            if entry.get("version") == version:
                self._finish(meta | {k: entry[k] for k in ENTRY_KEYS}, None, audited, recovered=True)
                done.append(f"finished {dataset} {month} {version}")
            else:
                if version not in audited:
                    self.audit(
                        {
                            "action": meta.get("action", "ingest"),
                            "outcome": "interrupted",
                            "dataset": dataset,
                            "month": month,
                            "user": meta.get("user"),
                            "file_name": meta.get("source_name"),
                            "rows": meta.get("rows"),
                            "version": version,
                        }
                    )
                marker.unlink()
                done.append(f"interrupted {dataset} {month} {version}")
        return done
