"""作戦会議モード's agenda: which slides, in which order and for which districts, with the
meeting's name and date. It lives in the wall's link (?agenda=…&meeting=…&date=…), so a
presenter prepares it before the meeting and saves, shares or reopens it as a link:

    agenda=title,compare,places@玉島,gaps@玉島     (a slide for 全域 has no @district)

A district's name is written as it is, with only `%`, `,` and `@` escaped (%25, %2C, %40)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

WHOLE = "全域"
# each kind of slide and what the presenter's list calls it, in the order of the default agenda
KINDS: dict[str, str] = {
    "title": "会議名と日付",
    "places": "通いの場（活動中）",
    "subsidized": "うち補助金対象サロン",
    "compare": "地区の比較",
    "gaps": "通いの場が手薄な小学校区",
    "map": "高齢化率と通いの場（地図）",
    "gapmap": "手薄な小学校区（地図）",
    "trend": "通いの場の推移",
    "pantry": "パントリーの広がり",
    "consultations": "パントリーでの相談",
    "referrals": "相談・支援機関へのつなぎ",
    "forums": "今年度のフォーラム・交流会",
}
DEFAULT_KINDS = tuple(k for k in KINDS if k != "title")  # a wall opened without an agenda
READY = {
    "tier1": "第1層の会議（全地区の比較から、各地区へ）",
    "tier2": "第2層の協議体（1つの地区）",
}
MAX_ITEMS = 60
MAX_MEETING_CHARS = 60
DEFAULT_MEETING = "作戦会議"


@dataclass(frozen=True)
class Item:
    kind: str
    district: str = WHOLE

    def label(self) -> str:
        """The slide as the agenda and the phone list it: 「手薄な小学校区（地図）・玉島」."""
        return KINDS[self.kind] if self.kind == "title" else f"{KINDS[self.kind]}・{self.district}"

    def code(self) -> str:
        if self.district == WHOLE:
            return self.kind
        return f"{self.kind}@{self.district.replace('%', '%25').replace(',', '%2C').replace('@', '%40')}"


@dataclass(frozen=True)
class Agenda:
    items: tuple[Item, ...]
    meeting: str = ""
    date: dt.date | None = None

    @property
    def name(self) -> str:
        return self.meeting or DEFAULT_MEETING

    def params(self) -> dict[str, str]:
        """The agenda as the link's query parameters."""
        out = {"agenda": ",".join(i.code() for i in self.items)}
        if self.meeting:
            out["meeting"] = self.meeting
        if self.date:
            out["date"] = self.date.isoformat()
        return out

    def districts(self) -> list[str]:
        """The districts the agenda names, in their first order (全域 first when it is one)."""
        return list(dict.fromkeys(i.district for i in self.items if i.kind != "title"))


def default(district: str = WHOLE) -> Agenda:
    """A wall opened without an agenda: every kind of slide for one area."""
    return Agenda(tuple(Item(k, district) for k in DEFAULT_KINDS))


def tier1(districts: list[str], meeting: str = "", date: dt.date | None = None) -> Agenda:
    """第1層 (the municipality): every district compared, the whole on the map and its gaps,
    then each district's places and gaps."""
    items = [Item("title"), Item("compare"), Item("map"), Item("gaps")]
    for d in districts:
        items += [Item("places", d), Item("gaps", d)]
    return Agenda(tuple(items), meeting, date)


def tier2(district: str, meeting: str = "", date: dt.date | None = None) -> Agenda:
    """第2層 (one district's 協議体): its gaps and map first, then the rest of its slides."""
    kinds = ("title", "gaps", "gapmap", "places", "compare", "map", "trend", "pantry", "forums")
    return Agenda(tuple(Item(k, WHOLE if k == "title" else district) for k in kinds), meeting, date)


def ready(name: str, districts: list[str], district: str, meeting: str = "", date=None) -> Agenda:
    """One of READY: 第1層 for every district, 第2層 for `district` (the first district when
    it is 全域: a 協議体 is one district's)."""
    if name == "tier1":
        return tier1(districts, meeting, date)
    return tier2(district if district in districts else districts[0], meeting, date)


def decode(
    params: Mapping[str, str], districts: list[str], district: str = WHOLE
) -> tuple[Agenda, list[str]]:
    """The agenda of a link, and what of it could not be used (in Japanese, naming the item's
    place, what it said and what was expected). Unusable items are left out; a link with no
    usable item gives the default agenda of `district`."""
    problems: list[str] = []
    meeting = " ".join(str(params.get("meeting") or "").split())[:MAX_MEETING_CHARS]
    date = None
    if params.get("date"):
        try:
            date = dt.date.fromisoformat(str(params["date"]))
        except ValueError:
            problems.append(
                f"日付（date）「{params['date']}」が読めません。2025-05-20 の形で書いてください。"
            )
    text = str(params.get("agenda") or "").strip()
    if not text:
        return Agenda(default(district).items, meeting, date), problems
    known = {WHOLE, *districts}
    items = []
    for n, raw in enumerate(text.split(","), start=1):
        raw = raw.strip()
        if not raw:
            continue
        kind, _, where = raw.partition("@")
        where = unquote(where) if where else WHOLE
        if kind not in KINDS:
            problems.append(
                f"議事次第（agenda）の{n}番目「{raw}」: スライドの種類「{kind}」がありません"
                f"（使えるのは {', '.join(KINDS)}）。"
            )
        elif where not in known:
            problems.append(
                f"議事次第（agenda）の{n}番目「{raw}」: 地区「{where}」はこの市町村にありません"
                f"（{'、'.join(sorted(known, key=[WHOLE, *districts].index))}のどれか）。"
            )
        elif len(items) >= MAX_ITEMS:
            problems.append(f"議事次第（agenda）は{MAX_ITEMS}枚までです。{n}番目から後は使いません。")
            break
        else:
            items.append(Item(kind, WHOLE if kind == "title" else where))
    if not items:
        return Agenda(default(district).items, meeting, date), problems
    return Agenda(tuple(items), meeting, date), problems
