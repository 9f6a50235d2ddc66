"""A resident on a phone (390×844, signed out, real Chromium): finds a Tuesday salon in 玉島,
opens its card and sees it on the map; no link of the page leads into the dashboard, and
neither the page nor anything sent over its connection carries a place that is not 公開 or
the coordinates of a 個人宅 place. Screenshots: tests/artifacts/public_*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import duckdb
import pytest

from tests.browser_helpers import ARGS, ARTIFACTS, CHROMIUM, served, wait_idle
from tsunagu.display import maps

DASHBOARD_PATHS = {
    "",
    "places",
    "pantry",
    "forums",
    "district",
    "prefecture",
    "survey",
    "present",
    "handouts",
    "start",
    "upload",
    "history",
    "users",
    "guide-settings",
}


@pytest.fixture(scope="module")
def server(demo_dir):
    with pytest.MonkeyPatch.context() as env:
        env.setenv(maps.TILE_ENV, "none")  # offline, as many councils' machines are
        with served(demo_dir) as url:
            yield url


def secrets_of(demo_dir) -> tuple[set[str], set[str]]:
    """Names of 倉敷市's places a resident may not see (not 公開, or not running) that no
    published place's name holds, and the coordinates of its published 個人宅 places in 玉島."""
    rows = duckdb.sql(
        f"select name, status, published, venue_type, district, lat, lon "
        f"from read_parquet('{demo_dir}/places/month=2025-03/*.parquet') where municipality = '倉敷市'"
    ).fetchall()
    shown = {r[0] for r in rows if r[2] and r[1] == "活動中"}
    # (a name inside a published one, カフェ… in 認知症カフェ…, would be found where it is not)
    hidden = {
        r[0] for r in rows if not (r[2] and r[1] == "活動中") and not any(r[0] in name for name in shown)
    }
    coords = {
        f"{v:.5f}".rstrip("0")
        for r in rows
        if r[2] and r[3] == "個人宅" and r[4] == "玉島" and r[5] is not None
        for v in (r[5], r[6])
    }
    return hidden, coords


def pick(page, label: str, option: str) -> None:
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_a_resident_finds_a_tuesday_salon_in_tamashima_on_a_phone(server, demo_dir):
    from playwright.sync_api import sync_playwright

    hidden, coords = secrets_of(demo_dir)
    assert len(hidden) > 50 and coords
    frames: list[bytes] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})  # no cookie: signed out
        page = context.new_page()
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda f: frames.append(f if isinstance(f, bytes) else f.encode())
            ),
        )
        page.goto(f"{server}/guide")
        wait_idle(page)
        assert page.locator("h1").first.inner_text() == "通いの場ガイド"
        assert page.locator("[data-testid='stSidebar']").count() == 0
        assert page.get_by_text("サインイン").count() == 0
        pick(page, "地区", "玉島")
        page.locator("[data-testid='stButtonGroup'] button").filter(has_text="火").first.click()
        wait_idle(page)
        pick(page, "種別", "サロン")
        found = page.get_by_text("か所 見つかりました").first.inner_text()
        assert int(found.split("か所")[0]) > 0
        page.locator("[data-testid='stExpander'] summary").first.click()
        card = page.locator(".tsunagu-card").first
        card.wait_for(timeout=10_000)
        text = card.inner_text()
        assert "火" in text and "玉島地区" in text and "参加費" in text and "問い合わせ先" in text
        page.screenshot(path=str(ARTIFACTS / "public_card_390.png"))
        page.get_by_role("tab", name="地図").click()
        page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas", timeout=30_000)
        page.wait_for_timeout(1500)
        page.locator("[data-testid='stDeckGlJsonChart']").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "public_map_390.png"))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        html = page.content()
        browser.close()
    origin = urlsplit(server).netloc
    for href in hrefs:
        url = urlsplit(href)
        if url.netloc == origin:
            assert url.path.strip("/") not in DASHBOARD_PATHS, href  # the guide itself, or a download
            assert url.path.strip("/").split("/")[0] in {"guide", "media"}, href
    received = b"".join(frames).decode("utf-8", "ignore") + html
    assert "か所 見つかりました" in received
    leaked = sorted(n for n in hidden if n in received)
    assert not leaked, leaked[:5]
    assert not [c for c in coords if c in received]
