"""Access attacks: every page by every role and by no session, a users file others can
read, SQL injection through filters (URL and Database.query), and upload file names that
try to reach outside the data folder. Cookies are tampered with in a real browser, in
tests/test_browser_attacks.py."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import AREAS_CSV, ROOT, tsunagu_cli
from tests.test_app import signed_in
from tests.test_ingest_formats import PLACES_ROWS, places_csv
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database, load_query, query_params
from tsunagu.store.versions import Store

# page file -> (title, the lowest role that may open it)
PAGES = {
    "pages/overview.py": ("地域づくりダッシュボード「つなぐ」", "viewer"),
    "pages/places.py": ("居場所・通いの場", "viewer"),
    "pages/pantry.py": ("互近助パントリー", "viewer"),
    "pages/forums.py": ("フォーラム・交流会", "viewer"),
    "pages/district.py": ("地区カルテ", "viewer"),
    "pages/prefecture.py": ("県域比較", "viewer"),
    "pages/survey.py": ("国の調査（通いの場）", "viewer"),
    "pages/present.py": (None, "viewer"),  # the wall: no title, slides
    "pages/handouts.py": ("配布資料（PDF）", "viewer"),
    "pages/start.py": ("はじめに", "editor"),
    "pages/upload.py": ("データ更新", "editor"),
    "pages/history.py": ("履歴・復元", "admin"),
    "pages/admin_users.py": ("ユーザー管理", "admin"),
}
ROLES = ["viewer", "manager", "editor", "admin"]
USER_OF = {"viewer": "etsuran", "manager": "kacho", "editor": "sc_tanaka", "admin": "kanri"}
SIGN_IN = "つなぐ｜サインイン"


def allowed(role: str | None, page: str) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(PAGES[page][1])


@pytest.fixture
def demo_env(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return demo_dir


def shows_nothing_but_sign_in(at: AppTest) -> bool:
    return (
        [t.value for t in at.title] == [SIGN_IN]
        and not at.metric
        and not at.dataframe
        and not at.table  # 県域比較's upload status names who sent what: signed-in users only
        and not at.get("file_uploader")
        and not at.get("download_button")
    )


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "no-session")
def test_every_page_by_every_role_and_no_session(demo_env, role):
    """Each page's URL tried by each role and by a visitor without a session: a page the role
    may use opens; any other shows only the sign-in form (no session) or says, in Japanese,
    that the role does not allow it, and nothing of the page (the editors' guide is not
    registered before signing in)."""
    refused = opened = 0
    for page, (title, _) in PAGES.items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if role:
            signed_in(at, USER_OF[role])
        at.run()
        try:
            at.switch_page(page)  # registered for everyone (hidden where not allowed)...
        except ValueError as e:  # ...but the editors' guide, which leads nowhere until signed in
            assert page == "pages/start.py" and role is None, e
            refused += 1
            continue
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        if allowed(role, page):
            opened += 1
            assert not at.error, (page, [e.value for e in at.error])
            if title:
                assert title in [t.value for t in at.title], page
            else:
                assert any("slide-number" in m.value for m in at.markdown), page
        elif role is None:
            assert shows_nothing_but_sign_in(at), page
            refused += 1
        else:
            assert [e.value for e in at.error] == ["このページを使う権限がありません。"], (page, role)
            assert not at.get("file_uploader") and not at.get("download_button") and not at.dataframe, page
            refused += 1
    assert opened + refused == len(PAGES)
    assert refused == sum(not allowed(role, p) for p in PAGES)


GUARDED = [page for page, (_, role) in PAGES.items() if role != "viewer"]


@pytest.mark.parametrize("page", GUARDED)
def test_guarded_page_run_on_its_own_refuses_every_lower_role(demo_env, page):
    """Streamlit can run a page file without app.py: the page still checks the role itself."""
    for role in [None, *ROLES]:
        at = AppTest.from_file(str(ROOT / page), default_timeout=120)
        if role:
            signed_in(at, USER_OF[role])
        at.run()
        assert not at.exception, (page, role)
        if allowed(role, page):
            assert not at.error and PAGES[page][0] in [t.value for t in at.title], (page, role)
        elif role is None:
            assert [w.value for w in at.warning] == ["サインインしてください。"], page
        else:
            assert [e.value for e in at.error] == ["このページを使う権限がありません。"], (page, role)
            assert not at.get("file_uploader") and not at.get("button") and not at.dataframe


# the users file


LOOSE_MODES = [("users", 0o644), ("users", 0o620), ("cookie_key", 0o604)]


@pytest.mark.parametrize("which, mode", LOOSE_MODES)
def test_users_file_others_can_read_stops_the_app_with_the_fix(
    tmp_path, monkeypatch, users_file, demo_dir, which, mode
):
    """A users file (or cookie key) readable or writable by others: nobody can sign in, and
    the page says how to fix it, in Japanese; the command line refuses the same way."""
    path = tmp_path / "users.yaml"
    shutil.copy(users_file, path)
    os.chmod(path, 0o600)
    key = tmp_path / "users.cookie_key"
    key.write_text("k" * 64)
    os.chmod(key, 0o600)
    os.chmod(path if which == "users" else key, mode)
    monkeypatch.setenv("TSUNAGU_USERS_FILE", str(path))
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    [error] = at.error
    bad = path if which == "users" else key
    assert "つなぐを開始できません" in error.value and f"chmod 600 {bad}" in error.value
    assert not at.text_input and not at.metric  # no sign-in form, no data
    proc = subprocess.run(
        [sys.executable, "-m", "tsunagu", "users", "list", "--users-file", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if which == "users":
        assert proc.returncode == 1 and "chmod 600" in proc.stderr and "Traceback" not in proc.stderr
    assert stat.S_IMODE(bad.stat().st_mode) == mode  # refused, not silently "fixed"


# SQL injection: every value is a bound parameter

PAYLOADS = [
    "' or '1'='1",
    "玉島' or 1=1 --",
    "'; drop table places_all; --",
    "x') union select * from places_all --",
    "$municipality",
]
UNKNOWN = "存在しない値"
# without a valid dimension a breakdown has no rows, and an attack would be compared with nothing
DIMENSIONS = {
    "places_breakdown": {"dimension": "category"},
    "pantry_breakdown": {"dimension": "supporter_type"},
}


def run(db: Database, name: str, **params):
    try:
        return db.query(name, **params)
    except duckdb.Error as e:  # e.g. text into an integer parameter: refused, never executed
        return type(e).__name__


def tables(db: Database) -> list[tuple]:
    cur = db.con.cursor()
    try:
        return cur.sql("select table_name, estimated_size from duckdb_tables() order by 1").fetchall()
    finally:
        cur.close()


def query_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "queries").glob("*.sql"))


def injection_cases() -> list[tuple[str, str, str]]:
    """(query, parameter, payload): every parameter of every named query, every payload."""
    return [
        (name, param, payload)
        for name in query_names()
        for param in query_params(load_query(name))
        for payload in PAYLOADS
    ]


def test_sql_injection_through_every_query_parameter_is_just_a_value(demo_db):
    """Every named query, every parameter, five injection strings: each answers exactly as
    a plain value that matches nothing would, and no table changes."""
    demo_db.refresh()
    before = tables(demo_db)
    cases, baselines = injection_cases(), {}
    for name, param, payload in cases:
        wanted = query_params(load_query(name))
        base = {k: v for k, v in {"municipality": "倉敷市", "prefecture": "岡山県"}.items() if k in wanted}
        base |= DIMENSIONS.get(name, {})
        # months are compared by order (from_month <= month): the plain value that orders
        # like the payload is its first character, as no month starts with it
        plain = payload[0] if "month" in param else UNKNOWN
        if (name, param, plain) not in baselines:
            baselines[name, param, plain] = run(
                demo_db, name, **base | {param: [plain] if param == "districts" else plain}
            )
        expected = baselines[name, param, plain]
        got = run(demo_db, name, **base | {param: [payload] if param == "districts" else payload})
        same = got == expected if isinstance(got, str) or isinstance(expected, str) else got.equals(expected)
        assert same, (name, param, payload)
    assert tables(demo_db) == before
    # every query that takes a value was tried (docs/reliability.md states these counts)
    assert {name for name, _, _ in cases} == {n for n in query_names() if "$" in load_query(n)}
    print(f"\n{len(cases)} injection attempts over {len(query_names())} queries")


def test_a_name_that_looks_like_sql_is_found_as_itself(tmp_path):
    """A district literally named like an attack is stored and matched as that exact text."""
    evil = "玉島'); drop table places_all; --"
    store = Store(tmp_path / "data")
    areas = AREAS_CSV.replace("玉島,玉島小", f'"{evil}",玉島小', 1)
    assert ingest(areas.encode(), "areas", "2024-04", store).ok
    rows = places_csv([PLACES_ROWS[0].replace("玉島,", f'"{evil}",', 1)])
    assert ingest(rows.encode(), "places", "2024-07", store).ok
    db = Database(store)
    found = db.query("places_list", municipality="倉敷市", districts=[evil], month="2024-07")
    assert found["district"].to_list() == [evil]
    proc = tsunagu_cli(
        "query",
        "places_list",
        "--data-dir",
        str(store.root),
        "--param",
        "municipality=倉敷市",
        "--param",
        "district=玉島' or '1'='1",
        timeout=60,
    )
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 1  # the header, no rows


BAD_QUERY_NAMES = [
    "../queries/places_list",
    "places_list; drop table areas_all",
    "/etc/passwd",
    "PLACES_LIST",
    "places_list.sql",
]


@pytest.mark.parametrize("name", BAD_QUERY_NAMES)
def test_query_names_cannot_reach_other_files(tmp_path, name):
    proc = subprocess.run(
        [sys.executable, "-m", "tsunagu", "query", name, "--data-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "使えません" in proc.stderr or "ありません" in proc.stderr


URL_ATTACKS = {
    "pref": "岡山県' or '1'='1",
    "muni": "倉敷市'; drop table areas_all; --",
    "d": "玉島') or true --,水島",
    "s": "x' union select * from places_all --",
    "m": "2024-07' or '1'='1",
    "fy": "2024 or 1=1",
}


URL_ATTACK_PAGES = ["pages/overview.py", "pages/places.py", "pages/pantry.py"]


@pytest.mark.parametrize("page", URL_ATTACK_PAGES)
def test_sql_injection_in_the_url_falls_back_to_the_plain_view(demo_env, page):
    """A link whose filters carry SQL opens the same view, with the same figures, as a link
    with plain unknown values: the defaults (倉敷市, the latest year) and the one real district."""

    def open_(query):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for k, v in query.items():
            at.query_params[k] = v
        signed_in(at, "kacho")
        at.run()
        at.switch_page(page).run()
        assert not at.exception
        return at

    # the same link with harmless unknown values in place of the attacks
    attacked, plain = open_(URL_ATTACKS), open_({k: "x,水島" if k == "d" else "x" for k in URL_ATTACKS})
    assert "倉敷市 水島" in attacked.markdown[0].value  # only the real district survives
    assert [(m.label, m.value) for m in attacked.metric] == [(m.label, m.value) for m in plain.metric]


def test_sql_injection_in_the_search_box_finds_nothing(demo_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    signed_in(at, "kacho")
    at.run()
    at.query_params["places_tab"] = "一覧・検索"
    at.switch_page("pages/places.py").run()
    at.text_input[0].input("' or '1'='1").run()
    assert not at.exception and any(c.value == "0件" for c in at.caption)


# upload file names

NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\Windows\\win.ini",
    "/etc/shadow",
    "C:\\boot.ini",
    "~/.bashrc",
    "%2e%2e%2f%2e%2e%2fx.csv",
    "7月.csv\x00.exe",
    "." * 300,
    "名前" * 2000,
    '7月.csv"}\n{"action": "restore", "outcome": "committed", "user": "admin"',
    "<img src=x onerror=alert(1)>.csv",
    "data.parquet",
    "_manifest.json",
    "../_audit/uploads.jsonl",
]


def test_upload_file_names_never_touch_the_archive_or_the_audit_log(tmp_path):
    """Names with ../, absolute paths, NUL, newlines that fake an audit record: the store
    names files by version only, nothing appears outside it, and the log has exactly one
    record per attempt with the name as given."""
    root = tmp_path / "council" / "data"
    store = Store(root)
    assert ingest(AREAS_CSV.encode(), "areas", "2024-04", store).ok
    outside = sorted(str(p) for p in tmp_path.rglob("*") if root not in p.parents and p != root)
    for i, name in enumerate(NAMES):
        good = ingest(places_csv().encode(), "places", f"2024-{1 + i % 12:02d}", store, file_name=name)
        bad = ingest(b"PK\x03\x04", "places", "2024-07", store, file_name=name)
        assert good.ok and not bad.ok
    assert sorted(str(p) for p in tmp_path.rglob("*") if root not in p.parents and p != root) == outside
    allowed_paths = re.compile(
        r"_manifest\.json|_lock|_audit(/uploads\.jsonl)?|_staging|_pending|"
        r"(_archive/)?(areas|places)(/month=\d{4}-\d{2}(/(data\.parquet|v\d{8}T\d{12}Z-[0-9a-f]{6}\.(parquet|json)"
        r"|_parts(/[vc]\d{8}T\d{12}Z-[0-9a-f]{6}\.json)?|_composed(/c\d{8}T\d{12}Z-[0-9a-f]{6}\.parquet)?))?)?|_archive"
    )
    strays = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if not allowed_paths.fullmatch(p.relative_to(root).as_posix())
    ]
    assert strays == []
    lines = store.audit_path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one whole record
    assert len(records) == 1 + 2 * len(NAMES)
    assert [r["file_name"] for r in records[1:]] == [n for n in NAMES for _ in range(2)]
    assert not any(r["action"] == "restore" for r in records)
    out = subprocess.run(
        [sys.executable, "-m", "tsunagu", "history", "--data-dir", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert [r["file_name"] for r in csv.DictReader(io.StringIO(out))][1:] == [
        n for n in NAMES for _ in range(2)
    ]
