"""Writing a file so that readers see the old one or the new one, never half of either."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, tmp_dir: Path | None = None, mode: int | None = None) -> None:
    """Write beside (or in tmp_dir), fsync, rename over. The temporary name ends in .tmp, so
    no glob for *.parquet ever sees it; `mode` is set before any byte is written."""
    tmp_dir = tmp_dir or path.parent
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def copy_file(src: Path, dst: Path, *, mode: int = 0o444, durable: bool = True) -> tuple[int, str]:
    """Copy src to dst whole, hashing the bytes as they go: written beside dst under a name
    ending in .tmp, renamed over. (size, sha256) of what was written. `durable`: fsynced
    before the rename (a caller that syncs once for many files, before its commit point,
    passes False)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
    digest, size = hashlib.sha256(), 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            os.fchmod(fout.fileno(), mode)
            for chunk in iter(lambda: fin.read(1 << 20), b""):
                digest.update(chunk)
                fout.write(chunk)
                size += len(chunk)
            fout.flush()
            if durable:
                os.fsync(fout.fileno())
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return size, digest.hexdigest()
