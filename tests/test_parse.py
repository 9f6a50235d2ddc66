"""How people type months, dates, numbers and yes/no in Excel, and the 和暦 helpers."""

from __future__ import annotations

import datetime as dt

import pytest

from tsunagu.contract import parse, wareki


@pytest.mark.parametrize(
    "text, month",
    [
        ("2024-07", "2024-07"),
        ("2024/7", "2024-07"),
        ("2024/07/01", "2024-07"),
        ("2024年7月", "2024-07"),
        ("令和6年7月", "2024-07"),
        ("R6.7", "2024-07"),
        ("R6/7", "2024-07"),
        ("H28.9", "2016-09"),
        ("平成28年9月", "2016-09"),
        ("令和元年5月", "2019-05"),
        ("Ｒ６．７", "2024-07"),
        ("２０２４年７月", "2024-07"),
        (" r6.7 ", "2024-07"),
        ("令和6年7月1日", "2024-07"),
        ("S64.1", "1989-01"),
    ],
)
def test_month_forms(text, month):
    assert parse.parse_month(text) == month


@pytest.mark.parametrize("text", ["2024-13", "R0.5", "令和6年", "7月", "2024/2/30", "abc", "H28.9.31"])
def test_bad_months(text):
    with pytest.raises(ValueError, match="年月"):
        parse.parse_month(text)


@pytest.mark.parametrize(
    "text, day",
    [
        ("2024-07-01", dt.date(2024, 7, 1)),
        ("2024/7/1", dt.date(2024, 7, 1)),
        ("2024年7月1日", dt.date(2024, 7, 1)),
        ("令和6年7月1日", dt.date(2024, 7, 1)),
        ("R6.7.1", dt.date(2024, 7, 1)),
        ("２０２４／７／１", dt.date(2024, 7, 1)),
        ("2024/7/1 0:00", dt.date(2024, 7, 1)),
        # a workbook's date cell with a time of day (shown by its format as the date alone)
        ("2025-02-11 13:30", dt.date(2025, 2, 11)),
        ("2025/2/11 9:05:30", dt.date(2025, 2, 11)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
    ],
)
def test_date_forms(text, day):
    assert parse.parse_date(text) == day


@pytest.mark.parametrize("text", ["2024-02-30", "2024-07", "R6.7", "2024/7/32", "昨日", "2025-02-11 24:00"])
def test_bad_dates(text):
    with pytest.raises(ValueError, match="日付"):
        parse.parse_date(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12),
        ("１２", 12),
        ("1,200", 1200),
        ("１，２００", 1200),
        ("12.0", 12),
        ("△3", -3),
        ("-3", -3),
        ("1,234,567", 1_234_567),
    ],
)
def test_int_forms(text, value):
    assert parse.parse_int(text) == value


@pytest.mark.parametrize("text", ["1,20", "12.5", "十二", "1.2.3", "12人"])
def test_bad_ints(text):
    with pytest.raises(ValueError, match="整数"):
        parse.parse_int(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("はい", True),
        ("いいえ", False),
        ("○", True),
        ("〇", True),
        ("×", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("１", True),
    ],
)
def test_bool_forms(text, value):
    assert parse.parse_bool(text) is value


def test_area_names_compare_without_suffix():
    assert parse.area_key("玉島地区") == parse.area_key("玉島") == "玉島"
    assert parse.area_key("玉島小学校区", school=True) == parse.area_key("玉島小", school=True)
    assert parse.area_key("　玉島 ") == "玉島"


@pytest.mark.parametrize(
    "fy, label",
    [
        (2024, "令和6年度（2024年度）"),
        (2019, "令和元年度（2019年度）"),
        (2018, "平成30年度（2018年度）"),
        (2016, "平成28年度（2016年度）"),
        (1989, "平成元年度（1989年度）"),
    ],
)
def test_fiscal_year_labels(fy, label):
    assert wareki.fiscal_year_label(fy) == label


def test_fiscal_year_of_month_and_short_labels():
    assert wareki.fiscal_year_of("2025-03") == 2024
    assert wareki.fiscal_year_of("2024-04") == 2024
    assert [wareki.fiscal_year_short(y) for y in (2016, 2019, 2023)] == ["H28", "R1", "R5"]
    assert wareki.month_label("2019-04") == "2019年4月（平成31年4月）"
    assert wareki.month_label("2019-05") == "2019年5月（令和元年5月）"


def test_sql_and_python_fiscal_year_labels_agree(demo_db):
    got = demo_db.sql("select fiscal_year_label(y) from range(1990, 2031) t(y) order by y").rows()
    assert [g[0] for g in got] == [wareki.fiscal_year_label(y, western=False) for y in range(1990, 2031)]
