"""Parsers for one cell's text, as people type it in Excel.

Each parser takes text that is already stripped and returns the value, or raises
`ValueError` whose message says, in Japanese, what was expected. They run once per
distinct value of a column (see validate.py), so they may be thorough rather than fast.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from tsunagu.contract.wareki import ERAS, EraDateError, check_era_date, era_to_year


def nfkc(text: str) -> str:
    """Full-width digits and letters to ASCII, and surrounding spaces removed.

    Used only on keys, numbers and dates: NFKC would change free text (① -> 1).
    """
    return unicodedata.normalize("NFKC", text).strip()


def header_key(text: str) -> str:
    """How a column header is compared: NFKC, lower case, no spaces (「 サロン名 」 = 「サロン名」)."""
    return re.sub(r"\s+", "", nfkc(text).lower())


_ERA_RE = "|".join([name for name, _, _ in ERAS] + [initial for _, initial, _ in ERAS])
# 令和6年7月(1日), R6.7(.1), R6/7(/1), R6-7(-1), R6年7月(1日); 元 for year 1.
_ERA_DATE = re.compile(
    rf"^(?P<era>{_ERA_RE})\s*(?P<y>元|\d{{1,2}})\s*(?:年|[./-])\s*(?P<m>\d{{1,2}})"
    rf"\s*(?:月)?(?:\s*[./-]?\s*(?P<d>\d{{1,2}})\s*日?)?$",
    re.IGNORECASE,
)
# 2024-07, 2024/7, 2024.7, 2024年7月, with an optional day: 2024-07-01, 2024年7月1日.
_WESTERN_DATE = re.compile(
    r"^(?P<y>\d{4})\s*(?:年|[./-])\s*(?P<m>\d{1,2})\s*(?:月)?"
    r"(?:\s*[./-]?\s*(?P<d>\d{1,2})\s*日?)?$"
)
# A date cell may carry a time of day (a workbook's 2025/2/11 13:30 shown as 2025/2/11, or a
# column formatted as date+time): the date is what the column asks for, the time is dropped.
_TIME_OF_DAY = re.compile(r"\s+(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$")


def _split_date(text: str) -> tuple[int, int, int | None, str | None]:
    """(year, month, day or None, note or None); the note is a warning about the era form."""
    s = _TIME_OF_DAY.sub("", nfkc(text))
    m = _WESTERN_DATE.match(s)
    era = None
    if m:
        year = int(m["y"])
    else:
        m = _ERA_DATE.match(s)
        if not m:
            raise ValueError("not a date")
        era_year = 1 if m["y"] == "元" else int(m["y"])
        if era_year < 1:
            raise ValueError("era year 0")
        era = m["era"].upper() if len(m["era"]) == 1 else m["era"]
        year = era_to_year(era, era_year)
    month = int(m["m"])
    day = int(m["d"]) if m["d"] else None
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValueError("out of range")
    if day is not None:
        dt.date(year, month, day)  # 2024/2/30 raises
    # before the plain range check, so that 「H99.1」 (2087) is told which era it is not
    note = check_era_date(era, era_year, month, day) if era else None
    if not 1900 <= year <= 2200:
        raise ValueError("out of range")
    return year, month, day, note


MONTH_EXPECTED = "年月（例: 2024-07、2024/7、2024年7月、令和6年7月、R6.7）"
DATE_EXPECTED = "日付（例: 2024-07-01、2024/7/1、2024年7月1日、令和6年7月1日、R6.7.1）"


def month_and_note(text: str) -> tuple[str, str | None]:
    """Any month form of the contract -> ('YYYY-MM', warning or None). A full date is
    accepted (its month). An era month that never existed raises EraDateError, which
    says why."""
    try:
        year, month, _, note = _split_date(text)
    except EraDateError:
        raise
    except ValueError:
        raise ValueError(f"{MONTH_EXPECTED}で入力してください") from None
    return f"{year:04d}-{month:02d}", note


def parse_month(text: str) -> str:
    return month_and_note(text)[0]


def date_and_note(text: str) -> tuple[dt.date, str | None]:
    try:
        year, month, day, note = _split_date(text)
        if day is None:
            raise ValueError("no day")
    except EraDateError:
        raise
    except ValueError:
        raise ValueError(f"実在する{DATE_EXPECTED}で入力してください") from None
    return dt.date(year, month, day), note


def parse_date(text: str) -> dt.date:
    return date_and_note(text)[0]


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
# Japanese documents write negatives with a triangle (△12, ▲12).
_NEGATIVE_MARKS = ("△", "▲")


def _number_text(text: str) -> str:
    s = nfkc(text).replace(" ", "")
    for mark in _NEGATIVE_MARKS:
        if s.startswith(mark):
            s = "-" + s[1:]
    if "," in s:
        if not _THOUSANDS.match(s):
            raise ValueError("bad thousands separator")
        s = s.replace(",", "")
    return s


def parse_int(text: str) -> int:
    """'1,200', '１２', '12.0', '△3' (= -3). Range rules are checked by the caller."""
    try:
        s = _number_text(text)
        if re.fullmatch(r"[+-]?\d+", s):
            return int(s)
        value = float(s)
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    except ValueError:
        pass
    raise ValueError("整数（例: 12、1,200）で入力してください")


def parse_number(text: str) -> float:
    try:
        s = _number_text(text)
        if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
            return float(s)
    except ValueError:
        pass
    raise ValueError("数値（例: 2、0.5、34.6）で入力してください")


# every spelling read as yes / no (after NFKC, any case), in the order docs/contract.md lists them
TRUE_WORDS = ("はい", "○", "〇", "◯", "true", "1", "有", "あり", "対象", "yes", "y")
FALSE_WORDS = ("いいえ", "×", "✕", "false", "0", "無", "なし", "対象外", "no", "n")
BOOL_EXPECTED = "はい／いいえ、○／×、true／false、1／0 のいずれか"


def parse_bool(text: str) -> bool:
    s = nfkc(text).lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueError(f"{BOOL_EXPECTED}で入力してください")


_AREA_SUFFIXES = ("小学校区", "学区", "地区")
# a school district is also called by its school: 「玉島小学校区」 = 「玉島小学校」 = 「玉島小」
_SCHOOL_SUFFIXES = ("小学校区", "小学校", "学区", "校区", "地区", "小")


def area_key(name: str, school: bool = False) -> str:
    """How area names are compared: NFKC, trimmed, a trailing 地区/学区/小学校区 dropped."""
    s = nfkc(name)
    for suffix in _SCHOOL_SUFFIXES if school else _AREA_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)].strip()
    return s


def enum_key(value: str) -> str:
    """Enum values compare after NFKC and without spaces: 「障がい者(児)支援団体」 matches."""
    return nfkc(value).replace(" ", "").replace("　", "")
