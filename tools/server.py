"""One dashboard process on loopback, as `make run` would start it, for the browser tests and
the benchmark's load run: started on a free port, ready when /_stcore/health answers. And the
proxy with N processes behind it, started by the project's own command (scripts/serve.py, what
`make serve N=2` runs) on free loopback ports, for the load run through the proxy."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
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


# ---------------------------------------------------------------- the proxy (scripts/serve.py)

SERVE = PROJECT_ROOT / "scripts" / "serve.py"
READY = "つなぐを公開しました"  # the line serve.py prints when Caddy answers over HTTPS
NO_CADDY = 3  # serve.py's exit status when Caddy is missing and cannot be installed
LB_COOKIE = "tsunagu_lb"  # deploy/Caddyfile's sticky cookie (lb_policy cookie tsunagu_lb)


def lb_value(port: int) -> str:
    """Caddy's sticky cookie for an upstream: HMAC-SHA256 of its address (no secret set)."""
    return hmac.new(b"", f"127.0.0.1:{port}".encode(), hashlib.sha256).hexdigest()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as serve.py checks them
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n: int, consecutive: bool = False) -> list[int]:
    """High loopback ports nobody listens on (a run of `n` for serve.py's --first-port)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000)
        ports = (
            [base + i for i in range(n)] if consecutive else [rng.randrange(20_000, 60_000) for _ in range(n)]
        )
        if len(set(ports)) == n and all(_port_free(p) for p in ports):
            return ports
    raise RuntimeError("no free ports")


@dataclass(frozen=True)
class Proxied:
    """Caddy on `url` in front of the dashboards on `ports` (process ids `pids`, in order)."""

    url: str
    ports: tuple[int, ...]
    pids: tuple[int, ...]
    caddy_pid: int
    ca: Path  # Caddy's internal root certificate, for an ssl context that trusts the site
    run_dir: Path


def _children(pid: int) -> dict[int, list[str]]:
    """The processes `pid` started: their ids and command lines (Linux /proc)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (d / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out[int(d.name)] = (d / "cmdline").read_bytes().decode(errors="replace").split("\0")
    return out


@contextlib.contextmanager
def proxied(
    data_dir: Path | str, processes: int = 2, run_dir: Path | str | None = None, wait_s: float = 300
) -> Iterator[Proxied]:
    """`scripts/serve.py -n processes` on free loopback ports, until the block ends (SIGTERM:
    serve.py stops Caddy, then the dashboards). The environment (TSUNAGU_USERS_FILE) is the
    caller's. Caddy's storage (its CA) is in `run_dir`, kept for the next start.
    RuntimeError if it does not say it is ready within `wait_s`."""
    https, http_port = free_ports(2)
    ports = free_ports(processes, consecutive=True)
    run_dir = Path(run_dir or Path(data_dir).parent / "serve-run").resolve()
    site = f"127.0.0.1:{https}"
    proc = subprocess.Popen(
        [sys.executable, str(SERVE), "-n", str(processes), "--site", site, "--first-port", str(ports[0])]
        + [
            "--http-port",
            str(http_port),
            "--data-dir",
            str(Path(data_dir).resolve()),
            "--run-dir",
            str(run_dir),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own group: a stop that must kill reaches only what it started
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    said: list[str] = []
    try:
        deadline = time.monotonic() + wait_s
        while not any(READY in line for line in said):
            try:
                said.append(lines.get(timeout=1))
            except queue.Empty:
                if proc.poll() is not None:
                    time.sleep(0.5)
                    said += list(lines.queue)
                    why = (
                        "Caddy がありません（scripts/ensure-caddy.sh）" if proc.returncode == NO_CADDY else ""
                    )
                    raise RuntimeError(
                        f"serve.py exited with {proc.returncode} {why}: {''.join(said)[-600:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"serve.py was not ready in {wait_s:.0f} s: {''.join(said)[-600:]}"
                    ) from None
        children = _children(proc.pid)
        by_port = {
            int(cmd[cmd.index("--server.port") + 1]): pid
            for pid, cmd in children.items()
            if "--server.port" in cmd
        }
        caddy = next(pid for pid, cmd in children.items() if Path(cmd[0]).name == "caddy")
        ca = run_dir / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        yield Proxied(f"https://{site}", tuple(ports), tuple(by_port[p] for p in ports), caddy, ca, run_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
