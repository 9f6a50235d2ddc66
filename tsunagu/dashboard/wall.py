"""The wall of 作戦会議モード: which slide of the agenda it shows and for which district, kept
in the session or, once a phone drives it, in a room (store/rooms.py) that every dashboard
process reads; the small bar of controls that shows only while the pointer moves; the agenda
editor; and the code and QR code a presenter's phone opens."""

from __future__ import annotations

import datetime as dt
import html
import secrets
import time
from types import SimpleNamespace
from urllib.parse import quote

import streamlit as st

from tsunagu.config import data_dir
from tsunagu.dashboard import agenda as ag
from tsunagu.dashboard import remote, session
from tsunagu.store.rooms import RoomGone, Rooms

FOLLOW_S = 0.25  # how often a wall with a room looks for a phone's step (it follows within a second)
HEARTBEAT_S = 15.0  # how often it tells the room it is still there (rooms.IDLE_S ends it)
EVERY = [10, 20, 30, 60]


def rooms() -> Rooms:
    return Rooms(data_dir())


class Wall:
    """The wall of one session: its municipality, agenda and place in it."""

    def __init__(self, prefecture: str, municipality: str, districts: list[str]):
        self.prefecture, self.municipality, self.districts = prefecture, municipality, districts
        self.options = [ag.WHOLE, *districts]
        ss = st.session_state
        if "present_agenda" not in ss:
            qp = st.query_params
            district = qp.get("district") if qp.get("district") in self.options else ag.WHOLE
            agenda, problems = ag.decode(qp.to_dict(), districts, district)
            ss.present_agenda = agenda
            ss.present_slide = 0
            ss.present_district = None  # none chosen: each slide's own district
            ss.present_problems = problems  # listed in the agenda editor
            ss.present_problems_new = problems  # and said once on the wall
            ss.present_version = session.db().refresh()
        self.room = None
        code = ss.get("present_room")
        if code:
            self.room = rooms().get(code)
            if self.room is None:  # ended from a phone, or the wall was away too long
                ss.present_room = None
                st.toast("スマホでの操作を終えました。", icon=":material/phonelink_off:")
            else:  # the room is the truth: a phone may have moved it
                agenda, _ = ag.decode(self.room.agenda, districts)
                ss.present_agenda = agenda
                ss.present_slide = self.room.position
                ss.present_district = self.room.district
                ss.present_seq = self.room.seq
                if self.room.joined and ss.get("present_qr_until_joined"):  # a phone is here
                    ss.present_qr = ss.present_qr_until_joined = False

    # where the wall is

    @property
    def agenda(self) -> ag.Agenda:
        return st.session_state.present_agenda

    @property
    def position(self) -> int:
        return st.session_state.present_slide % len(self.agenda.items)

    @property
    def chosen(self) -> str | None:
        d = st.session_state.present_district
        return d if d in self.options else None

    def item(self, i: int | None = None) -> ag.Item:
        item = self.agenda.items[(self.position if i is None else i) % len(self.agenda.items)]
        if self.chosen and item.kind != "title":
            return ag.Item(item.kind, self.chosen)
        return item

    def shown_district(self) -> str:
        item = self.item()
        return self.chosen or (
            item.district if item.kind != "title" else (self.agenda.districts() or [ag.WHOLE])[0]
        )

    # moving it: in the room when a phone may be driving it, else in the session

    def _write(self, change, if_seq: int | None = None) -> None:
        """`if_seq`: a choice made on the room as it was then (rooms.update); a room a phone
        has moved since is left as it is, and the wall shows it."""
        ss = st.session_state
        if ss.get("present_room"):
            try:
                room = rooms().update(ss.present_room, change, "wall", if_seq=if_seq)
                ss.present_slide, ss.present_district, ss.present_seq = room.position, room.district, room.seq
                ss.present_agenda, _ = ag.decode(room.agenda, self.districts)
                return
            except RoomGone:
                ss.present_room = None
        state = SimpleNamespace(
            position=ss.present_slide, district=ss.present_district, agenda=ss.present_agenda.params()
        )
        change(state)
        ss.present_slide, ss.present_district = state.position, state.district
        ss.present_agenda, _ = ag.decode(state.agenda, self.districts)

    def step(self, delta: int) -> None:
        n = len(self.agenda.items)
        self._write(lambda r: setattr(r, "position", (r.position + delta) % n))
        st.session_state._present_last = time.monotonic()  # the timer waits a full interval again

    def choose(self, district: str | None, if_seq: int | None = None) -> None:
        self._write(lambda r: setattr(r, "district", district), if_seq)

    def use(self, agenda: ag.Agenda) -> None:
        def change(r):
            r.agenda, r.position, r.district = agenda.params(), 0, None

        self._write(change)
        st.session_state.present_agenda = agenda

    # the room

    def open_room(self) -> None:
        ss = st.session_state
        ss.present_owner = ss.get("present_owner") or secrets.token_hex(16)

        def start(r):
            r.position, r.district = ss.present_slide % len(self.agenda.items), ss.present_district

        try:
            room = rooms().open(self.prefecture, self.municipality, self.agenda.params(), ss.present_owner)
            room = rooms().update(room.code, start, "wall")
        except (OSError, RoomGone) as e:  # e.g. a read-only copy of the data folder
            ss.present_problems_new = [
                str(e)
                if isinstance(e, RoomGone)
                else "スマホで操作できるようにできませんでした。データフォルダ（_rooms）に書き込めません。"
            ]
            return
        ss.present_room, ss.present_seq = room.code, room.seq
        ss.present_qr = ss.present_qr_until_joined = True
        ss._present_heard = time.monotonic()

    def end_room(self) -> None:
        ss = st.session_state
        if ss.get("present_room"):
            rooms().end(ss.present_room, "wall")
        ss.present_room = None


def follow() -> None:
    """While a phone may drive the wall: look at the room often and redraw the wall when it
    moved (or ended); tell the room now and then that the wall is still here."""
    ss = st.session_state
    code = ss.get("present_room")
    if not code:
        return
    now = time.monotonic()
    if now - ss.get("_present_heard", 0) >= HEARTBEAT_S:
        ss._present_heard = now
        room = rooms().heartbeat(code, ss.get("present_owner", ""))
    else:
        room = rooms().get(code)
    if room is None or room.seq != ss.get("present_seq"):
        st.rerun(scope="app")


def phone_link(code: str) -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    if not base.endswith("/present"):
        base = base.rsplit("/", 1)[0] + "/present" if base else "/present"
    return f"{base}?room={quote(code)}"


def qr_panel(room) -> str:
    """The code and the QR code of the room, big enough to scan from the front row."""
    link = phone_link(room.code)
    return (
        f'<div class="wall-qr"><img src="{remote.qr_data_uri(link)}" alt="スマホで開くQRコード"/>'
        f'<p class="wall-qr-code">{room.code}</p>'
        f'<p class="wall-qr-text">発表者のスマホで読み取ると、スマホからこの画面を操作できます'
        f"（管理職以上の役割でサインイン）</p>"
        f'<p class="wall-qr-link">読み取れないときは {html.escape(link.split("?")[0])}?room= のあとに'
        f"コード {room.code} を入れて開いてください</p></div>"
    )


@st.dialog("議事次第", width="large")
def agenda_dialog(wall: Wall) -> None:
    """Pick and order the slides before the meeting; the result is a link to keep."""
    current = wall.agenda
    st.caption(
        "会議で映すスライドを、映す順に選びます。できた議事次第はリンクになり、保存・共有すると同じ順で開けます。"
    )
    meeting = st.text_input("会議の名前", value=current.meeting, max_chars=ag.MAX_MEETING_CHARS)
    day = st.date_input("開催日", value=current.date or dt.date.today(), format="YYYY/MM/DD")
    c1, c2 = st.columns([3, 2])
    ready = c1.selectbox("すぐ使える議事次第", list(ag.READY), format_func=ag.READY.get)
    district = c2.selectbox("第2層の地区", wall.districts, disabled=ready != "tier2")
    if st.button("この議事次第を下に入れる", icon=":material/playlist_add:"):
        st.session_state.agenda_pick = [
            i.code() for i in ag.ready(ready, wall.districts, district, meeting, day).items
        ]
    items = [ag.Item("title")] + [ag.Item(k, d) for d in wall.options for k in ag.DEFAULT_KINDS]
    labels = {i.code(): i.label() for i in items}
    if "agenda_pick" not in st.session_state:
        st.session_state.agenda_pick = [i.code() for i in current.items if i.code() in labels]
    picked = st.multiselect(
        "スライド（選んだ順に映します）", list(labels), format_func=labels.get, key="agenda_pick"
    )
    for problem in st.session_state.get("present_problems") or []:
        st.warning(problem, icon=":material/warning:")
    chosen = None
    if picked:
        chosen, _ = ag.decode(
            {"agenda": ",".join(picked), "meeting": meeting, "date": day.isoformat()}, wall.districts
        )
        # the link the wall will have: shown here to copy, and kept in the address bar
        base = (st.context.url or "").split("?")[0]
        query = "&".join(
            f"{k}={quote(v, safe=',@')}"
            for k, v in {"pref": wall.prefecture, "muni": wall.municipality, **chosen.params()}.items()
        )
        st.caption("この議事次第のリンク（右上のボタンでコピーして、保存・共有できます）")
        st.code(f"{base}?{query}", language=None, wrap_lines=True)
    if st.button("この議事次第で映す", type="primary", disabled=chosen is None, icon=":material/slideshow:"):
        wall.use(chosen)
        st.session_state.present_problems = []
        st.query_params.from_dict({"pref": wall.prefecture, "muni": wall.municipality, **chosen.params()})
        del st.session_state.agenda_pick
        st.rerun()
