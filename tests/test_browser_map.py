"""The map in a real Chromium, offline as councils' machines often are: tiles from the configured
server ($TSUNAGU_TILE_URL, here a loopback server whose tiles are solid magenta) are drawn
under the school districts; with that server gone the map still draws the boundaries and the
places on a plain background, with no error; a click on a school district shows its figures;
the wall's gap slide fits 1280×720. Screenshots: tests/artifacts/map_*.png (1920×1080, a
phone's 390×844, the wall at 1280×720)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from tests.browser_helpers import ARTIFACTS, open_page, served, wait_idle
from tests.test_map_handout import MAGENTA, tile_server
from tsunagu.dashboard.mapview import FIT_WIDTH
from tsunagu.display import maps

TAMASHIMA_MAP = "/places?places_tab=地図&d=玉島"
MAP = "[data-testid='stDeckGlJsonChart']"


@pytest.fixture(scope="module")
def tiles():
    with tile_server() as (address, asked):
        yield address, asked


@pytest.fixture(scope="module")
def server(demo_dir, tiles):
    """A dashboard of its own: it reads the tiles' address from its environment."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(maps.TILE_ENV, tiles[0])
        with served(demo_dir) as url:
            yield url


def shot(page, name: str) -> np.ndarray:
    """The map's pixels, once its layers and tiles have had time to draw."""
    chart = page.locator(MAP).locator("visible=true").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(2500)
    whole = ARTIFACTS / f"map_{name}_page.png"
    page.screenshot(path=str(whole))
    # cut from the page's picture (a shot of the element alone sometimes lost the WebGL canvas)
    box = chart.bounding_box()
    picture = Image.open(whole).convert("RGB")
    picture = picture.crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
    )
    picture.save(ARTIFACTS / f"map_{name}.png")
    return np.asarray(picture, dtype=np.int16)


def share(pixels: np.ndarray, color, tolerance: int = 20) -> float:
    return float((np.abs(pixels - np.array(color[:3])) <= tolerance).all(axis=2).mean())


def shaded(hex_color: str) -> list[int]:
    """A school district's fill as drawn over the plain background (offline)."""
    a = maps.FILL_ALPHA / 255
    return [round(b * (1 - a) + c * a) for c, b in zip(maps.rgba(hex_color), maps.rgba(maps.BACKGROUND))]


def tamashima(demo_db) -> dict:
    return {
        k: g
        for k, g in maps.shapes(demo_db.query("school_district_boundaries", municipality="倉敷市")).items()
        if k[0] == "玉島"
    }


def on_page(page, view: dict, lon: float, lat: float) -> tuple[float, float]:
    """Where a place on the map's first view is on the page (deck.gl's 512-pixel world)."""
    box = page.locator(MAP).first.bounding_box()
    scale = 512 * 2 ** view["zoom"]

    def merc(lo, la):
        return (lo + 180) / 360, 0.5 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / (2 * math.pi)

    (cx, cy), (x, y) = merc(view["longitude"], view["latitude"]), merc(lon, lat)
    return box["x"] + box["width"] / 2 + (x - cx) * scale, box["y"] + box["height"] / 2 + (y - cy) * scale


def test_tiles_appear_under_the_school_districts_and_a_click_shows_the_figures(
    browser, server, tiles, demo_db
):
    """Online (the loopback tile server), a viewer opens 玉島's map, sees the tiles under the
    shading with their attribution, and clicks 柏島小 to read its figures beside the city's."""
    page = open_page(browser, server + TAMASHIMA_MAP, user="etsuran", ready=MAP)
    wait_idle(page, MAP)
    pixels = shot(page, "tiles_1920x1080")
    assert tiles[1], "no tile was asked for"
    assert share(pixels, MAGENTA) > 0.2  # the tiles, round the district
    assert share(pixels, maps.GAP_LINE, 40) > 0.001  # the gap districts' outlines
    link = page.get_by_role("link", name=maps.ATTRIBUTION)
    assert link.get_attribute("href") == maps.ATTRIBUTION_URL

    shapes = tamashima(demo_db)
    view = maps.fit_view(maps.bounds_of(shapes.values()), FIT_WIDTH, 500)
    x, y = on_page(page, view, *maps.representative_points(shapes)[("玉島", "柏島小")])
    page.mouse.move(x, y)
    page.wait_for_timeout(800)  # deck.gl takes a press without a pause before it as a drag
    page.mouse.down()
    page.mouse.up()
    page.locator(".map-card caption").wait_for(timeout=30_000)
    wait_idle(page, ".map-card")
    assert page.locator(".map-card caption").inner_text() == "柏島小学区（玉島地区）"
    card = page.locator(".map-card").inner_text()
    assert "33.2%" in card and "全体 27.8%" in card
    page.screenshot(path=str(ARTIFACTS / "map_clicked_1920x1080.png"))
    page.context.close()

    phone = open_page(browser, server + TAMASHIMA_MAP, 390, 844, user="etsuran", ready=MAP)
    wait_idle(phone, MAP)
    pixels = shot(phone, "tiles_390x844")
    assert pixels.shape[1] <= 390 and share(pixels, MAGENTA) > 0.1
    assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    phone.context.close()


def test_with_no_tiles_the_map_still_draws_boundaries_and_places(browser, server, tiles):
    """The tile server is gone (no network): the same map on a plain background, the school
    districts shaded and outlined, the places drawn, and no error; then the wall's gap slide
    on a 1280×720 projector, whole on screen."""
    offline = tiles[0].split("{style}")[0] + "**"

    def cut(page):
        page.route(offline, lambda route: route.abort("internetdisconnected"))
        page.reload()

    page = open_page(browser, server + TAMASHIMA_MAP, user="etsuran", ready=MAP)
    cut(page)
    wait_idle(page, MAP)
    pixels = shot(page, "offline_1920x1080")
    assert share(pixels, MAGENTA) == 0
    assert share(pixels, maps.rgba(maps.BACKGROUND), 3) > 0.2  # the plain background
    assert share(pixels, maps.GAP_LINE, 40) > 0.001
    assert share(pixels, shaded(maps.AGING_COLORS[2]), 12) > 0.005  # a class of 高齢化率
    assert share(pixels, maps.rgba(maps.GROUP_COLORS["サロン・カフェ"]), 30) > 0.0002  # places
    assert page.locator("[data-testid='stException']").count() == 0
    page.context.close()

    wall = open_page(
        browser, f"{server}/present?agenda=map,gapmap", 1280, 720, user="etsuran", ready=".slide-title"
    )
    cut(wall)
    wait_idle(wall, ".slide-title")
    wall.get_by_role("button", name="次へ").click()
    wall.get_by_text("2 / 2").wait_for(timeout=60_000)
    wait_idle(wall, ".slide-title")
    assert wall.locator(".slide-title").inner_text() == "手薄な小学校区"
    pixels = shot(wall, "wall_gaps_1280x720")
    assert share(pixels, shaded(maps.GAP_COLOR), 12) > 0.01
    overflow = wall.evaluate(
        "() => [document.documentElement.scrollWidth - innerWidth, document.documentElement.scrollHeight - innerHeight]"
    )
    assert overflow[0] <= 0 and overflow[1] <= 0, overflow
    assert wall.get_by_role("button", name="前へ").is_visible()
    wall.context.close()
