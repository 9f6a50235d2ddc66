"""Running it for real: Caddy in front of two dashboard processes, started by the project's own
command (scripts/serve.py, what `make serve N=2` runs), on loopback and high ports. A real
Chromium that trusts Caddy's internal CA (an NSS store of its own holding the root, as an
office PC would after docs/deploy.md) signs in over HTTPS and gets a Secure cookie; an upload
through the process one browser is pinned to reaches a wall pinned to the other; the proxy
refuses an upload over the limit and sends the security headers.

What several processes share without a proxy (the sign-in throttle, the cookie key) is tested
first, with real processes racing on the same files."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import multiprocessing
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from tests.browser_helpers import ARGS, ARTIFACTS, CHROMIUM, _need_browser, sign_in, wait_idle
from tests.conftest import AREAS_CSV
from tools import server
from tools.server import LB_COOKIE, lb_value
from tsunagu.access import users
from tsunagu.access.auth import COOKIE_NAME, Throttle

pytestmark = pytest.mark.xdist_group("deploy")  # one proxy and its processes per run

TOO_LARGE = "ファイルが大きすぎます（アップロードできるのは20MBまでです）。"


# --- what several processes share, without the proxy --------------------------------------


def _fail_many(path: str, n: int, start) -> None:
    start.wait()
    for _ in range(n):
        Throttle(limit=10_000, path=Path(path)).fail("sato")


def _read_key(path: str, start, out) -> None:
    start.wait()
    out.put(users.cookie_key(Path(path)))


def test_sign_in_failures_from_four_processes_are_all_counted(tmp_path):
    """Four server processes failing sign-ins for one name at once: every failure is in the
    shared file (a lost update would let a guesser try more than five times a process)."""
    path = tmp_path / "users.throttle.json"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(4)
    procs = [ctx.Process(target=_fail_many, args=(str(path), 30, start)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert len(Throttle(path=path)._read()["sato"]) == 120
    assert Throttle(limit=120, path=path).blocked("sato")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_processes_starting_together_end_with_one_cookie_key(tmp_path):
    """Six processes asking for the cookie key of a fresh install at the same moment all sign
    with the same key: the one in the file (two keys would sign some people out on a hop)."""
    path = tmp_path / "users.cookie_key"
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_read_key, args=(str(path), start, out)) for _ in range(6)]
    for p in procs:
        p.start()
    keys = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(30)
    assert keys == {path.read_text(encoding="utf-8").strip()}


# --- the proxy and two processes, in a real browser ---------------------------------------


def _missing(message: str):
    if os.environ.get("TSUNAGU_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, users_file):
    """`scripts/serve.py -n 2` on a small council store and the test users file (its
    TSUNAGU_USERS_FILE): the https URL, the dashboards' ports, Caddy's root certificate."""
    from tests.test_ingest_formats import PLACES_ROWS, places_csv
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    root = tmp_path_factory.mktemp("deploy")
    store = Store(root / "data")
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", store).ok
    assert ingest(places_csv(PLACES_ROWS[:1]).encode(), "places", "2024-07", store).ok
    with contextlib.ExitStack() as stack:
        try:  # the project's own start-up, as the benchmark uses it (tools/server.py)
            p = stack.enter_context(server.proxied(store.root, 2, run_dir=root / "run", wait_s=150))
        except RuntimeError as e:
            if "Caddy がありません" in str(e):
                _missing(f"Caddy がなく、入れられません（root で scripts/ensure-caddy.sh）: {e}")
            pytest.fail(str(e))
        yield {"url": p.url, "ports": list(p.ports), "ca": p.ca, "store": store, "run": p.run_dir}


@pytest.fixture(scope="module")
def browser(proxy, tmp_path_factory):
    """Chromium with its own certificate store (HOME/.pki/nssdb) holding Caddy's root, as an
    office PC that followed docs/deploy.md: no certificate error is ignored."""
    from playwright.sync_api import sync_playwright

    _need_browser()
    if not shutil.which("certutil"):  # scripts/ensure-caddy.sh installs it with Caddy
        _missing(
            "certutil がないため Caddy の CA をブラウザに入れられません（apt-get install libnss3-tools）"
        )
    home = tmp_path_factory.mktemp("chromium-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "tsunagu-caddy", "-i", str(proxy["ca"])],
        check=True,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env={**os.environ, "HOME": str(home)})
        yield b
        b.close()


def active_sessions(port: int) -> int:
    """The sessions a dashboard process holds (its own metrics, on loopback)."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=10).read().decode()
    return int(next(line.split()[-1] for line in text.splitlines() if line.startswith("active_sessions")))


def _cookie(context, name):
    return next((c for c in context.cookies() if c["name"] == name), None)


def test_https_sign_in_upload_on_one_process_seen_on_the_other(browser, proxy):
    """A coordinator and a wall, each pinned by Caddy to a different process: the coordinator
    signs in over HTTPS (a Secure, SameSite=Strict cookie) and uploads a month; the wall, on the
    other process, shows the new month and figure by itself within its refresh (10 s, its
    shortest)."""
    from tests.test_ingest_formats import PLACES_ROWS, places_csv
    from tsunagu.contract.wareki import month_label

    url, ports = proxy["url"], proxy["ports"]
    t0 = time.monotonic()
    took = {}

    # the coordinator: Caddy picks a process and pins the browser to it with its cookie
    editor = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = editor.new_page()
    sockets, refused_frames = [], []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    # what Chromium says when a header keeps a frame from showing
    page.on(
        "console",
        lambda m: (
            any(w in m.text for w in ("frame-ancestors", "X-Frame-Options", "Refused to display"))
            and refused_frames.append(m.text)
        ),
    )
    headers = page.goto(url).headers
    pinned = {lb_value(p): p for p in ports}
    mine = pinned[_cookie(editor, LB_COOKIE)["value"]]
    other = next(p for p in ports if p != mine)

    # the wall: a second browser pinned to the other process before its first request; it
    # loads while the coordinator signs in
    wall_ctx = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 720})
    wall_ctx.add_cookies([{"name": LB_COOKIE, "value": lb_value(other), "url": url}])
    wall = wall_ctx.new_page()
    wall.goto(f"{url}/present")

    assert headers["strict-transport-security"] == "max-age=31536000"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "server" not in headers
    sign_in(page, "sc_tanaka")  # the cookie is written by a component in a same-origin iframe
    auth = _cookie(editor, COOKIE_NAME)
    assert auth["secure"] is True and auth["sameSite"] == "Strict"
    assert any(s.startswith(f"wss://{url.removeprefix('https://')}/_stcore/stream") for s in sockets)
    assert refused_frames == []
    took["editor signed in"] = time.monotonic() - t0

    sign_in(wall, "etsuran", ready=".slide-number")
    assert _cookie(wall_ctx, LB_COOKIE)["value"] == lb_value(other)  # Caddy kept the pin
    before = wall.locator(".slide-where").first.inner_text()
    assert "2024年7月" in before and wall.locator(".slide-number").first.inner_text().startswith("1")
    wall.get_by_role("combobox", name="間隔").click()
    wall.get_by_role("option", name="10秒ごと").click()
    wait_idle(wall, ".slide-number")
    took["wall signed in"] = time.monotonic() - t0
    # each process, asked on its own port, holds one of the two browsers
    assert {port: active_sessions(port) for port in ports} == {mine: 1, other: 1}

    # an upload through the coordinator's process (last month, the page's default)
    today = dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    rows = [PLACES_ROWS[0]] + [
        f"TM-1{i:02d},新サロン{i},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,," for i in range(40)
    ]
    page.get_by_role("link", name="データ更新").click()  # in the same session: no new connection
    page.get_by_text("CSV・Excel のファイル").first.wait_for(timeout=30_000)
    wait_idle(page)
    upload = proxy["run"].parent / "新しい月.csv"
    upload.write_bytes(places_csv(rows).encode("cp932"))
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
    page.get_by_text("確認できました: 倉敷市の41行").wait_for(timeout=30_000)
    page.get_by_role("button", name="登録する").click()
    page.get_by_text(f"登録しました: 居場所・通いの場 {month_label(month)}").wait_for(timeout=60_000)
    uploaded = time.monotonic()
    took["uploaded"] = uploaded - t0
    page.screenshot(path=str(ARTIFACTS / "deploy_upload_done.png"), full_page=True)
    assert _cookie(editor, LB_COOKIE)["value"] == lb_value(mine)  # the upload went where the session is
    assert proxy["store"].read_month("places", month).height == 41  # into the one shared data folder
    assert proxy["store"].history("places")[-1]["user"] == "sc_tanaka"

    # the wall on the other process: the new month and its 41 places, without a reload
    wall.wait_for_function(
        f"() => document.querySelector('.slide-where').innerText.includes('{month_label(month)}')"
        " && document.querySelector('.slide-number').innerText.startsWith('41')",
        timeout=45_000,
    )
    took["seen on the other process"] = time.monotonic() - t0
    wall.screenshot(path=str(ARTIFACTS / "deploy_wall_other_process.png"))
    print(f"editor on :{mine}, wall on :{other};", ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    print(f"the other process showed the upload {time.monotonic() - uploaded:.1f} s after it was stored")
    editor.close()
    wall_ctx.close()


def test_the_proxy_refuses_an_upload_over_20_mb(proxy):
    """A request declaring more than the upload page takes (20 MB and the form around it) is
    answered 413 by Caddy at once, in Japanese; a small one passes on to the dashboard."""
    host, port = proxy["url"].removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(proxy["ca"]))

    def put(length: int, body: bytes = b"") -> tuple[int, str, float]:
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=20)
        started = time.monotonic()
        conn.putrequest("PUT", "/_stcore/upload_file/session/file")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(length))
        conn.endheaders(body)
        reply = conn.getresponse()
        text = reply.read().decode("utf-8", "replace")
        conn.close()
        return reply.status, text, time.monotonic() - started

    status, text, took = put(22_000_001)  # nothing of the body is sent: the answer comes first
    assert (status, text) == (413, TOO_LARGE)
    assert took < 5
    small = b"--x--\r\n"
    status, text, _ = put(len(small), small)
    assert status != 413 and "XSRF" in text  # Streamlit's own answer: the proxy let it through


def test_the_processes_counters_stay_on_this_machine(proxy):
    """/_stcore/metrics (sessions, cache names; read on each process's loopback port, as the
    HTTPS test does) is not answered through the site, while the site itself is."""
    import urllib.error
    import urllib.request

    context = ssl.create_default_context(cafile=str(proxy["ca"]))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{proxy['url']}/_stcore/metrics", timeout=10, context=context)
    assert refused.value.code == 404
    assert (
        urllib.request.urlopen(f"{proxy['url']}/_stcore/health", timeout=10, context=context).read() == b"ok"
    )
