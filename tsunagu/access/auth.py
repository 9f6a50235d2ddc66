"""Sign-in for the dashboard: streamlit-authenticator's cookie component and logout, with
our own form, cookie, throttle and role checks (its own lockout does nothing with credentials
given as a dict, and with a file path it locks forever and rewrites the file; its cookie is
not revoked by logout; see ../shared/pitfalls.md).

A sign-in carries the user's session generation (users.py): in the session on the server,
and in the signed cookie. Every run compares it with the users file, so sign-out, a new
password or role, or removal end every sign-in issued before — a copied cookie included.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from tsunagu.access import users
from tsunagu.access.users import User
from tsunagu.store.files import write_atomic

COOKIE_NAME = "tsunagu_auth"
COOKIE_DAYS = 0.5  # the cookie is readable by scripts: keep it short
SESSION_GEN = "_session_gen"  # the session state key of this sign-in's generation
MAX_FAILURES = 5
WINDOW_SECONDS = 600
MAX_KEY_CHARS = 100  # what is kept of a typed user name in the throttle file
GENERIC_FAILURE = "ユーザー名またはパスワードが違います。"
THROTTLED = (
    "サインインの失敗が続いたため、このユーザー名ではしばらく（最長10分）サインインできません。"
    "時間をおいてからもう一度お試しください。"
)
SESSION_ENDED = (
    "このサインインは終了しています（サインアウト、パスワード・役割・担当範囲の変更などのため）。"
    "もう一度サインインしてください。"
)


class Throttle:
    """Failed sign-ins per user name within a time window; never a permanent lock, so no one
    can lock a colleague out for good by typing their name. Kept in a file beside the users
    file (changed under a lock, replaced atomically), not in memory: a restart does not wipe
    it, and every server process sharing the users file counts the same failures."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW_SECONDS, path: Path | None = None):
        self.limit, self.window, self._path = limit, window, path

    @property
    def path(self) -> Path:
        return self._path or users.throttle_path()

    def _read(self) -> dict[str, list[float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:  # damaged (we never write half a file): start again, do not crash sign-in
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            k: [t for t in v if isinstance(t, (int, float)) and math.isfinite(t)]
            for k, v in data.items()
            if isinstance(k, str) and isinstance(v, list)
        }

    def _recent(self, times: list[float], now: float) -> list[float]:
        # both ways: a failure stamped "in the future" by a clock set back must not hold for ever
        return [t for t in times if abs(now - t) <= self.window]

    def _write(self, data: dict[str, list[float]]) -> None:
        write_atomic(self.path, json.dumps(data).encode("utf-8"), mode=0o600)

    def blocked(self, key: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return len(self._recent(self._read().get(key[:MAX_KEY_CHARS], []), now)) >= self.limit

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with users.locked(self.path):
            data = {k: kept for k, v in self._read().items() if (kept := self._recent(v, now))}
            data.setdefault(key[:MAX_KEY_CHARS], []).append(now)
            self._write(data)

    def clear(self, key: str) -> None:
        key = key[:MAX_KEY_CHARS]
        if key not in self._read():  # the usual case: no write on a good sign-in
            return
        with users.locked(self.path):
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)


def throttle() -> Throttle:
    return Throttle()


def authenticator() -> stauth.Authenticate:
    """Built each run from the users file, so a removed user or a new password counts at once."""
    credentials = {
        "usernames": {
            name: {
                "name": rec.get("name") or name,
                "password": rec["password"],
                "roles": [rec.get("role", "viewer")],
            }
            for name, rec in users.load().items()
        }
    }
    return stauth.Authenticate(credentials, COOKIE_NAME, users.cookie_key(), COOKIE_DAYS, auto_hash=False)


def session_state_for(user: User) -> dict:
    """What a sign-in leaves in the session (also used by tests and the benchmark to start
    a signed-in session): the user's session generation of now included."""
    return {
        "authentication_status": True,
        "username": user.username,
        "name": user.name,
        "roles": [user.role],
        "logout": False,
        SESSION_GEN: user.session_gen,
    }


def _forget() -> None:
    for key in ("authentication_status", "username", "name", "roles", SESSION_GEN):
        st.session_state[key] = None


def current_user() -> User | None:
    """The signed-in user, checked against the users file on every run: None (and the
    session forgotten) once this sign-in has ended anywhere."""
    if not st.session_state.get("authentication_status"):
        return None
    user = users.session_user(st.session_state.get("username") or "", st.session_state.get(SESSION_GEN) or "")
    if user is None:  # signed out elsewhere, new password or role, removed
        _forget()
        st.session_state["_session_ended"] = True
    return user


def sign_in(auth: stauth.Authenticate) -> User | None:
    """Our Japanese form (the cookie was tried in app.py). On success the page goes on in
    this same run: no st.rerun(), since the cookie is written by the browser on this render
    and a rerun would lose it. The form is cleared once it has done its work."""
    box = st.empty()
    with box.container():
        st.title("つなぐ｜サインイン")
        if st.session_state.get("_session_ended"):
            st.info(SESSION_ENDED, icon=":material/logout:")
        with st.form("sign_in"):
            username = st.text_input("ユーザー名", key="sign_in_user", autocomplete="username")
            password = st.text_input(
                "パスワード", type="password", key="sign_in_password", autocomplete="current-password"
            )
            submitted = st.form_submit_button("サインイン", icon=":material/login:", key="sign_in_submit")
        if not submitted:
            return None
        key = username.strip().lower()
        if throttle().blocked(key):
            st.error(THROTTLED, icon=":material/lock_clock:")
            return None
        user = users.verify(username.strip(), password)
        if user is not None:
            user = users.start_session(user.username)  # a generation even for an old record
        if user is None:
            throttle().fail(key)
            st.error(THROTTLED if throttle().blocked(key) else GENERIC_FAILURE, icon=":material/error:")
            return None
    throttle().clear(key)
    st.session_state.update(session_state_for(user))
    st.session_state["_session_ended"] = False
    _set_cookie(auth, user)
    box.empty()
    return user


def secure_cookie() -> bool:
    """Whether the sign-in cookie is marked Secure (sent over HTTPS only): when the browser
    reached us over HTTPS (Caddy in front; st.context.url is the browser's own URL), or when
    the server says it is only reached so (TSUNAGU_SECURE_COOKIE=1, set by `make serve` and
    the systemd units, so a wrong guess can never leave it off there)."""
    if os.environ.get("TSUNAGU_SECURE_COOKIE") == "1":
        return True
    return (st.context.url or "").lower().startswith("https://")


def _set_cookie(auth: stauth.Authenticate, user: User) -> None:
    """The library's cookie carries only the name and expiry; ours adds the generation. It is
    written by a script (no HttpOnly): Secure behind HTTPS, and SameSite=Strict, since it is
    read from the page's own WebSocket, never from a request another site starts."""
    expires = datetime.now() + timedelta(days=COOKIE_DAYS)
    token = jwt.encode(
        {"username": user.username, "exp_date": expires.timestamp(), "gen": user.session_gen},
        users.cookie_key(),
        algorithm="HS256",
    )
    auth.cookie_controller.cookie_model.cookie_manager.set(
        COOKIE_NAME, token, expires_at=expires, secure=secure_cookie(), same_site="strict"
    )


def user_from_cookie(token: str | None) -> tuple[User | None, bool]:
    """(the user, if the cookie is a sign-in still current; whether it is a real sign-in of
    ours that has ended). Tampered, unsigned, expired or old-style cookies give (None, False):
    no reason is told."""
    if not token:
        return None, False
    try:
        claims = jwt.decode(token, users.cookie_key(), algorithms=["HS256"])
    except jwt.PyJWTError:  # another key or algorithm, a standard "exp" passed, garbage
        return None, False
    username, expires, gen = claims.get("username"), claims.get("exp_date"), claims.get("gen")
    if not (
        isinstance(username, str)
        and isinstance(gen, str)
        and gen
        and isinstance(expires, (int, float))
        and expires > time.time()
    ):
        return None, False
    user = users.session_user(username, gen)
    return user, user is None


def cookie_sign_in(auth: stauth.Authenticate) -> User | None:
    """Sign in again from the cookie, if the browser has one whose sign-in has not ended.
    Read here, not by auth.login(): that sleeps 0.7 s (the cookie component's rerun arriving
    meanwhile loses the page the URL asked for) and knows nothing of generations."""
    if not st.session_state.get("authentication_status") and not st.session_state.get("logout"):
        user, ended = user_from_cookie(st.context.cookies.get(COOKIE_NAME))
        if user is not None:
            st.session_state.update(session_state_for(user))
        elif ended:
            st.session_state["_session_ended"] = True
    return current_user()


def sign_out(user: User) -> None:
    """End this user's sign-ins everywhere and forget this session's. Uses this run's
    authenticator (built once in app.py: a second one would draw a second cookie component)."""
    try:  # the cookie is readable by scripts and may have been copied: end it on the server
        users.sign_out_everywhere(user.username)
    except users.UsersError:  # removed meanwhile: nothing left to end
        pass
    auth = st.session_state.get("_authenticator")
    if auth is not None:
        auth.authentication_controller.logout()
        auth.cookie_controller.delete_cookie()
    _forget()
