"""The presenter's phone as the remote of a wall (作戦会議モード, /present?room=CODE): the
slide shown and the next, 前へ・次へ, a jump to any slide, another district, and the end of the
meeting. Only a signed-in user whose role may present (PRESENT_ROLE and up) and whose scope
covers the wall's municipality controls a room; every change is written to the room
(store/rooms.py), which the wall reads within a second from whichever process serves it."""

from __future__ import annotations

import streamlit as st

from tsunagu.access import auth
from tsunagu.access.users import ROLE_LABELS, User
from tsunagu.config import data_dir
from tsunagu.dashboard import agenda as ag
from tsunagu.dashboard import session
from tsunagu.store.rooms import CODE_LENGTH, Room, RoomGone, Rooms, normalize, valid

PRESENT_ROLE = "manager"  # 管理職 and up present; a viewer watches
REFRESH_S = 1.0  # the phone follows the wall's own timer and other presenters
AS_AGENDA = "議事次第どおり"


def may_control(user: User | None, room: Room) -> str | None:
    """None when `user` may drive the room; else why not, in Japanese."""
    if user is None:
        return "サインインしてください。"
    if not user.can(PRESENT_ROLE):
        return (
            f"この会議を操作できるのは「{ROLE_LABELS[PRESENT_ROLE]}」以上の役割の方です"
            f"（あなたは「{ROLE_LABELS[user.role]}」）。壁の画面はそのままご覧ください。"
        )
    if not user.scope.covers(room.prefecture, room.municipality):
        return f"この会議（{room.municipality}）は、あなたの担当（{user.scope.label}）の外です。"
    return None


def qr_data_uri(link: str) -> str:
    """A QR code of the link as an SVG data URI (a regular QR code, which every phone camera
    reads; segno would pick a Micro QR for a short text)."""
    import segno

    return segno.make_qr(link, error="m").svg_data_uri(scale=10, border=2, dark="#000", light="#fff")


def _ask_code(message: str | None = None, ended: bool = False) -> None:
    st.markdown("### 作戦会議モードを手元で操作")
    if message and ended:
        st.info(message, icon=":material/info:")
    elif message:
        st.error(message, icon=":material/error:")
    with st.form("remote_code"):
        code = st.text_input(f"操作コード（壁に映っている{CODE_LENGTH}文字）", max_chars=12)
        if st.form_submit_button("開く", type="primary"):
            st.query_params["room"] = normalize(code)
            st.rerun()


def page(code: str) -> None:
    """The phone's page for the room of `code` (the page has checked the user is signed in)."""
    code = normalize(code)
    if not code:
        _ask_code()
        return
    if not valid(code):
        _ask_code(
            f"操作コード「{code}」は{CODE_LENGTH}文字の英字と数字です。壁に映っているコードを確かめてください。"
        )
        return
    rooms = Rooms(data_dir())
    room = rooms.get(code)
    if room is None:
        if rooms.ended(code):
            _ask_code(f"コード「{code}」の会議は終了しました。", ended=True)
        else:
            _ask_code(f"コード「{code}」の会議は見つかりません。壁に映っているコードを確かめてください。")
        return
    user = auth.current_user()
    why = may_control(user, room)
    if why:
        st.markdown("### 作戦会議モードを手元で操作")
        st.error(why, icon=":material/block:")
        return
    if user.username not in room.joined:  # the wall puts its QR code away once someone is here
        try:
            rooms.update(code, lambda r: r.joined.append(user.username), user.username)
        except RoomGone as gone:
            _ask_code(str(gone))
            return
    districts, _ = session.districts_of(room.prefecture, room.municipality)
    controls(code, districts)


def _act(code: str, change, if_seq: int | None = None) -> None:
    """A button's work: checked again (the sign-in may have ended), then written to the room
    (with `if_seq`, only if the room has not moved since the control was drawn)."""
    user = auth.current_user()
    rooms = Rooms(data_dir())
    room = rooms.get(code)
    if room is None:
        st.session_state.remote_gone = f"コード「{code}」の会議は終了しました。"
        return
    why = may_control(user, room)
    if why:
        st.session_state.remote_gone = why
        return
    try:
        rooms.update(code, change, user.username, if_seq=if_seq)
    except RoomGone as gone:
        st.session_state.remote_gone = str(gone)


@st.fragment(run_every=REFRESH_S)
def controls(code: str, districts: list[str]) -> None:
    gone = st.session_state.pop("remote_gone", None)
    room = Rooms(data_dir()).get(code)
    if gone or room is None:
        st.markdown("### 作戦会議モードを手元で操作")
        st.info(gone or f"コード「{code}」の会議は終了しました。", icon=":material/info:")
        return
    agenda, _ = ag.decode(room.agenda, districts)
    n = len(agenda.items)
    i = room.position % n

    def label(j: int) -> str:
        item = agenda.items[j % n]
        if room.district and item.kind != "title":
            item = ag.Item(item.kind, room.district)
        return item.label()

    st.markdown(
        f'<div class="remote-head">{_esc(room.municipality)}　{_esc(agenda.name)}　<span>コード {room.code}</span></div>'
        f'<div class="remote-now"><span>いま映している（{i + 1} / {n}）</span>'
        f'<p class="remote-title">{_esc(label(i))}</p></div>'
        f'<div class="remote-next"><span>次（{(i + 1) % n + 1} / {n}）</span>'
        f'<p class="remote-next-title">{_esc(label(i + 1))}</p></div>',
        unsafe_allow_html=True,
    )
    with st.container(horizontal=True, key="remote_steps"):
        st.button(
            "前へ",
            icon=":material/chevron_left:",
            key="remote_prev",
            on_click=_act,
            args=(code, lambda r: setattr(r, "position", (r.position - 1) % n)),
            width="stretch",
        )
        st.button(
            "次へ",
            icon=":material/chevron_right:",
            key="remote_next",
            type="primary",
            on_click=_act,
            args=(code, lambda r: setattr(r, "position", (r.position + 1) % n)),
            width="stretch",
        )
    # the pickers show what the wall shows: drawn anew (a key of the room's count of changes)
    # whenever the room moved, by this phone, another one or the wall's own timer. A picker
    # drawn before the room moved can still report its old choice (the phone sends it with a
    # rerun it asked for before it drew the new one): that choice applies only to the room it
    # was made on, or a tap on 次へ would be undone by the picker showing the slide before.
    drawn = room.seq
    jump, pick = f"remote_jump_{drawn}", f"remote_district_{drawn}"

    def jumped() -> None:
        to = st.session_state.get(jump)
        if isinstance(to, int) and 0 <= to < n and to != i:
            _act(code, lambda r: setattr(r, "position", to), if_seq=drawn)

    st.selectbox(
        "スライドを選んで映す",
        list(range(n)),
        index=i,
        format_func=lambda j: f"{j + 1}. {label(j)}",
        key=jump,
        on_change=jumped,
    )
    options = [AS_AGENDA, ag.WHOLE, *districts]

    def picked() -> None:
        to = st.session_state.get(pick)
        chosen = None if to == AS_AGENDA else to
        if to in options and chosen != room.district:
            _act(code, lambda r: setattr(r, "district", chosen), if_seq=drawn)

    st.selectbox(
        "地区を変える",
        options,
        index=options.index(room.district) if room.district in options else 0,
        key=pick,
        on_change=picked,
    )
    with st.expander("会議を終える"):
        st.caption("壁の画面はそのまま残り、このコードでは操作できなくなります。")
        st.button(
            "会議を終える",
            icon=":material/stop_circle:",
            key="remote_end",
            on_click=_act,
            args=(code, lambda r: setattr(r, "ended", True)),
        )


def _esc(text: str) -> str:
    import html

    return html.escape(text)
