"""tsunagu（つなぐ）: the dashboard's entry point. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(page_title="つなぐ｜地域づくりダッシュボード", page_icon=":material/hub:",
                   layout="wide")

pages = [
    st.Page("pages/overview.py", title="ホーム（概要）", icon=":material/home:", default=True),
    st.Page("pages/places.py", title="居場所・通いの場", icon=":material/groups:", url_path="places"),
    st.Page("pages/pantry.py", title="互近助パントリー", icon=":material/volunteer_activism:",
            url_path="pantry"),
    st.Page("pages/forums.py", title="フォーラム・交流会", icon=":material/campaign:", url_path="forums"),
    st.Page("pages/district.py", title="地区カルテ", icon=":material/assignment:", url_path="district"),
    st.Page("pages/prefecture.py", title="県域比較", icon=":material/leaderboard:", url_path="prefecture"),
]
# each page draws the shared sidebar filters itself (ui.page_header): Streamlit runs a file
# under pages/ on its own in some reruns, without this script
st.navigation(pages).run()
