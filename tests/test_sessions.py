"""Sign-ins that end, a users file that never loses a change, and sign-in throttling that
holds across restarts and server processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tsunagu.access import auth, users
from tsunagu.access.auth import SESSION_ENDED, Throttle
from tsunagu.contract.scope import Scope


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: users.Hasher.hash(f"{name}-password-1") for name in ("boss", "hanako")}


@pytest.fixture
def own_users(tmp_path, monkeypatch, hashes):
    """A users file of this test alone (as the server would find it through the environment):
    the admin boss and the editor hanako, passwords `NAME-password-1`."""
    path = tmp_path / "users.yaml"
    monkeypatch.setenv("TSUNAGU_USERS_FILE", str(path))
    users.save(
        {
            name: {"name": name, "role": role, "password": hashes[name], "session_gen": f"{name}-gen-0"}
            for name, role in (("boss", "admin"), ("hanako", "editor"))
        },
        path,
    )
    return path


def cookie_of(user: users.User, expires_in: float = 3600) -> str:
    """The cookie a sign-in as `user` (just now) leaves in the browser."""
    return jwt.encode(
        {"username": user.username, "exp_date": time.time() + expires_in, "gen": user.session_gen},
        users.cookie_key(),
        algorithm="HS256",
    )


CHANGES = {
    "signed out (sidebar or users signout)": lambda p: users.sign_out_everywhere("hanako", p),
    "new password": lambda p: users.set_password("hanako", "another-password-2", p),
    "new role": lambda p: users.set_role("hanako", "viewer", p),
    "new scope": lambda p: users.set_scope("hanako", Scope(prefecture="長野県"), p),
    "removed": lambda p: users.remove("hanako", p),
    "removed and added again under the same name": lambda p: (
        users.remove("hanako", p),
        users.add("hanako", "hanako-password-1", "editor", path=p),
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_sign_in_ends_with_each_change_of_the_user(own_users, change):
    """The check every run makes, on the session and on a copied cookie: the sign-in issued
    before the change no longer fits; a sign-in made after it does."""
    before = users.start_session("hanako", own_users)
    cookie = cookie_of(before)
    assert users.session_user("hanako", before.session_gen, own_users) == before
    assert auth.user_from_cookie(cookie) == (before, False)

    CHANGES[change](own_users)

    assert users.session_user("hanako", before.session_gen, own_users) is None
    assert auth.user_from_cookie(cookie) == (None, True)  # the sign-in form says it has ended
    after = users.start_session("hanako", own_users)
    if after is not None:  # signing in again works, with a new generation
        assert after.session_gen != before.session_gen
        assert users.session_user("hanako", after.session_gen, own_users) == after
        assert auth.user_from_cookie(cookie_of(after))[0] == after


def test_other_users_and_unchanged_roles_keep_their_sign_in(own_users):
    boss = users.start_session("boss", own_users)
    hanako = users.start_session("hanako", own_users)
    users.sign_out_everywhere("hanako", own_users)
    assert users.session_user("boss", boss.session_gen, own_users) == boss
    assert users.set_role("boss", "admin", own_users) is False  # the same role: nothing changes
    assert users.session_user("boss", boss.session_gen, own_users) == boss
    assert users.session_user("hanako", "", own_users) is None  # no generation never fits
    assert users.session_user("hanako", hanako.session_gen, own_users) is None


def test_a_cookie_without_a_generation_is_refused(own_users):
    """A cookie from before generations (or made up without one) opens nothing."""
    token = jwt.encode(
        {"username": "hanako", "exp_date": time.time() + 3600}, users.cookie_key(), algorithm="HS256"
    )
    assert auth.user_from_cookie(token) == (None, False)
    expired = cookie_of(users.start_session("hanako", own_users), expires_in=-1)
    assert auth.user_from_cookie(expired) == (None, False)


def test_an_open_session_ends_at_its_next_run_when_the_role_changes(own_users, demo_dir, monkeypatch):
    """Signed in as editor with the dashboard open; an admin makes them a viewer: the next
    run shows the sign-in form, saying why, not the editor's pages."""
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    signed_in(at, "hanako")
    at.run()
    assert "地域づくりダッシュボード「つなぐ」" in [t.value for t in at.title]
    users.set_role("hanako", "viewer", own_users)
    at.run()
    assert [t.value for t in at.title] == ["つなぐ｜サインイン"]
    assert [i.value for i in at.info] == [SESSION_ENDED]
    assert not at.metric and at.session_state["authentication_status"] is None


def test_sign_out_ends_the_sign_in_on_every_device(own_users, demo_dir, monkeypatch):
    """サインアウト on one device: the same user's session on another device is over too."""
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    laptop, wall = (AppTest.from_file(str(ROOT / "app.py"), default_timeout=120) for _ in range(2))
    for at in (laptop, wall):
        signed_in(at, "hanako")
        at.run()
    laptop.button(key="sign_out").click().run()
    assert any("サインアウトしました" in s.value for s in laptop.success)
    wall.run()
    assert [t.value for t in wall.title] == ["つなぐ｜サインイン"]


# ---------------------------------------------------------------- the users file under contention

N_PROCESSES = 12


def _worker(path: str, i: int, start) -> None:
    """One process's changes, all at once with the others: an add or a new password, a role
    change, a sign-out everywhere, and for some a removal."""
    p = Path(path)
    start.wait(timeout=60)
    if i % 2 == 0:
        users.add(f"new{i}", f"password-of-{i}", "editor", name=f"新人{i}", path=p)
    else:
        users.set_password(f"old{i}", f"password-of-{i}", p)
    users.set_role(f"old{i}", "manager", p)
    users.sign_out_everywhere(f"old{i}", p)
    if i % 3 == 0:
        users.remove(f"gone{i}", p)


def test_twelve_processes_changing_the_users_file_lose_nothing(tmp_path):
    path = tmp_path / "users.yaml"
    hashed = users.Hasher.hash("initial-password")  # one hash for all: the setup stays fast
    initial = {"boss": {"name": "boss", "role": "admin", "password": hashed, "session_gen": "g-boss"}}
    for i in range(N_PROCESSES):
        initial[f"old{i}"] = {"name": f"old{i}", "role": "viewer", "password": hashed, "session_gen": f"g{i}"}
        initial[f"gone{i}"] = {"name": f"gone{i}", "role": "viewer", "password": hashed, "session_gen": "x"}
    users.save(initial, path)

    ctx = multiprocessing.get_context("fork")  # the modules are loaded already: quick to start
    start = ctx.Barrier(N_PROCESSES)
    procs = [ctx.Process(target=_worker, args=(str(path), i, start)) for i in range(N_PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * N_PROCESSES

    final = yaml.safe_load(path.read_text(encoding="utf-8"))["users"]
    for i in range(N_PROCESSES):
        old = final[f"old{i}"]
        assert old["role"] == "manager", i
        assert old["session_gen"] != f"g{i}", i
        assert (old["password"] != hashed) == (i % 2 == 1), i
        if i % 2 == 0:
            assert final[f"new{i}"]["role"] == "editor" and final[f"new{i}"]["name"] == f"新人{i}", i
        assert (f"gone{i}" in final) == (i % 3 != 0), i
    assert users.verify("old1", "password-of-1", path).role == "manager"
    assert users.verify("new0", "password-of-0", path).role == "editor"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(f.name for f in tmp_path.iterdir()) == ["users.yaml", "users.yaml.lock"]  # no temp files


def test_a_failed_change_leaves_the_file_as_it_was(own_users):
    before = own_users.read_bytes()
    with pytest.raises(users.UsersError, match="最後の管理者"):
        users.set_role("boss", "viewer", own_users)
    with pytest.raises(users.UsersError, match="いません"):
        users.sign_out_everywhere("nobody", own_users)
    assert own_users.read_bytes() == before


def test_a_record_without_a_generation_gets_one_at_sign_in(own_users):
    """A users file written before generations: signing in gives the user one, once."""
    data = users.load(own_users)
    del data["hanako"]["session_gen"]
    users.save(data, own_users)
    assert users.get("hanako", own_users).session_gen == ""
    first = users.start_session("hanako", own_users)
    assert first.session_gen and users.start_session("hanako", own_users).session_gen == first.session_gen


# ---------------------------------------------------------------- the command line


def run_users(*args, path, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "tsunagu", "users", *args, "--users-file", str(path)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_users_role_without_a_role_is_refused_and_changes_nothing(own_users):
    before = own_users.read_bytes()
    out = run_users("role", "hanako", path=own_users)
    assert out.returncode != 0
    assert "--role で指定してください" in out.stderr and "viewer, manager, editor, admin" in out.stderr
    assert "変更していません" in out.stderr
    assert own_users.read_bytes() == before
    assert users.get("hanako", own_users).role == "editor"  # not demoted to viewer


def test_users_signout_ends_every_sign_in_of_that_user(own_users):
    hanako = users.start_session("hanako", own_users)
    boss = users.start_session("boss", own_users)
    out = run_users("signout", "hanako", path=own_users)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "サインアウトさせました: hanako（すべての端末のサインインを終了しました）"
    assert users.session_user("hanako", hanako.session_gen, own_users) is None
    assert users.session_user("boss", boss.session_gen, own_users) == boss


# ---------------------------------------------------------------- throttling


def test_failures_are_still_counted_after_a_restart_and_by_another_process(tmp_path):
    """Failures recorded by one server (process) are counted by the next one started, and
    by another one running beside it; the lock-out ends after the window."""
    path = tmp_path / "users.throttle.json"
    first = Throttle(limit=5, window=600, path=path)
    for i in range(4):
        first.fail("hanako", now=1000.0 + i)
    assert not first.blocked("hanako", now=1004.0)
    restarted = Throttle(limit=5, window=600, path=path)  # nothing kept in memory
    restarted.fail("hanako", now=1004.0)
    assert first.blocked("hanako", now=1005.0) and restarted.blocked("hanako", now=1005.0)
    assert not restarted.blocked("taro", now=1005.0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # the first failure leaves the window 600 s after it was made; then one a second
    assert restarted.blocked("hanako", now=1600.0)
    assert not restarted.blocked("hanako", now=1600.5)
    assert not restarted.blocked("hanako", now=1604.5)
    restarted.clear("hanako")
    assert "hanako" not in path.read_text()


def _fail_once(path: str, start) -> None:
    start.wait(timeout=60)
    Throttle(path=Path(path)).fail("hanako")


def test_failures_from_several_server_processes_at_once_all_count(tmp_path):
    path = tmp_path / "users.throttle.json"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(auth.MAX_FAILURES)
    procs = [ctx.Process(target=_fail_once, args=(str(path), start)) for _ in range(auth.MAX_FAILURES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * auth.MAX_FAILURES
    assert Throttle(path=path).blocked("hanako")


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(own_users, demo_dir, monkeypatch):
    """ユーザー管理: the button waits for the Japanese confirmation, then ends every sign-in of
    the chosen user and leaves the admin's own."""
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(demo_dir))
    hanako = users.start_session("hanako", own_users)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    signed_in(at, "boss")
    at.run()
    at.switch_page("pages/admin_users.py").run()
    next(s for s in at.selectbox if s.label == "ユーザー").select("hanako").run()
    button = at.button(key="sign_out_user")
    assert button.disabled  # not before the confirmation
    sure = at.checkbox(key="sign_out_user_sure")
    assert sure.label == "「hanako」を、すべての端末からサインアウトさせます"
    sure.check().run()
    at.button(key="sign_out_user").click().run()
    assert [s.value for s in at.success] == ["「hanako」のサインインを、すべての端末で終了しました。"]
    assert users.session_user("hanako", hanako.session_gen, own_users) is None
    assert users.get("hanako", own_users).role == "editor"  # signed out, nothing else changed
    at.run()
    assert "ユーザー管理" in [t.value for t in at.title]  # the admin is still signed in
