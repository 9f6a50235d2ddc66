"""Sign-in, throttling, what a role sees on a page, and the users file, as people meet them.
Which pages each role (and no session) can open is swept in tests/test_access.py."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PASSWORDS, ROOT
from tests.test_app import signed_in
from tsunagu.access import users
from tsunagu.access.auth import GENERIC_FAILURE, THROTTLED, Throttle


@pytest.fixture
def fresh(demo_dir, monkeypatch):
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    return lambda: AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()


def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_a_new_session_sees_only_the_sign_in_form(fresh):
    at = fresh().run()
    assert not at.exception
    assert page_titles(at) == ["つなぐ｜サインイン"]
    assert not at.metric


def test_right_password_opens_the_dashboard(fresh):
    at = sign_in(fresh().run(), "kacho", PASSWORDS["kacho"])
    assert not at.exception
    assert "地域づくりダッシュボード「つなぐ」" in page_titles(at)
    assert any("kachoさん" in c.value for c in at.sidebar.caption)


def test_wrong_password_is_refused_without_saying_whether_the_user_exists(fresh):
    at = sign_in(fresh().run(), "kacho", "wrong-password")
    assert at.error[0].value == GENERIC_FAILURE
    at = sign_in(fresh().run(), "nobody-here", "wrong-password")
    assert at.error[0].value == GENERIC_FAILURE


def test_repeated_failures_are_throttled_for_a_while(fresh, users_file, tmp_path, monkeypatch):
    # a copy of the users file of its own: the throttle it fills is kept beside that file, and
    # would refuse etsuran2 for ten minutes in tests signing in elsewhere meanwhile
    own = tmp_path / users_file.name
    shutil.copy2(users_file, own)
    monkeypatch.setenv("TSUNAGU_USERS_FILE", str(own))
    at = fresh().run()
    for _ in range(5):
        at = sign_in(at, "etsuran2", "wrong-password")
    assert at.error[0].value == THROTTLED
    # even the right password waits now; and an unknown name is treated the same way
    at = sign_in(at, "etsuran2", PASSWORDS["etsuran2"])
    assert at.error[0].value == THROTTLED
    assert "地域づくりダッシュボード「つなぐ」" not in page_titles(at)
    for _ in range(5):
        at = sign_in(at, "ghost-user", "x" * 10)
    assert at.error[0].value == THROTTLED


def test_throttle_is_a_time_window_not_a_permanent_lock(tmp_path):
    t = Throttle(limit=3, window=60, path=tmp_path / "throttle.json")
    for i in range(3):
        t.fail("a", now=100.0 + i)
    assert t.blocked("a", now=110.0)
    assert not t.blocked("a", now=170.0)  # the oldest failure has left the window
    assert not t.blocked("b", now=110.0)


def test_viewer_sees_no_detailed_tables_or_downloads(fresh):
    at = fresh()
    signed_in(at, "etsuran")
    at.run()
    at.switch_page("pages/places.py").run()
    # charts may be saved as pictures (the viewer sees them anyway); no table may be downloaded
    assert {b.label for b in at.get("download_button")} == {"PNGで保存"}
    at = fresh()
    signed_in(at, "etsuran")
    at.query_params["places_tab"] = "一覧・検索"  # the detailed list of places
    at.run()
    at.switch_page("pages/places.py").run()
    assert not at.get("download_button")
    assert any("「管理職」以上" in c.value for c in at.caption)


def test_home_district_is_preselected(fresh):
    at = fresh()
    signed_in(at, "sc_tanaka")
    at.run()
    assert at.session_state["f_dists"] == ["玉島"]
    assert "倉敷市 玉島" in at.markdown[0].value


def test_users_command_reads_passwords_from_stdin_never_arguments(tmp_path):
    path = tmp_path / "u.yaml"
    run = lambda *a, stdin="": subprocess.run(  # noqa: E731
        [sys.executable, "-m", "tsunagu", "users", *a, "--users-file", str(path)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    out = run(
        "add", "yamada", "--role", "editor", "--name", "山田", "--district", "水島", stdin="long-enough-pw\n"
    )
    assert out.returncode == 0, out.stderr
    assert "long-enough-pw" not in path.read_text()
    assert users.verify("yamada", "long-enough-pw", path).role == "editor"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert run("list").stdout.splitlines() == [
        "username,name,role,district,scope",
        "yamada,山田,editor,水島,全域",
    ]
    assert run("add", "yamada", stdin="another-password\n").returncode == 1
    too_long = "あ" * 25  # 75 bytes: bcrypt would silently cut it
    out = run("passwd", "yamada", stdin=too_long + "\n")
    assert out.returncode == 1 and "72バイト" in out.stderr
    assert run("remove", "yamada").returncode == 0
    assert users.get("yamada", path) is None


def test_users_init_prints_the_first_password_once(tmp_path):
    path = tmp_path / "init.yaml"
    cmd = [sys.executable, "-m", "tsunagu", "users", "init", "--users-file", str(path)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    password = first.stdout.split("パスワード: ")[1].split()[0]
    assert users.verify("admin", password, path).role == "admin"
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert again.returncode == 0 and again.stdout == ""


def test_last_admin_cannot_be_removed(tmp_path):
    path = tmp_path / "u.yaml"
    users.add("boss", "password-123", "admin", path=path)
    with pytest.raises(users.UsersError, match="最後の管理者"):
        users.remove("boss", path)
    with pytest.raises(users.UsersError, match="最後の管理者"):
        users.set_role("boss", "viewer", path)


def test_first_start_creates_an_admin_with_a_random_password(tmp_path):
    path = tmp_path / "first.yaml"
    password = users.ensure_first_admin(path)
    assert password and len(password) >= 12
    assert users.verify("admin", password, path).role == "admin"
    assert users.ensure_first_admin(path) is None  # only once
    assert users.ensure_first_admin(tmp_path / "other.yaml") != password  # never a default


def test_cookie_key_is_generated_private_and_stable(tmp_path):
    key_path = tmp_path / "k.cookie_key"
    key = users.cookie_key(key_path)
    assert len(key) == 64 and users.cookie_key(key_path) == key
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600


def test_users_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "open.yaml"
    users.add("a", "password-123", "admin", path=path)
    os.chmod(path, 0o644)
    with pytest.raises(users.UsersError, match="chmod 600"):
        users.load(path)


def test_no_secrets_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "users.yaml" not in tracked and "cookie_key" not in tracked and "secrets.toml" not in tracked


def test_sign_out_from_a_page(fresh):
    at = fresh()
    signed_in(at, "kacho")
    at.run()
    at.switch_page("pages/forums.py").run()
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is None
    assert any("サインアウトしました" in s.value for s in at.success)


def test_viewer_map_carries_no_place_names(fresh, demo_db):
    """The map's data goes to the browser: for a viewer the names are not in it at all."""

    def map_json(user):
        at = fresh()
        signed_in(at, user)
        at.run()
        at.query_params["places_tab"] = "地図"
        at.switch_page("pages/places.py").run()
        (chart,) = at.get("deck_gl_json_chart")
        return chart.proto.json

    located = demo_db.query("places_list", municipality="倉敷市", status="活動中").drop_nulls("lat")
    names = set(located["name"])
    assert len(names) > 100
    viewer, manager = map_json("etsuran"), map_json("kacho")
    assert [n for n in names if n in viewer] == []
    assert [n for n in names if n not in manager] == []
