"""開催曜日 as people write it: each crafted way is found by the weekdays it names and by no
other (contract/weekdays.py is the one reading: the public guide's search and the guidebook
use it)."""

from __future__ import annotations

import itertools

import pytest

from tsunagu.contract.weekdays import WEEKDAYS, has, label, weekdays

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EVERY = tuple(range(7))

# (as written, the weekdays it names)
WRITTEN = [
    ("毎週火曜", (TUE,)),
    ("毎週火曜日", (TUE,)),
    ("火曜", (TUE,)),
    ("火曜日", (TUE,)),
    ("火", (TUE,)),
    ("（火）", (TUE,)),
    ("(火)", (TUE,)),
    ("毎週火", (TUE,)),
    ("火 10時から", (TUE,)),
    ("第1・第3木曜", (THU,)),
    ("第１・第３木曜", (THU,)),
    ("第2・4土曜日", (SAT,)),
    ("隔週水曜", (WED,)),
    ("奇数月の第2火曜", (TUE,)),
    ("月・水・金", (MON, WED, FRI)),
    ("月、水、金", (MON, WED, FRI)),
    ("月/水/金", (MON, WED, FRI)),
    ("月 水 金", (MON, WED, FRI)),
    ("月水金", (MON, WED, FRI)),
    ("毎週月水金", (MON, WED, FRI)),
    ("月曜・水曜・金曜", (MON, WED, FRI)),
    ("月・水・金曜日", (MON, WED, FRI)),
    ("火曜日と金曜日", (TUE, FRI)),
    ("火曜と金曜", (TUE, FRI)),
    ("火曜日、金曜日", (TUE, FRI)),
    ("火と金", (TUE, FRI)),
    ("火・木の午前", (TUE, THU)),
    ("毎週（火）（金）", (TUE, FRI)),
    ("月～金", (MON, TUE, WED, THU, FRI)),
    ("月〜金", (MON, TUE, WED, THU, FRI)),
    ("月~金", (MON, TUE, WED, THU, FRI)),
    ("月曜から金曜", (MON, TUE, WED, THU, FRI)),
    ("金～月", (MON, FRI, SAT, SUN)),
    ("平日", (MON, TUE, WED, THU, FRI)),
    ("平日の午前", (MON, TUE, WED, THU, FRI)),
    ("土日", (SAT, SUN)),
    ("毎週土日", (SAT, SUN)),
    ("土・日", (SAT, SUN)),
    ("土日祝", (SAT, SUN)),
    ("土日祝日", (SAT, SUN)),
    ("週末", (SAT, SUN)),
    ("日曜", (SUN,)),
    ("日曜日", (SUN,)),
    ("毎日曜日", (SUN,)),
    ("第3日曜", (SUN,)),
    ("日・祝", (SUN,)),
    ("毎日", EVERY),
    ("月1回（第2月曜）", (MON,)),
    ("毎月第2・第4月曜日", (MON,)),
    ("水曜・土曜（月2回）", (WED, SAT)),
    ("12月を除く毎週水曜", (WED,)),
    ("毎週金曜（参加料金100円）", (FRI,)),
    ("水島公民館で毎週火曜", (TUE,)),
    ("火曜・金曜（祝日を除く）", (TUE, FRI)),
    ("ｶﾌｪ 毎週水", (WED,)),
    ("木曜日 10:00～12:00", (THU,)),
    ("土曜午後", (SAT,)),
    # no weekday: a day of the month, a month word, none at all
    ("毎月15日", ()),
    ("毎月１日と１５日", ()),
    ("15日", ()),
    ("月に2回", ()),
    ("月2回", ()),
    ("２か月に１回", ()),
    ("隔月", ()),
    ("不定期", ()),
    ("随時（要予約）", ()),
    ("水島", ()),
    ("日本の歌を歌う会", ()),
    ("", ()),
]


@pytest.mark.parametrize("text, days", WRITTEN)
def test_each_way_of_writing_finds_exactly_its_weekdays(text, days):
    """Found by the right weekday, and by no other."""
    assert weekdays(text) == days
    for day in range(7):
        assert has(text, day) is (day in days), (text, WEEKDAYS[day])


def test_blank_is_found_by_no_weekday():
    assert weekdays(None) == () and not any(has(None, d) for d in range(7))


@pytest.mark.parametrize("day", range(7))
def test_every_weekday_in_every_form(day):
    """Each day in each form people use (with 曜, 曜日 or neither; full-width digits; in lists
    with every other day), found by that day and by no day it does not name."""
    d = WEEKDAYS[day]
    alone = [
        f"毎週{d}曜",
        f"毎週{d}曜日",
        f"{d}曜",
        f"第１・第３{d}曜",
        f"隔週{d}曜日",
        f"（{d}）",
        f"毎週{d}",
    ]
    for text in alone:
        assert weekdays(text) == (day,), text
    for other in range(7):
        if other == day:
            continue
        e = WEEKDAYS[other]
        pair = tuple(sorted({day, other}))
        for text in (f"{d}・{e}", f"{d}曜日と{e}曜日", f"{d}曜、{e}曜", f"{d}/{e}", f"毎週{d}・{e}"):
            assert weekdays(text) == pair, text


def test_every_three_day_list_without_separators():
    for trio in itertools.combinations(range(7), 3):
        text = "".join(WEEKDAYS[d] for d in trio)
        assert weekdays(text) == trio, text
        assert weekdays("・".join(WEEKDAYS[d] for d in trio) + "曜日") == trio


def test_labels_for_a_card():
    assert label((TUE, THU)) == "火・木"
    assert label(weekdays("月～金")) == "平日"
    assert label(weekdays("土日祝")) == "土日"
    assert label(weekdays("毎日")) == "毎日"
    assert label(()) == ""
