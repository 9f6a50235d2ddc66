"""Workbooks in the shapes coordinators keep, written by real spreadsheet writers.

The .xlsx files are made at test time (XlsxWriter stores a formula's computed value, as
Excel does; openpyxl does not, so it writes the shapes without formulas). The .xls, .ods
and password-protected copies cannot be written from Python; they are made once from the
same .xlsx by LibreOffice and msoffcrypto-tool and kept in tests/fixtures/workbooks/:

    python -m tests.workbook_shapes   # needs soffice (libreoffice-calc-nogui) and msoffcrypto-tool
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "workbooks"

HEADER = [
    "通いの場ID",
    "名称",
    "市町村",
    "地区",
    "小学校区",
    "種別",
    "補助金対象",
    "状態",
    "開始年月",
    "開催頻度（回/月）",
    "平均参加者数",
    "緯度",
    "経度",
]
# the same places as the CSV below; the workbook types some cells (dates, numbers, a formula)
RECORDS = [
    ["TM-001", "ふれあいサロン①", "倉敷市", "玉島", "玉島小", "サロン", "はい", "活動中", dt.date(2024, 7, 1), 2, ("=6*2", 12), 34.54, 133.67],
    ["TM-002", "髙橋さんちのお茶会～", "倉敷市", "玉島地区", "長尾小学校区", "カフェ", "○", "休止中", "平成28年9月", 0.5, None, None, None],
    ["TM-003", "連島ふれあい体操", "倉敷市", "水島", "連島東小", "体操・運動", "×", "活動中", "R5.4", 4, 1200, None, None],
]  # fmt: skip
CSV_ROWS = [
    "TM-001,ふれあいサロン①,倉敷市,玉島,玉島小,サロン,はい,活動中,2024-07,2,12,34.54,133.67",
    "TM-002,髙橋さんちのお茶会～,倉敷市,玉島地区,長尾小学校区,カフェ,○,休止中,平成28年9月,0.5,,,",
    'TM-003,連島ふれあい体操,倉敷市,水島,連島東小,体操・運動,×,活動中,R5.4,4,"1,200",,',
]
TITLE = "令和6年7月 通いの場一覧"
SHEET = "通いの場"


def places_csv() -> bytes:
    return ("\r\n".join([",".join(HEADER), *CSV_ROWS]) + "\r\n").encode("cp932")


def xlsx(
    records=RECORDS,
    header=HEADER,
    *,
    error_at: tuple[int, int] | None = None,
    first_sheet_visible_other: bool = False,
) -> bytes:
    """The coordinator's workbook: a hidden sheet first, a merged title line and a date above
    the header, blank rows, a hidden row, dates and numbers typed, a formula; a second
    visible sheet of totals after it. `error_at` (record index, column index) puts a
    #DIV/0! formula there. Rows (Excel's): title 1, date 2, blank 3, header 4, data 5, 7, 8
    (8 hidden), blank 6."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    if first_sheet_visible_other:
        book.add_worksheet("集計").write("A1", "地区別の集計（別のシート）")
    memo = book.add_worksheet("作業用")
    memo.write("A1", "メモ")
    memo.hide()
    ws = book.add_worksheet(SHEET)
    if not first_sheet_visible_other:
        ws.activate()
    bold = book.add_format({"bold": True})
    month = book.add_format({"num_format": "yyyy/m"})
    day = book.add_format({"num_format": "yyyy/m/d"})
    ws.merge_range(0, 0, 0, 7, TITLE, bold)
    ws.write(1, 0, "作成日")
    ws.write_datetime(1, 1, dt.datetime(2024, 8, 1), day)
    for c, h in enumerate(header):
        ws.write(3, c, h, bold)
    for i, record in enumerate(records):
        row = (4, 6, 7)[i]
        for c, value in enumerate(record):
            if error_at == (i, c):
                ws.write_formula(row, c, "=1/0", None, "#DIV/0!")
            elif isinstance(value, tuple):
                ws.write_formula(row, c, value[0], None, value[1])
            elif isinstance(value, dt.date):
                ws.write_datetime(row, c, dt.datetime.combine(value, dt.time()), month)
            elif value is not None:
                ws.write(row, c, value)
    ws.set_row(7, None, None, {"hidden": True})  # Excel's CSV export keeps hidden rows
    if not first_sheet_visible_other:
        book.add_worksheet("集計").write("A1", "地区別の集計")
    book.close()
    return out.getvalue()


def openpyxl_xlsx() -> bytes:
    """The same list from openpyxl: a merged title, blank rows, 和暦 as text, no formulas."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = SHEET
    ws["A1"] = TITLE
    ws.merge_cells("A1:H1")
    ws.append([])
    ws.append(HEADER)
    for record in RECORDS:
        ws.append([v[1] if isinstance(v, tuple) else v for v in record])
        ws.append([])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _convert(xlsx_bytes: bytes, target: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{name}.xlsx"
        src.write_bytes(xlsx_bytes)
        filt = {"xls": "xls:MS Excel 97", "ods": "ods"}[target]
        subprocess.run(
            ["soffice", "--headless", "--calc", "--convert-to", filt, "--outdir", tmp, str(src)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.copy(Path(tmp) / f"{name}.{target}", FIXTURES / f"{name}.{target}")


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for target in ("xls", "ods"):
        _convert(xlsx(), target, "places")
        _convert(xlsx(error_at=(1, 10)), target, "places_error")
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.xlsx"
        plain.write_bytes(xlsx())
        subprocess.run(
            ["msoffcrypto-tool", "-e", "-p", "tsunagu", str(plain), str(FIXTURES / "places_protected.xlsx")],
            check=True,
        )
    print("\n".join(sorted(p.name for p in FIXTURES.iterdir())), file=sys.stderr)


if __name__ == "__main__":
    main()
