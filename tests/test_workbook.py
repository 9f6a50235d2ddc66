"""The month as a workbook to edit in Excel, and the empty workbooks to start from: what a
coordinator sees when opening it (Japanese headers, drop-downs, ○/×, dates with their 和暦) and
what the app's reader (python-calamine) finds in it when it comes back."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import polars as pl
import pytest
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from tsunagu.contract.schema import BOOL, DATASETS, DATE, ENUM, INT, MONTH, NUMBER, TABLE_DATASETS
from tsunagu.ingest.workbook import OPTIONS_SHEET, edit_workbook, template_workbook, text_width

PLACES = DATASETS["places"]


def place(place_id: str, **overrides) -> dict:
    row = {
        "place_id": place_id,
        "name": "みんなのサロン",
        "prefecture": "岡山県",
        "municipality": "倉敷市",
        "district": "真備",
        "school_district": "箭田小",
        "category": "サロン",
        "venue_type": "集会所・公民館",
        "operator_type": None,
        "target": "高齢者",
        "sessions_per_month": 2.5,
        "subsidized": True,
        "status": "活動中",
        "started_on": "2024-07",
        "participants_avg": 12,
        "lat": 34.64419,
        "lon": 133.71816,
        "main_activity": "茶話会",
        "participants_real": 14,
        "participants_65plus": 12,
        "participants_75plus": 7,
        "weekdays": "第1・第3火曜",
        "hours": "10:00～12:00",
        "fee_yen": 100,
        "contact": "運営グループ 086-000-1234",
        "published": True,
    }
    return row | overrides


@pytest.fixture(scope="module")
def places_frame() -> pl.DataFrame:
    rows = [
        place("0012"),
        place(
            "P-2",
            name="=1+1 はじまりの家（川辺地区ふれあいサロン）",
            subsidized=False,
            status="休止中",
            started_on="2019-05",
            participants_avg=None,
            sessions_per_month=None,
        ),
        place("P-3", subsidized=None, started_on=None, lat=None, lon=None),
    ]
    frame = pl.DataFrame(rows, schema=PLACES.stored_schema)
    # a frame read from the store carries the partition's month, which is not a contract column
    return frame.with_columns(month=pl.lit("2024-07"))


@pytest.fixture(scope="module")
def places_book(places_frame) -> bytes:
    return edit_workbook("places", places_frame, "2024-07")


def calamine_rows(data: bytes, sheet: int = 0) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(sheet).to_python()


def test_headers_are_the_contracts_japanese_in_order_with_wareki_after_dates(places_book):
    headers = calamine_rows(places_book)[0]
    contract = [c.header for c in PLACES.columns]
    assert [h for h in headers if not h.endswith("（和暦）")] == contract
    assert "month" not in headers and "月" not in headers
    assert headers[headers.index("開始年月") + 1] == "開始年月（和暦）"
    assert [h for h in headers if h.endswith("（和暦）")] == ["開始年月（和暦）"]


def test_one_row_per_record_with_cells_typed_as_the_reader_expects(places_book):
    rows = calamine_rows(places_book)
    headers, data = rows[0], rows[1:]
    assert len(data) == 3
    cell = {h: [r[i] for r in data] for i, h in enumerate(headers)}
    assert cell["通いの場ID"] == ["0012", "P-2", "P-3"]  # an ID keeps its leading zeros
    assert cell["名称"][1] == "=1+1 はじまりの家（川辺地区ふれあいサロン）"  # text, not a formula
    assert cell["補助金対象"] == ["○", "×", ""]
    assert cell["平均参加者数"] == [12, "", 12]
    assert cell["開催頻度（回/月）"] == [2.5, "", 2.5]
    assert cell["運営主体"] == ["", "", ""]  # nulls are empty cells
    assert cell["開始年月"] == [dt.date(2024, 7, 1), dt.date(2019, 5, 1), ""]
    assert cell["開始年月（和暦）"] == ["令和6年7月", "令和元年5月", ""]


def test_numbers_are_numeric_cells_and_text_is_text(places_book):
    ws = openpyxl.load_workbook(io.BytesIO(places_book)).worksheets[0]
    headers = [c.value for c in ws[1]]
    for col in PLACES.columns:
        cell = ws.cell(2, headers.index(col.header) + 1)
        if col.type in (INT, NUMBER):
            assert cell.data_type == "n" and isinstance(cell.value, (int, float)), col.key
        elif col.type in (DATE, MONTH):
            assert cell.is_date and cell.number_format == "yyyy-mm", col.key
        elif cell.value is not None:
            assert cell.data_type == "s", col.key


def test_a_date_is_a_date_and_its_wareki_column_computes_from_it():
    frame = pl.DataFrame(
        {
            "event_id": ["E1", "E2"],
            "held_on": [dt.date(2019, 5, 1), dt.date(2019, 4, 30)],
            "title": ["a", "b"],
        },
        schema_overrides={"held_on": pl.Date},
    )
    data = edit_workbook("forums", frame, "2019-05")
    rows = calamine_rows(data)
    assert rows[0][:3] == ["行事ID", "開催日", "開催日（和暦）"]
    assert [r[1:3] for r in rows[1:]] == [
        [dt.date(2019, 5, 1), "令和元年5月1日"],
        [dt.date(2019, 4, 30), "平成31年4月30日"],
    ]
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["B2"].is_date and ws["B2"].number_format == "yyyy-mm-dd"
    # a formula, so that the 和暦 follows when the coordinator changes the date
    formula = ws["C2"].value
    assert formula.startswith("=") and "ISNUMBER(B2)" in formula and '"令和"' in formula


def test_every_list_column_has_a_dropdown_of_its_values_on_the_hidden_sheet():
    for name in ("places", "pantry", "forums"):
        ds = DATASETS[name]
        book = openpyxl.load_workbook(io.BytesIO(template_workbook(name)))
        ws, options = book.worksheets[0], book[OPTIONS_SHEET]
        headers = [c.value for c in ws[1]]
        by_column = {}
        for dv in ws.data_validations.dataValidation:
            (cells,) = dv.sqref.ranges
            assert dv.type == "list" and cells.min_row == 2 and cells.max_row >= 1001
            by_column[get_column_letter(cells.min_col)] = dv.formula1
        lists = [c for c in ds.columns if c.type in (ENUM, BOOL)]
        assert len(by_column) == len(lists), name
        for col in lists:
            source = by_column[get_column_letter(headers.index(col.header) + 1)]
            assert source.startswith(f"'{OPTIONS_SHEET}'!"), (name, col.key)
            first, last = source.split("!")[1].replace("$", "").split(":")
            letter = first.rstrip("0123456789")
            values = [
                options[f"{letter}{r}"].value
                for r in range(int(first[len(letter) :]), int(last[len(letter) :]) + 1)
            ]
            assert tuple(values) == (col.values if col.type == ENUM else ("○", "×")), (name, col.key)


def test_the_data_sheet_comes_first_with_its_header_frozen_and_the_lists_hidden(places_book):
    book = openpyxl.load_workbook(io.BytesIO(places_book))
    assert book.sheetnames == [PLACES.label, OPTIONS_SHEET]
    assert book.active.title == PLACES.label
    assert book[PLACES.label].freeze_panes == "A2"
    assert book[OPTIONS_SHEET].sheet_state == "hidden"
    assert book[PLACES.label].protection.sheet is False
    meta = CalamineWorkbook.from_filelike(io.BytesIO(places_book)).sheets_metadata
    assert [(s.name, s.visible) for s in meta] == [
        (PLACES.label, SheetVisibleEnum.Visible),
        (OPTIONS_SHEET, SheetVisibleEnum.Hidden),
    ]


def test_widths_fit_the_japanese_text_and_optional_columns_look_different(places_book, places_frame):
    ws = openpyxl.load_workbook(io.BytesIO(places_book)).worksheets[0]
    headers = [c.value for c in ws[1]]
    width = {h: ws.column_dimensions[get_column_letter(i + 1)].width for i, h in enumerate(headers)}
    longest = max(text_width(n) for n in places_frame["name"])
    assert longest > 40 and width["名称"] >= longest  # full-width characters count twice
    assert width["開始年月（和暦）"] >= text_width("開始年月（和暦）")
    fill = {c.value: c.fill.fgColor.rgb for c in ws[1]}
    required = {fill[c.header] for c in PLACES.columns if c.required}
    optional = {fill[c.header] for c in PLACES.columns if not c.required}
    assert len(required) == 1 and len(optional) == 1 and required != optional
    assert all(c.font.b for c in ws[1])
    comment = ws.cell(1, headers.index("会場種別") + 1).comment
    assert comment is not None and "任意" in comment.text


@pytest.mark.parametrize("name", sorted(TABLE_DATASETS))
def test_a_template_has_the_headers_and_no_rows(name):
    ds = DATASETS[name]
    data = template_workbook(name)
    rows = calamine_rows(data)
    assert [h for h in rows[0] if not h.endswith("（和暦）")] == [c.header for c in ds.columns]
    assert rows[1:] == []
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.worksheets[0].max_row == 1 and book.worksheets[0].freeze_panes == "A2"
    has_lists = any(c.type in (ENUM, BOOL) for c in ds.columns)
    assert (OPTIONS_SHEET in book.sheetnames) == has_lists
