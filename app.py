"""tsunagu（つなぐ）: the dashboard's entry point. Run: streamlit run app.py"""

import streamlit as st

st.set_page_config(page_title="つなぐ｜地域づくりダッシュボード", page_icon=":material/hub:",
                   layout="wide")

pages = [
    st.Page("pages/overview.py", title="ホーム（概要）", icon=":material/home:", default=True),
]
st.navigation(pages).run()
