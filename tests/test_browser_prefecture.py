"""A prefecture's councils in a real Chromium: 立科町's coordinator uploads 立科町's month and
sees it on the board, the prefecture's staff see who has sent what, and 立科町's coordinator
finds no way, by URL or form, to change 軽井沢町. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser_helpers import (
    ARTIFACTS,
    _need_browser,
    open_page,
    served,
    wait_idle,
)
from tests.test_browser import choose, upload
from tsunagu.dashboard.gate import REFUSED_TITLE

pytestmark = pytest.mark.xdist_group("prefecture")

AREAS = """都道府県,市町村,地区,小学校区,人口,65歳以上人口,事業グループ
長野県,立科町,立科,立科小,3500,1400,身近な圏域
長野県,立科町,立科,立科東小,3200,1300,身近な圏域
長野県,軽井沢町,軽井沢,軽井沢東部小,12000,3800,多機関協働
長野県,軽井沢町,中軽井沢,軽井沢中部小,8000,2600,多機関協働
"""
HEADER = "通いの場ID,名称,都道府県,市町村,地区,小学校区,種別,補助金対象,状態\n"


def tateshina(n: int) -> str:
    return "".join(f"TS-{i},立科サロン{i},長野県,立科町,立科,立科小,サロン,はい,活動中\n" for i in range(n))


def karuizawa(n: int) -> str:
    return "".join(
        f"KZ-{i},軽井沢の居場所{i},長野県,軽井沢町,軽井沢,軽井沢東部小,サロン,いいえ,活動中\n"
        for i in range(n)
    )


@pytest.fixture(scope="module")
def nagano(tmp_path_factory):
    """長野県's store: each council's areas and March, uploaded by its own coordinator."""
    _need_browser()
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    root = tmp_path_factory.mktemp("nagano")
    store = Store(root)
    assert ingest(AREAS.encode(), "areas", "2025-03", store, user="naganoken").ok
    assert ingest((HEADER + tateshina(6)).encode(), "places", "2025-03", store, user="tateshina").ok
    assert ingest((HEADER + karuizawa(9)).encode(), "places", "2025-03", store, user="karuizawa").ok
    with served(root) as url:
        yield url, store


def test_tateshina_uploads_its_month_and_cannot_touch_karuizawa(browser, nagano, tmp_path):
    from tests.conftest import tree_digest

    url, store = nagano
    # by URL: a link naming 軽井沢町 still offers only 立科町
    page = open_page(browser, url, user="tateshina")
    page.goto(f"{url}/upload?muni=軽井沢町&pref=長野県")  # registered once signed in as an editor
    wait_idle(page)
    page.get_by_text("CSV・Excel のファイル").first.wait_for()
    box = page.locator("[data-testid='stSelectbox']", has_text="市町村").first
    box.locator("input").click()
    options = page.locator("[role='option']").all_inner_texts()
    page.keyboard.press("Escape")
    assert options == ["立科町"]
    page.get_by_text("あなたが登録できるのは 立科町 のデータです").wait_for()
    choose(page, "対象の月", "2025年4月")

    # by form: a file with a row of 軽井沢町 is refused, naming the row; nothing is written
    before = tree_digest(store.root)
    upload(page, tmp_path, "4月_まちがい.csv", (HEADER + tateshina(2) + karuizawa(1)).encode("cp932"))
    page.get_by_text("このファイルは登録できません。エラーが 1 件あります").wait_for(timeout=30_000)
    page.get_by_text("「軽井沢町」の行は登録できません").first.wait_for(state="attached", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "prefecture_upload_refused.png"), full_page=True)
    assert tree_digest(store.root) == before

    # 立科町's own April: checked, then stored, and 軽井沢町's months are untouched
    upload(page, tmp_path, "4月.csv", (HEADER + tateshina(7)).encode("cp932"))
    page.get_by_text("確認できました: 立科町の7行").wait_for(timeout=30_000)
    page.get_by_role("button", name="登録する").click()
    page.get_by_text("登録しました: 居場所・通いの場 2025年4月").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "prefecture_upload_done.png"), full_page=True)
    assert set(store.parts("places", "2025-04")) == {"長野県/立科町"}
    assert store.parts("places", "2025-03")["長野県/軽井沢町"]["user"] == "karuizawa"
    assert store.history("places")[-1]["user"] == "tateshina"

    # on the board: 立科町's April is in, 軽井沢町's not yet
    page.goto(f"{url}/prefecture")
    wait_idle(page, "h2")
    # (60 s, as for the upload above: twice in ten fresh-clone runs the board took longer than
    # 30 s to appear on a machine busy with the rest of the suite; it never did alone)
    page.get_by_text("居場所・通いの場: 2市町村のうち1が登録済み（未登録: 軽井沢町）").first.wait_for(
        timeout=60_000
    )
    page.screenshot(path=str(ARTIFACTS / "prefecture_board_editor.png"), full_page=True)

    # the history and restore page is not there for an editor, whatever the URL says
    page.goto(f"{url}/history?muni=軽井沢町")
    wait_idle(page, "h1")
    assert page.locator("h1").first.inner_text() == REFUSED_TITLE
    page.context.close()


def test_the_prefectures_staff_see_who_has_sent_the_month(browser, nagano):
    """長野県's viewer opens the board: 立科町 has sent April (by tateshina), 軽井沢町 not yet."""
    from tsunagu.ingest.pipeline import ingest

    url, store = nagano
    if "2025-04" not in store.months("places"):  # when run on its own
        assert ingest((HEADER + tateshina(7)).encode(), "places", "2025-04", store, user="tateshina").ok
    page = open_page(browser, url, user="nagano_etsuran", width=1280, height=720)
    page.goto(f"{url}/prefecture?m=2025-04")
    wait_idle(page, "h2")
    # the table shows one dataset at a time: 居場所・通いの場 first
    table = page.locator(".st-key-upload_status table").first
    table.wait_for(timeout=30_000)
    rows = table.locator("tr").all_inner_texts()
    assert any("立科町" in r and "登録済み" in r and "tateshina" in r for r in rows), rows
    assert any("軽井沢町" in r and "未登録" in r for r in rows), rows
    # it fits a projector's width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "prefecture_board_viewer.png"), full_page=True)
    page.context.close()
