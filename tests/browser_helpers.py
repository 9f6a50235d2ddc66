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
        # the users' profiles on this server go with it: a tab left open would keep trying
        # to reconnect for the rest of the run
        for key in [k for k in _PROFILES if k[1] == url]:
            _PROFILES[key].close()
        proc.terminate()
        proc.wait(timeout=20)


def launch(playwright, **options):
    """Debian's Chromium, headless, started by the worker's Playwright (`playwright_driver`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, **options)


# a person's own browser on a server, per user: its cookie (signed in once, through the form)
# and its tabs. Chromium's CPU per page, measured on this machine: a new profile ~5 s, a new
# tab in a kept one ~4 s, another address in an open tab ~1.6 s, a link in the app ~0.6 s;
# so a test's tab, once closed, waits to be the next test's (a person opens the next address
# in the tab they have, not a new browser each time)
_PROFILES: dict[tuple[int, str, str], object] = {}
_IDLE: dict[object, list] = {}  # per profile, its tabs no test is using
_REUSABLE: set = set()  # tabs that carry nothing of their test (no route, no listener)


def _server_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _profile(browser, url, user, width, height):
    key = (id(browser), _server_of(url), user)
    context = _PROFILES.get(key)
    if context is None or not context.browser:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")

        def gone(_):
            _PROFILES.pop(key, None)
            _IDLE.pop(context, None)

        context.on("close", gone)
        _PROFILES[key] = context
        _IDLE[context] = []
    return context


def new_tab(browser, url, user="kacho", width=1920, height=1080):
    """A new tab, nothing loaded yet, in `user`'s own browser profile for the server of `url`
    (for a test that listens to it or routes it; close() closes it)."""
    page = _profile(browser, url, user, width, height).new_page()
    page.set_viewport_size({"width": width, "height": height})
    return page


def open_page(
    browser, url, width=1920, height=1080, user="kacho", ready="h1", password=None, fresh=False, prepare=None
):
    """A tab signed in as `user`, showing `url`: in the user's own profile, a tab another test
    has closed or a new one; through the form the first time, with the kept cookie after (a
    cookie that no longer signs in, the user having signed out since, means the form again).
    With `fresh` or a `password`: another machine, a profile of its own through the form
    (close() closes it with the tab). `prepare(page)` runs on the tab before it loads (a
    route, a listener): such a tab is not used again."""
    if fresh or password is not None:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
        page = context.new_page()
        if prepare:
            prepare(page)
        page.goto(url)
        sign_in(page, user, ready, password)
        return page
    idle = _IDLE[_profile(browser, url, user, width, height)]
    if idle and prepare is None:
        page = idle.pop()
        page.set_viewport_size({"width": width, "height": height})
    else:
        page = new_tab(browser, url, user, width, height)
    if prepare:
        prepare(page)
    else:
        _REUSABLE.add(page)
    page.goto(url)
    # the page or the sign-in form, once the script has finished: checked earlier, a form
    # drawn before its fields (a cookie that no longer signs in) passed for the page
    wait_idle(page, f"{ready}, [data-testid='stForm']")
    if page.get_by_label("ユーザー名").count() == 0:
        wait_idle(page, ready)
        return page
    sign_in(page, user, ready)
    return page


def close(page) -> None:
    """Done with the tab: a reusable one waits for the next test, any other is closed, and
    with it its profile unless that is a user's kept one (open_page's `fresh`)."""
    if page in _REUSABLE and not page.is_closed() and page.context in _IDLE:
        _IDLE[page.context].append(page)
    elif page.context in _IDLE:
        _REUSABLE.discard(page)
        page.close()
    else:
        page.context.close()


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
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=100
    )
    page.wait_for_timeout(800)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=100
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
