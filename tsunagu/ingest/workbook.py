"""A month as an Excel workbook made to be edited, and the empty workbook a coordinator starts from.

Uploading the workbook back is the ordinary upload: the header is row 1 (no title line above
it), cells are typed as the reader expects them (numbers as numbers, dates as dates, yes/no as
○/×), and a column headed f"{header}（和暦）" is display-only: the reader ignores it.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from tsunagu.contract.schema import (
    BOOL,
    DATASETS,
    DATE,
    ENUM,
    INT,
    MONTH,
    NUMBER,
    Column,
    Dataset,
)
from tsunagu.contract.wareki import ERAS, era_date_text

OPTIONS_SHEET = "選択肢"
YES, NO = "○", "×"
WAREKI_SUFFIX = "（和暦）"
SPARE_ROWS = 1000  # rows below the data that still get the drop-downs
MIN_WIDTH, MAX_WIDTH = 6, 50
# Excel's day 0 is 1899-12-30 for every date after February 1900 (its 1900 leap-year bug)
EXCEL_EPOCH = dt.date(1899, 12, 30)
FIRST_SERIAL_DAY = dt.date(1900, 3, 1)

REQUIRED_FILL, GREY_FILL, GREY_TEXT = "#DDEBF7", "#F2F2F2", "#595959"


def wareki_header(column: Column) -> str:
    return f"{column.header}{WAREKI_SUFFIX}"


def text_width(text: str) -> int:
    """Width in Excel's character units: full-width (and ambiguous, like ○) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "FWA" else 1 for ch in text)


WAREKI_FORMULA_START = "=IF(ISNUMBER("


def wareki_formula(ref: str, with_day: bool) -> str:
    """The 和暦 of a date cell, as a formula any spreadsheet computes (no locale-specific format
    code); empty unless the cell holds a date. Excel has no dates before 1900, so the oldest
    era needs no test."""
    expr = None
    for name, _, start in reversed(ERAS):
        era_year = f'IF(YEAR({ref})={start.year},"元",YEAR({ref})-{start.year - 1})'
        branch = f'"{name}"&{era_year}'
        expr = (
            branch
            if expr is None
            else f"IF({ref}>=DATE({start.year},{start.month},{start.day}),{branch},{expr})"
        )
    tail = f'&"年"&MONTH({ref})&"月"' + (f'&DAY({ref})&"日"' if with_day else "")
    return f'{WAREKI_FORMULA_START}{ref}),{expr}{tail},"")'


class _Sheet(Worksheet):
    """A worksheet that stores the 和暦 formulas as written.

    XlsxWriter runs ~30 regular expressions over every formula to prefix newer Excel
    functions (_xlfn.); on these 340-character formulas that was 0.3 ms each, most of the
    time of a 10,000-row month. They use only classic functions, so the rewrite is skipped
    for them. (`worksheet_class` is XlsxWriter's hook for subclasses; the version is pinned,
    and should the method be renamed this override is merely unused.)"""

    def _prepare_formula(self, formula, expand_future_functions=False):
        if formula.startswith(WAREKI_FORMULA_START):
            return formula[1:]
        return super()._prepare_formula(formula, expand_future_functions)


@dataclass
class _Slot:
    """One column of the data sheet and what goes in it."""

    header: str
    column: Column
    wareki: bool = False  # the display-only 和暦 column after a date or month


def _slots(ds: Dataset) -> list[_Slot]:
    slots = []
    for col in ds.columns:
        slots.append(_Slot(col.header, col))
        if col.type in (DATE, MONTH):
            slots.append(_Slot(wareki_header(col), col, wareki=True))
    return slots


def _as_dates(series: pl.Series, kind: str) -> pl.Series:
    """A date or month column as dates: stored months are 'YYYY-MM' text."""
    if series.dtype == pl.Date:
        return series
    if series.dtype == pl.Datetime:
        return series.dt.date()
    text = series.cast(pl.String).str.strip_chars()
    if kind == MONTH:
        text = text.str.slice(0, 7) + "-01"
    return text.str.to_date("%Y-%m-%d", strict=False)


def _values(col: Column, series: pl.Series) -> tuple[list[Any], list[Any]]:
    """The cells of one column: (values to write, dates or None per row for the 和暦 column).

    A value the column's type cannot hold is written as text, so nothing is lost on the way
    to the workbook (validation names it when the file comes back)."""
    if col.type in (DATE, MONTH):
        dates = _as_dates(series, col.type).to_list()
        raw = series.cast(pl.String).to_list() if series.dtype == pl.String else None
        cells: list[Any] = []
        for i, day in enumerate(dates):
            if day is not None and day >= FIRST_SERIAL_DAY:
                cells.append((day - EXCEL_EPOCH).days)
            elif day is not None:
                cells.append(day.isoformat()[: 7 if col.type == MONTH else 10])
                dates[i] = None
            else:
                cells.append(raw[i] if raw else None)
        return cells, dates
    if col.type == BOOL:
        if series.dtype == pl.Boolean:
            return [None if v is None else YES if v else NO for v in series.to_list()], []
        return series.cast(pl.String).to_list(), []
    if col.type in (INT, NUMBER) and series.dtype.is_numeric():
        if series.dtype.is_float():
            series = series.fill_nan(None)
        return series.to_list(), []
    return series.cast(pl.String).to_list(), []


def _width(header: str, values: list[Any], kind: str) -> int:
    if kind == DATE:
        longest = 10
    elif kind == MONTH:
        longest = 7
    else:
        seen = {v for v in values if v is not None}
        longest = max((text_width(v if isinstance(v, str) else f"{v:g}") for v in seen), default=0)
    # +3 for the filter arrow beside the header
    return max(MIN_WIDTH, min(MAX_WIDTH, max(text_width(header) + 3, longest + 1)))


def _write(ds: Dataset, frame: pl.DataFrame | None, title: str) -> bytes:
    n = 0 if frame is None else frame.height
    out = io.BytesIO()
    # text stays text: a name starting with "=" or "http" is not made a formula or a link
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties({"title": title})
    # the first sheet: the one a reader takes unless told otherwise
    sheet = book.add_worksheet(ds.label, worksheet_class=_Sheet)
    sources = _option_lists(book, [c for c in ds.columns if c.type in (ENUM, BOOL)])

    bold = {"bold": True, "valign": "vcenter", "bottom": 1}
    head_required = book.add_format({**bold, "bg_color": REQUIRED_FILL})
    head_optional = book.add_format(bold)
    head_wareki = book.add_format({**bold, "bg_color": GREY_FILL, "font_color": GREY_TEXT})
    as_text = book.add_format({"num_format": "@"})
    month_fmt = book.add_format({"num_format": "yyyy-mm"})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    greyed = book.add_format({"bg_color": GREY_FILL, "font_color": GREY_TEXT})

    slots = _slots(ds)
    last_row = n + SPARE_ROWS  # 0-based: the drop-downs cover the data and SPARE_ROWS below
    data_cols = {} if frame is None else {k: frame.get_column(k) for k in ds.keys if k in frame.columns}
    for c, slot in enumerate(slots):
        col = slot.column
        if slot.wareki:
            sheet.write_string(0, c, slot.header, head_wareki)
            sheet.write_comment(
                0, c, f"表示のための列です。左の「{col.header}」から計算します。取り込みでは使いません。"
            )
            sheet.set_column(
                c, c, text_width("令和元年12月31日" if col.type == DATE else slot.header) + 2, greyed
            )
            continue
        sheet.write_string(0, c, slot.header, head_required if col.required else head_optional)
        if col.note or not col.required:
            lead = "必須の列です。" if col.required else "任意の列です（空欄でもかまいません）。"
            sheet.write_comment(
                0, c, lead + col.note + ("。" if col.note and not col.note.endswith("。") else "")
            )
        series = data_cols.get(col.key)
        values, dates = ([], []) if series is None else _values(col, series)
        fmt = {MONTH: month_fmt, DATE: date_fmt, INT: None, NUMBER: None, BOOL: None}.get(col.type, as_text)
        sheet.set_column(c, c, _width(slot.header, values, col.type), fmt)
        if col.key in sources:
            sheet.data_validation(
                1,
                c,
                last_row,
                c,
                {
                    "validate": "list",
                    "source": sources[col.key],
                    "error_title": "一覧にない値です",
                    "error_message": f"「{col.header}」は▼の一覧から選んでください。",
                },
            )
        _fill(sheet, c, values, col.type)
        if dates:
            ref_col = xl_col_to_name(c)
            with_day = col.type == DATE
            for r, day in enumerate(dates, start=1):
                if day is not None:
                    sheet.write_formula(
                        r,
                        c + 1,
                        wareki_formula(f"{ref_col}{r + 1}", with_day),
                        None,
                        era_date_text(day, with_day=with_day),
                    )

    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(n, 1), len(slots) - 1)
    # printing: the title on every page instead of above the header, the header row repeated
    sheet.set_header(f"&C{title.replace('&', '&&')}")
    sheet.repeat_rows(0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.activate()
    book.close()
    return out.getvalue()


def _option_lists(book, lists: list[Column]) -> dict[str, str]:
    """The values of each drop-down on a hidden sheet, one column per list (○/× once);
    returns each list column's source range. A range has no length limit, where Excel caps an
    inline list at 255 characters."""
    if not lists:
        return {}
    options = book.add_worksheet(OPTIONS_SHEET)
    columns = [(c.header, c.values) for c in lists if c.type == ENUM]
    if any(c.type == BOOL for c in lists):
        columns.append((f"{YES}／{NO}", (YES, NO)))
    ranges = {}
    for i, (header, values) in enumerate(columns):
        options.write_string(0, i, header)
        options.write_column(1, i, values)
        letter = xl_col_to_name(i)
        ranges[header] = f"='{OPTIONS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    options.hide()
    return {c.key: ranges[c.header if c.type == ENUM else f"{YES}／{NO}"] for c in lists}


def _fill(sheet, c: int, values: list[Any], kind: str) -> None:
    """Write one column's cells; nulls stay empty cells. The cells take the column's format."""
    write_string, write_number = sheet.write_string, sheet.write_number
    numeric = kind in (INT, NUMBER, DATE, MONTH)
    for r, v in enumerate(values, start=1):
        if v is None:
            continue
        if numeric and not isinstance(v, str):
            write_number(r, c, v)
        else:
            write_string(r, c, v)


def edit_workbook(dataset: str, frame: pl.DataFrame | None, month: str, title: str | None = None) -> bytes:
    """The stored month as an .xlsx a coordinator edits and uploads back: one row per record,
    the contract's Japanese headers in row 1, drop-downs for every list column, ○/× for yes/no,
    dates as dates with their 和暦 beside them. Columns of `frame` outside the contract (such as
    `month`) are left out."""
    ds = DATASETS[dataset]
    return _write(ds, frame, title or f"{ds.label} {month}")


def template_workbook(dataset: str) -> bytes:
    """The same workbook with no rows: headers, drop-downs and widths, to start a dataset."""
    ds = DATASETS[dataset]
    return _write(ds, None, f"{ds.label}（ひな形）")
