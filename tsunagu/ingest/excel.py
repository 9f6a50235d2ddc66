"""Read an Excel or LibreOffice workbook's sheet as the text cells a CSV export would hold.

python-calamine (Rust's calamine) reads .xlsx, .xlsm, .xls and .ods: each cell as Excel
stores it — a date as a date, a number as a number, a formula as its last computed value.
Cells become text as Excel's own CSV export writes them, so the same validators judge a
workbook and a CSV, and a cell's row and column are Excel's.

calamine turns a formula error cell (#REF!, #DIV/0!) into an empty string (its issues
python-calamine#105 and calamine#720, open in late 2026). An error must not pass as a blank
cell, so each format's error cells are found again with a reader that keeps them: openpyxl
for .xlsx/.xlsm, xlrd for .xls, and for .ods the cell marker LibreOffice writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import pickle
import re
import resource
import subprocess
import sys
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import python_calamine as calamine

from tsunagu.config import PROJECT_ROOT
from tsunagu.contract.issues import Issue, RefusedError

XLSX = "Excel ブック（.xlsx）"
XLSM = "Excel マクロ有効ブック（.xlsm）"
XLS = "Excel 97-2003 ブック（.xls）"
ODS = "LibreOffice / OpenDocument スプレッドシート（.ods）"
MAX_COLUMNS = 1000  # as read.MAX_COLUMNS: far wider is another kind of file

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .xls and of password-protected .xlsx
# the stream a password-protected Office file keeps its key data in (named in UTF-16)
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
PASSWORD = (
    "パスワードで保護されたブックは読み取れません。Excel で開いて「ファイル」→「情報」→"
    "「ブックの保護」→「パスワードを使用して暗号化」のパスワードを消して保存し直すか、"
    "CSV で保存してからアップロードしてください。"
)


ERRORS_UNPLACED = (
    "このブックには数式のエラー（#REF! や #DIV/0! など）のセルがありますが、どのセルかを読み取れませんでした。"
    "数式を直して保存し直すか、CSV で保存してからアップロードしてください。"
)


# A workbook is read in a child process with a memory limit: calamine fills a sheet's whole used
# range, so a stray cell at XFD1048576 asks for 32 GB and aborts the process — the dashboard
# for everyone, were it read in the server. The child's death is a refusal instead.
CHILD_MEMORY = 3 << 30  # address space: ~10x what a 20 MB workbook of 200,000 rows needs
CHILD_SECONDS = 120
TOO_BIG = (
    "ブックが大きすぎて読み取れません（使われているセルの範囲が広すぎます）。"
    "遠くの行や列に値や書式が残っていないか確かめ（Ctrl+End で最後のセルへ移れます）、"
    "不要な行・列を削除して保存し直してください。"
)


@dataclass
class Sheet:
    frame: Any  # polars frame: columns "0".."n-1", text or null
    kind: str  # XLSX, XLS, …
    sheet: str
    sheets: list[str]  # visible worksheets, in workbook order
    error_cells: list[tuple[int, int, str]] = field(default_factory=list)  # (Excel row, column index, #REF!)


def kind(content: bytes) -> str | None:
    """Which workbook format the bytes are, or None (then they are read as CSV)."""
    if content.startswith(_OLE):
        return XLS
    if not content.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            names = set(z.namelist())
            if "mimetype" in names and z.read("mimetype").startswith(
                b"application/vnd.oasis.opendocument.spreadsheet"
            ):
                return ODS
            if "xl/workbook.xml" in names:
                return XLSM if "xl/vbaProject.bin" in names else XLSX
    except (zipfile.BadZipFile, OSError, KeyError):
        pass
    return XLSX  # a zip of another kind: calamine says it cannot read it, in read_sheet


def _refuse(message: str, sheet: str | None = None) -> RefusedError:
    return RefusedError([Issue(None, None, message, sheet=sheet)])


def _open(content: bytes, what: str) -> calamine.CalamineWorkbook:
    if what == XLS and _ENCRYPTION_INFO in content[: 1 << 20]:
        raise _refuse(PASSWORD)
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    except calamine.PasswordError:
        raise _refuse(PASSWORD) from None
    except Exception:  # noqa: BLE001 — any reader failure is the file's, said in Japanese
        raise _refuse(
            f"{what}として読み取れませんでした（壊れているか、別の形式のファイルです）。"
            "Excel で開けるか確かめ、「名前を付けて保存」で .xlsx として保存し直してください。"
        ) from None


def visible_sheets(book: calamine.CalamineWorkbook) -> list[str]:
    return [
        m.name
        for m in book.sheets_metadata
        if m.visible == calamine.SheetVisibleEnum.Visible and m.typ == calamine.SheetTypeEnum.WorkSheet
    ]


def text_of(value: object) -> str | None:
    """A cell as Excel's CSV export writes it (dates in ISO form, which the parsers read)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")  # Excel keeps 15 significant digits
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M" if value.second == 0 else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")
    if isinstance(value, dt.timedelta):  # a duration cell ([h]:mm)
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return str(value)


def sheet_list(content: bytes) -> list[str]:
    return read_sheet(content).sheets


def _read_here(content: bytes, sheet: str | None) -> dict:
    """The child's work: the sheet's cells as text rows, its visible sheets and error cells."""
    what = kind(content)
    book = _open(content, what)
    shown = visible_sheets(book)
    names = book.sheet_names
    if sheet is None:
        if not shown:
            raise _refuse(
                "表示されているシートがありません。Excel でシートを再表示してから保存してください。"
            )
        sheet = shown[0]
    elif sheet not in names:
        raise _refuse(f"シート「{sheet}」はこのブックにありません。あるシート: {'、'.join(shown or names)}")
    try:
        data = book.get_sheet_by_name(sheet)
        # Excel numbers rows and columns from A1; calamine's rows may start at the first used
        # row or at row 1, and its cells at the first used column: pad to the range's end
        bottom, right = data.end or (-1, -1)
        texts, width = [], 0
        far = None  # the first value beyond MAX_COLUMNS: (index in texts, column index)
        for values in data.iter_rows():
            cells = [None] * (right + 1 - len(values)) + [text_of(v) for v in values]
            while cells and cells[-1] is None:  # trailing empty cells, as Excel's CSV drops them
                cells.pop()
            width = max(width, len(cells))
            if far is None and len(cells) > MAX_COLUMNS:
                far = (len(texts), next(i for i in range(MAX_COLUMNS, len(cells)) if cells[i] is not None))
            texts.append(cells)
        top = bottom + 1 - len(texts)
        texts[:0] = [[] for _ in range(top)]
    except RefusedError:
        raise
    except Exception:  # noqa: BLE001
        raise _refuse(f"シート「{sheet}」を読み取れませんでした。", sheet) from None
    if far is not None:
        from tsunagu.ingest.read import column_letter  # read.py imports this module

        row, col = far[0] + top + 1, far[1]
        raise RefusedError(
            [
                Issue(
                    row,
                    None,
                    f"値「{texts[row - 1][col]}」があります。このデータで使う列は多くても {MAX_COLUMNS:,} 列"
                    f"（{column_letter(MAX_COLUMNS - 1)}列）までです。遠くの列に値が残っていないか、"
                    "別のシートを選んでいないか確かめてください。",
                    sheet=sheet,
                    letter=column_letter(col),
                )
            ]
        )
    errors, padded = _extras(content, what, sheet)
    for (row, col), text in padded.items():
        cells = texts[row - 1] if row <= len(texts) else []
        if col < len(cells) and cells[col] is not None:
            cells[col] = text
    return {"kind": what, "sheet": sheet, "sheets": shown, "rows": texts, "width": width, "errors": errors}


def _child() -> None:
    """`python -m tsunagu.ingest.excel`: read (content, sheet) pickled on stdin, answer on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    content, sheet = pickle.load(sys.stdin.buffer)
    try:
        answer = ("ok", _read_here(content, sheet))
    except RefusedError as e:
        answer = ("refused", e.issues)
    except MemoryError:
        answer = ("refused", [Issue(None, None, TOO_BIG)])
    except Exception:  # noqa: BLE001
        answer = (
            "refused",
            [Issue(None, None, "ブックを読み取れませんでした（壊れているか、別の形式のファイルです）。")],
        )
    pickle.dump(answer, sys.stdout.buffer)


def _read_in_child(content: bytes, sheet: str | None) -> dict:
    # a new interpreter, not a fork: the server has threads (DuckDB, Streamlit)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tsunagu.ingest.excel"],
            input=pickle.dumps((content, sheet)),
            capture_output=True,
            timeout=CHILD_SECONDS,
            cwd=PROJECT_ROOT,
        )
    except subprocess.TimeoutExpired:
        raise _refuse(TOO_BIG) from None
    if done.returncode != 0 or not done.stdout:  # out of memory (calamine aborts) or crashed
        raise _refuse(TOO_BIG)
    status, payload = pickle.loads(done.stdout)  # our own child's answer
    if status != "ok":
        raise RefusedError(payload)
    return payload


_cache: OrderedDict[tuple[str, str | None], Sheet] = OrderedDict()
_cache_lock = threading.Lock()


def read_sheet(content: bytes, sheet: str | None = None) -> Sheet:
    """The sheet (default: the first visible one) as text cells. The upload page reads the
    same file several times per rerun: the last few are kept by their checksum."""
    import polars as pl

    key = (hashlib.sha256(content).hexdigest(), sheet)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    got = _read_in_child(content, sheet)
    texts, width = got["rows"], got["width"]
    columns = {str(i): [r[i] if i < len(r) else None for r in texts] for i in range(width)}
    frame = pl.DataFrame(columns, schema={k: pl.String for k in columns})
    result = Sheet(frame, got["kind"], got["sheet"], got["sheets"], got["errors"])
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > 4:
            _cache.popitem(last=False)
    return result


def _extras(content: bytes, what: str, sheet: str) -> tuple[list[tuple[int, int, str]], dict]:
    """What calamine does not give: error cells, and (.xlsx) numbers shown with leading zeros."""
    try:
        if what == XLS:
            return _xls_errors(content, sheet), {}
        if what == ODS:
            return _ods_errors(content, sheet), {}
        return _xlsx_extras(content, sheet)
    except RefusedError:
        raise
    except Exception:  # noqa: BLE001 — calamine read the sheet; a second reader's hiccup is not the user's
        return [], {}


# Excel's "Strict Open XML" .xlsx names its parts with these namespaces; openpyxl reads only
# the usual (Transitional) ones, which mean the same
_STRICT = [
    (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    ),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    ),
    (b"http://purl.oclc.org/ooxml/drawingml/main", b"http://schemas.openxmlformats.org/drawingml/2006/main"),
    (
        b"http://purl.oclc.org/ooxml/officeDocument/sharedTypes",
        b"http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes",
    ),
]
# a number shown with leading zeros (an ID 1 formatted 0000 shows 0001, and Excel's CSV export
# writes 0001): the format's run of zeros is the width
_ZERO_PADDED = re.compile(rb'formatCode="(0{2,})"')


def _transitional(content: bytes) -> bytes:
    """A Strict Open XML workbook with the Transitional namespaces, for openpyxl."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for strict, usual in _STRICT:
                    data = data.replace(strict, usual)
            w.writestr(info, data)
    return out.getvalue()


def _xlsx_extras(content: bytes, sheet: str) -> tuple[list[tuple[int, int, str]], dict[tuple[int, int], str]]:
    """The sheet's formula error cells (Excel row, column index, #REF!) and its numbers shown
    with leading zeros ((row, column index) -> text as shown), both of which calamine loses."""
    import openpyxl

    # an error cell is stored with the type attribute t="e", a zero-padded number under a format
    # code of zeros: without either, there is nothing to find, and openpyxl's walk (1.8 s for
    # 10,000 rows) is skipped
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        names = z.namelist()
        sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        has_errors = any(b't="e"' in z.read(n) for n in sheets)
        styles = z.read("xl/styles.xml") if "xl/styles.xml" in names else b""
        strict = b"purl.oclc.org/ooxml" in (z.read("xl/workbook.xml") if "xl/workbook.xml" in names else b"")
    if not has_errors and not _ZERO_PADDED.search(styles):
        return [], {}

    try:
        book = openpyxl.load_workbook(
            io.BytesIO(_transitional(content) if strict else content), read_only=True, data_only=True
        )
    except Exception:  # noqa: BLE001 — calamine could read it; openpyxl cannot
        if has_errors:  # they are there, and a blank must not stand for one
            raise _refuse(ERRORS_UNPLACED, sheet) from None
        return [], {}
    try:
        ws = book[sheet]
        ws.reset_dimensions()  # a writer's stale <dimension ref="A1"/> would end the walk at A1
        errors, padded = [], {}
        for row in ws.iter_rows():
            for cell in row:
                kind = getattr(cell, "data_type", None)
                if kind == "e":
                    errors.append((cell.row, cell.column - 1, str(cell.value)))
                elif kind == "n" and isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    fmt = cell.number_format or ""
                    if (
                        len(fmt) > 1
                        and set(fmt) == {"0"}
                        and float(cell.value).is_integer()
                        and cell.value >= 0
                    ):
                        padded[(cell.row, cell.column - 1)] = str(int(cell.value)).zfill(len(fmt))
        return errors, padded
    finally:
        book.close()


def _xls_errors(content: bytes, sheet: str) -> list[tuple[int, int, str]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=content, on_demand=True)
    try:
        sh = book.sheet_by_name(sheet)
        found = []
        for r in range(sh.nrows):
            for c, t in enumerate(sh.row_types(r)):
                if t == xlrd.XL_CELL_ERROR:
                    found.append((r + 1, c, xlrd.error_text_from_code.get(sh.cell_value(r, c), "#エラー")))
        return found
    finally:
        book.release_resources()


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"


def _ods_errors(content: bytes, sheet: str) -> list[tuple[int, int, str]]:
    """LibreOffice marks an error cell with calcext:value-type="error" (calamine#720): walk
    that sheet's rows and cells with the standard library's XML parser, counting repeats."""
    import xml.etree.ElementTree as ET

    found: list[tuple[int, int, str]] = []
    with zipfile.ZipFile(io.BytesIO(content)) as z, z.open("content.xml") as f:
        in_sheet = False
        row = col = 0
        for event, el in ET.iterparse(f, events=("start", "end")):
            tag = el.tag
            if tag == f"{_TABLE}table":
                if event == "start":
                    in_sheet = el.get(f"{_TABLE}name") == sheet
                    row = 0
                elif in_sheet:
                    break
                continue
            if not in_sheet or event != "end":
                continue
            if tag == f"{_TABLE}table-row":
                row += int(el.get(f"{_TABLE}number-rows-repeated", "1"))
                col = 0
                el.clear()
            elif tag in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
                repeat = int(el.get(f"{_TABLE}number-columns-repeated", "1"))
                if el.get(f"{_CALCEXT}value-type") == "error":
                    text = "".join(p.text or "" for p in el.iter(f"{_TEXT}p")) or "#エラー"
                    found.extend((row + 1, col + k, text) for k in range(min(repeat, 1000)))
                col += repeat
    return found


if __name__ == "__main__":
    _child()
