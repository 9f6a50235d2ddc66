"""What the browser tests share: a dashboard server on a free port, Chromium (Debian's, since
Playwright cannot download its own here), and signing in as a person does."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

from tests.conftest import PASSWORDS, ROOT
from tsunagu.access.auth import GENERIC_FAILURE, THROTTLED

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _need_browser():
    if os.path.exists(CHROMIUM) and shutil.which("fc-list"):
        return
    if os.environ.get("TSUNAGU_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium がありません: scripts/ensure-browser.sh を root で実行してください")
    pytest.skip("chromium がないためブラウザテストを省略")


def start_server(data_dir):
    """A dashboard process on loopback and its URL (tools/server.py, shared with the bench)."""
    from tools import server

    try:
        proc, port = server.start(data_dir, wait_s=60)
    except RuntimeError as e:
        pytest.fail(str(e))
    return proc, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def served(data_dir):
    """For a module's server fixture: the URL of a dashboard on `data_dir`, stopped after."""
    _need_browser()
    proc, url = start_server(data_dir)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, for the length of a test module."""
    from playwright.sync_api import sync_playwright

    _need_browser()

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# what a signed-in browser keeps (its cookie), per server and user: a test that only needs to
# be signed in reuses it instead of filling the form again (sign-in itself is tested first)
_SIGNED_IN: dict[tuple[str, str], dict] = {}


def _server_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def open_page(browser, url, width=1920, height=1080, user="kacho", ready="h1", password=None, fresh=False):
    """A new browser (its own tab and cookies), signed in as `user`, showing `url`: through the
    form the first time (or with `fresh`, or a `password`), with the cookie kept from then on.
    A kept cookie that no longer signs in (the user signed out since) means the form again."""
    key = (_server_of(url), user)
    kept = None if fresh or password is not None else _SIGNED_IN.get(key)
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="ja-JP", storage_state=kept
    )
    page = context.new_page()
    page.goto(url)
    if kept is not None:
        # the page or the sign-in form, once the script has finished: checked earlier, a form
        # drawn before its fields (a cookie that no longer signs in) passed for the page
        wait_idle(page, f"{ready}, [data-testid='stForm']")
        if page.get_by_label("ユーザー名").count() == 0:
            wait_idle(page, ready)
            return page
    sign_in(page, user, ready, password)
    if password is None:
        _SIGNED_IN[key] = context.storage_state()
    return page


def dismiss_dialog(page) -> str:
    """Streamlit says "page not found" in a dialog for an unknown URL; close it, return its text."""
    page.wait_for_timeout(500)
    dialog = page.get_by_role("dialog")
    if dialog.count() and dialog.first.is_visible():
        text = dialog.first.inner_text()
        page.keyboard.press("Escape")
        dialog.first.wait_for(state="hidden")
        return text
    return ""


def sign_in(page, user, ready="h1", password=None):
    """Through the form, as a person does: once the page has settled (a run still going, e.g.
    the cookie component's first report, redraws the form and can swallow a click), and once
    more if the click was lost all the same."""
    page.get_by_label("ユーザー名").wait_for(timeout=60_000)
    dismiss_dialog(page)
    wait_idle(page, "h1")
    for attempt in range(2):
        page.get_by_label("ユーザー名").fill(user)
        page.get_by_label("パスワード").fill(PASSWORDS[user] if password is None else password)
        page.get_by_role("button", name="サインイン").click()
        try:
            page.get_by_text("つなぐ｜サインイン").wait_for(state="detached", timeout=30_000 * (attempt + 1))
            break
        except Exception:
            refused = page.get_by_text(GENERIC_FAILURE).count() + page.get_by_text(THROTTLED).count()
            if attempt or refused:
                raise
    wait_idle(page, ready)
    # the cookie is written by the page's script after sign-in: wait for it before moving on
    for _ in range(50):
        if any(c["name"] == "tsunagu_auth" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    pytest.fail("the sign-in cookie was not set")


def wait_idle(page, selector="h1"):
    """Until Streamlit has finished running the script and drawn the page: no running
    indicator, and none again a moment later (an action's run may not have started yet, and
    a run can start another: the cookie component reports back once after a load)."""
    page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(800)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def download_file(page, button, tries: int = 3):
    """Click a download button and return the download. A deferred download's button is
    renewed by every run of the script, so a click that lands while a late run (the cookie
    component reporting back on a busy machine) replaces it starts nothing; a person clicks
    again once the page is still, and so does this."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        try:
            with page.expect_download(timeout=45_000) as info:
                button().click()
            return info.value
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            wait_idle(page, "h2")
