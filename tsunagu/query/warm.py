"""The loaded database kept between restarts, so a dashboard restarted on an unchanged store
copies it back instead of loading every Parquet file again (at nation scale ~36 s).

    <data>/_cache/db-<key>.duckdb   a DuckDB file as Database left it after a load
    <data>/_cache/db-<key>.json     its sidecar: key, size, SHA-256, and a checksum of itself
    <data>/_cache/lock              held by the one process writing (or loading to write)

The key is a hash of the manifest's bytes, LOAD_VERSION, DuckDB's version and the code that
shapes the tables (Database passes it): a store changed by an upload, or a new release, has
another key, so a stale file is never picked. A file is used only if its sidecar checks out and
its bytes hash to what the sidecar says (hashed while copied, so the check costs no extra
read); anything else is loaded again from the Parquet files and written anew. The folder is
derived data: deleting it is always safe, and backups leave it out. Outside every dataset
folder, and no name ends in .parquet, so no glob of the store ever sees it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import duckdb

from tsunagu.store.files import fsync_dir, write_atomic

# bump when what a load puts in the tables changes outside the code the fingerprint reads (the
# views, the uploads table, Database._load and _load_uploads, the columns): e.g. a Store method
LOAD_VERSION = 1
FOLDER = "_cache"
ENV = "TSUNAGU_DB_CACHE"  # "off" reads and writes no cache (a read-only data folder, a test)
WAIT_S = 900.0  # how long a starting process waits for another one's load before loading itself
_CHUNK = 1 << 22

log = logging.getLogger(__name__)


def enabled() -> bool:
    return os.environ.get(ENV, "on").strip().lower() not in {"off", "0", "no", "false"}


def key(manifest: bytes, fingerprint: str) -> str:
    h = hashlib.sha256(f"{LOAD_VERSION}\0{duckdb.__version__}\0{fingerprint}\0".encode())
    h.update(manifest)
    return h.hexdigest()[:32]


def _body_sum(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class Cache:
    def __init__(self, root: Path):
        self.dir = Path(root) / FOLDER
        self.damaged: set[str] = set()  # keys whose file did not check out here: written again

    def db_path(self, key: str) -> Path:
        return self.dir / f"db-{key}.duckdb"

    def sidecar_path(self, key: str) -> Path:
        return self.dir / f"db-{key}.json"

    def _sidecar(self, key: str) -> dict | None:
        """The sidecar of `key` if it is whole and names that key, else None."""
        try:
            data = json.loads(self.sidecar_path(key).read_text(encoding="utf-8"))
            body = data["body"]
            if data["sha256"] != _body_sum(body) or body["key"] != key:
                return None
            int(body["size"]), str(body["db_sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return body

    def has(self, key: str) -> bool:
        """The key's file and a whole sidecar are there (and not found damaged by this process)."""
        if key in self.damaged:
            return False
        body = self._sidecar(key)
        try:
            return body is not None and self.db_path(key).stat().st_size == body["size"]
        except OSError:
            return False

    def restore(self, key: str, dest: Path) -> bool:
        """Copy the cached file of `key` to dest, checked against its sidecar (size and SHA-256
        of the bytes copied). False, with dest removed, if there is none or it does not check
        out (the load that follows writes it again, under the writer's lock)."""
        body = self._sidecar(key)
        if body is None:
            return False
        h = hashlib.sha256()
        try:
            # the open file stays whole even if a writer renames a new one over the name
            with open(self.db_path(key), "rb") as src, open(dest, "wb") as out:
                if os.fstat(src.fileno()).st_size != body["size"]:
                    raise ValueError("size")
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != body["db_sha256"]:
                raise ValueError("sha256")
        except FileNotFoundError:
            dest.unlink(missing_ok=True)
            return False
        except (OSError, ValueError) as e:
            dest.unlink(missing_ok=True)
            self.damaged.add(key)
            log.warning("読み込み済みデータベースのキャッシュ %s が壊れているため使いません（%s）", key, e)
            return False
        return True

    def lock(self) -> WriterLock:
        return WriterLock(self.dir / "lock")

    def save(self, key: str, src: Path) -> None:
        """Write src (a closed or checkpointed DuckDB file that no one writes meanwhile) as the
        cache of `key`, then remove every other key's files. Call with the writer's lock held."""
        # only the lock holder writes here, so temporary files found now are a dead writer's
        for stale in self.dir.glob(".db-*.tmp"):
            stale.unlink(missing_ok=True)
        final = self.db_path(key)
        tmp = self.dir / f".{final.name}.{os.getpid()}.tmp"
        h, size = hashlib.sha256(), 0
        try:
            with open(src, "rb") as f, open(tmp, "wb") as out:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        body = {"key": key, "size": size, "db_sha256": h.hexdigest(), "load_version": LOAD_VERSION}
        data = json.dumps({"body": body, "sha256": _body_sum(body)}, ensure_ascii=False).encode()
        write_atomic(self.sidecar_path(key), data, tmp_dir=self.dir)
        self.damaged.discard(key)
        for old in self.dir.glob("db-*"):
            if old.name not in {final.name, self.sidecar_path(key).name}:
                old.unlink(missing_ok=True)
        fsync_dir(self.dir)


class WriterLock:
    """The one writer of the cache folder (an flock, so it is freed if its process dies).
    The process loading the store holds it from before the load until its file is written,
    so another process starting meanwhile waits for that file rather than loading too."""

    def __init__(self, path: Path):
        self.path = path
        self._file = None

    def acquire(self, wait_s: float) -> bool:
        """True once held; False after wait_s, or at once if the folder cannot be written."""
        try:
            self.path.parent.mkdir(exist_ok=True)
            self._file = open(self.path, "a+")  # noqa: SIM115 - held until release()
        except OSError:
            return False
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.release()
                    return False
                time.sleep(0.1)

    def release(self) -> None:
        """Free it (closing the file frees the flock); again is harmless."""
        f, self._file = self._file, None
        if f is not None:
            f.close()
