"""`make serve N=2`: N dashboard processes and Caddy in front of them (HTTPS, sticky sessions),
on this machine, in the foreground until Ctrl+C. A server runs the same pieces under systemd
(deploy/, docs/deploy.md); this is the one-command way to try them, and what the HTTPS test
starts.

Every process shares the data folder and the users file (with the cookie key and the sign-in
throttle beside it); Caddy's certificates and the logs live in the run folder (--run-dir).
Options fall back to the same environment variables as deploy/Caddyfile and the systemd units.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tsunagu.access import users  # noqa: E402
from tsunagu.config import data_dir  # noqa: E402

CADDYFILE = ROOT / "deploy" / "Caddyfile"
READY = "つなぐを公開しました"  # the line the test waits for
NO_CADDY = 3  # exit status when Caddy is missing and cannot be installed (the test skips on it)
# as deploy/tsunagu@.service starts each process: loopback only (Caddy is the way in)
STREAMLIT_FLAGS = (
    "--server.headless true --server.address 127.0.0.1 --browser.gatherUsageStats false"
    " --server.fileWatcherType none"
).split()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="scripts/serve.py", description="ダッシュボードを複数のプロセスと Caddy（HTTPS）で公開します。"
    )
    p.add_argument(
        "--processes", "-n", type=int, default=int(env("TSUNAGU_PROCESSES") or 2), help="プロセスの数"
    )
    p.add_argument(
        "--site",
        default=env("TSUNAGU_SITE") or "127.0.0.1:8443",
        help="ブラウザで開くアドレス（名前か IP、:ポート）",
    )
    p.add_argument(
        "--tls",
        default=env("TSUNAGU_TLS") or "internal",
        help="internal（社内向け）か ACME 用のメールアドレス",
    )
    p.add_argument(
        "--first-port",
        type=int,
        default=int(env("TSUNAGU_FIRST_PORT") or 8501),
        help="最初のプロセスのポート",
    )
    p.add_argument("--bind", default=env("TSUNAGU_BIND"), help="Caddy が待ち受けるこのマシンのアドレス")
    p.add_argument(
        "--http-port",
        type=int,
        default=int(env("TSUNAGU_HTTP_PORT") or 8080),
        help="http から https へ案内するポート",
    )
    p.add_argument("--data-dir", help="データフォルダ（既定: TSUNAGU_DATA_DIR か data/）")
    p.add_argument("--run-dir", default=str(ROOT / ".serve"), help="Caddy の証明書とログを置くフォルダ")
    args = p.parse_args(argv)
    if not 1 <= args.processes <= 16:
        p.error("プロセスの数は 1〜16 にしてください。")
    return args


def site_parts(site: str) -> tuple[str, int]:
    """(host, port) of a site address as Caddy takes it: `name`, `10.0.0.5:8443`, `[::1]:8443`."""
    parts = urlsplit("https://" + site.removeprefix("https://"))
    return parts.hostname or "", parts.port or 443


def default_bind(site: str) -> str:
    """Listen only where the site is: an IP site (127.0.0.1 for a try on this machine) is not
    offered on the other addresses, where its certificate would not fit anyway."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(site_parts(site)[0]))
    return ""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def ensure_caddy() -> str | None:
    """Caddy's path, installed first from Debian's packages when missing and we can."""
    if not shutil.which("caddy"):
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-caddy.sh")], check=False)
    return shutil.which("caddy")


def wait_healthy(url: str, deadline: float, procs: list[subprocess.Popen], context=None) -> bool:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(url, timeout=2, context=context).read() == b"ok":
                return True
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.3)
    return False


def stop(procs: list[subprocess.Popen]) -> None:
    """Caddy first (no new requests), then the dashboards; each by its own process id."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    caddy = ensure_caddy()
    if not caddy:
        print("Caddy がないため公開できません（上の案内をご覧ください）。", file=sys.stderr)
        return NO_CADDY
    data = data_dir(args.data_dir).resolve()
    run_dir = Path(args.run_dir).resolve()
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = [args.first_port + i for i in range(args.processes)]
    https_port = site_parts(args.site)[1]
    busy = [p for p in [*ports, https_port, args.http_port] if not port_free(p)]
    if busy:
        print(
            f"ポート {', '.join(map(str, busy))} は使用中です。--first-port や --site で別のポートを指定してください。",
            file=sys.stderr,
        )
        return 2

    # shared by every process: made here once, before any of them could race to make them
    first_password = users.ensure_first_admin()
    if first_password:
        print(
            f"最初の管理者を作成しました。ユーザー名: admin  パスワード: {first_password}\n"
            "（この表示は一度だけです。サインイン後に python -m tsunagu users passwd admin で変更してください）"
        )
    users.cookie_key()

    env = dict(
        os.environ,
        TSUNAGU_DATA_DIR=str(data),
        TSUNAGU_USERS_FILE=str(users.users_path().resolve()),
        TSUNAGU_SECURE_COOKIE="1",  # only reached through Caddy's HTTPS
    )
    procs: list[subprocess.Popen] = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job starts with it ignored
        signal.signal(signum, on_signal)
    try:
        for port in ports:
            with open(logs / f"streamlit-{port}.log", "ab") as log:  # the child keeps its own copy
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
                        + STREAMLIT_FLAGS,
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        deadline = time.monotonic() + 120
        for port in ports:
            if not wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", deadline, procs):
                print(
                    f"ダッシュボード（ポート {port}）が起動しませんでした。ログ: {logs}/streamlit-{port}.log",
                    file=sys.stderr,
                )
                return 1

        caddy_env = dict(
            env,
            TSUNAGU_SITE=args.site,
            TSUNAGU_TLS=args.tls,
            TSUNAGU_UPSTREAMS=" ".join(f"127.0.0.1:{p}" for p in ports),
            TSUNAGU_BIND=args.bind if args.bind is not None else default_bind(args.site),
            TSUNAGU_HTTP_PORT=str(args.http_port),
            TSUNAGU_CADDY_ADMIN="off",  # nothing to reload: Ctrl+C and start again
            # certificates and Caddy's CA stay in the run folder, not in the home folder
            XDG_DATA_HOME=str(run_dir / "caddy-data"),
            XDG_CONFIG_HOME=str(run_dir / "caddy-config"),
        )
        with open(logs / "caddy.log", "ab") as log:
            procs.append(
                subprocess.Popen(
                    [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                    cwd=run_dir,
                    env=caddy_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
        root_cert = run_dir / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        url = f"https://{args.site}"
        context = None
        if args.tls == "internal":
            deadline = time.monotonic() + 30
            while not root_cert.exists() and time.monotonic() < deadline and procs[-1].poll() is None:
                time.sleep(0.2)
            context = ssl.create_default_context(cafile=str(root_cert)) if root_cert.exists() else None
        ready = args.tls != "internal" or context is not None
        if not (ready and wait_healthy(f"{url}/_stcore/health", time.monotonic() + 60, procs, context)):
            print(f"Caddy が起動しませんでした。ログ: {logs}/caddy.log", file=sys.stderr)
            return 1

        print(
            f"{READY}: {url}  （{args.processes}プロセス: ポート {', '.join(map(str, ports))}）", flush=True
        )
        print(f"  データ: {data}\n  ユーザー: {env['TSUNAGU_USERS_FILE']}\n  ログ: {logs}")
        if args.tls == "internal":
            print(f"  社内の証明書（ブラウザの警告をなくすには、この証明書を各PCに入れます）: {root_cert}")
        print("  止めるには Ctrl+C を押します。", flush=True)
        while True:
            for p in procs:
                if p.poll() is not None:
                    name = (
                        "Caddy"
                        if p is procs[-1]
                        else f"ダッシュボード（{p.args[p.args.index('--server.port') + 1]}）"
                    )
                    print(
                        f"{name} が終了しました（終了コード {p.returncode}）。すべて止めます。ログ: {logs}",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("止めています…", flush=True)
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
