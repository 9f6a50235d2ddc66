"""Japanese eras (和暦) and fiscal years (年度, April to March)."""

from __future__ import annotations

import datetime as dt

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
    """Era name and era year of a fiscal or calendar year, by its April.

    A fiscal year starts in April, so 2019年度 is 令和元年度 even though 令和 began in May:
    that is how councils and the national government name it.
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


def month_label(month: str) -> str:
    """'2024-07' -> '2024年7月（令和6年7月）'."""
    year, mon = int(month[:4]), int(month[5:7])
    name, n = _era_of_date(dt.date(year, mon, 1))
    return f"{year}年{mon}月（{era_year_label(name, n)}年{mon}月）"


def _era_of_date(day: dt.date) -> tuple[str, int]:
    for name, _, start in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise ValueError(f"date before 明治: {day}")
