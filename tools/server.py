"""One dashboard process on loopback, as `make run` would start it, for the browser tests and
the benchmark's load run: started on a free port, ready when /_stcore/health answers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tsunagu.config import PROJECT_ROOT


def start(data_dir: Path | str, wait_s: float = 300) -> tuple[subprocess.Popen, int]:
    """(the process, its port); RuntimeError if it exits or is not ready in `wait_s`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TSUNAGU_DATA_DIR=str(data_dir))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc, port
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


@contextlib.contextmanager
def running(data_dir: Path | str, wait_s: float = 300) -> Iterator[tuple[subprocess.Popen, int]]:
    proc, port = start(data_dir, wait_s)
    try:
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
