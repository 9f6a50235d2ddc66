"""The top of every page: the gate, the title, banners about the data, the shared filters,
and the area and period always on screen."""

from __future__ import annotations

import streamlit as st

from tsunagu.access import auth, users
from tsunagu.contract import fmt
from tsunagu.dashboard import filters, guide
from tsunagu.dashboard.filters import Filters
from tsunagu.dashboard.gate import require
from tsunagu.dashboard.session import db, districts_of, run_query

DEMO_NOTICE = (
    ":material/info: **デモデータを表示しています。** 倉敷市・武蔵野市・長野県の公表資料にある数値は"
    "そのまま再現し、資料にない数値は架空のものです。実際の登録データとは混ざりません。"
)


def demo_banner() -> None:
    database = db()
    database.refresh()
    if database.is_demo:
        st.info(DEMO_NOTICE)
    damaged_banner()


def damaged_banner() -> None:
    """Months left out because their stored file is damaged: named, with what to do."""
    database = db()
    database.refresh()
    for problem in database.problems:
        st.error(
            fmt.plain(f"一部のデータを読み込めないため、その月を除いて表示しています。{problem}"),
            icon=":material/broken_image:",
        )


def page_header(title: str, role: str = "viewer", with_filters: bool = True) -> Filters | None:
    """Role check, title, demo banner, the shared filters, and the area and period always
    on screen; stops with a message when there is nothing to show."""
    user = require(role)
    st.session_state["_png_seq"] = 0
    sign_out_button(user)
    st.title(title)
    demo_banner()
    if not with_filters:
        return None
    database = db()
    database.refresh()  # a stat of the manifest; the flag is kept from its last read
    if not database.has_data:
        nothing_yet(user)
    f = filters.sidebar(
        run_query("municipalities"),
        lambda pref, muni: run_query("months", municipality=muni, prefecture=pref),
        districts_of,
        home_district=user.district,
        scope=user.scope,
    )
    if f is None:
        nothing_yet(user)
    st.markdown(
        f"## :material/location_on: {fmt.plain(f.prefecture + f.area_label)}　"
        f":material/calendar_month: {f.period_label}"
    )
    return f


def nothing_yet(user) -> None:
    """No figures of theirs yet: an editor is sent to the guide, anyone else told that
    nothing is registered and whom to ask (by display name only). Stops the page."""
    if user.can("editor") and guide.for_user(user).shown:
        guide.go()  # ホーム has nothing for them yet: the guide is their start
        st.info(
            "まだ表示できるデータがありません。「はじめに」の手順に沿って、圏域マスタから順に登録してください。",
            icon=":material/flag:",
        )
        guide.link("pages/start.py", label="はじめに（登録の手順）", icon=":material/flag:")
        st.stop()
    people = guide.contacts(user.scope)
    who = [
        f"- 管理者: {fmt.plain(guide.listed(people.admins))}" if people.admins else "",
        f"- データ更新の担当: {fmt.plain(guide.listed(people.editors))}" if people.editors else "",
    ]
    names = "\n".join(w for w in who if w)
    ask = f"次の方に依頼してください。\n\n{names}" if names else "つなぐの管理者に依頼してください。"
    st.warning(
        f"まだデータが登録されていません。登録されると、ここに地域の数字が表示されます。\n\nデータの登録は、{ask}",
        icon=":material/inbox:",
    )
    st.stop()


def sign_out_button(user) -> None:
    """Who is signed in, and the way out, in the sidebar of every page."""
    st.sidebar.caption(f":material/person: {fmt.plain(user.name)}（{users.ROLE_LABELS[user.role]}）")
    if st.sidebar.button(
        "サインアウト",
        key="sign_out",
        icon=":material/logout:",
        help="この端末だけでなく、このユーザーのすべての端末でサインインが終わります。",
    ):
        auth.sign_out(user)
        st.success("サインアウトしました。", icon=":material/logout:")
        st.stop()
