"""The access gate every page passes: app.py has run, someone is signed in, and their role
allows the page."""

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
    if not user.can(role):
        st.error("このページを使う権限がありません。", icon=":material/block:")
        st.stop()
    return user


def can(role: str) -> bool:
    user = auth.current_user()
    return bool(user and user.can(role))
