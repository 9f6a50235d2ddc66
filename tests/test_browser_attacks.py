"""Attacks in a real Chromium against a running server (loopback only): every URL without a
session, roles typing URLs above them, tampered and expired sign-in cookies, files that are
not served, and names full of HTML and Markdown shown as text, never rendered.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import jwt
import pytest

from tests.browser_helpers import (
    ARTIFACTS,
    _need_browser,
    dismiss_dialog,
    open_page,
    served,
    wait_idle,
)
from tests.test_ingest_formats import places_csv
from tsunagu.access import users
from tsunagu.access.auth import COOKIE_NAME
from tsunagu.dashboard.gate import REFUSED_TITLE

# one server for the module: its tests stay on one worker (make test uses --dist loadgroup)
pytestmark = pytest.mark.xdist_group("attacks")

URLS = {
    "": "viewer",
    "places": "viewer",
    "pantry": "viewer",
    "forums": "viewer",
    "district": "viewer",
    "prefecture": "viewer",
    "present": "viewer",
    "handouts": "viewer",
    "upload": "editor",
    "history": "admin",
    "users": "admin",
}
ROLES = ["viewer", "manager", "editor", "admin"]
USER_OF = {"viewer": "etsuran", "manager": "kacho", "editor": "sc_tanaka", "admin": "kanri"}
HOME = "地域づくりダッシュボード「つなぐ」"
SIGN_IN = "つなぐ｜サインイン"

# names a council's own files might carry, by accident or not
IMG = "<img src=x onerror=window.__xss=1>"
BOLD = "**太字**"
LINK = "[リンク](javascript:window.__xss=2)"
REMOTE = "![画像](http://127.0.0.1:9/x.png)"
SCRIPT = "<script>window.__xss=3</script>"
DANGER_JS = """() => ({
    xss: window.__xss === undefined ? null : window.__xss,
    img: document.querySelectorAll('img[src="x"], img[src*="127.0.0.1:9"]').length,
    js_links: document.querySelectorAll('a[href^="javascript"]').length,
    scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__xss')).length,
    bold: [...document.querySelectorAll('[data-testid=stMain] strong')].filter(
        s => s.textContent.includes('太字')).length,
})"""
SAFE = {"xss": None, "img": 0, "js_links": 0, "scripts": 0, "bold": 0}


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A council store whose district, school and place names are HTML and Markdown."""
    _need_browser()
    from tests.conftest import AREAS_CSV
    from tsunagu.ingest.pipeline import ingest
    from tsunagu.store.versions import Store

    root = tmp_path_factory.mktemp("hostile-browser")
    store = Store(root)
    areas = (
        AREAS_CSV
        + "\n".join(
            [
                f"岡山県,倉敷市,{csv_cell(IMG)},{csv_cell(BOLD)},1000,300,400",
                f"岡山県,倉敷市,{csv_cell(IMG)},{csv_cell(LINK)},1000,300,400",
                f"岡山県,倉敷市,{csv_cell(BOLD)},{csv_cell(REMOTE)},1000,300,400",
            ]
        )
        + "\n"
    )
    assert ingest(areas.encode(), "areas", "2024-04", store).ok
    rows = [
        f"H-{i},{csv_cell(name)},倉敷市,{csv_cell(district)},{csv_cell(school)},サロン,はい,活動中,,,,,"
        for i, (name, district, school) in enumerate(
            [(SCRIPT, IMG, BOLD), (IMG + BOLD, IMG, LINK), (REMOTE + LINK, BOLD, REMOTE)]
        )
    ]
    assert ingest(places_csv(rows).encode(), "places", "2024-07", store).ok
    with served(root) as url:
        yield url, store


def title(page) -> str:
    return page.locator("h1").first.inner_text()


def shows_only_sign_in(page) -> bool:
    page.get_by_label("ユーザー名").wait_for(timeout=60_000)
    dismiss_dialog(page)
    return (
        title(page) == SIGN_IN
        and page.locator(
            "[data-testid='stMetric'], [data-testid='stDataFrame'],"
            " [data-testid='stFileUploader'], .slide-number"
        ).count()
        == 0
        and page.locator("[data-testid='stException']").count() == 0
    )


def test_every_url_without_a_session_shows_only_the_sign_in_form(browser, hostile):
    """A stranger types each page's URL: the sign-in form and nothing else, every time."""
    url, _ = hostile
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    for path in URLS:
        page.goto(f"{url}/{path}?d=玉島")
        assert shows_only_sign_in(page), path
    page.screenshot(path=str(ARTIFACTS / "attack_no_session.png"))
    context.close()


def test_editor_typing_admin_urls_is_told_the_role_does_not_allow_it(browser, hostile):
    """Signed in as an editor, typing the admin pages' URLs: told in Japanese that the role does
    not allow it, no audit log, no user list. (Every role and page is tried with AppTest in
    tests/test_access.py; a viewer typing /upload and /history in tests/test_browser.py.)"""
    url, _ = hostile
    role = "editor"
    page = open_page(browser, url, user=USER_OF[role])
    wait_idle(page, "h2")
    for path, needed in URLS.items():
        if ROLES.index(role) >= ROLES.index(needed):
            continue
        page.goto(f"{url}/{path}")
        wait_idle(page, "h1")
        assert title(page) == REFUSED_TITLE, path
        assert page.get_by_role("dialog").count() == 0, path  # no English "Page not found"
        assert page.locator("[data-testid='stFileUploader']").count() == 0
        assert page.get_by_text("登録の履歴").count() == 0 and page.get_by_text("ユーザーを追加").count() == 0
    page.context.close()


def real_cookie(browser, url, user="etsuran") -> str:
    page = open_page(browser, url, user=user)
    value = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    page.context.close()
    return value


def tampered_cookies(real: str) -> dict[str, str]:
    key = users.cookie_key()  # the server's key: it sits beside the users file the tests made
    head, body, sig = real.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    to_admin = jwt.utils.base64url_encode(json.dumps(claims | {"username": "kanri"}).encode()).decode()
    later = time.time() + 3600
    # signed with the server's key and carrying the real sign-in's generation, so that each
    # is refused for its own flaw (expiry, a missing field), not for a missing generation
    real_claims = {"username": claims["username"], "gen": claims["gen"]}
    return {
        "payload changed to the admin, signature kept": f"{head}.{to_admin}.{sig}",
        "unsigned (alg none) for the admin": jwt.encode(
            {"username": "kanri", "exp_date": later}, None, algorithm="none"
        ),
        "signed with another key": jwt.encode(
            {"username": "kanri", "exp_date": later}, "x" * 64, algorithm="HS256"
        ),
        "expired (exp_date an hour ago)": jwt.encode(
            real_claims | {"exp_date": time.time() - 3600}, key, algorithm="HS256"
        ),
        "expired standard exp claim": jwt.encode(
            real_claims | {"exp_date": later, "exp": int(time.time()) - 3600}, key, algorithm="HS256"
        ),
        "a user who was removed": jwt.encode(
            real_claims | {"username": "removed-user", "exp_date": later}, key, algorithm="HS256"
        ),
        "exp_date missing": jwt.encode(real_claims, key, algorithm="HS256"),
        "no session generation (a cookie of before generations)": jwt.encode(
            {"username": claims["username"], "exp_date": later}, key, algorithm="HS256"
        ),
        "the admin's name with the viewer's generation": jwt.encode(
            real_claims | {"username": "kanri", "exp_date": later}, key, algorithm="HS256"
        ),
    }


def test_tampered_or_expired_cookies_are_refused(browser, hostile):
    """A sign-in cookie edited, forged, unsigned, expired, or of a removed user: the sign-in
    form, never the admin's pages and never a traceback. The real cookie still works."""
    url, _ = hostile
    real = real_cookie(browser, url)
    # one browser for every attempt (its cache kept, as a person retrying would), its cookies
    # replaced before each
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    for label, value in tampered_cookies(real).items():
        context.clear_cookies()
        context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": url}])
        page.goto(f"{url}/history")
        assert shows_only_sign_in(page), label
        assert page.get_by_text("Traceback").count() == 0 and page.get_by_text("Error").count() == 0, label
    # the control: the untouched cookie signs the viewer in, so the refusals above are real
    context.clear_cookies()
    context.add_cookies([{"name": COOKIE_NAME, "value": real, "url": url}])
    page.goto(f"{url}/places")
    wait_idle(page, "h2")
    assert title(page) == "居場所・通いの場"
    page.screenshot(path=str(ARTIFACTS / "attack_cookie_control.png"))
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/.streamlit/users.yaml",
        "/.streamlit/users.cookie_key",
        "/app/static/../../.streamlit/users.yaml",
        "/app/static/%2e%2e/%2e%2e/.streamlit/users.yaml",
        "/media/..%2f..%2f.streamlit%2fusers.yaml",
        "/_manifest.json",
        "/_audit/uploads.jsonl",
        "/component/../../tsunagu/users.py",
    ],
)
def test_no_url_serves_the_users_file_or_the_data(hostile, path):
    """Password hashes, the cookie key and the data folder are never served over HTTP."""
    url, store = hostile
    try:
        with urllib.request.urlopen(url + path, timeout=10) as r:
            body = r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
    assert "$2b$" not in body and users.cookie_key() not in body
    assert '"datasets"' not in body and '"outcome"' not in body and "def verify" not in body


def test_html_and_markdown_in_names_are_shown_as_text(browser, hostile):
    """Districts, schools and places named with HTML, script and Markdown: the page shows the
    names as typed; no script runs, no image loads, no link or bold appears."""
    url, _ = hostile
    query = urllib.parse.urlencode({"d": f"{IMG},{BOLD}", "m": "2024-07"})
    page = open_page(browser, f"{url}/places?{query}", ready="h2")
    header = page.locator("h2").first.inner_text()
    assert IMG in header and BOLD in header
    assert page.evaluate(DANGER_JS) == SAFE
    page.screenshot(path=str(ARTIFACTS / "attack_names_places.png"), full_page=True)
    for path in ("district", "pantry"):  # the district's own heading; "no data for <area>"
        page.goto(f"{url}/{path}?{query}")
        wait_idle(page, "h2")
        assert page.evaluate(DANGER_JS) == SAFE, path
        page.screenshot(path=str(ARTIFACTS / f"attack_names_{path}.png"), full_page=True)
    assert page.get_by_text(f"{IMG}・{BOLD}の互近助パントリーのデータはありません").count() == 1
    page.context.close()


def test_upload_file_name_is_shown_as_text_and_kept_out_of_paths(browser, hostile):
    """An editor uploads a file whose name is HTML, Markdown and ../: shown as text, stored
    under a version name, recorded as given."""
    url, store = hostile
    page = open_page(browser, url, user="sc_tanaka")
    page.goto(f"{url}/upload")
    wait_idle(page)
    page.get_by_text("CSV・Excel のファイル").first.wait_for()
    name = f"..\\..\\{IMG}{BOLD}{LINK}.csv"
    rows = [f"U-1,{csv_cell('サロン')},倉敷市,玉島,玉島小,サロン,はい,活動中,,,,,"]
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": places_csv(rows).encode()}]
    )
    page.get_by_text("確認できました: 倉敷市の1行").wait_for(timeout=60_000)
    assert page.get_by_text(f"{name} →").count() == 1
    assert page.evaluate(DANGER_JS) == SAFE
    page.get_by_role("button", name="登録する").click()
    page.get_by_text("登録しました").first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "attack_upload_name.png"), full_page=True)
    record = store.history("places")[-1]
    assert record["outcome"] == "committed" and IMG in record["file_name"]
    assert all(p.name.startswith("v") for p in (store.root / "_archive" / "places").rglob("*.*"))
    assert not list(store.root.parent.glob("*.csv"))
    page.context.close()
