"""作戦会議モード: the dashboard for the wall. One message per slide, filling the screen and
readable from the back of a hall; the area and month always on screen; the slides of a chosen
agenda (a link); advanced by the keyboard (← →, a presenter's clicker), a timer, the small bar
that shows while the pointer moves, or the presenter's phone (?room=CODE); new data appears
by itself."""

import time

import streamlit as st

from tsunagu.dashboard import filters, gate, remote, session, slides, wall

gate.require("viewer")
qp = st.query_params
if "room" in qp:  # a presenter's phone
    st.html('<span class="remote-page"></span>')
    remote.page(qp.get("room") or "")
    st.stop()

database = session.db()  # its refresh() gives the data version without parsing the manifest
munis = session.run_query("municipalities")
if munis.is_empty():
    st.warning("圏域マスタ（areas）が未登録のため、表示できません。")
    st.stop()
linked = filters.linked_municipality(munis, qp)  # ?code=332020, or ?pref=岡山県&muni=倉敷市
if linked:
    pref, muni = linked
else:
    pref = qp.get("pref") if qp.get("pref") in munis["prefecture"].to_list() else munis["prefecture"][0]
    muni = munis.filter(munis["prefecture"] == pref)["municipality"][0]
districts, _ = session.districts_of(pref, muni)
w = wall.Wall(pref, muni, districts)
for problem in st.session_state.pop("present_problems_new", []):
    st.toast(problem, icon=":material/warning:")


@st.fragment(run_every=wall.FOLLOW_S)
def follow() -> None:
    wall.follow()


@st.fragment(run_every=st.session_state.get("present_every") or 20)
def show() -> None:
    """Redrawn on its own every few seconds: advances the timer and picks up new uploads."""
    if not gate.can("viewer"):  # this sign-in ended elsewhere: the whole page shows the sign-in form
        st.rerun()
    every = st.session_state.get("present_every") or 20
    last = st.session_state.setdefault("_present_last", time.monotonic())
    if st.session_state.get("present_auto") and time.monotonic() - last >= every - 1:
        w.step(1)
        if st.session_state.get("present_playlist") and w.position == 0:
            i = w.options.index(w.shown_district())
            w.choose(w.options[(i + 1) % len(w.options)])
    version = database.refresh()
    if version != st.session_state.present_version:
        st.session_state.present_version = version
        st.toast("新しいデータが登録されたので、表示を更新しました。", icon=":material/sync:")
    item = w.item()
    area = slides.Area(pref, muni, w.shown_district())  # a title slide: the agenda's first area
    slide = slides.build(item, area, w.agenda)
    room = wall.rooms().get(st.session_state.present_room) if st.session_state.get("present_room") else None
    with st.container(key="wall_slide"):
        slides.draw(
            slide,
            f"{w.position + 1} / {len(w.agenda.items)}",
            w.agenda.name if w.agenda.meeting or item.kind == "title" else "",
            pref,
            muni,
            badge=f"操作コード {room.code}" if room else "",
        )
        if room and st.session_state.get("present_qr"):
            st.markdown(wall.qr_panel(room), unsafe_allow_html=True)


if st.session_state.get("present_room"):
    follow()
show()

# the controls: hidden until the pointer moves (screen.css, screen.js)
with st.container(key="wall_bar", horizontal=True, vertical_alignment="center"):
    st.button(
        "前へ",
        icon=":material/chevron_left:",
        on_click=w.step,
        args=(-1,),
        shortcut="ArrowLeft",
        key="present_prev",
    )
    st.button(
        "次へ",
        icon=":material/chevron_right:",
        on_click=w.step,
        args=(1,),
        shortcut="ArrowRight",
        key="present_next",
    )
    # the picker shows the district shown (the playlist or a phone may have moved it on), keyed by
    # it: a value the browser sends from before the wall moved (a rerun already on its way) then
    # belongs to the old picker and changes nothing, where it used to move the wall back
    # and, with a phone in the room, its choice applies only to the room as it was when the
    # picker was drawn (a stale picker once put 玉島 back after a phone had chosen 真備)
    shown = w.shown_district()
    pick = f"present_pick_{shown}"
    drawn = st.session_state.get("present_seq") if st.session_state.get("present_room") else None

    def picked(key=pick, shown=shown, drawn=drawn) -> None:
        if st.session_state[key] != shown:
            w.choose(st.session_state[key], if_seq=drawn)

    st.selectbox(
        "地区",
        w.options,
        index=w.options.index(shown) if shown in w.options else 0,
        key=pick,
        label_visibility="collapsed",
        on_change=picked,
        width=150,
    )
    st.toggle("自動で進める", key="present_auto")
    st.selectbox(
        "間隔",
        wall.EVERY,
        index=1,
        key="present_every",
        format_func=lambda s: f"{s}秒ごと",
        label_visibility="collapsed",
        width=120,
    )
    st.toggle(
        "全地区を順に", key="present_playlist", help="各地区の同じスライドを順に映します（第1層の会議向け）"
    )
    if st.button("議事次第", icon=":material/format_list_numbered:", key="present_agenda_edit"):
        wall.agenda_dialog(w)
    if st.session_state.get("present_room"):
        st.button(
            "QRコード",
            icon=":material/qr_code_2:",
            key="present_qr_show",
            on_click=lambda: st.session_state.update(present_qr=not st.session_state.get("present_qr")),
        )
        st.button(
            "スマホ操作を終える", icon=":material/phonelink_off:", key="present_room_end", on_click=w.end_room
        )
    else:
        st.button("スマホで操作", icon=":material/smartphone:", key="present_room_open", on_click=w.open_room)
