"""In a real Chromium, a council starting from an empty data folder follows the guide: the
areas first, then the places, and reaches its first dashboard. Screenshots in tests/artifacts/."""

from __future__ import annotations

import os

import pytest

from tests.browser_helpers import ARTIFACTS, open_page, served, wait_idle
from tests.test_browser import metric, upload
from tests.test_browser_a11y import AXE, check
from tests.test_ingest_formats import places_csv

# 倉敷市's six districts, one or two school districts each (figures made up)
AREAS = """都道府県,市町村,地区,小学校区,人口,65歳以上人口
岡山県,倉敷市,倉敷,倉敷東,21000,5200
岡山県,倉敷市,水島,連島東,10000,2500
岡山県,倉敷市,児島,味野,9000,3100
岡山県,倉敷市,玉島,玉島小,12000,3000
岡山県,倉敷市,玉島,長尾小,8000,2600
岡山県,倉敷市,真備,箭田,6000,2100
岡山県,倉敷市,船穂,船穂,6970,1900
"""


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("first_run")
    with served(root) as url:
        yield url, root


def readable(page, name: str) -> None:
    """axe finds nothing serious and no English is on screen (as the accessibility test checks
    every other page; the guide shows only on a store that is not the demo)."""
    if AXE.exists() or os.environ.get("TSUNAGU_REQUIRE_BROWSER") == "1":
        assert check(page, name, "sc_tanaka") == []


def step_status(page, dataset: str) -> str:
    heading = page.locator(f".st-key-step-{dataset} h2").first.inner_text()
    return heading.rsplit("\u3000", 1)[1]


def follow_step(page, dataset: str, label: str, tmp_path, name: str, content: bytes) -> None:
    """From the guide: the step's link to the upload page, its file, the check, 「登録する」."""
    page.get_by_role("link", name=f"{label}を登録する").click()
    page.get_by_text("CSV・Excel のファイル").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator("h1").first.inner_text() == "データ更新"
    assert f"dataset={dataset}" in page.url
    upload(page, tmp_path, name, content)
    page.get_by_text(f"{name} → {label}・").wait_for(timeout=30_000)  # the link chose the dataset
    page.get_by_text("確認できました").wait_for(timeout=30_000)
    page.get_by_role("button", name="登録する").click()
    page.get_by_text(f"登録しました: {label}").wait_for(timeout=60_000)
    page.locator("[data-testid='stSidebarNav']").get_by_text("はじめに").click()
    wait_idle(page)
    page.locator(f".st-key-step-{dataset}").wait_for()


def test_a_council_follows_the_guide_from_areas_to_its_first_dashboard(browser, empty_server, tmp_path):
    url, root = empty_server
    # a phone first: the editor lands on the guide, nothing ticked, nothing wider than the screen
    page = open_page(browser, url, user="sc_tanaka", width=390, height=844)
    # (the run that signs in draws ホーム; the next one moves an editor with nothing yet to the guide)
    page.locator("h1", has_text="はじめに").wait_for(timeout=30_000)
    assert [step_status(page, d) for d in ("areas", "places", "pantry", "forums")] == ["まだ"] * 4
    page.get_by_text("記入例（倉敷市の一部").wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(ARTIFACTS / "guide_phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()  # landing on the guide kept the sign-in: its cookie was written first
    wait_idle(page)
    assert (
        page.locator("h1").first.inner_text() == "はじめに" and page.get_by_label("ユーザー名").count() == 0
    )
    readable(page, "guide_empty")

    follow_step(page, "areas", "圏域マスタ", tmp_path, "圏域マスタ.csv", AREAS.encode("utf-8-sig"))
    assert step_status(page, "areas") == "済み" and step_status(page, "places") == "まだ"
    page.screenshot(path=str(ARTIFACTS / "guide_areas_done.png"), full_page=True)

    follow_step(page, "places", "居場所・通いの場", tmp_path, "通いの場.csv", places_csv().encode("cp932"))
    assert step_status(page, "places") == "済み"
    readable(page, "guide_two_done")
    page.get_by_role("link", name="ホームを見る").click()
    wait_idle(page, "h2")
    assert page.locator("h1").first.inner_text() == "地域づくりダッシュボード「つなぐ」"
    assert metric(page, "通いの場（活動中）") == "1か所"
    page.screenshot(path=str(ARTIFACTS / "guide_home.png"), full_page=True)
    page.context.close()
