"""Era dates that exist (contract, "What a CSV may look like"): each side of each era
boundary, for months (開始年月, 設置年月) and dates (開催日), through the real ingest path.

昭和 ends 1989-01-07, 平成 runs 1989-01-08 – 2019-04-30, 令和 starts 2019-05-01; 平成31年5月 –
平成32年12月 is read as 令和 with a warning; any other year an era never reached is an error
naming the row, the column and the right era, and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_ingest_errors import refuse
from tests.test_ingest_formats import FORUMS_CSV, PANTRY_CSV, PLACES_ROWS, places_csv
from tsunagu.contract import wareki
from tsunagu.ingest.pipeline import ingest

GOOD = PLACES_ROWS[0]  # 開始年月 R6.7, uploaded for 2024-07
NOW = dt.date.today().year - 2018  # the current 令和 year


def place_started(value: str) -> bytes:
    assert ",R6.7," in GOOD
    return places_csv([GOOD.replace(",R6.7,", f",{value},")]).encode()


def accepted(store, dataset, content, month):
    result = ingest(content, dataset, month, store)
    assert result.ok, [str(e) for e in result.errors]
    return result


def only_error(store, dataset, content, month):
    (error,) = refuse(store, dataset, content, month=month)  # refuse() checks nothing was written
    return error


# months ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, month",
    [
        ("S64.1", "1989-01"),  # 昭和's last month (up to the 7th)
        ("昭和64年1月", "1989-01"),
        ("平成元年1月", "1989-01"),  # 平成's first month (from the 8th)
        ("H31.4", "2019-04"),  # 平成's last month
        ("令和元年5月", "2019-05"),  # 令和's first month
        ("R1.5", "2019-05"),
        ("大正15年12月", "1926-12"),  # 大正's last month, 昭和's first
    ],
)
def test_months_on_each_side_of_a_boundary_that_exist(store, text, month):
    result = accepted(store, "places", place_started(text), "2024-07")
    assert store.read_month("places", "2024-07")["started_on"].to_list() == [month]
    assert result.warnings == []


MONTH_ERRORS = [
    (
        "S64.2",
        "「S64.2」は存在しない年月です。昭和は64年1月7日（1989年1月7日）までです。"
        "1989年2月なら平成元年2月です。",
    ),
    (
        "S65.1",
        "「S65.1」は存在しない年月です。昭和は64年1月7日（1989年1月7日）までです。"
        "1990年1月なら平成2年1月です。",
    ),
    (
        "昭和70年4月",
        "「昭和70年4月」は存在しない年月です。昭和は64年1月7日（1989年1月7日）までです。"
        "1995年4月なら平成7年4月です。",
    ),
    (
        "平成33年1月",
        "「平成33年1月」は存在しない年月です。平成は31年4月30日（2019年4月30日）までです。"
        "2021年1月なら令和3年1月です。",
    ),
    (
        "平成35年4月",
        "「平成35年4月」は存在しない年月です。平成は31年4月30日（2019年4月30日）までです。"
        "2023年4月なら令和5年4月です。",
    ),
    (
        "H99.1",
        "「H99.1」は存在しない年月です。平成は31年4月30日（2019年4月30日）までです。年を確かめてください。",
    ),
    (
        "令和元年4月",
        "「令和元年4月」は存在しない年月です。令和は元年5月1日（2019年5月1日）からです。"
        "2019年4月なら平成31年4月です。",
    ),
    (
        "R99.1",
        f"「R99.1」は存在しない年月です。令和は現在{NOW}年（{NOW + 2018}年）です。"
        f"入力できるのは令和{NOW + 1}年（{NOW + 2019}年）までです。年を確かめてください。",
    ),
    (f"R{NOW + 2}.1", f"「R{NOW + 2}.1」は存在しない年月です。令和は現在{NOW}年"),
    (
        "大正16年1月",
        "「大正16年1月」は存在しない年月です。大正は15年12月24日（1926年12月24日）までです。"
        "1927年1月なら昭和2年1月です。",
    ),
]


@pytest.mark.parametrize("text, message", MONTH_ERRORS, ids=[c[0] for c in MONTH_ERRORS])
def test_months_an_era_never_reached_are_refused(store, text, message):
    error = only_error(store, "places", place_started(text), "2024-07")
    assert (error.row, error.column, error.level) == (2, "開始年月", "error")
    assert error.message.startswith(message)
    assert str(error).startswith("[エラー] 2行目・I列（開始年月）: 「")


@pytest.mark.parametrize(
    "text, month, reiwa",
    [
        ("H31.5", "2019-05", "令和元年5月"),  # the first month after 平成
        ("平成31年5月", "2019-05", "令和元年5月"),
        ("平成32年12月", "2020-12", "令和2年12月"),  # the last month of the continuation
    ],
)
def test_heisei_continuation_is_read_as_reiwa_with_a_warning(store, text, month, reiwa):
    result = accepted(store, "places", place_started(text), "2024-07")
    assert store.read_month("places", "2024-07")["started_on"].to_list() == [month]
    (warning,) = result.warnings
    assert (warning.row, warning.column, warning.level) == (2, "開始年月", "warning")
    western = f"{month[:4]}年{int(month[5:])}月"
    assert warning.message == (
        f"「{text}」は{reiwa}（{western}）として読みました。"
        f"平成は31年4月30日（2019年4月30日）までです。次からは{reiwa}のように入力してください。"
    )
    assert str(warning).startswith("[注意] 2行目・I列（開始年月）: ")


def test_next_reiwa_year_is_a_planned_start_and_only_a_warning(store):
    result = accepted(store, "places", place_started(f"R{NOW + 1}.4"), "2024-07")
    (warning,) = result.warnings
    assert (warning.row, warning.column) == (2, "開始年月")
    assert warning.message == (
        f"{NOW + 2019}年4月（令和{NOW + 1}年4月）はアップロードする月"
        "（2024年7月（令和6年7月））より後です。これから始まる予定なら、このままで構いません。"
    )


def test_start_month_after_the_upload_month_is_a_warning(store):
    result = accepted(store, "places", place_started("2024-08"), "2024-07")
    (warning,) = result.warnings
    assert (warning.row, warning.column, warning.level) == (2, "開始年月", "warning")
    assert warning.message.startswith(
        "2024年8月（令和6年8月）はアップロードする月（2024年7月（令和6年7月））より後です。"
    )
    # the upload month itself is not after
    assert accepted(store, "places", place_started("2024-07"), "2024-07").warnings == []


def test_pantry_opened_on_follows_the_same_rules(store):
    later = PANTRY_CSV.replace("令和3年4月", "R6.9")
    result = accepted(store, "pantry", later.encode("cp932"), "2024-07")
    assert [(w.row, w.column) for w in result.warnings] == [(2, "設置年月")]
    assert "2024年9月（令和6年9月）はアップロードする月" in result.warnings[0].message
    continued = PANTRY_CSV.replace("令和3年4月", "H31.5")
    result = accepted(store, "pantry", continued.encode("cp932"), "2024-07")
    assert [(w.row, w.column) for w in result.warnings] == [(2, "設置年月")]
    assert result.warnings[0].message.startswith("「H31.5」は令和元年5月（2019年5月）として読みました。")
    error = only_error(store, "pantry", PANTRY_CSV.replace("R5.10", "H40.10").encode("cp932"), "2024-07")
    assert (error.row, error.column) == (3, "設置年月")
    assert error.message.startswith("「H40.10」は存在しない年月です。平成は31年4月30日")


def test_upload_month_in_an_era_that_had_not_started_is_refused(store):
    result = ingest(place_started("R1.5"), "places", "令和元年4月", store)
    assert not result.ok
    assert (
        "「令和元年4月」は存在しない年月です。令和は元年5月1日（2019年5月1日）からです。"
        in result.errors[0].message
    )
    assert store.latest_month("places") is None


# full dates (forums 開催日) -------------------------------------------------------


def forum_on(text: str) -> bytes:
    header, first = FORUMS_CSV.splitlines()[:2]
    assert first.startswith("F-1,2024/7/6,")
    return f"{header}\r\n{first.replace('2024/7/6', text)}\r\n".encode()


@pytest.mark.parametrize(
    "text, month, day",
    [
        ("昭和64年1月7日", "1989-01", dt.date(1989, 1, 7)),  # 昭和's last day
        ("平成元年1月8日", "1989-01", dt.date(1989, 1, 8)),  # 平成's first day
        ("H31.4.30", "2019-04", dt.date(2019, 4, 30)),  # 平成's last day
        ("令和元年5月1日", "2019-05", dt.date(2019, 5, 1)),  # 令和's first day
    ],
)
def test_dates_on_each_side_of_a_boundary_that_exist(store, text, month, day):
    result = accepted(store, "forums", forum_on(text), month)
    assert store.read_month("forums", month)["held_on"].to_list() == [day]
    assert result.warnings == []


DATE_ERRORS = [
    (
        "昭和64年1月8日",
        "1989-01",
        "「昭和64年1月8日」は存在しない日付です。昭和は64年1月7日（1989年1月7日）までです。"
        "1989年1月8日なら平成元年1月8日です。",
    ),
    (
        "平成元年1月7日",
        "1989-01",
        "「平成元年1月7日」は存在しない日付です。平成は元年1月8日（1989年1月8日）からです。"
        "1989年1月7日なら昭和64年1月7日です。",
    ),
    (
        "令和元年4月30日",
        "2019-04",
        "「令和元年4月30日」は存在しない日付です。令和は元年5月1日（2019年5月1日）からです。"
        "2019年4月30日なら平成31年4月30日です。",
    ),
    (
        "H33.1.1",
        "2021-01",
        "「H33.1.1」は存在しない日付です。平成は31年4月30日（2019年4月30日）までです。"
        "2021年1月1日なら令和3年1月1日です。",
    ),
]


@pytest.mark.parametrize("text, month, message", DATE_ERRORS, ids=[c[0] for c in DATE_ERRORS])
def test_dates_an_era_never_reached_are_refused(store, text, month, message):
    error = only_error(store, "forums", forum_on(text), month)
    assert (error.row, error.column, error.level) == (2, "開催日", "error")
    assert error.message == message


@pytest.mark.parametrize(
    "text, month, day, reiwa",
    [
        ("平成31年5月1日", "2019-05", dt.date(2019, 5, 1), "令和元年5月1日"),
        ("H32.12.31", "2020-12", dt.date(2020, 12, 31), "令和2年12月31日"),
    ],
)
def test_heisei_continuation_dates_are_read_with_a_warning(store, text, month, day, reiwa):
    result = accepted(store, "forums", forum_on(text), month)
    assert store.read_month("forums", month)["held_on"].to_list() == [day]
    (warning,) = result.warnings
    assert (warning.row, warning.column) == (2, "開催日")
    assert warning.message.startswith(
        f"「{text}」は{reiwa}（{day.year}年{day.month}月{day.day}日）として読みました。"
    )


# the rule for the ongoing era, on a fixed day --------------------------------------


@pytest.mark.parametrize(
    "today, era_year, ok",
    [
        (dt.date(2026, 6, 1), 9, True),
        (dt.date(2026, 6, 1), 10, False),
        (dt.date(2027, 1, 1), 10, True),
        (dt.date(2027, 1, 1), 11, False),
        (dt.date(2019, 5, 1), 2, True),
        (dt.date(2019, 5, 1), 3, False),
    ],
)
def test_reiwa_years_up_to_next_year_are_accepted(today, era_year, ok):
    if ok:
        assert wareki.check_era_date("令和", era_year, 12, today=today) is None
    else:
        with pytest.raises(
            wareki.EraDateError, match=f"令和は現在{today.year - 2018 if today.year > 2019 else '元'}年"
        ):
            wareki.check_era_date("令和", era_year, 1, today=today)
