"""The access gate every page passes: app.py has run, someone is signed in, and their role
allows the page; and the one rule for named detail (places by name, events, exact small
counts): a manager's, within their scope."""

from __future__ import annotations

import streamlit as st

from tsunagu.access import auth
from tsunagu.config import PROJECT_ROOT


def through_app() -> None:
    """Make sure app.py runs. Streamlit runs a file of pages/ on its own until st.navigation
    has been called once in the process ("As soon as any session of your app executes the
    st.navigation command, your app will ignore the pages/ directory", its docstring), as for a
    server's first visitor opening /pantry. Then app.py runs here, in this same run, so a
    click that started it (say, a sign-in) is not lost to a rerun; its st.navigation ends that
    mode for every session. Streamlit 1.67 has no public way (no config option either) to ask
    which mode a run is in: its flag is read here, never written."""
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False):  # gone in a later Streamlit: no mode
        runpy.run_path(str(PROJECT_ROOT / "app.py"), run_name="__main__")
        st.stop()


REFUSED_TITLE = "このページは使えません"


def require(role: str = "viewer"):
    """The signed-in user if their role allows this page; otherwise a message and stop.
    Every guarded page checks this itself, not only by not being registered."""
    through_app()
    user = auth.current_user()
    if user is None:
        authenticator = st.session_state.get("_authenticator")
        user = auth.sign_in(authenticator) if authenticator is not None else None
    if user is None:
        if st.session_state.get("_authenticator") is None:
            st.warning("サインインしてください。", icon=":material/login:")
        st.stop()
    if not user.can(role):  # a link to a higher role's page: said in Japanese, nothing of it drawn
        from tsunagu.access.users import ROLE_LABELS

        st.title(REFUSED_TITLE)
        st.error("このページを使う権限がありません。", icon=":material/block:")
        st.caption(f"必要な役割：{ROLE_LABELS[role]}。役割は管理者が「ユーザー管理」で変えられます。")
        st.stop()
    return user


def can(role: str) -> bool:
    user = auth.current_user()
    return bool(user and user.can(role))


ROLE_NOTE = "詳細な表とダウンロードは「管理職」以上の役割で表示されます。"


def can_detail(prefecture: str | None, municipality: str | None) -> bool:
    """Whether this user may see the named detail of a municipality: managers and up, and
    only where their scope reaches (elsewhere they see what a viewer sees: the aggregates)."""
    user = auth.current_user()
    return bool(user and user.can("manager") and user.scope.covers(prefecture, municipality))


def detail_note(prefecture: str | None, municipality: str | None, role_note: str = ROLE_NOTE) -> str:
    """Why the detail is not shown, in Japanese: the role, or the place lies outside the scope."""
    user = auth.current_user()
    if user is None or not user.can("manager") or user.scope.covers(prefecture, municipality):
        return role_note
    return f"この市町村の詳細は、担当の方だけが見られます（あなたの担当: {user.scope.label}）。"
