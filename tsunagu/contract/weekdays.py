"""The weekdays named in 開催曜日 (places.weekdays), read as people write them.

The cell is free text and is stored as typed; what a resident's search by weekday finds is
what this module reads from it, and nothing else decides it: 毎週火曜, 第1・第3木曜, 月・水・金,
火曜日と金曜日, 月～金, 平日, 土日, （水）, 水曜・土曜（月2回）. A day of the month (毎月15日),
毎月 and 月2回 name no weekday; 日 in 曜日, 祝日 and 15日 is not Sunday; 水 in 水島 is not
Wednesday.

The rule: after NFKC (full-width digits, brackets and tildes) and with the words for months,
dates and holidays set aside, a weekday is one of 月火水木金土日 followed by 曜 (or 曜日), or
standing in a list of weekdays (月・水・金, 月水金, 火と金, 土日, 月～金) that touches no other
kanji than those that lead one (毎週, 隔週, 第2); a single day without 曜 must stand alone
((火), 火 10時, 毎週火). 平日 is Monday to Friday, 週末 Saturday and Sunday, 毎日 every day.
"""

from __future__ import annotations

import re
import unicodedata

WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")  # Monday = 0, as datetime.weekday()
WEEKDAY_NAMES = tuple(f"{d}曜日" for d in WEEKDAYS)
_DAY = {d: i for i, d in enumerate(WEEKDAYS)}
_CHARS = "".join(WEEKDAYS)

_HOLD = "\x00"  # a character set aside: neither a weekday nor a kanji that blocks one
_NUM = "0-9一二三四五六七八九十"
# words for whole sets of days, each replaced by its mark
_SETS = {
    "\x01": (r"毎日(?!曜)", range(7)),
    "\x02": (r"平日", range(5)),
    "\x03": (r"週末", (5, 6)),
}
# holidays are a separator: 土日祝 is Saturday and Sunday, 日・祝 Sunday
_HOLIDAYS = re.compile(r"(?:祝祭日|祝日|祭日|休日|祝)")
_ASIDE = re.compile(
    "|".join(
        f"(?:{p})"
        for p in (
            rf"[{_NUM}]+日(?!曜)",  # 15日 (but 第3日曜 keeps its Sunday)
            r"(?<=[当前翌同本後初終半数隔])日(?!曜)",
            r"日(?=[時中程帰替付々本])",
            rf"(?:[毎隔今来先翌前年ヶケか力カ箇个{_NUM}]|ひと|ふた)月(?!曜)",  # 毎月, 1月, 2か月
            rf"月(?=\s*(?:[{_NUM}数]+\s*(?:回|度|日)|に|ごと|毎|内|末|初|半ば|例))",  # 月2回, 月に
            r"(?<=[料代税資基現賞])金|金(?=額|銭|品)",  # 参加料金
            r"水(?=[島道泳中辺害分])",  # 水島
            r"土(?=[地産手俵])",
            r"木(?=[造材陰])",
            r"火(?=[事災気])",
        )
    )
)
_SEP = r"(?:[・,、/\s&+]|と|および|及び|または|又は|や)"
_RANGE = r"(?:[~〜\-ー−]|から)"
_ITEM = rf"[{_CHARS}]曜?"
_RUN = re.compile(rf"{_ITEM}(?:(?:{_SEP}+|{_RANGE})?{_ITEM})*")
_RANGE_RE = re.compile(rf"([{_CHARS}])曜?{_RANGE}([{_CHARS}])")
_LEAD = set("週毎隔第")  # kanji that may come right before a weekday written without 曜
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々]")
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")  # not ・ or ー


def _prepared(text: str) -> tuple[str, set[int]]:
    """The text with the sets of days and the words that are not weekdays set aside, and
    the days those sets name."""
    s = unicodedata.normalize("NFKC", text).replace("曜日", "曜")
    days: set[int] = set()
    for mark, (pattern, named) in _SETS.items():
        s, n = re.subn(pattern, mark, s)
        if n:
            days.update(named)
    s = _HOLIDAYS.sub(" ", s)
    s = _ASIDE.sub(lambda m: _HOLD * len(m.group(0)), s)
    return s, days


def _stands_alone(s: str, start: int, end: int, single: bool) -> bool:
    """Whether a list of weekdays written without 曜 is one, not part of a word."""
    before = s[start - 1] if start > 0 else ""
    after = s[end] if end < len(s) else ""
    if before and _KANJI.match(before) and before not in _LEAD:
        return False
    if after and _KANJI.match(after):
        return False
    # a lone day followed or led by kana is a word (月の, 木の香); a list is not (火・木の午前)
    return not (single and ((after and _KANA.match(after)) or (before and _KANA.match(before))))


def weekdays(text: str | None) -> tuple[int, ...]:
    """The weekdays a 開催曜日 cell names, Monday = 0 … Sunday = 6, in order; () when it
    names none (毎月15日, 不定期, blank)."""
    if not text:
        return ()
    s, days = _prepared(text)
    for m in _RUN.finditer(s):
        run = m.group(0)
        items = re.findall(f"[{_CHARS}]", run)
        if "曜" not in run and not _stands_alone(s, m.start(), m.end(), len(items) == 1):
            continue
        days.update(_DAY[d] for d in items)
        for a, b in _RANGE_RE.findall(run):
            i, j = _DAY[a], _DAY[b]
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])  # 金～月
    return tuple(sorted(days))


def label(days: tuple[int, ...] | list[int]) -> str:
    """(1, 3) → 「火・木」, for a card or a table; 毎日, 平日 and 土日 by their names."""
    days = tuple(sorted(days))
    if days == tuple(range(7)):
        return "毎日"
    if days == tuple(range(5)):
        return "平日"
    if days == (5, 6):
        return "土日"
    return "・".join(WEEKDAYS[d] for d in days)


def has(text: str | None, day: int) -> bool:
    """Whether a search for `day` (0 = 月曜 … 6 = 日曜) finds a place of this 開催曜日."""
    return day in weekdays(text)
