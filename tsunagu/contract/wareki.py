"""Japanese eras (和暦) and fiscal years (年度, April to March)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

# (kanji, roman initial, first day); newest first so lookups find the current era first.
ERAS: tuple[tuple[str, str, dt.date], ...] = (
    ("令和", "R", dt.date(2019, 5, 1)),
    ("平成", "H", dt.date(1989, 1, 8)),
    ("昭和", "S", dt.date(1926, 12, 25)),
    ("大正", "T", dt.date(1912, 7, 30)),
    ("明治", "M", dt.date(1868, 1, 25)),
)
ERA_BY_NAME = {name: start.year for name, _, start in ERAS} | {
    initial: start.year for _, initial, start in ERAS
}


def era_to_year(era: str, era_year: int) -> int:
    """Western year of an era year: ('R', 6) -> 2024; era year 1 is 元年."""
    return ERA_BY_NAME[era.upper() if len(era) == 1 else era] + era_year - 1


def era_of_year(year: int) -> tuple[str, int]:
    """Era name and era year that name a fiscal year (年度, April to March).

    The era in force at the end of May of its first year: 令和 began on 1 May 2019 and
    2019年度 is 令和元年度, as councils and the national government name it; 昭和 began in
    December 1926, so 1926年度 is still 大正15年度.
    """
    for name, _, start in ERAS:
        if year > start.year or (year == start.year and start.month <= 5):
            return name, year - start.year + 1
    raise ValueError(f"year before 明治: {year}")


def era_year_label(name: str, n: int) -> str:
    return f"{name}{'元' if n == 1 else n}"


def fiscal_year_of(month: str) -> int:
    """The 年度 a 'YYYY-MM' month belongs to (April–March)."""
    year, mon = int(month[:4]), int(month[5:7])
    return year if mon >= 4 else year - 1


def fiscal_year_label(fy: int, western: bool = True) -> str:
    """2024 -> '令和6年度（2024年度）'; 2019 -> '令和元年度（2019年度）'."""
    name, n = era_of_year(fy)
    label = f"{era_year_label(name, n)}年度"
    return f"{label}（{fy}年度）" if western else label


def fiscal_year_short(fy: int) -> str:
    """Compact form used in chart axes and tables: 2016 -> 'H28', 2019 -> 'R1'."""
    name, n = era_of_year(fy)
    initial = next(i for e, i, _ in ERAS if e == name)
    return f"{initial}{n}"


def fiscal_year_months(fy: int) -> tuple[str, str]:
    """First and last month of a 年度: 2024 -> ('2024-04', '2025-03')."""
    return f"{fy}-04", f"{fy + 1}-03"


@functools.lru_cache(maxsize=4096)  # every month of a month list, on every rerun
def month_label(month: str) -> str:
    """'2024-07' -> '2024年7月（令和6年7月）'."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year}年{mon}月（{era_date_text(dt.date(year, mon, 1), with_day=False)}）"


def era_date_text(day: dt.date, with_day: bool = True) -> str:
    """2019-05-01 -> '令和元年5月1日'; with_day=False names the month by its first day:
    2024-07-01 -> '令和6年7月'."""
    name, n = _era_of_date(day)
    text = f"{era_year_label(name, n)}年{day.month}月"
    return f"{text}{day.day}日" if with_day else text


def _era_of_date(day: dt.date) -> tuple[str, int]:
    for name, _, start in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise ValueError(f"date before 明治: {day}")


# What people wrote on forms printed before 令和 (平成31年5月 – 平成32年12月): read as the
# same Western date, with a warning giving the 令和 form. Any other year past an era's end
# is an error.
CONTINUED_UNTIL = {"平成": 32}
# 令和 is ongoing: its years are accepted up to next year's (a start planned for next year),
# so that R99 (2117) is refused.
FUTURE_YEARS_ALLOWED = 1


class EraDateError(ValueError):
    """An era date that never existed; the message says why and the right era, in Japanese."""


@dataclass(frozen=True)
class EraSpan:
    name: str
    start: dt.date
    end: dt.date | None  # None for the current era

    @property
    def last_year(self) -> int | None:
        return None if self.end is None else self.end.year - self.start.year + 1


def era_span(name: str) -> EraSpan:
    """First and last day of an era: it ends the day before the next one starts."""
    for i, (era, initial, start) in enumerate(ERAS):
        if name in (era, initial):
            end = ERAS[i - 1][2] - dt.timedelta(days=1) if i else None
            return EraSpan(era, start, end)
    raise KeyError(name)


def _jp_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _western(year: int, month: int, day: int | None) -> str:
    return f"{year}年{month}月" + (f"{day}日" if day is not None else "")


def _era_form(year: int, month: int, day: int | None) -> str:
    """The right era's form of a Western month or date: 2019, 5, None -> '令和元年5月'."""
    name, n = _era_of_date(dt.date(year, month, day or 1))
    form = f"{era_year_label(name, n)}年{month}月" + (f"{day}日" if day is not None else "")
    if day is None and name != _era_of_date(_month_end(year, month))[0]:
        # a month two eras share (1989年1月): both forms are right
        name2, n2 = _era_of_date(_month_end(year, month))
        form += f"または{era_year_label(name2, n2)}年{month}月"
    return form


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def check_era_date(
    era: str,
    era_year: int,
    month: int,
    day: int | None = None,
    today: dt.date | None = None,
) -> str | None:
    """Check that an era month (day=None) or date existed; month and day are already valid.

    Returns None, or a note (a warning) for the 平成 continuation; raises EraDateError for
    a month or date the era never reached or had not started. A month is valid if any of
    its days is in the era (昭和64年1月, 平成元年1月).
    """
    span = era_span(era)
    name = span.name
    year = span.start.year + era_year - 1
    first = dt.date(year, month, day or 1)
    last = first if day is not None else _month_end(year, month)
    what = "存在しない日付" if day is not None else "存在しない年月"
    western = _western(year, month, day)
    today = today or dt.date.today()
    if last < span.start:
        start = span.start
        start_text = f"元年{start.month}月{start.day}日（{_jp_day(start)}）"
        raise EraDateError(
            f"{what}です。{name}は{start_text}からです。{western}なら{_era_form(year, month, day)}です。"
        )
    if span.end is None:
        now = today.year - span.start.year + 1
        if era_year > now + FUTURE_YEARS_ALLOWED:
            limit = now + FUTURE_YEARS_ALLOWED
            raise EraDateError(
                f"{what}です。{name}は現在{'元' if now == 1 else now}年（{today.year}年）です。"
                f"入力できるのは{name}{limit}年（{today.year + FUTURE_YEARS_ALLOWED}年）までです。"
                "年を確かめてください。"
            )
        return None
    if first <= span.end:
        return None
    end_text = f"{span.last_year}年{span.end.month}月{span.end.day}日（{_jp_day(span.end)}）"
    if era_year <= CONTINUED_UNTIL.get(name, 0):
        return (
            f"{_era_form(year, month, day)}（{western}）として読みました。"
            f"{name}は{end_text}までです。次からは{_era_form(year, month, day)}のように入力してください。"
        )
    if year <= today.year + FUTURE_YEARS_ALLOWED:
        hint = f"{western}なら{_era_form(year, month, day)}です。"
    else:
        hint = "年を確かめてください。"
    raise EraDateError(f"{what}です。{name}は{end_text}までです。{hint}")
