"""作戦会議モード in a real Chromium: every kind of slide fills the wall at 1920×1080 and 1280×720
(the headline's size and share of the screen, no scroll bar, no control until the pointer
moves), the presenter's phone drives the wall within a second while a viewer's phone and a
signed-out phone cannot, and an agenda made on the wall reopens from its link. Screenshots
in tests/artifacts/wall_*.png."""

from __future__ import annotations

import datetime as dt
import shutil
import time

import pytest

from tests.browser_helpers import ARTIFACTS, _need_browser, open_page, served, wait_idle
from tsunagu.dashboard import agenda as ag
from tsunagu.store.rooms import Rooms

KINDS = list(ag.DEFAULT_KINDS)


@pytest.fixture(scope="module")
def demo_copy(demo_dir, tmp_path_factory):
    """A copy of the demo store (a room is written into the data folder) and its server."""
    _need_browser()
    root = tmp_path_factory.mktemp("wall") / "demo"
    shutil.copytree(demo_dir, root)
    with served(root) as url:
        yield url, root


# what a slide measures, read at once (the wall may redraw itself)
MEASURE = """() => {
  const vh = innerHeight, vw = innerWidth;
  // a map slide draws its map twice (1080p and 720p fits) and shows the one that fits
  const head = [...document.querySelectorAll('.slide-headline, [class*="st-key-wall_map_"] [data-testid="stDeckGlJsonChart"]')]
    .find((e) => e.getClientRects().length);
  const box = head.getBoundingClientRect();
  const text = document.createRange();
  text.selectNodeContents(head);
  const ink = text.getBoundingClientRect();
  const where = document.querySelector('.slide-where');
  const main = document.querySelector('[data-testid="stMain"]');
  const lum = (c) => {
    const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (el) => { const l = lum(getComputedStyle(el).color); return 1.05 / (l + 0.05); };
  return {
    kind: head.matches('.slide-number') ? 'number' : head.closest('[class*="st-key-wall_map_"]') ? 'map' : 'other',
    share: box.height / vh,
    font: parseFloat(getComputedStyle(head).fontSize) / vh,
    centre: (ink.left + ink.width / 2) / vw,
    where: where.innerText,
    whereInside: where.getBoundingClientRect().top >= 0 && where.getBoundingClientRect().bottom <= vh,
    scroll: [document.documentElement.scrollHeight - vh, document.documentElement.scrollWidth - vw,
             main.scrollHeight - main.clientHeight, main.scrollWidth - main.clientWidth],
    bar: getComputedStyle(document.querySelector('.st-key-wall_bar')).opacity,
    contrast: Math.min(...['.slide-where', '.slide-title, .slide-name', '.slide-number, .wall-name, .wall-bar-label']
      .map((s) => document.querySelector(s)).filter(Boolean).map(contrast)),
  };
}"""


# the wall shows slide `c` and has finished drawing it: no script run under way, nothing left
# from the previous slide, and its headline or its map's canvas on screen
SETTLED = """c => {
  const count = document.querySelector('.slide-count');
  if (!count || !count.innerText.endsWith(c)) return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stStatusWidget"]')) return false;
  return [...document.querySelectorAll('.slide-headline, [class*="st-key-wall_map_"] canvas')]
    .some((e) => e.getClientRects().length > 0);
}"""


def settle(page, counter: str) -> None:
    """Until the wall shows slide `counter`, drawn, and still so a moment later (a map's
    component draws its canvas after the script's run has ended)."""
    for _ in range(2):
        page.wait_for_function(SETTLED, arg=counter, timeout=60_000)
        page.wait_for_timeout(250)


# the text blocks of a slide: none may cover another, none may stick out of the screen
UPRIGHT = """() => {
  const slide = document.querySelector('.st-key-wall_slide');
  const els = [...slide.querySelectorAll('.slide-where, .slide-title, .slide-headline, .slide-change,'
    + ' .slide-rate, .slide-note, .slide-name, .slide-date, .wall-bar-label, .wall-col-label, .wall-name')]
    .filter(el => el.getBoundingClientRect().height > 0);
  const name = el => el.className.split(' ')[0] + ':' + el.innerText.slice(0, 12);
  const overlaps = [];
  for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
    const [a, b] = [els[i], els[j]];
    if (a.contains(b) || b.contains(a)) continue;
    const [p, q] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
    if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
      overlaps.push(name(a) + ' × ' + name(b));
  }
  const outside = els.filter(el => { const r = el.getBoundingClientRect(); return r.right > innerWidth + 1 || r.left < -1; });
  return {overlaps, outside: outside.map(name), wider: slide.scrollWidth - slide.clientWidth};
}"""


def test_a_phone_held_upright_shows_the_wall_without_overlap(browser, demo_copy):
    """A member follows the meeting on their phone (390×844): the wall's sizes follow the width
    there, the area line and the note sit in the flow, and nothing covers or leaves the screen
    (the area line once lay under the headline and the note over the 参加率)."""
    url, _ = demo_copy
    chosen = [KINDS[0], KINDS[2], KINDS[3], KINDS[6]]  # a number, bars, names, columns
    agenda = ag.Agenda(
        (ag.Item("title"), *(ag.Item(k) for k in chosen)), "第1回 作戦会議", dt.date(2025, 5, 20)
    )
    query = "&".join(f"{k}={v}" for k, v in agenda.params().items())
    page = open_page(browser, f"{url}/present?{query}", 390, 844, user="etsuran", ready=".slide-headline")
    n = len(agenda.items)
    for i, item in enumerate(agenda.items, start=1):
        settle(page, f"{i} / {n}")
        found = page.evaluate(UPRIGHT)
        page.screenshot(path=str(ARTIFACTS / f"wall_phone_{i:02d}_{item.code()}.png"))
        assert found == {"overlaps": [], "outside": [], "wider": 0}, f"{i} {item.label()} {found}"
        if i < n:
            page.keyboard.press("ArrowRight")
    page.context.close()


@pytest.mark.parametrize("width, height", [(1920, 1080), (1280, 720)])
def test_every_kind_of_slide_fills_the_wall(browser, demo_copy, width, height):
    """A presenter projects every kind of slide for 倉敷市 and for 玉島: each reads from the back
    row, with the area and month on screen and nothing else to see."""
    url, _ = demo_copy
    agenda = ag.Agenda(
        (ag.Item("title"), *(ag.Item(k) for k in KINDS), *(ag.Item(k, "玉島") for k in KINDS)),
        "第1回 作戦会議",
        dt.date(2025, 5, 20),
    )
    query = "&".join(f"{k}={v}" for k, v in agenda.params().items())
    page = open_page(
        browser, f"{url}/present?{query}", width, height, user="etsuran", ready=".slide-headline"
    )
    n = len(agenda.items)
    # signing in was a click, and a click wakes the bar for a moment, as any pointer does
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-wall_bar'); return b && getComputedStyle(b).opacity === '0'; }",
        timeout=10_000,
    )
    for i, item in enumerate(agenda.items, start=1):
        settle(page, f"{i} / {n}")
        m = page.evaluate(MEASURE)
        what = f"{i} {item.label()} {m}"
        assert m["share"] >= 0.2, what  # the headline takes at least a fifth of the height
        if m["kind"] == "number":
            assert m["font"] >= 0.2, what  # its type too: 216 px at 1080, 144 px at 720
        if m["kind"] != "map":
            assert abs(m["centre"] - 0.5) < 0.03, what  # centred
        assert m["scroll"] == [0, 0, 0, 0], what
        assert m["bar"] == "0", what  # no control on the wall while the pointer is still
        assert m["contrast"] >= 7, what
        area = "倉敷市 玉島地区" if item.district == "玉島" else "倉敷市"
        assert m["whereInside"] and m["where"].startswith(f"{area}　2025年3月（令和7年3月）時点"), what
        page.screenshot(path=str(ARTIFACTS / f"wall_{width}x{height}_{i:02d}_{item.code()}.png"))
        if i < n:
            page.keyboard.press("ArrowRight")
    # the pointer moves: a small bar of controls, which hides again when it rests
    page.mouse.move(width / 2, height / 2)
    page.mouse.move(width / 2 + 40, height / 2 + 20)
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.st-key-wall_bar')).opacity === '1'"
    )
    page.screenshot(path=str(ARTIFACTS / f"wall_{width}x{height}_bar.png"))
    assert page.get_by_role("button", name="次へ").is_visible()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.st-key-wall_bar')).opacity === '0'", timeout=6_000
    )
    page.context.close()


def remote_title(phone) -> str:
    return phone.locator(".remote-title").inner_text()


def test_the_presenters_phone_drives_the_wall(browser, demo_copy):
    """At a 第2層 meeting the laptop sits by the projector: the presenter opens the room from
    the wall, scans its QR code with a phone, steps and changes district while walking, and
    the wall follows within a second. A viewer's phone and a signed-out phone cannot."""
    url, root = demo_copy
    agenda = "&".join(f"{k}={v}" for k, v in ag.tier2("玉島", "玉島地区協議体").params().items())
    wall = open_page(browser, f"{url}/present?{agenda}", 1280, 720, user="etsuran", ready=".slide-headline")
    settle(wall, "1 / 9")
    wall.mouse.move(300, 300)
    wall.get_by_role("button", name="スマホで操作").click()
    wall.locator(".wall-qr-code").wait_for(timeout=30_000)
    code = wall.locator(".wall-qr-code").inner_text()
    link = wall.locator(".wall-qr img").get_attribute("src")
    assert link.startswith("data:image/svg+xml") and len(code) == 4
    wall.screenshot(path=str(ARTIFACTS / "wall_room_qr.png"))

    phone = open_page(browser, f"{url}/present?room={code}", 390, 844, user="kacho", ready=".remote-title")
    assert remote_title(phone) == "会議名と日付"
    assert phone.locator(".remote-next-title").inner_text() == "通いの場が手薄な小学校区・玉島"
    wall.locator(".wall-qr").wait_for(state="detached", timeout=5_000)  # a phone is here: the QR goes
    assert f"操作コード {code}" in wall.locator(".slide-count").inner_text()

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    lost: list[str] = []

    def follows(press, on_wall: str, reached) -> float:
        """Seconds from the tap to the wall showing `on_wall`. A tap that never reaches the room
        (`reached` says whether it did) is tapped again once, as a presenter would, and counted.
        None may be: a tap once undone by the phone's slide list reporting its old choice (fixed,
        see tests/test_wall.py) was lost about once in twenty on a busy machine."""
        shown = "t => (document.querySelector('.slide-where') || {innerText: ''}).innerText.includes(t)"
        # a presenter looks at the phone before tapping: tap once it shows the room
        wait_idle(phone, ".remote-title")
        t0 = time.monotonic()
        press()
        try:
            wall.wait_for_function(shown, arg=on_wall, timeout=5_000)
        except PlaywrightTimeout:
            if not reached(Rooms(root).get(code)):  # the room never moved: the tap was lost
                lost.append(on_wall)
                wait_idle(phone, ".remote-title")
                t0 = time.monotonic()
                press()
            wall.wait_for_function(shown, arg=on_wall, timeout=20_000)
        return time.monotonic() - t0

    def tap_next() -> None:
        phone.locator(".st-key-remote_next button").click()

    took = [follows(tap_next, "2 / 9", lambda r: r.position == 1)]
    took.append(follows(tap_next, "3 / 9", lambda r: r.position == 2))
    settle(wall, "3 / 9")
    assert wall.locator("[class*='st-key-wall_map_'] canvas").count() >= 1  # 3: the gap map
    phone.get_by_text("次（4 / 9）").wait_for(timeout=5_000)
    phone.screenshot(path=str(ARTIFACTS / "wall_phone_390x844.png"), full_page=True)

    def pick_mabi() -> None:
        phone.get_by_label("地区を変える").click()
        phone.get_by_role("option", name="真備").click()

    took.append(follows(pick_mabi, "倉敷市 真備地区", lambda r: r.district == "真備"))
    assert remote_title(phone) == "手薄な小学校区（地図）・真備"
    # from the phone's tap to the wall's new slide: 0.26-0.7 s on a quiet machine (the wall reads
    # the room every 0.25 s); a shared CI machine stretches it, so the test asserts that the wall
    # follows by itself in a few seconds, and the figure is reported, not raced
    print("phone → wall (s):", [round(t, 2) for t in took], "taps lost:", lost)
    assert max(took) < 5.0, took
    assert lost == [], lost
    wall.screenshot(path=str(ARTIFACTS / "wall_after_phone.png"))
    before = Rooms(root).get(code)

    # a viewer's phone and a signed-out phone open the same link: no control at all
    viewer = open_page(
        browser, f"{url}/present?room={code}", 390, 844, user="etsuran2", ready="[data-testid='stAlert']"
    )
    assert (
        "「管理職（詳細表・ダウンロード）」以上の役割"
        in viewer.locator("[data-testid='stAlert']").inner_text()
    )
    viewer.screenshot(path=str(ARTIFACTS / "wall_phone_viewer.png"), full_page=True)
    assert viewer.locator(".st-key-remote_next").count() == 0
    stranger = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP").new_page()
    stranger.goto(f"{url}/present?room={code}")
    stranger.get_by_label("ユーザー名").wait_for(timeout=60_000)
    wait_idle(stranger, "h1")
    assert stranger.locator(".remote-title, .st-key-remote_next").count() == 0
    # nothing moved the room: the same slide and district, last written by the wall (its own
    # check-ins) or the presenter, never by the viewer's or the stranger's phone
    after = Rooms(root).get(code)
    assert (after.position, after.district) == (before.position, before.district)
    assert after.by in ("wall", "kacho"), after.by
    assert "3 / 9" in wall.locator(".slide-where").inner_text()

    # the meeting ends from the phone: the wall goes on by itself, the code opens nothing
    phone.get_by_text("会議を終える").first.click()
    phone.get_by_role("button", name="会議を終える").click()
    phone.get_by_text("の会議は終了しました").wait_for(timeout=10_000)
    wall.wait_for_function(
        "() => !(document.querySelector('.slide-count') || {innerText: '操作コード'}).innerText.includes('操作コード')",
        timeout=5_000,
    )
    assert Rooms(root).get(code) is None
    for p in (wall, phone, viewer, stranger):
        p.context.close()


def test_an_agenda_made_on_the_wall_reopens_from_its_link(browser, demo_copy):
    """Before the meeting a coordinator picks the ready 第2層 agenda for 真備 on the wall and
    names the meeting; the link in the address bar, opened on another machine, shows the same
    slides in the same order."""
    url, _ = demo_copy
    page = open_page(browser, f"{url}/present", 1280, 720, user="etsuran", ready=".slide-headline")
    page.mouse.move(300, 300)
    page.get_by_role("button", name="議事次第").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("会議の名前").fill("真備地区協議体")
    dialog.get_by_label("すぐ使える議事次第").click()
    page.get_by_role("option", name=ag.READY["tier2"]).click()
    dialog.get_by_label("第2層の地区").click()
    page.get_by_role("option", name="真備").click()
    dialog.get_by_role("button", name="この議事次第を下に入れる").click()
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "wall_agenda_dialog.png"))
    dialog.get_by_role("button", name="この議事次第で映す").click()
    dialog.wait_for(state="detached", timeout=30_000)
    link = page.url
    assert "agenda=title%2Cgaps%40" in link or "agenda=title,gaps@" in link, link

    def walk(p, key: str) -> list[str]:
        seen = []
        for i in range(1, 10):
            settle(p, f"{i} / 9")
            seen.append(
                p.evaluate(
                    "() => [...document.querySelectorAll('.slide-where, .slide-title, .slide-name')]"
                    ".map(e => e.innerText).join(' | ')"
                )
            )
            p.keyboard.press(key)
        return seen

    first = walk(page, "ArrowRight")
    assert "真備地区協議体" in first[0] and "倉敷市 真備地区" in first[1]
    page.context.close()
    again = open_page(browser, link, 1920, 1080, user="kacho", ready=".slide-headline")
    assert walk(again, "PageDown") == first  # a presenter's clicker steps too
    again.context.close()
