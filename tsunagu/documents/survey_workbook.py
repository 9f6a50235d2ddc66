"""The yearly 通いの場 report as an Excel workbook (XlsxWriter): the survey's items in its order
on the first sheet, every place listed that month with why it was counted or not on the second,
and the table from the project's categories to the survey's headings on the third.

Numbers are numbers (not text), so a coordinator copies them into the survey's form as they are.
"""

from __future__ import annotations

import io

import xlsxwriter

from tsunagu.contract.survey import (
    BAND_RULE,
    MONTH_RULE,
    NATIONAL_SHARES,
    NATIONAL_YEAR,
    SOURCE,
    SURVEY_RATE_RULE,
    TARGET_LABEL,
    mapping_rows,
)
from tsunagu.contract.wareki import fiscal_year_label, month_label
from tsunagu.query.participation import coverage_text
from tsunagu.query.survey import SurveyReport

SUMMARY_SHEET, PLACES_SHEET, MAPPING_SHEET = "調査票の項目", "通いの場の一覧", "区分の対応表"
# the summary sheet's columns: item, heading, value, unit, share of places, national share
SUMMARY_HEADER = ("項目", "区分", "値", "単位", "割合（%）", f"全国（{NATIONAL_YEAR}、%）")
PLACE_COLUMNS = (
    ("place_id", "通いの場ID"),
    ("name", "名称"),
    ("district", "地区"),
    ("school_district", "小学校区"),
    ("status", "状態"),
    ("sessions_per_month", "開催頻度（回/月）"),
    ("is_counted", "調査で数える"),
    ("reason", "理由"),
    ("band", "開催頻度の区分"),
    ("survey_activity", "主な活動内容（調査の区分）"),
    ("activity_source", "主な活動内容の根拠"),
    ("survey_operator", "運営主体（調査の区分）"),
    ("survey_venue", "会場（調査の区分）"),
    ("participants_real", "参加実人数"),
    ("participants_65plus", "うち65歳以上"),
    ("participants_75plus", "うち75歳以上"),
    ("category", "種別"),
    ("operator_type", "運営主体"),
    ("venue_type", "会場種別"),
)
SECTIONS = (
    ("主な活動内容", "by_activity"),
    ("運営主体", "by_operator"),
    ("会場", "by_venue"),
    ("開催頻度", "by_band"),
)


def title(report: SurveyReport) -> str:
    return f"通いの場の状況（{report.municipality}、{fiscal_year_label(report.fiscal_year)}）"


def file_name(report: SurveyReport) -> str:
    return f"通いの場_国の調査_{report.municipality}_{report.fiscal_year}年度.xlsx"


def summary_rows(report: SurveyReport) -> list[tuple]:
    """The first sheet's table, row by row, in the survey's order: (item, heading, value,
    unit, share of the counted places, national share)."""
    n = report.n_counted
    rows: list[tuple] = [("通いの場の数（月1回以上・活動中）", "計", n, "か所", None, None)]
    for item, attr in SECTIONS:
        national = NATIONAL_SHARES[item]
        for heading, count in getattr(report, attr):
            share = round(100 * count / n, 1) if n else None
            rows.append((f"{item}別", heading, count, "か所", share, national.get(heading)))
    rows += [
        ("参加者実人数", "計", report.participants_real, "人", None, None),
        ("参加者実人数", "うち65歳以上", report.participants_65plus, "人", None, None),
        ("参加者実人数", "うち75歳以上", report.participants_75plus, "人", None, None),
        ("参加者実人数", "入力がある通いの場", report.n_reporting, "か所", None, None),
        ("65歳以上人口", "圏域マスタ", report.population_65plus, "人", None, None),
        ("参加率（65歳以上）", "うち65歳以上 ÷ 65歳以上人口", report.rate_pct, "%", None, None),
    ]
    return rows


def workbook(report: SurveyReport) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties({"title": title(report)})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
    big = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    count_fmt = book.add_format({"num_format": "#,##0"})
    share_fmt = book.add_format({"num_format": "0.0"})
    rate_fmt = book.add_format({"num_format": "0.00", "bold": True})

    sheet = book.add_worksheet(SUMMARY_SHEET)
    sheet.write_string(0, 0, title(report), big)
    when = month_label(report.as_of_month) if report.as_of_month else "この年度の一覧がありません"
    sheet.write_string(1, 0, f"数えた月: {when}　{report.prefecture} {report.municipality}")
    sheet.write_row(3, 0, SUMMARY_HEADER, head)
    row = 4
    for item, heading, value, unit, share, national in summary_rows(report):
        sheet.write_string(row, 0, item)
        sheet.write_string(row, 1, heading)
        if value is not None:
            sheet.write_number(row, 2, value, rate_fmt if unit == "%" else count_fmt)
        sheet.write_string(row, 3, unit)
        if share is not None:
            sheet.write_number(row, 4, share, share_fmt)
        if national is not None:
            sheet.write_number(row, 5, national, share_fmt)
        row += 1
    notes = [
        f"{coverage_text(report.n_reporting, report.n_counted)}（調査で数える通いの場のうち）",
        MONTH_RULE,
        BAND_RULE,
        SURVEY_RATE_RULE,
        "主な活動内容は「主な活動」の列を、空欄なら種別を区分の対応表で読み替えます。運営主体・会場も対応表で読み替えます。",
        f"全国の割合: {SOURCE}（{NATIONAL_YEAR}実施分）。{TARGET_LABEL}。",
        f"数えなかった通いの場と理由は「{PLACES_SHEET}」のシートにあります。",
    ]
    row += 1
    sheet.write_string(row, 0, "注", bold)
    for note in notes:
        row += 1
        sheet.merge_range(row, 0, row, 5, note, wrap)
        sheet.set_row(row, 30)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 34)
    sheet.set_column(2, 5, 12)
    sheet.set_column(5, 5, 18)
    sheet.freeze_panes(4, 0)
    sheet.activate()

    places = book.add_worksheet(PLACES_SHEET)
    places.write_row(0, 0, [h for _, h in PLACE_COLUMNS], head)
    frame = report.places
    for r, rec in enumerate(frame.iter_rows(named=True), start=1):
        for c, (key, _) in enumerate(PLACE_COLUMNS):
            value = rec.get(key)
            if value is None:
                continue
            if isinstance(value, bool):
                places.write_string(r, c, "○" if value else "×")
            elif isinstance(value, int | float):
                places.write_number(r, c, value)
            else:
                places.write_string(r, c, str(value))
    widths = {"name": 28, "reason": 44, "survey_venue": 30, "survey_activity": 18}
    for c, (key, header) in enumerate(PLACE_COLUMNS):
        places.set_column(c, c, widths.get(key, max(10, len(header) * 2)))
    places.freeze_panes(1, 2)
    places.autofilter(0, 0, max(frame.height, 1), len(PLACE_COLUMNS) - 1)

    mapping = book.add_worksheet(MAPPING_SHEET)
    mapping.write_row(0, 0, ("つなぐの列", "つなぐの区分", "調査の項目", "調査の区分"), head)
    for r, values in enumerate(mapping_rows(), start=1):
        mapping.write_row(r, 0, values)
    mapping.set_column(0, 3, 26)
    book.close()
    return out.getvalue()
