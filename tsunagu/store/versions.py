"""The snapshot store: one live Parquet file per dataset and month, every version kept.

An upload replaces, for its dataset and month, only the municipalities it covers (a
prefecture's councils each upload their own month). A version is one upload as it was
validated, covering one or more municipalities; each municipality's month ("part") points
at the version it came from; the month file is the whole month: the version itself when one
version covers the month, else the parts composed into one file (rewritten from the previous
month file and the new rows, so a nation of small uploads still loads as one file a month).

Layout under the data dir (see docs/contract.md):

    <dataset>/month=YYYY-MM/data.parquet     the live month, for any Parquet tool (its own copy)
    _archive/<dataset>/month=YYYY-MM/<version>.parquet (+ .json once committed)
                                             every version ever committed, never changed (0444)
    _archive/<dataset>/month=YYYY-MM/_composed/<id>.parquet
                                             a month composed of several versions
    _archive/<dataset>/month=YYYY-MM/_parts/<id>.json
                                             which version each municipality's month is
    _manifest.json                           which version of each municipality's month is live
    _audit/uploads.jsonl                     every upload attempt and restore
    _pending/<version>.json                  a commit under way (removed when whole)
    _staging/                                half-written files (never *.parquet)

The manifest is the commit point: it is replaced atomically, and the app reads the
immutable archive files it names, so a page never sees a half-written or mixed month.
The live file under <dataset>/ is a copy of the archive file (written beside it under a
name no glob matches, then swapped in with an atomic rename): not a hard link, so a tool that
rewrites data.parquet in place cannot change the kept version (`check` finds such a live file
and `check --repair` copies it again from the archive). So `read_parquet('<dataset>/*/*.parquet', hive_partitioning = true)` also
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

from tsunagu.contract.issues import os_reason
from tsunagu.store.files import fsync_dir, write_atomic

MANIFEST = "_manifest.json"
ARCHIVED_MODE = 0o444  # an archived file is never written again: read-only, for every tool
LIVE_NAME = "data.parquet"
FORMAT = 2  # 1: one upload replaced a whole month; 2: parts per municipality (migrate.py)
COMPOSED = "_composed"
PARTS = "_parts"
_parts_cache: dict[str, dict] = {}
_parts_lock = threading.Lock()
KEEP_COMPOSED_SECONDS = 600  # a page that read the manifest just before may still open the old one

Municipality = tuple[str, str]


def muni_key(prefecture: str, municipality: str) -> str:
    """A municipality's key in the manifest (names repeat across prefectures)."""
    return f"{prefecture}/{municipality}"


def covered(frame: pl.DataFrame) -> list[Municipality]:
    """The municipalities a frame's rows name, in the order they first appear."""
    if frame.height == 0 or "municipality" not in frame.columns:
        return []
    return [
        (p, m)
        for p, m in frame.select("prefecture", "municipality").unique(maintain_order=True).iter_rows()
        if m is not None
    ]


def rows_per_municipality(frame: pl.DataFrame) -> dict[str, int]:
    """Each municipality's row count, by its manifest key (muni_key)."""
    if frame.height == 0:
        return {}
    return dict(
        frame.group_by("prefecture", "municipality")
        .len()
        .select(
            pl.concat_str([pl.col("prefecture").fill_null(""), pl.lit("/"), pl.col("municipality")]),
            "len",
        )
        .iter_rows()
    )


def _of(frame: pl.DataFrame, munis: list[Municipality] | set, keep: bool = True) -> pl.DataFrame:
    """The rows of (keep) or outside (not keep) the given municipalities."""
    keys = [muni_key(p, m) for p, m in munis]
    k = pl.concat_str([pl.col("prefecture").fill_null(""), pl.lit("/"), pl.col("municipality")])
    return frame.filter(k.is_in(keys) if keep else ~k.is_in(keys))


class OldStoreError(Exception):
    """The data folder was written before uploads were kept per municipality."""

    def __init__(self, root: Path):
        super().__init__(
            f"データフォルダ（{root}）は以前の形式のままです。"
            f"`python -m tsunagu migrate --data-dir {root}` を一度実行して、"
            "市町村ごとに登録を保管する新しい形式に移してください（前の版はすべて残ります）。"
        )


class StoreError(Exception):
    """A store-level refusal (e.g. real data into the demo store), said in Japanese."""

    def __init__(self, message: str, month: str | None = None):
        super().__init__(message)
        self.month = month  # the month of a damaged file, when that is the refusal


class ConflictError(StoreError):
    """Someone else saved a municipality's month after the saver started from it (optimistic
    concurrency): nothing was written. `changed`: each such municipality's live part now (who,
    when, which version; None when its month was removed); `current`: the versions now."""

    def __init__(self, dataset: str, month: str, changed: dict[str, dict | None], current: dict):
        from tsunagu.contract.fmt import jst
        from tsunagu.contract.schema import DATASETS
        from tsunagu.contract.wareki import month_label

        self.dataset, self.changed, self.current = dataset, changed, current
        label = DATASETS[dataset].label if dataset in DATASETS else dataset
        who = "、".join(
            f"{key.split('/', 1)[-1]}: {part.get('user') or '不明'}さんが{jst(part.get('committed_at'))}に保存"
            if part
            else f"{key.split('/', 1)[-1]}: 取り消されました"
            for key, part in changed.items()
        )
        super().__init__(
            f"あなたが編集を始めた後に、ほかの人が「{label}」{month_label(month)}を保存しました（{who}）。"
            "上書きしないよう、保存を中止しました（何も書き換えていません）。",
            month,
        )


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
    municipalities: tuple[Municipality, ...] = ()

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
    "municipalities",
    "month_version",
    "month_file",
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
        return f"ファイルを開けません（{os_reason(e)}）"
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
        reason = f"ファイルを読めません（{os_reason(e)}）"
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


def geo_metadata(frame: pl.DataFrame) -> dict[str, str] | None:
    """GeoParquet's "geo" key for a frame with shapes: the contract's only binary columns are
    WKB geometry in WGS84 longitude/latitude (GeoParquet's default CRS, OGC:CRS84), so GIS tools
    (GeoPandas, QGIS, GDAL) read the stored boundaries as shapes."""
    shapes = [c for c, t in frame.schema.items() if t == pl.Binary]
    if not shapes:
        return None
    columns = {c: {"encoding": "WKB", "geometry_types": ["Polygon", "MultiPolygon"]} for c in shapes}
    return {"geo": json.dumps({"version": "1.1.0", "primary_column": shapes[0], "columns": columns})}


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Polars reports a full disk (ENOSPC) or a file-size limit (EFBIG) as its own error;
    raise it as the OSError it is, so the caller refuses cleanly instead of crashing."""
    try:
        frame.write_parquet(path, compression="zstd", statistics=True, metadata=geo_metadata(frame))
    except pl.exceptions.PolarsError as e:
        found = re.search(r"os error (\d+)", str(e))
        code = int(found.group(1)) if found else errno.EIO
        raise OSError(code, os.strerror(code)) from e


def new_version_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"v{stamp}-{secrets.token_hex(3)}"


def publish_copy(source: Path, live: Path, durable: bool = True) -> None:
    """Copy `source` to `live` whole: written beside it under a name no *.parquet glob
    matches, fsynced, renamed over (readers see the old file or the new one, never half).
    `durable=False`: not fsynced (a caller writing many syncs once when done)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    tmp = live.parent / f".{live.name}.{secrets.token_hex(4)}.tmp"
    try:
        shutil.copyfile(source, tmp)
        if durable:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, live)
        if durable:
            fsync_dir(live.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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

    def is_old(self, manifest: dict | None = None) -> bool:
        """Written before uploads were kept per municipality (run migrate)."""
        m = manifest or self.manifest()
        return int(m.get("format", 1)) < FORMAT and bool(m.get("datasets"))

    def check_format(self, manifest: dict | None = None) -> None:
        if self.is_old(manifest):
            raise OldStoreError(self.root)

    def data_version(self) -> int:
        return int(self.manifest().get("data_version", 0))

    def is_demo(self) -> bool:
        return bool(self.manifest().get("demo"))

    def months(
        self, dataset: str, manifest: dict | None = None, municipality: Municipality | None = None
    ) -> list[str]:
        """Months with a live upload (of the municipality, if given)."""
        entries = (manifest or self.manifest())["datasets"].get(dataset, {})
        if municipality is None:
            return sorted(entries)
        key = muni_key(*municipality)
        return sorted(m for m, e in entries.items() if key in self.entry_parts(e))

    def latest_month(self, dataset: str, before: str | None = None) -> str | None:
        months = [m for m in self.months(dataset) if before is None or m < before]
        return months[-1] if months else None

    def live_files(self, dataset: str, manifest: dict | None = None) -> list[Path]:
        m = manifest or self.manifest()
        entries = m["datasets"].get(dataset, {})
        return [self.root / entries[month]["file"] for month in sorted(entries)]

    def parts(self, dataset: str, month: str, manifest: dict | None = None) -> dict[str, dict]:
        """Each municipality's live part of the month, by muni_key."""
        entry = (manifest or self.manifest())["datasets"].get(dataset, {}).get(month) or {}
        return self.entry_parts(entry)

    def entry_parts(self, entry: dict) -> dict[str, dict]:
        """The parts of a month entry: kept in their own immutable file beside the month (so
        the manifest stays small at nation scale), read once per process."""
        name = entry.get("parts_file")
        if not name:
            return {}
        path = str(self.root / name)
        with _parts_lock:
            known = _parts_cache.get(path)
        if known is None:
            with open(path, encoding="utf-8") as f:
                known = json.load(f)
            with _parts_lock:
                if len(_parts_cache) > 64:  # at nation scale a parts list parses to a few MB
                    _parts_cache.clear()
                _parts_cache[path] = known
        return known

    def municipalities(self, manifest: dict | None = None) -> list[Municipality]:
        """Every municipality with areas in the store (no other upload is possible without),
        in upload order."""
        seen: dict[Municipality, None] = {}
        months = (manifest or self.manifest())["datasets"].get("areas", {})
        for month in sorted(months):
            for part in self.entry_parts(months[month]).values():
                seen.setdefault((part["prefecture"], part["municipality"]))
        return list(seen)

    def read_month(
        self, dataset: str, month: str, municipalities: list[Municipality] | None = None
    ) -> pl.DataFrame | None:
        """The live month (only the given municipalities' rows, if given)."""
        entry = self.manifest()["datasets"].get(dataset, {}).get(month)
        if entry is None:
            return None
        frame = self._read_parquet(dataset, month, entry["file"], entry.get("sha256"))
        return frame if municipalities is None else _of(frame, municipalities)

    def month_versions(
        self, dataset: str, month: str, municipalities: list[Municipality], manifest: dict | None = None
    ) -> dict[str, str | None]:
        """The version each municipality's month is now (None: none yet), by muni_key: what an
        editor starts from, and gives back to commit(expected=...) when saving."""
        parts = self.parts(dataset, month, manifest)
        return {
            muni_key(*m): (parts[muni_key(*m)]["version"] if muni_key(*m) in parts else None)
            for m in municipalities
        }

    def current_areas(self, manifest: dict | None = None) -> pl.DataFrame | None:
        """Each municipality's own latest areas upload, together: what validates uploads."""
        manifest = manifest or self.manifest()
        taken: set[str] = set()
        frames = []
        for month in reversed(self.months("areas", manifest)):
            entry = manifest["datasets"]["areas"][month]
            parts = self.entry_parts(entry)
            wanted = [k for k in parts if k not in taken]
            if not wanted:
                continue
            taken.update(wanted)
            frame = self._read_parquet("areas", month, entry["file"], entry.get("sha256"))
            frames.append(_of(frame, [(parts[k]["prefecture"], parts[k]["municipality"]) for k in wanted]))
        if not frames:
            return None
        return pl.concat(list(reversed(frames)), how="diagonal_relaxed")

    def previous_rows(
        self, dataset: str, month: str, municipalities: list[Municipality]
    ) -> tuple[pl.DataFrame | None, str | None]:
        """Each municipality's rows of its latest month before `month`, and the latest such month."""
        manifest = self.manifest()
        frames, latest = [], None
        wanted = {muni_key(*m): m for m in municipalities}
        for m in reversed(self.months(dataset, manifest)):
            if m >= month or not wanted:
                continue
            entry = manifest["datasets"][dataset][m]
            parts = self.entry_parts(entry)
            here = [wanted.pop(k) for k in list(wanted) if k in parts]
            if here:
                latest = latest or m
                frame = self._read_parquet(dataset, m, entry["file"], entry.get("sha256"))
                frames.append(_of(frame, here))
        if not frames:
            return None, None
        return pl.concat(frames, how="diagonal_relaxed"), latest

    def _read_parquet(self, dataset: str, month: str, file: str, sha256: str | None) -> pl.DataFrame:
        """A stored file, or a StoreError naming it when it is damaged or missing: its
        checksum is checked first, so changed bytes are caught even where they would parse."""
        reason = verify(self.root / file, sha256)
        if reason:
            raise StoreError(damaged_message(dataset, month, file, reason), month)
        try:
            return pl.read_parquet(self.root / file)
        except (pl.exceptions.PolarsError, OSError) as e:
            raise StoreError(damaged_message(dataset, month, file, e), month) from None

    def current(self, dataset: str, month: str) -> dict | None:
        return self.manifest()["datasets"].get(dataset, {}).get(month)

    def version_meta(self, dataset: str, month: str, version: str) -> dict | None:
        sidecar = self.archive_dir(dataset, month) / f"{version}.json"
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        meta.setdefault("municipalities", None)
        return meta

    def versions(self, dataset: str, month: str, municipality: Municipality | None = None) -> list[dict]:
        """Every committed version of a month (covering the municipality, if given), oldest
        first; `live` says whether it is what the month (or the municipality's part) shows."""
        entry = self.current(dataset, month) or {}
        parts = self.entry_parts(entry)
        if municipality is None:
            live = {p["version"] for p in parts.values()} or {entry.get("version")}
        else:
            live = {parts.get(muni_key(*municipality), {}).get("version")}
        out = []
        for meta_path in sorted(self.archive_dir(dataset, month).glob("v*.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            munis = [tuple(x) for x in meta.get("municipalities") or []]
            if municipality is not None and tuple(municipality) not in munis:
                continue
            out.append(meta | {"live": meta["version"] in live})
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
        """Make <dataset>/month=M/data.parquet a copy of the archive file, swapped in with one
        atomic rename. A copy, not a hard link: a tool that rewrites the live file in place
        must not change the version that was promised to be kept (it costs the live months'
        size once more on disk; docs/scaling.md has the figure)."""
        publish_copy(archive_file, self.live_path(dataset, month))

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
        municipalities: list[Municipality] | None = None,
        expected: dict[str, str | None] | None = None,
    ) -> tuple[Version, list[dict]]:
        """Store a validated month for the municipalities it covers (its rows' municipalities,
        or those given, for a file with no rows); other municipalities' months are untouched.
        `expected`: the version of each municipality's month (by muni_key, None = none yet) the
        saver started from; if any is no longer live, ConflictError and nothing is written.
        Returns (the new version, the parts it replaced)."""
        extra = dict(extra or {})
        action = extra.pop("action", "ingest")
        munis = [tuple(m) for m in (municipalities or covered(frame))]
        if not munis:
            raise StoreError("どの市町村のデータか分からないため、登録できません。市町村を選んでください。")
        stray = {muni_key(*m) for m in covered(frame)} - {muni_key(*m) for m in munis}
        if stray:
            raise StoreError(f"登録する市町村に含まれない行があります（{'、'.join(sorted(stray))}）。")
        with self.lock():
            self.finish_interrupted_commits()
            manifest = self.manifest()
            self.check_format(manifest)
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
            if expected is not None:  # checked under the lock: no other writer can slip in between
                parts_now = self.parts(dataset, month, manifest)
                now = {k: (parts_now[k]["version"] if k in parts_now else None) for k in expected}
                changed = {k: parts_now.get(k) for k, v in expected.items() if now[k] != v}
                if changed:
                    raise ConflictError(dataset, month, changed, now)
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
                "municipalities": [list(m) for m in munis],
                **extra,
            }
            # the marker says "a commit of this version was under way" until it is whole
            self._write_json(self.pending / f"{version}.json", meta)
            adir.mkdir(parents=True, exist_ok=True)
            meta["sha256"] = self._write_file(frame, final)
            meta["committed_at"] = _now()
            old = manifest["datasets"].get(dataset, {}).get(month) or {}
            keys = {muni_key(*m): m for m in munis}
            old_parts = self.entry_parts(old)
            replaced = [p for k, p in old_parts.items() if k in keys]
            parts = {k: p for k, p in old_parts.items() if k not in keys}
            counts = rows_per_municipality(frame)
            for k, (p, m) in keys.items():
                parts[k] = {key: meta[key] for key in ENTRY_KEYS} | {
                    "rows": counts.get(k, 0),
                    "prefecture": p,
                    "municipality": m,
                }
            if all(p["version"] == version for p in parts.values()):
                month_entry = {k: meta[k] for k in ENTRY_KEYS}  # this upload is the whole month
            else:
                month_entry = self._compose(dataset, month, old, frame, munis, meta)
            month_entry["parts_file"] = self._write_parts(dataset, month, month_entry["version"], parts)
            meta |= {"month_version": month_entry["version"], "month_file": month_entry["file"]}
            self._write_json(self.pending / f"{version}.json", meta)
            new = json.loads(json.dumps(manifest))
            new["format"] = FORMAT
            new["demo"] = bool(demo or manifest.get("demo"))
            new["data_version"] = int(manifest.get("data_version", 0)) + 1
            new["datasets"].setdefault(dataset, {})[month] = month_entry
            self._write_manifest(new)  # the commit point: from here on the new version is live
            unfinished = None
            try:
                self._finish(meta, replaced, audited=set())
            except OSError as e:  # a refusal now would say the old data stayed, which is untrue
                unfinished = os_reason(e)
            entry = {k: meta[k] for k in ENTRY_KEYS}
            info = Version(
                **entry, dataset=dataset, month=month, unfinished=unfinished, municipalities=tuple(munis)
            )
            return info, replaced

    def _write_file(self, frame: pl.DataFrame, final: Path) -> str:
        """Write a Parquet file whole (staged, fsynced, renamed into place); its sha256."""
        tmp = self.staging / f"{final.stem}.tmp"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_parquet(frame, tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            sha = file_sha256(tmp)
            os.chmod(tmp, ARCHIVED_MODE)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return sha

    def _compose(
        self, dataset: str, month: str, old: dict, frame: pl.DataFrame, munis: list, meta: dict
    ) -> dict:
        """The month with these municipalities' rows replaced by `frame`: the other rows come
        from the previous month file (one read, however many municipalities it holds), in
        their order; a municipality new to the month goes last. A damaged month file is
        rebuilt from the versions its parts name."""
        try:
            before = self._read_parquet(dataset, month, old["file"], old.get("sha256"))
        except StoreError:
            before = self._from_parts(dataset, month, self.entry_parts(old))
        order = [muni_key(*m) for m in covered(before)]
        order += [k for k in (muni_key(*m) for m in munis) if k not in order]
        rank = pl.DataFrame({"_k": order, "_i": range(len(order))}, schema={"_k": pl.String, "_i": pl.Int64})
        key = pl.concat_str([pl.col("prefecture").fill_null(""), pl.lit("/"), pl.col("municipality")])
        whole = (
            pl.concat([_of(before, munis, keep=False), frame], how="diagonal_relaxed")
            .with_columns(key.alias("_k"))
            .join(rank, on="_k", how="left", maintain_order="left")
            .sort("_i", maintain_order=True)
            .drop("_k", "_i")
        )
        cid = "c" + new_version_id()[1:]
        path = self.archive_dir(dataset, month) / COMPOSED / f"{cid}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        sha = self._write_file(whole, path)
        return {
            "version": cid,
            "file": str(path.relative_to(self.root)),
            "rows": whole.height,
            "sha256": sha,
            "committed_at": meta.get("committed_at") or _now(),
            "user": meta["user"],
            "source_name": meta["source_name"],
            "composed": True,
        }

    def _from_parts(self, dataset: str, month: str, parts: dict[str, dict]) -> pl.DataFrame:
        """The month read from the versions its parts name (each once), in the parts' order."""
        by_file: dict[str, list] = {}
        for p in parts.values():
            by_file.setdefault(p["file"], []).append((p["prefecture"], p["municipality"]))
        frames = []
        for file, munis in by_file.items():
            meta = self.version_meta(dataset, month, Path(file).stem) or {}
            frames.append(_of(self._read_parquet(dataset, month, file, meta.get("sha256")), munis))
        if not frames:
            return pl.DataFrame()
        order = {k: i for i, k in enumerate(parts)}
        key = pl.concat_str([pl.col("prefecture").fill_null(""), pl.lit("/"), pl.col("municipality")])
        whole = pl.concat(frames, how="diagonal_relaxed")
        return (
            whole.with_columns(
                key.replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_i")
            )
            .sort("_i", maintain_order=True)
            .drop("_i")
        )

    def recompose(self, dataset: str, month: str, *, user: str) -> dict:
        """Write a damaged composed month again from the versions its parts name (each
        checked by its checksum); recorded in the audit log as a repair."""
        with self.lock():
            self.finish_interrupted_commits()
            manifest = self.manifest()
            old = manifest["datasets"][dataset][month]
            parts = self.entry_parts(old)
            whole = self._from_parts(dataset, month, parts)
            cid = "c" + new_version_id()[1:]
            path = self.archive_dir(dataset, month) / COMPOSED / f"{cid}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            entry = {k: old[k] for k in ENTRY_KEYS if k in old} | {
                "version": cid,
                "file": str(path.relative_to(self.root)),
                "rows": whole.height,
                "sha256": self._write_file(whole, path),
                "composed": True,
            }
            entry["parts_file"] = self._write_parts(dataset, month, cid, parts)
            new = json.loads(json.dumps(manifest))
            new["data_version"] = int(manifest.get("data_version", 0)) + 1
            new["datasets"][dataset][month] = entry
            self._write_manifest(new)
            self._publish(dataset, month, path)
            self.audit(
                {
                    "action": "repair",
                    "outcome": "committed",
                    "dataset": dataset,
                    "month": month,
                    "municipalities": [[p["prefecture"], p["municipality"]] for p in parts.values()],
                    "user": user,
                    "rows": whole.height,
                    "version": cid,
                    "damaged_version": old["version"],
                }
            )
            return entry

    def _write_parts(self, dataset: str, month: str, month_version: str, parts: dict) -> str:
        """The month's parts, in a file named by the month's version (never changed)."""
        path = self.archive_dir(dataset, month) / PARTS / f"{month_version}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(
            path, json.dumps(parts, ensure_ascii=False).encode(), tmp_dir=self.staging, mode=ARCHIVED_MODE
        )
        return str(path.relative_to(self.root))

    def _write_json(self, path: Path, data: dict, mode: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(data, ensure_ascii=False, indent=1).encode()
        write_atomic(path, data, tmp_dir=self.staging, mode=mode)

    def _finish(self, meta: dict, replaced: list[dict], audited: set, recovered: bool = False):
        """Everything after the commit point; safe to run again after a crash."""
        dataset, month, version = meta["dataset"], meta["month"], meta["version"]
        sidecar = self.archive_dir(dataset, month) / f"{version}.json"
        if not sidecar.exists():
            meta_only = {k: v for k, v in meta.items() if not k.startswith("month_")}
            self._write_json(sidecar, meta_only, mode=ARCHIVED_MODE)
        self._publish(dataset, month, self.root / meta.get("month_file", meta["file"]))
        if version not in audited:
            replaced_versions = list(dict.fromkeys(p["version"] for p in replaced))
            self.audit(
                {
                    "action": meta.get("action", "ingest"),
                    "outcome": "committed (recovered)" if recovered else "committed",
                    "dataset": dataset,
                    "month": month,
                    "municipalities": meta.get("municipalities"),
                    "user": meta["user"],
                    "file_name": meta["source_name"],
                    "sha256": meta["source_sha256"],
                    "rows": meta["rows"],
                    "version": version,
                    "replaced_version": ", ".join(replaced_versions) or None,
                    **{k: v for k, v in meta.items() if k not in AUDIT_SKIP},
                }
            )
        with contextlib.suppress(FileNotFoundError):
            (self.pending / f"{version}.json").unlink()
        self._forget_composed(dataset, month, keep=meta.get("month_file"), parts=meta.get("month_version"))

    def _forget_composed(self, dataset: str, month: str, keep: str | None, parts: str | None = None) -> None:
        """Composed month files and parts lists are derived (the versions are what is kept):
        remove the ones no longer live, once a page that read an older manifest can no longer
        be opening them (at nation scale a parts list is 650 KB an upload)."""
        adir = self.archive_dir(dataset, month)
        live = {keep, parts and str((adir / PARTS / f"{parts}.json").relative_to(self.root))}
        now = dt.datetime.now().timestamp()
        for path in [*adir.glob(f"{COMPOSED}/*.parquet"), *adir.glob(f"{PARTS}/*.json")]:
            if str(path.relative_to(self.root)) in live:
                continue
            with contextlib.suppress(FileNotFoundError):
                if now - path.stat().st_mtime > KEEP_COMPOSED_SECONDS:
                    path.unlink()

    def restore(
        self, dataset: str, month: str, version: str, *, user: str, municipality: Municipality | None = None
    ) -> Version:
        """Make a kept version live again — for every municipality it covers, or for one of
        them; recorded in the audit log, nothing deleted, other municipalities untouched."""
        meta = self.version_meta(dataset, month, version)
        if meta is None:
            raise StoreError(f"{dataset} の {month} に版「{version}」はありません。")
        frame = self._read_parquet(dataset, month, meta["file"], meta.get("sha256"))
        munis = [tuple(m) for m in meta.get("municipalities") or []] or covered(frame)
        if municipality is not None:
            if tuple(municipality) not in munis:
                raise StoreError(f"版「{version}」には{municipality[1]}のデータがありません。")
            frame, munis = _of(frame, [municipality]), [tuple(municipality)]
        info, _ = self.commit(
            dataset,
            month,
            frame,
            user=user,
            source_name=meta.get("source_name", ""),
            source_sha256=meta.get("source_sha256", ""),
            demo=self.is_demo(),
            extra={"action": "restore", "restored_version": version},
            municipalities=munis,
        )
        return info

    def finish_interrupted_commits(self) -> list[str]:
        """Finish or record commits a crash cut short. Call under lock().

        Each commit leaves a marker in _pending/ until it is whole, so only those are looked
        at: a commit whose month the manifest shows is finished (sidecar, live link, audit);
        any other is recorded as interrupted, its files kept but never live.
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
            try:
                parts = self.entry_parts(entry)
            except FileNotFoundError:
                parts = {}
            live = any(p.get("version") == version for p in parts.values()) or entry.get("version") == version
            if live and meta.get("month_version", version) == entry.get("version"):
                part = next((p for p in parts.values() if p.get("version") == version), entry)
                self._finish(meta | {k: part[k] for k in ENTRY_KEYS}, [], audited, recovered=True)
                done.append(f"finished {dataset} {month} {version}")
            else:
                if version not in audited:
                    self.audit(
                        {
                            "action": meta.get("action", "ingest"),
                            "outcome": "interrupted",
                            "dataset": dataset,
                            "month": month,
                            "municipalities": meta.get("municipalities"),
                            "user": meta.get("user"),
                            "file_name": meta.get("source_name"),
                            "rows": meta.get("rows"),
                            "version": version,
                        }
                    )
                marker.unlink()
                done.append(f"interrupted {dataset} {month} {version}")
        return done
