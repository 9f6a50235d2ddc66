"""In a real Chromium, as a person would: open every page, pick a district in the sidebar,
see the right figure, open a copied link and get the same view. Screenshots are saved in
tests/artifacts/ to be looked at."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [("", "地域づくりダッシュボード「つなぐ」"), ("places", "居場所・通いの場"),
         ("pantry", "互近助パントリー"), ("forums", "フォーラム・交流会"), ("district", "地区カルテ"),
         ("prefecture", "県域比較")]


def _need_browser():
    if os.path.exists(CHROMIUM) and shutil.which("fc-list"):
        return
    if os.environ.get("TSUNAGU_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium がありません: scripts/ensure-browser.sh を root で実行してください")
    pytest.skip("chromium がないためブラウザテストを省略")


@pytest.fixture(scope="module")
def server(demo_dir):
    _need_browser()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, TSUNAGU_DATA_DIR=str(demo_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, url, width=1920, height=1080):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="ja-JP")
    page.goto(url)
    wait_idle(page)
    return page


def wait_idle(page):
    """Until Streamlit has finished running the script and drawn the page."""
    page.wait_for_selector("[data-testid='stMarkdownContainer'] h4", timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(800)


def metric(page, label):
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


@pytest.mark.parametrize("path, title", PAGES)
def test_every_page_opens_in_a_real_browser(browser, server, path, title):
    """A council member opens each page and sees its title, the area and the period."""
    page = open_page(browser, f"{server}/{path}")
    assert page.locator("h1").first.inner_text() == title
    header = page.locator("[data-testid='stMarkdownContainer'] h4").first.inner_text()
    assert "倉敷市全域" in header and "2025年3月" in header
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"page_{path or 'home'}.png"), full_page=True)
    page.close()


def test_manager_filters_to_tamashima(browser, server):
    """A manager picks 玉島 and July 2024 in the sidebar and sees 玉島's 19 pantry sites."""
    page = open_page(browser, f"{server}/pantry")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stMultiSelect'] input").click()
    page.keyboard.type("玉島")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_idle(page)
    month = sidebar.locator("[data-testid='stSelectbox']", has_text="月").last
    month.locator("input").click()
    page.keyboard.type("2024年7月")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.wait_for_function(
        "() => document.querySelector('h4') && document.querySelector('h4').innerText.includes('2024年7月')",
        timeout=60_000)
    wait_idle(page)
    assert metric(page, "設置数") == "19か所"
    assert "d=" in page.url and "m=2024-07" in page.url
    page.screenshot(path=str(ARTIFACTS / "pantry_tamashima_2024-07.png"), full_page=True)
    copied = page.url
    page.close()

    other = open_page(browser, copied)  # a colleague opens the copied link
    assert metric(other, "設置数") == "19か所"
    assert "倉敷市 玉島" in other.locator("h4").first.inner_text()
    other.close()


def test_projector_size_has_no_horizontal_scroll(browser, server):
    """On a 1280×720 projector the overview fits the width."""
    page = open_page(browser, server, 1280, 720)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(ARTIFACTS / "home_1280x720.png"))
    page.close()
