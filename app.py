"""tsunagu（つなぐ）: the dashboard's entry point. Run: streamlit run app.py"""

import streamlit as st

from tsunagu.access import auth, users
from tsunagu.config import PROJECT_ROOT
from tsunagu.dashboard import guide, session

st.set_page_config(page_title="つなぐ｜地域づくりダッシュボード", page_icon=":material/hub:", layout="wide")
# Japanese where Streamlit writes English (upload box, hints): drawn by the CSS, named for
# screen readers by the script (in a container the CSS hides, so it takes no room)
st.html(PROJECT_ROOT / "tsunagu" / "dashboard" / "screen.css")
with st.container(key="tsunagu_script"):
    st.html(
        f"<script>{(PROJECT_ROOT / 'tsunagu' / 'dashboard' / 'screen.js').read_text(encoding='utf-8')}</script>",
        unsafe_allow_javascript=True,
    )

try:
    first_password = users.ensure_first_admin()
    if first_password:  # shown once, on the console of whoever started the server
        print(
            f"\n  つなぐ: 最初の管理者を作成しました。ユーザー名: admin  パスワード: {first_password}\n"
            f"  （この表示は一度だけです。サインイン後、python -m tsunagu users passwd admin で変更してください）\n",
            flush=True,
        )
    authenticator = auth.authenticator()  # once per run: it draws the cookie component
except users.UsersError as e:  # e.g. a users file others can read: refuse, and say how to fix it
    st.error(f"つなぐを開始できません。{e}", icon=":material/gpp_bad:")
    st.stop()
st.session_state["_authenticator"] = authenticator
user = auth.cookie_sign_in(authenticator)

old = session.old_store()
if old:  # a data folder from before per-municipality uploads: say the one command that fixes it
    st.error(f"つなぐを開始できません。{old}", icon=":material/sync_problem:")
    st.stop()

# an editor with nothing of theirs registered yet starts on the guide, and finds it in the
# sidebar while a step is undone (a link to it works after that too)
steps = guide.for_user(user) if user and user.can("editor") else None
first_run = bool(steps and steps.first)
pages = [
    st.Page("pages/overview.py", title="ホーム（概要）", icon=":material/home:", default=not first_run),
    st.Page("pages/places.py", title="居場所・通いの場", icon=":material/groups:", url_path="places"),
    st.Page(
        "pages/pantry.py", title="互近助パントリー", icon=":material/volunteer_activism:", url_path="pantry"
    ),
    st.Page("pages/forums.py", title="フォーラム・交流会", icon=":material/campaign:", url_path="forums"),
    st.Page("pages/district.py", title="地区カルテ", icon=":material/assignment:", url_path="district"),
    st.Page("pages/prefecture.py", title="県域比較", icon=":material/leaderboard:", url_path="prefecture"),
    st.Page("pages/survey.py", title="国の調査（通いの場）", icon=":material/fact_check:", url_path="survey"),
    st.Page("pages/present.py", title="作戦会議モード", icon=":material/slideshow:", url_path="present"),
    st.Page("pages/handouts.py", title="配布資料（PDF）", icon=":material/print:", url_path="handouts"),
]
# the public guide for residents: no sign-in (it reads only published places), in the sidebar
# of those signed in, alone and without a sidebar for everyone else
pages.append(
    st.Page(
        "pages/guide.py",
        title="通いの場ガイド（公開）",
        icon=":material/travel_explore:",
        url_path="guide",
    )
)
# Signed out, the pages are registered hidden: the one a link asks for shows the sign-in form
# and then itself, so a copied link still opens the same view after signing in.
# The guide's page: for editors, in the sidebar while a step is undone; for the other roles
# hidden, so that its URL says they may not use it. Not while signed out: the run that signs an
# editor in must draw ホーム, where the cookie is written, before the next run moves them here.
if user:
    pages.insert(
        0,
        st.Page(
            "pages/start.py",
            title="はじめに",
            icon=":material/flag:",
            url_path="start",
            default=first_run,
            visibility="visible" if steps is not None and steps.shown else "hidden",
        ),
    )
# The pages of the higher roles are listed only for those roles. For anyone else they are
# registered hidden, so that their URL (an old link, a colleague's) says in Japanese that the
# role does not allow it (gate.require, which every page checks itself) instead of Streamlit's
# English "Page not found".
for path, title, icon, url_path, role in [
    ("pages/upload.py", "データ更新", ":material/upload_file:", "upload", "editor"),
    ("pages/history.py", "履歴・復元", ":material/history:", "history", "admin"),
    ("pages/admin_users.py", "ユーザー管理", ":material/manage_accounts:", "users", "admin"),
    ("pages/guide_settings.py", "公開ページの設定", ":material/public:", "guide-settings", "admin"),
]:
    allowed = bool(user and user.can(role))
    pages.append(
        st.Page(
            path, title=title, icon=icon, url_path=url_path, visibility="visible" if allowed else "hidden"
        )
    )
# each page also draws the shared sidebar filters and checks the role itself
# (header.page_header): Streamlit runs a file under pages/ on its own in some reruns
# every page listed: an admin has 14, and Streamlit folds a list past 10 behind an English 「View more」
st.navigation(pages, position="sidebar" if user else "hidden", expanded=True).run()
