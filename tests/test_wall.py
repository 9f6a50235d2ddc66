"""作戦会議モード's agenda and rooms: an agenda survives its link, a bad link names what it could
not use, a room ends with its meeting, only presenters drive it, and two processes stepping the
same room at once lose no step. The wall and the phone themselves, in AppTest; in a real
browser, tests/test_browser_wall.py."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.test_app import signed_in
from tsunagu.access.users import User
from tsunagu.contract.scope import Scope
from tsunagu.dashboard import agenda as ag
from tsunagu.dashboard.remote import may_control
from tsunagu.store import rooms as rooms_mod
from tsunagu.store.rooms import IDLE_S, RoomGone, Rooms

KURASHIKI = ["倉敷", "水島", "児島", "玉島", "真備", "船穂"]


# --- the agenda and its link ------------------------------------------------------------------


def test_an_agenda_comes_back_from_its_link_in_the_same_order():
    odd = "北,東@1%"  # a district name with the link's own separators in it
    agenda = ag.Agenda(
        (
            ag.Item("title"),
            ag.Item("gaps", "玉島"),
            ag.Item("compare"),
            ag.Item("map", odd),
            ag.Item("places", "玉島"),
        ),
        "令和7年度 第2回 玉島地区協議体",
        dt.date(2025, 5, 20),
    )
    params = agenda.params()
    assert params["agenda"] == "title,gaps@玉島,compare,map@北%2C東%401%25,places@玉島"
    again, problems = ag.decode(params, [*KURASHIKI, odd])
    assert problems == [] and again == agenda


def test_the_ready_agendas_put_first_what_each_meeting_looks_at_first():
    tier1 = ag.ready("tier1", KURASHIKI, ag.WHOLE)
    assert [i.code() for i in tier1.items[:6]] == [
        "title",
        "compare",
        "map",
        "gaps",
        "places@倉敷",
        "gaps@倉敷",
    ]
    assert [i.district for i in tier1.items[4:]] == [d for d in KURASHIKI for _ in range(2)]
    tier2 = ag.ready("tier2", KURASHIKI, "玉島", "玉島地区協議体")
    assert [i.code() for i in tier2.items[:3]] == ["title", "gaps@玉島", "gapmap@玉島"]
    assert {i.district for i in tier2.items[1:]} == {"玉島"} and tier2.name == "玉島地区協議体"
    # a 協議体 is one district's: asked for 全域, it takes the first district
    assert {i.district for i in ag.ready("tier2", KURASHIKI, ag.WHOLE).items[1:]} == {"倉敷"}


def test_a_bad_link_names_each_item_it_leaves_out_and_keeps_the_rest():
    agenda, problems = ag.decode(
        {"agenda": "places@玉島,graph,gaps@玉嶋,trend", "date": "5月20日", "meeting": "  協議体\n第2回 "},
        KURASHIKI,
    )
    assert [i.code() for i in agenda.items] == ["places@玉島", "trend"]
    assert agenda.meeting == "協議体 第2回" and agenda.date is None
    assert problems[0].startswith("日付（date）「5月20日」が読めません")
    assert problems[1].startswith("議事次第（agenda）の2番目「graph」: スライドの種類「graph」がありません")
    assert problems[2].startswith(
        "議事次第（agenda）の3番目「gaps@玉嶋」: 地区「玉嶋」はこの市町村にありません"
    )
    # nothing usable: the wall still opens, on every slide of the district it was asked for
    fallback, problems = ag.decode({"agenda": "nothing"}, KURASHIKI, "真備")
    assert fallback == ag.default("真備") and len(problems) == 1


# --- rooms ------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_a_room_ends_with_its_meeting(tmp_path):
    clock = Clock()
    rooms = Rooms(tmp_path, clock)
    room = rooms.open("岡山県", "倉敷市", {"agenda": "places,gaps"}, owner="wall-1")
    assert re.fullmatch(f"[{rooms_mod.ALPHABET}]{{4}}", room.code)
    # a phone typing the code in full-width lower case finds it
    typed = room.code.lower().translate(
        str.maketrans(
            "abcdefghijklmnopqrstuvwxyz0123456789",
            "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９",
        )
    )
    assert rooms.get(typed).code == room.code
    moved = rooms.update(room.code, lambda r: setattr(r, "position", 1), "kacho")
    assert (moved.position, moved.seq, moved.by) == (1, 1, "kacho")

    # the wall checks in: the room goes on; another page's check-in does not keep it
    clock.now += IDLE_S - 1
    assert rooms.heartbeat(room.code, "someone-else") is None
    assert rooms.heartbeat(room.code, "wall-1").seq == 1  # a check-in moves nothing
    clock.now += IDLE_S - 1
    assert rooms.get(room.code) is not None
    # the wall's page was closed: after IDLE_S without it, the code opens nothing
    clock.now += IDLE_S + 1
    assert rooms.get(room.code) is None
    with pytest.raises(RoomGone, match=f"コード「{room.code}」の会議は終了しました"):
        rooms.update(room.code, lambda r: None, "kacho")
    # the next wall to open a room tidies the ended one away
    other = rooms.open("岡山県", "倉敷市", {}, owner="wall-2")
    assert sorted(p.name for p in (tmp_path / "_rooms").iterdir()) == [f"{other.code}.json"]

    rooms.end(other.code, "kacho")  # ended from a phone
    assert rooms.get(other.code) is None


def test_the_room_file_is_whole_and_outside_the_data(tmp_path):
    rooms = Rooms(tmp_path)
    room = rooms.open("岡山県", "倉敷市", {"agenda": "title"}, owner="w")
    assert (tmp_path / "_rooms" / f"{room.code}.json").is_file()
    assert list((tmp_path / "_rooms").glob(".*.tmp")) == []  # the claim leaves no temporary file
    assert rooms.get("0OIL") is None and rooms.get("") is None  # not codes at all


def _step_many(root: str, code: str, n: int, who: str) -> None:
    rooms = Rooms(root)
    for _ in range(n):
        rooms.update(code, lambda r: setattr(r, "position", r.position + 1), who)


def test_two_processes_stepping_one_room_lose_no_step(tmp_path):
    """Two dashboard processes (two phones, or a phone and the wall) press 次へ at once."""
    rooms = Rooms(tmp_path)
    room = rooms.open("岡山県", "倉敷市", {}, owner="w")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_step_many, args=(str(tmp_path), room.code, 40, f"p{i}")) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    final = rooms.get(room.code)
    assert (final.position, final.seq) == (80, 80)


@pytest.mark.parametrize(
    ("role", "scope", "allowed"),
    [
        ("viewer", None, False),
        ("manager", None, True),
        ("editor", None, True),
        ("admin", None, True),
        ("manager", {"prefecture": "長野県"}, False),
        ("manager", {"municipalities": [["岡山県", "倉敷市"]]}, True),
    ],
)
def test_only_a_presenter_whose_scope_covers_the_wall_controls_it(tmp_path, role, scope, allowed):
    room = Rooms(tmp_path).open("岡山県", "倉敷市", {}, owner="w")
    user = User("u", "u", role, scope=Scope.from_record(scope))
    why = may_control(user, room)
    assert (why is None) == allowed
    if role == "viewer":
        assert "「管理職（詳細表・ダウンロード）」以上の役割" in why and "「閲覧」" in why
    assert may_control(None, room) == "サインインしてください。"


# --- the wall and the phone (AppTest) ---------------------------------------------------------


@pytest.fixture(scope="module")
def store(demo_dir, tmp_path_factory):
    """A copy of the demo store: rooms are written into the data folder."""
    root = tmp_path_factory.mktemp("wall") / "demo"
    shutil.copytree(demo_dir, root)
    return root


def page(store, monkeypatch, user: str, query: dict) -> AppTest:
    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    signed_in(at, user)
    at.run()
    at.switch_page("pages/present.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def shown(at) -> tuple[str, str]:
    """(the counter, the title) the wall shows."""
    where = next(m.value for m in at.markdown if 'class="slide-where"' in m.value)
    count = re.search(r"(\d+ / \d+)</span></p>$", where).group(1)
    title = next((m.value for m in at.markdown if 'class="slide-title"' in m.value), "")
    name = re.findall(r'class="slide-name">([^<]*)<', " ".join(m.value for m in at.markdown))
    return count, re.sub(r"<[^>]+>", "", title) or name[0]


def test_an_agenda_link_reopens_the_same_slides_in_order(store, monkeypatch):
    agenda = ag.tier2("玉島", "玉島地区協議体", dt.date(2025, 5, 20))
    at = page(store, monkeypatch, "etsuran", {"pref": "岡山県", "muni": "倉敷市", **agenda.params()})
    seen, where = [], set()
    for _ in agenda.items:
        seen.append(shown(at))
        where |= {m.value.split("　")[0] for m in at.markdown if 'class="slide-where"' in m.value}
        at.button(key="present_next").click().run()
    assert shown(at) == seen[0]  # round to the first
    assert seen == [
        ("1 / 9", "玉島地区協議体"),
        ("2 / 9", "通いの場が手薄な小学校区\u30003か所"),
        ("3 / 9", "手薄な小学校区"),
        ("4 / 9", "通いの場（活動中）"),
        ("5 / 9", "地区の比較：65歳以上1,000人あたりの通いの場（か所）"),
        ("6 / 9", "高齢化率と通いの場（小学校区）"),
        ("7 / 9", "通いの場（活動中）の推移：各年度3月時点"),
        ("8 / 9", "パントリーを利用した世帯"),
        ("9 / 9", "令和6年度のフォーラム・交流会（2025年3月まで）"),
    ]
    date = next(m.value for m in at.markdown if 'class="slide-date"' in m.value)
    assert "令和7年5月20日（火）" in date
    # every slide is 玉島's, the title's too
    assert where == {'<p class="slide-where"><span>倉敷市 玉島地区'}


def test_the_comparison_marks_the_district_and_the_gaps_say_why(store, monkeypatch):
    at = page(store, monkeypatch, "etsuran", {"agenda": "compare@玉島,gaps@玉島"})
    bars = next(m.value for m in at.markdown if "wall-bars" in m.value)
    marked = re.findall(r'class="wall-bar marked".*?wall-bar-label">▶ (\S+?)</span>', bars)
    assert marked == ["玉島"] and bars.count('class="wall-bar"') == 5
    assert any("玉島地区は6地区中6番目" in m.value for m in at.markdown)
    at.button(key="present_next").click().run()
    names = next(m.value for m in at.markdown if "wall-names" in m.value)
    assert re.findall(r'class="wall-name"[^>]*>([^<]+)<', names) == ["柏島小", "上成小", "玉島南小"]
    assert "高齢化率 33.2%・1,000人あたり 3.07か所" in names
    assert any("手薄＝高齢化率が倉敷市全体（27.8%）より高く" in m.value for m in at.markdown)


def picker(at, name: str):
    """The phone's list (its key carries the room's count of changes)."""
    return next(w for w in at.selectbox if w.key.startswith(name))


def test_a_presenter_steps_and_changes_district_from_the_phone(store, monkeypatch):
    rooms = Rooms(store)
    room = rooms.open("岡山県", "倉敷市", ag.tier2("玉島").params(), owner="w")
    phone = page(store, monkeypatch, "kacho", {"room": room.code.lower()})
    text = " ".join(m.value for m in phone.markdown)
    assert (
        "いま映している（1 / 9）" in text
        and "会議名と日付" in text
        and "通いの場が手薄な小学校区・玉島" in text
    )
    assert rooms.get(room.code).joined == ["kacho"]  # the wall puts its QR code away
    phone.button(key="remote_next").click().run()
    assert rooms.get(room.code).position == 1
    picker(phone, "remote_district").set_value("真備").run()
    now = rooms.get(room.code)
    assert (now.position, now.district, now.by) == (1, "真備", "kacho")
    assert "通いの場が手薄な小学校区・真備" in " ".join(m.value for m in phone.markdown)
    picker(phone, "remote_jump").set_value(5).run()
    assert rooms.get(room.code).position == 5
    phone.button(key="remote_end").click().run()
    assert rooms.get(room.code) is None
    assert any("終了しました" in i.value for i in phone.info)


def test_a_picker_drawn_before_the_room_moved_does_not_move_it_back(store, monkeypatch):
    """次へ moves the room; the phone's slide list, drawn before that, can still report its old
    choice (the phone sends it with a rerun it asked for before it drew the new list; seen on a
    busy machine as a tap on 次へ undone a moment later). A choice applies only to the room as it
    was when the list was drawn: the room stays where 次へ put it."""
    rooms = Rooms(store)
    room = rooms.open("岡山県", "倉敷市", ag.tier2("玉島").params(), owner="w")
    phone = page(store, monkeypatch, "kacho", {"room": room.code})
    stale_jump, stale_district = picker(phone, "remote_jump"), picker(phone, "remote_district")
    rooms.update(room.code, lambda r: setattr(r, "position", 3), "kacho")  # 次へ, three times over
    # what the lists drawn at the first slide report: the slide after it, and 真備
    stale_jump.set_value(1)
    stale_district.set_value("真備")
    phone.run()
    now = rooms.get(room.code)
    assert (now.position, now.district) == (3, None)
    assert "いま映している（4 / 9）" in " ".join(m.value for m in phone.markdown)
    # the list drawn now is the room's, and a choice on it applies
    picker(phone, "remote_jump").set_value(6).run()
    assert rooms.get(room.code).position == 6


def test_a_room_changes_only_if_it_has_not_moved_since(tmp_path):
    rooms = Rooms(tmp_path)
    room = rooms.open("岡山県", "倉敷市", {}, owner="w")
    rooms.update(room.code, lambda r: setattr(r, "position", 2), "a")
    kept = rooms.update(room.code, lambda r: setattr(r, "position", 7), "b", if_seq=room.seq)
    assert (kept.position, kept.seq, kept.by) == (2, room.seq + 1, "a")
    moved = rooms.update(room.code, lambda r: setattr(r, "position", 7), "b", if_seq=room.seq + 1)
    assert (moved.position, moved.seq, moved.by) == (7, room.seq + 2, "b")


def test_a_viewers_phone_cannot_control_the_room(store, monkeypatch):
    rooms = Rooms(store)
    room = rooms.open("岡山県", "倉敷市", {}, owner="w")
    phone = page(store, monkeypatch, "etsuran", {"room": room.code})
    assert [e.value for e in phone.error] == [
        "この会議を操作できるのは「管理職（詳細表・ダウンロード）」以上の役割の方です（あなたは「閲覧」）。"
        "壁の画面はそのままご覧ください。"
    ]
    assert not [b for b in phone.button if b.key in ("remote_next", "remote_prev", "remote_end")]
    assert rooms.get(room.code).seq == 0 and rooms.get(room.code).joined == []
    # a code that opens nothing says so, and asks again
    wrong = page(store, monkeypatch, "kacho", {"room": "XXXX"})
    assert "コード「XXXX」の会議は見つかりません" in wrong.error[0].value
    assert [t.label for t in wrong.text_input] == ["操作コード（壁に映っている4文字）"]


def test_the_walls_own_picker_changes_the_district_again_and_again(store, monkeypatch):
    """The bar's district list (drawn anew for each district shown, so a pick the browser sent
    before the wall moved cannot move it back) takes each pick in turn."""
    at = page(store, monkeypatch, "etsuran", {"agenda": "places@玉島"})

    def where() -> str:
        return next(m.value for m in at.markdown if 'class="slide-where"' in m.value)

    assert "倉敷市 玉島地区" in where()
    picker(at, "present_pick").set_value("真備").run()
    assert "倉敷市 真備地区" in where()
    assert picker(at, "present_pick").value == "真備"
    picker(at, "present_pick").set_value("水島").run()
    assert "倉敷市 水島地区" in where() and picker(at, "present_pick").value == "水島"


def test_the_walls_own_picker_drawn_before_a_phone_moved_the_room_does_not_move_it_back(store, monkeypatch):
    """Seen on a busy machine: the phone chose 真備 and, a few seconds later, the wall's own
    district list (drawn while the wall showed 玉島) put the room back on 玉島. The wall's
    choice, like the phone's, applies only to the room as it was when the list was drawn."""
    wall = page(store, monkeypatch, "kacho", ag.tier2("玉島").params())
    wall.button(key="present_room_open").click().run()
    rooms = Rooms(store)
    code = wall.session_state["present_room"]
    stale = next(w for w in wall.selectbox if w.key == "present_pick_玉島")
    rooms.update(code, lambda r: setattr(r, "district", "真備"), "kacho")  # the phone
    stale.set_value(ag.WHOLE).run()
    now = rooms.get(code)
    assert (now.district, now.by) == ("真備", "kacho")
    assert "倉敷市 真備地区" in next(m.value for m in wall.markdown if 'class="slide-where"' in m.value)
    # the list drawn now is the room's, and a choice on it applies
    next(w for w in wall.selectbox if w.key == "present_pick_真備").set_value(ag.WHOLE).run()
    assert (rooms.get(code).district, rooms.get(code).by) == (ag.WHOLE, "wall")
