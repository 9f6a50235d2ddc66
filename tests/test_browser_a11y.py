"""Readable for older eyes, and Japanese only. In a real Chromium, every page of app.py's
navigation (each tab of the tabbed pages, the sign-in form, the upload box in each of its
states) as a viewer, as an editor and, for the admin pages, as an administrator:
- axe-core (tests/package.json, installed by scripts/ensure-browser.sh) finds no serious or
  critical violation (contrast, names of buttons and fields, …) and no skipped heading level;
- the text on screen has no English word and no "None" beyond the few Streamlit writes
  itself, listed in the README (「Streamlit が英語のまま表示する箇所」);
- every table sent to the browser shows a missing value as 「—」, not Streamlit's "None"
  (a table is drawn on a canvas, so its cells are read from the messages themselves).
One server, one browser, one sign-in per role, pages reached by the sidebar as a person does.
Screenshots: tests/artifacts/a11y_*.png."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser_helpers import ARTIFACTS, _need_browser, sign_in
from tests.conftest import ROOT
from tsunagu.demo.build import HISTORY_IMPORTER, UPLOADERS

AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
PLACES_TABS = ["地区・種別", "年度の推移", "開始・休止・終了", "手薄な小学校区", "地図", "一覧・検索"]
PANTRY_TABS = ["地区別", "サポーター・活動の種別", "毎月の動き", "活動の多い設置場所"]
# (address, name in the sidebar, title on the page (None: the wall has none), tabs), in the
# order of app.py's navigation; 作戦会議モード last, since it hides the sidebar
DASHBOARDS = [
    ("", "ホーム（概要）", "地域づくりダッシュボード「つなぐ」", []),
    ("places", "居場所・通いの場", "居場所・通いの場", PLACES_TABS),
    ("pantry", "互近助パントリー", "互近助パントリー", PANTRY_TABS),
    ("forums", "フォーラム・交流会", "フォーラム・交流会", []),
    ("district", "地区カルテ", "地区カルテ", []),
    ("prefecture", "県域比較", "県域比較", []),
    ("handouts", "配布資料（PDF）", "配布資料（PDF）", []),
    ("present", "作戦会議モード", None, []),
]
PAGES = {
    "etsuran": DASHBOARDS,
    "sc_tanaka": [*DASHBOARDS, ("upload", "データ更新", "データ更新", [])],
    "kanri": [("history", "履歴・復元", "履歴・復元", []), ("users", "ユーザー管理", "ユーザー管理", [])],
}

# Latin letters a Japanese screen may carry: names of formats and files, A4 paper, size units
ALLOWED = {
    "CSV",
    "TXT",
    "TSV",
    "PDF",
    "PNG",
    "ZIP",
    "Excel",
    "UTF",
    "README",
    "ID",
    "SHA",
    "A",
    "B",
    "KB",
    "MB",
    # 「QR コード」 (the guidebook, the wall's remote) is how Japanese writes it
    "QR",
    # the workbook kinds the upload page names (「.xlsx・.xls・.ods」)
    "xlsx",
    "xlsm",
    "xls",
    "ods",
}
COLUMN_LETTER = re.compile(r"[A-Z]{1,3}列")  # where a message points in Excel: 「I列（開始年月）」
VERSION = re.compile(r"v\d{8}T\d+Z-[0-9a-f]+")  # a stored version's name (history page)
# data on screen: the user names of the demo's councils, who sent what (県域比較's status table)
SHOWN_DATA = {"prefecture": tuple(sorted({*UPLOADERS.values(), HISTORY_IMPORTER}, key=len, reverse=True))}

# the text a person sees: not the names behind icons (drawn by a ligature font), not text
# hidden for screen readers only (1 px, clipped), not what is display:none or visibility:hidden
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || el.closest("script, style")) continue;
    if (getComputedStyle(el).fontFamily.includes("Material Symbols")) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;
    out.push(n.textContent.trim());
  }
  return out.join("\\n");
}"""
# a chart's "Show data" (rows under English field names) and "Copy Vega-Lite spec", if shown
TOOLBAR = """() => [...document.querySelectorAll('[data-testid="stElementToolbar"] button')]
  .map((b) => b.ariaLabel).filter((n) => /^(Show data|Copy Vega-Lite spec)/.test(n || ""))
  .filter((n) => document.querySelector(`button[aria-label="${n}"]`).checkVisibility())"""
# Streamlit has finished the run: no "running" indicator and nothing left from the run before
SETTLED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
  && !document.querySelector('[data-stale="true"]')"""
FINISHED_TRANSITIONS = """() => document.getAnimations().filter(
  (a) => a.playState === "running" && isFinite(a.effect?.getComputedTiming().endTime)).length === 0"""
OPEN_TAB_DRAWN = """() => {
  const panel = document.querySelector('[role="tabpanel"]:not([hidden])');
  return panel && panel.querySelector('[data-testid="stElementContainer"]');
}"""
# serious and critical violations, and a skipped heading level (axe calls it "moderate"; the
# pages had one, h1 then h4, and a screen reader's list of headings reads wrong with it)
SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => ["serious", "critical"].includes(v.impact) || v.id === "heading-order")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ` + v.nodes.slice(0, 3).map(
      (n) => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\\s+/g, " ")).join(" | "));
}"""


@pytest.fixture(scope="module")
def server(demo_server):
    _need_browser()
    if not AXE.exists():  # like the browser itself: required in CI, skipped (and said) elsewhere
        reason = "axe-core がありません: scripts/ensure-browser.sh を実行してください（tests/ で npm ci）"
        if os.environ.get("TSUNAGU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return demo_server


def english(text: str, user: str, data: tuple[str, ...] = ()) -> list[str]:
    """Latin words on screen, except the allowed ones, the user names of the users file (data
    an admin typed, listed on ユーザー管理) and `data` (what the user typed or uploaded: shown
    back as it is)."""
    from tsunagu.access import users

    for shown in data:
        text = text.replace(shown, "")
    words = re.findall(r"[A-Za-z][A-Za-z_]*", COLUMN_LETTER.sub("", VERSION.sub("", text)))
    names = {user, *users.load()}
    return sorted({w for w in words if w not in ALLOWED and w not in names})


def check(page, name: str, user: str, data: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with the page as it is now, one line each; and a screenshot of it."""
    # colours are read as drawn: a list opening or an element back from a rerun (Streamlit
    # fades what is stale) is still in its transition for a moment
    # and a page mid-rerun (a late run on a busy machine) is measured once it is current:
    # Streamlit marks what it is about to replace data-stale and greys it out
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
    page.wait_for_function(FINISHED_TRANSITIONS, timeout=10_000)
    if not page.evaluate("() => typeof axe !== 'undefined'"):  # once per load of the app
        page.add_script_tag(path=str(AXE))
    problems = [f"{name}: axe {v}" for v in page.evaluate(SERIOUS)]
    words = english(page.evaluate(VISIBLE_TEXT), user, data)
    if words:
        problems.append(f"{name}: English on screen: {words}")
    shown = page.evaluate(TOOLBAR)
    if shown:
        problems.append(f"{name}: chart buttons that show English: {shown}")
    if page.locator("[data-testid='stException']").count():
        problems.append(f"{name}: a Python error is shown")
    page.screenshot(path=str(ARTIFACTS / f"a11y_{name}.png"), full_page=True)
    return problems


def capture_tables(page) -> list[str]:
    """The missing-value text of every table the server sends this page, as it arrives."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    placeholders: list[str] = []

    def frame(payload):
        if isinstance(payload, bytes):
            msg = ForwardMsg.FromString(payload)
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                if msg.delta.new_element.WhichOneof("type") == "dataframe":
                    placeholders.append(msg.delta.new_element.dataframe.placeholder)

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return placeholders


def upload_states(page, user: str, tmp_path) -> list[str]:
    """The upload box while a file is dragged over it, and once a month's file is chosen."""
    from tests.test_ingest_formats import places_csv

    zone = "[data-testid='stFileUploaderDropzone']"
    dragged = page.evaluate_handle(
        "() => { const d = new DataTransfer(); d.items.add(new File(['x'], 'a.csv')); return d; }"
    )
    page.dispatch_event(zone, "dragenter", {"dataTransfer": dragged})
    page.wait_for_timeout(300)
    hint = page.evaluate(
        f'() => getComputedStyle(document.querySelector("{zone} > div:not([data-testid])"),'
        " '::after').content"
    )
    problems = [] if "ここで放す" in hint else [f"upload_drag: the drop hint is {hint!r}"]
    problems += check(page, "upload_drag", user)
    page.dispatch_event(zone, "dragleave", {"dataTransfer": dragged})
    # a month before the demo's first: no "missing since last month" notes for its 850 places
    page.locator("[data-testid='stSelectbox']", has_text="対象の月").first.locator("input").click()
    page.keyboard.type("2016年3月")
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    settle(page)
    path = tmp_path / "3月.csv"
    path.write_text(places_csv(), encoding="utf-8")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.get_by_text("変わる内容").wait_for(timeout=60_000)
    settle(page)
    names = page.evaluate(f'() => [...document.querySelectorAll("{zone} button")].map((b) => b.ariaLabel)')
    if names != ["3月.csv を取り消す", "ファイルを選ぶ"]:
        problems.append(f"upload_chosen: the box's buttons are named {names}")
    drawn = page.evaluate(
        f'() => [...document.querySelectorAll("{zone} *")].map('
        "(e) => getComputedStyle(e, '::after').content).filter((c) => c.includes('放す'))"
    )
    if drawn:
        problems.append("upload_chosen: the drop hint is drawn with no file dragged")
    return problems + check(page, "upload_chosen", user, data=("3月.csv", "TM-001", "TM-002"))


def after(page, selector: str) -> str:
    return page.evaluate("s => getComputedStyle(document.querySelector(s), '::after').content", selector)


def typing_states(page, user: str) -> list[str]:
    """Hints Streamlit shows while one types: under a text box, and in a list that matches
    nothing (opened first as it is: no "Select all" in it)."""
    problems = []
    page.get_by_label("名前・ID・小学校区・種別で検索").click()
    page.keyboard.type("サロン")
    page.locator("[data-testid='InputInstructions']").first.wait_for()
    if "Enter キーで確定" not in after(page, "[data-testid='InputInstructions'] > span:first-child"):
        problems.append("typing: the hint under the search box is not in Japanese")
    problems += check(page, "typing_search", user)
    page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect'] input").click()
    page.locator("[role='listbox']").first.wait_for()
    problems += check(page, "typing_list_open", user)
    page.keyboard.type("zzz")
    page.locator("[role='listbox'][data-empty='true']").wait_for()
    if "該当するもの" not in after(page, "[role='listbox'][data-empty='true'] [role='option'] > span"):
        problems.append("typing: the empty list does not say so in Japanese")
    problems += check(page, "typing_no_match", user)
    page.keyboard.press("Escape")
    settle(page)
    return problems


def settle(page) -> None:
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_timeout(200)


def go(page, server: str, path: str, label: str, title: str | None) -> None:
    """To a page as a person does, by its link in the sidebar (the app stays loaded); a new
    load when there is no sidebar (the wall's page hides it)."""
    link = page.locator("[data-testid='stSidebarNav'] a", has_text=label)
    if link.count() and link.first.is_visible():
        link.first.click()
    else:
        page.goto(f"{server}/{path}")
    if title is None:
        page.locator(".slide-number").first.wait_for(timeout=60_000)
    else:
        page.wait_for_function(
            "t => document.querySelector('h1') && document.querySelector('h1').innerText === t",
            arg=title,
            timeout=60_000,
        )
    settle(page)


@pytest.mark.parametrize("user", list(PAGES))
def test_every_page_is_readable_and_japanese(browser, server, user, tmp_path):
    """Each role walks its pages and their tabs; every problem found is listed at the end."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="ja-JP")
    page = context.new_page()
    tables = capture_tables(page)
    page.goto(server)
    page.get_by_label("ユーザー名").wait_for(timeout=60_000)
    problems = check(page, "sign_in", user) if user == "etsuran" else []
    sign_in(page, user)
    for path, label, title, tabs in PAGES[user]:
        go(page, server, path, label, title)
        name = f"{user}_{path or 'home'}"
        if not tabs:
            problems += check(page, name, user, SHOWN_DATA.get(path, ()))
        for tab in tabs:
            page.get_by_role("tab", name=tab).click()
            page.wait_for_function(OPEN_TAB_DRAWN, timeout=60_000)
            settle(page)
            problems += check(page, f"{name}_{tab}", user)
            if tab == "一覧・検索" and user == "sc_tanaka":
                problems += typing_states(page, user)
        if path == "upload":
            problems += upload_states(page, user, tmp_path)
    context.close()
    assert tables, "no table reached the browser: the capture saw nothing"
    problems += [f"a table shows a missing value as {p!r}" for p in tables if p != "—"]
    assert not problems, "\n".join(problems)
