"""In a real Chromium: a sign-in cookie copied before sign-out, or before a password change,
opens nothing afterwards — replayed in a fresh browser it gets the sign-in form. Each cookie
is first shown to work, so the refusal is the change's doing."""

from __future__ import annotations

import pytest

from tests.browser_helpers import ARTIFACTS, open_page, served, wait_idle
from tests.test_browser_attacks import SIGN_IN, shows_only_sign_in, title
from tsunagu.access import users
from tsunagu.access.auth import COOKIE_NAME, SESSION_ENDED

# one server for the module: its tests stay on one worker (make test uses --dist loadgroup)
pytestmark = pytest.mark.xdist_group("sessions")


@pytest.fixture(scope="module")
def server(demo_dir):
    """A demo server of this module's own: it reads this process's users file, where the
    module's users are added and changed."""
    with served(demo_dir) as url:
        yield url


PASSWORD = "session-test-pass-1"


@pytest.fixture(scope="module")
def people(server):
    """Users of this module alone, in the users file the server reads: ending their sign-ins
    touches no other test's users."""
    for name in ("owari", "kawaru"):
        if users.get(name) is None:
            users.add(name, PASSWORD, "manager", name=f"{name}さん")
    return server


def saved_cookie(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)


def replay(browser, url, cookie: str, path: str = "places"):
    """A fresh browser holding only the copied cookie opens `path`."""
    context = browser.new_context(locale="ja-JP")
    context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": url}])
    page = context.new_page()
    page.goto(f"{url}/{path}")
    return page


def opens_the_page(browser, url, cookie) -> bool:
    page = replay(browser, url, cookie)
    wait_idle(page, "h2")
    ok = title(page) == "居場所・通いの場"
    page.context.close()
    return ok


def test_a_cookie_copied_before_sign_out_gets_the_sign_in_form(browser, people):
    url = people
    page = open_page(browser, f"{url}/forums", user="owari", password=PASSWORD)
    wait_idle(page, "h2")
    copied = saved_cookie(page)
    assert opens_the_page(browser, url, copied)  # the copy works while the sign-in lasts

    page.get_by_role("button", name="サインアウト").click()
    page.get_by_text("サインアウトしました。").wait_for(timeout=60_000)
    page.context.close()

    again = replay(browser, url, copied)
    assert shows_only_sign_in(again)
    assert again.get_by_text(SESSION_ENDED).count() == 1
    again.screenshot(path=str(ARTIFACTS / "session_ended_after_sign_out.png"))
    again.context.close()


def test_a_cookie_copied_before_a_password_change_gets_the_sign_in_form(browser, people):
    """The password is changed from the command line's module while the server runs; the
    page left open is over at its next run too."""
    url = people
    page = open_page(browser, f"{url}/forums", user="kawaru", password=PASSWORD)
    wait_idle(page, "h2")
    copied = saved_cookie(page)
    assert opens_the_page(browser, url, copied)

    users.set_password("kawaru", "a-new-password-2")

    again = replay(browser, url, copied)
    assert shows_only_sign_in(again)
    again.context.close()
    # the tab still open: its next run (a click in the sidebar) shows the sign-in form
    page.locator("[data-testid='stSidebarNav']").get_by_text("居場所・通いの場").click()
    page.get_by_text(SESSION_ENDED).wait_for(timeout=60_000)
    assert title(page) == SIGN_IN
    assert page.locator("[data-testid='stMetric']").count() == 0
    page.context.close()
