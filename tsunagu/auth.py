"""Sign-in for the dashboard: streamlit-authenticator's cookie and logout, with our own form,
throttle and role checks (its own lockout does nothing with credentials given as a dict,
and with a file path it locks forever and rewrites the file; see ../shared/pitfalls.md).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from tsunagu import fmt, users
from tsunagu.users import User

COOKIE_NAME = "tsunagu_auth"
COOKIE_DAYS = 0.5  # the cookie is readable by scripts and not revoked on logout: keep it short
MAX_FAILURES = 5
WINDOW_SECONDS = 600
GENERIC_FAILURE = "ユーザー名またはパスワードが違います。"
THROTTLED = ("サインインの失敗が続いたため、このユーザー名ではしばらく（最長10分）サインインできません。"
             "時間をおいてからもう一度お試しください。")


class Throttle:
    """Failed sign-ins per user name within a time window; never a permanent lock, so no one
    can lock a colleague out for good by typing their name."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW_SECONDS):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque:
        q = self._failures[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, key: str, now: float | None = None) -> bool:
        with self._lock:
            return len(self._prune(key, now or time.monotonic())) >= self.limit

    def fail(self, key: str, now: float | None = None) -> None:
        with self._lock:
            now = now or time.monotonic()
            self._prune(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@st.cache_resource
def throttle() -> Throttle:
    return Throttle()


def authenticator() -> stauth.Authenticate:
    """Built each run from the users file, so a removed user or a new password counts at once."""
    credentials = {"usernames": {
        name: {"name": rec.get("name") or name, "password": rec["password"],
               "roles": [rec.get("role", "viewer")]}
        for name, rec in users.load().items()
    }}
    return stauth.Authenticate(credentials, COOKIE_NAME, users.cookie_key(), COOKIE_DAYS,
                               auto_hash=False)


def current_user() -> User | None:
    """The signed-in user, checked against the users file on every run."""
    if not st.session_state.get("authentication_status"):
        return None
    user = users.get(st.session_state.get("username") or "")
    if user is None:  # removed or broken since sign-in
        st.session_state["authentication_status"] = None
    return user


def sign_in(auth: stauth.Authenticate) -> User | None:
    """Our Japanese form (the cookie was tried in app.py). On success the page goes on in
    this same run: no st.rerun(), since the cookie is written by the browser on this render
    and a rerun would lose it. The form is cleared once it has done its work."""
    box = st.empty()
    with box.container():
        st.title("つなぐ｜サインイン")
        with st.form("sign_in"):
            username = st.text_input("ユーザー名", key="sign_in_user", autocomplete="username")
            password = st.text_input("パスワード", type="password", key="sign_in_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("サインイン", icon=":material/login:", key="sign_in_submit")
        if not submitted:
            return None
        key = username.strip().lower()
        if throttle().blocked(key):
            st.error(THROTTLED, icon=":material/lock_clock:")
            return None
        user = users.verify(username.strip(), password)
        if user is None:
            throttle().fail(key)
            st.error(THROTTLED if throttle().blocked(key) else GENERIC_FAILURE, icon=":material/error:")
            return None
    throttle().clear(key)
    st.session_state.update({"authentication_status": True, "username": user.username,
                             "name": user.name, "roles": [user.role], "logout": False})
    auth.cookie_controller.set_cookie()
    box.empty()
    return user


def cookie_sign_in(auth: stauth.Authenticate) -> User | None:
    """Sign in again from the cookie, if the browser has a valid one. Not auth.login(): it
    sleeps 0.7 s, and the cookie component's rerun arriving meanwhile loses the page the
    URL asked for."""
    if not st.session_state.get("authentication_status"):
        try:
            token = auth.cookie_controller.get_cookie()
            if token:
                auth.authentication_controller.login(token=token)
        except (jwt.PyJWTError, LoginError, KeyError, TypeError, ValueError):
            # a tampered cookie (another algorithm, a standard "exp" claim, missing fields)
            # or one of a user removed since: the library raises instead of refusing.
            # Treat it as no cookie: the sign-in form, never a traceback
            st.session_state["authentication_status"] = None
    return current_user()


def sign_out_button() -> None:
    """In the sidebar of every page. Uses this run's authenticator (built once in app.py:
    a second one would draw a second cookie component)."""
    user = current_user()
    if not user:
        return
    st.sidebar.caption(f":material/person: {fmt.plain(user.name)}（{users.ROLE_LABELS[user.role]}）")
    if st.sidebar.button("サインアウト", key="sign_out", icon=":material/logout:"):
        auth = st.session_state.get("_authenticator")
        if auth is not None:
            auth.authentication_controller.logout()
            auth.cookie_controller.delete_cookie()
        for key in ("authentication_status", "username", "name", "roles"):
            st.session_state[key] = None
        st.success("サインアウトしました。", icon=":material/logout:")
        st.stop()
