"""In a real Chromium, as a coordinator would: pause one place in the table editor of the
places page, save, and see the figures change (the places page's 休止中 +1; on the home page
通いの場（活動中） −1 and 休止中 +1 against the month before). Screenshots are saved in tests/artifacts/."""

from __future__ import annotations

import shutil

import pytest

from tests.browser_helpers import ARTIFACTS, _need_browser, open_page, served, wait_idle


@pytest.fixture(scope="module")
def demo_copy(demo_dir, tmp_path_factory):
    """A copy of the demo store (the edit writes; the shared one is read by other tests)."""
    _need_browser()
    root = tmp_path_factory.mktemp("edit") / "demo"
    shutil.copytree(demo_dir, root)
    from tsunagu.store.versions import Store

    with served(root) as url:
        yield url, Store(root)


def metric(page, label):
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def test_an_editor_pauses_a_place_and_sees_it_on_the_dashboard(browser, demo_copy):
    """真備's coordinator pauses its first place (MBI-0002) in March 2025 and saves."""
    url, store = demo_copy
    page = open_page(browser, f"{url}/places?d=真備&places_tab=編集", user="sc_tanaka", ready="h2")
    wait_idle(page, "h2")
    assert metric(page, "休止中") == "1か所"
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "edit_places_start.png"), full_page=True)
    box = grid.bounding_box()
    # the first place's ID cell (below the header row), then two cells right: 状態
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "edit_places_select.png"), full_page=True)
    page.keyboard.type("休止中")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    wait_idle(page, "h2")
    page.get_by_text("保存すると変わる内容").wait_for(timeout=60_000)
    page.get_by_role("button", name="保存する").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "edit_places_preview.png"), full_page=True)
    page.get_by_role("button", name="保存する").click()
    saved = page.get_by_text("登録しました: 居場所・通いの場 2025年3月")
    saved.wait_for(timeout=60_000)
    wait_idle(page, "h2")
    saved.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "edit_places_saved.png"), full_page=True)
    paused = store.read_month("places", "2025-03", [("岡山県", "倉敷市")])
    assert paused.filter(paused["place_id"] == "MBI-0002")["status"].to_list() == ["休止中"]
    assert (store.history("places")[-1]["user"], store.history("places")[-1]["file_name"]) == (
        "sc_tanaka",
        "ブラウザでの編集",
    )
    assert metric(page, "休止中") == "2か所"  # the page's own figure, on the same screen

    page.goto(f"{url}/?d=真備")
    wait_idle(page, "h2")
    assert metric(page, "通いの場（活動中）") == "102か所"  # 103 before, as in February
    delta = page.locator("[data-testid='stMetric']", has_text="通いの場（活動中）").first
    assert delta.locator("[data-testid='stMetricDelta']").inner_text().strip().endswith("-1")
    page.get_by_text("休止中 2か所（前月比 +1）").wait_for()
    page.screenshot(path=str(ARTIFACTS / "edit_places_home.png"), full_page=True)
    page.context.close()
