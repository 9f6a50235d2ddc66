"""Turn the bytes Excel gives us into text cells with Excel's row numbers.

Nothing is interpreted here beyond the file's shape: every cell stays text, so the
validators decide types and can name the exact cell that is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from tsunagu.contract.issues import Issue, RefusedError


@dataclass
class RawTable:
    header: list[str]  # stripped header cells, one per kept column
    letters: list[str]  # Excel column letters of those columns (A, B, …)
    header_row: int  # Excel row number of the header (1 unless blank rows precede it)
    data: pl.DataFrame  # columns "0".."n-1" (text or null) and "_row" (Excel row number)
    encoding: str  # or the kind of workbook (「Excel ブック（.xlsx）」)
    sheet: str | None = None  # the workbook's sheet read; None for a CSV
    sheets: list[str] = field(default_factory=list)  # the workbook's visible sheets, for a picker
    # formula error cells (#REF!, #DIV/0!) below the header: (Excel row, column index, text);
    # validation refuses those in the columns it uses
    error_cells: list[tuple[int, int, str]] = field(default_factory=list)

    def letter_of(self, header: str) -> str | None:
        """The column letter of a header cell as the file spells it."""
        try:
            return self.letters[self.header.index(header)]
        except ValueError:
            return None


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA', as Excel labels columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_NOT_CSV = ((b"%PDF", "PDF ファイルです"),)
SAVE_AS_CSV = "Excel の「名前を付けて保存」で「CSV UTF-8（コンマ区切り）」か「CSV（コンマ区切り）」を選んで保存し直してください。"


ENCODING_UNKNOWN = (
    "文字コードを読み取れません。UTF-8 か Shift_JIS（Excel の「CSV（コンマ区切り）」）で"
    "保存したCSVファイルを選んでください。"
)
ENCODING_MIXED = (
    "この行から文字コードを読み取れません（ほかの行と違う文字コードの文字があります。別のファイルから貼り付けた行かもしれません）。"
    "Excel で開いて、UTF-8 か Shift_JIS（「CSV（コンマ区切り）」）で保存し直してください。"
)


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]{4}")


def _mixed(content: bytes, stop: int) -> RefusedError:
    """The line where the file's own encoding stopped reading it (Excel numbers lines from 1)."""
    return RefusedError([Issue(content.count(b"\n", 0, stop) + 1, None, ENCODING_MIXED)])


def decode(content: bytes) -> tuple[bytes, str]:
    """Bytes -> (the text as UTF-8 bytes, the encoding's name). Excel writes UTF-8 (with
    BOM), CP932, or UTF-16. The CSV parser takes bytes, so no str of the whole file is
    made: a 1 M-row file's str takes ~300 MB and polars would encode it again (~0.5 s)."""
    for magic, what in _NOT_CSV:
        if content.startswith(magic):
            raise RefusedError([Issue(None, None, f"CSV ではなく{what}。{SAVE_AS_CSV}")])
    try:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16").encode("utf-8"), "UTF-16"
        if content.startswith(b"\xef\xbb\xbf"):
            return _valid_utf8(content[3:]), "UTF-8（BOM付き）"
        try:
            return _valid_utf8(content), "UTF-8"
        except UnicodeDecodeError as as_utf8:
            # Japanese read as UTF-8 up to here, then not: rows of a Shift_JIS file pasted into a
            # UTF-8 one. Read as Shift_JIS, the UTF-8 rows would become garbage ("縺ゅ≠"); a
            # Shift_JIS file's own Japanese is not valid UTF-8 for four characters running
            if _JAPANESE.search(content[: as_utf8.start].decode("utf-8")):
                raise _mixed(content, as_utf8.start) from None
            try:
                return content.decode("cp932").encode("utf-8"), "Shift_JIS（CP932）"
            except UnicodeDecodeError as as_cp932:
                if as_cp932.start > 0:  # read as Shift_JIS up to a line of another encoding
                    raise _mixed(content, as_cp932.start) from None
                raise
    except UnicodeDecodeError:
        raise RefusedError([Issue(None, None, ENCODING_UNKNOWN)]) from None


def _valid_utf8(data: bytes) -> bytes:
    data.decode("utf-8")  # raises if it is not; the str itself is not needed
    return data


def _first_line(utf8: bytes) -> tuple[int, bytes]:
    """(Excel row number, bytes) of the first line with content, found without splitting
    the whole file into lines."""
    start, row = 0, 1
    while start < len(utf8):
        end = utf8.find(b"\n", start)
        end = len(utf8) if end < 0 else end
        line = utf8[start:end].rstrip(b"\r")
        if line.strip(b" ,\t"):
            return row, line
        start, row = end + 1, row + 1
    return row, b""


MAX_COLUMNS = 1000  # the widest dataset has about 20; far more is another kind of file


def _separator(line: bytes) -> bytes:
    return b"\t" if line.count(b"\t") > line.count(b",") else b","


def _check_width(row: int, line: bytes, sep: bytes) -> None:
    """Refuse a header far wider than any dataset before parsing it: 100,000 columns took
    21 s to read only to be refused. Trailing empty cells (Excel pads lines) do not count."""
    width = line.rstrip(b" ,\t").count(sep) + 1
    if width > MAX_COLUMNS:
        raise RefusedError(
            [
                Issue(
                    row,
                    None,
                    (
                        f"見出し行に {width:,} 列あります。このデータで使う列は多くても {MAX_COLUMNS:,} 列までです。"
                        "別のファイルを選んでいないか、見出し行が正しいかを確かめてください。"
                    ),
                )
            ]
        )


def _parse(utf8: bytes, sep: str) -> pl.DataFrame:
    """Cells as text; blank lines stay as all-null rows so row numbers match Excel."""
    try:
        # the fast path; polars keeps blank lines as null rows
        df = pl.read_csv(
            utf8,
            has_header=False,
            infer_schema=False,
            separator=sep,
            quote_char='"',
            raise_if_empty=False,
        )
        return df.rename({c: str(i) for i, c in enumerate(df.columns)})
    except (pl.exceptions.PolarsError, ValueError):  # ragged or odd files: the slow reader takes anything
        text = utf8.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        cols = {str(i): [r[i] if i < len(r) else None for r in rows] for i in range(width)}
        return pl.DataFrame(cols, schema={k: pl.String for k in cols})


EMPTY_FILE = "ファイルが空です。見出し行とデータのあるファイルを選んでください。"
HEADER_ROWS = 10  # the header is looked for in the first 10 rows (title lines may precede it)


@dataclass
class Cells:
    """A file's cells as text before its header is known: what CSV and workbooks share."""

    frame: pl.DataFrame  # columns "0".."n-1" (text or null, trimmed) and "_row" (Excel row number)
    encoding: str
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    error_cells: list[tuple[int, int, str]] = field(default_factory=list)


def workbook_sheets(content: bytes) -> list[str]:
    """A workbook's visible sheets, in order ([] for a CSV); RefusedError if it cannot be opened."""
    from tsunagu.ingest import excel

    if excel.kind(content) is None:
        return []
    return excel.sheet_list(content)


def read_cells(content: bytes, sheet: str | None = None) -> Cells:
    """Any upload's cells, every one as text, with Excel's row numbers; blank rows dropped
    (their numbers are kept by the rows after them)."""
    if not content or content.isspace():  # not strip(): that copies a 100 MB file
        raise RefusedError([Issue(None, None, EMPTY_FILE)])
    from tsunagu.ingest import excel

    if excel.kind(content) is not None:
        book = excel.read_sheet(content, sheet)
        df, encoding = book.frame, book.kind
        where = {"sheet": book.sheet, "sheets": book.sheets, "error_cells": book.error_cells}
    else:
        df, encoding = _csv_frame(content)
        where = {}
    if df.width == 0 or df.height == 0:
        raise RefusedError([Issue(None, None, EMPTY_FILE, sheet=where.get("sheet"))])
    cols = df.columns
    # one pass per column: trim, then an empty cell is a missing value
    df = (
        df.select([pl.col(c).str.strip_chars().replace("", None).alias(c) for c in cols])
        .with_row_index("_row", offset=1)
        .with_columns(pl.col("_row").cast(pl.Int64))
    )
    non_empty = df.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cols]))
    if non_empty.height == 0:
        raise RefusedError([Issue(None, None, EMPTY_FILE, sheet=where.get("sheet"))])
    return Cells(non_empty, encoding, **where)


def _csv_frame(content: bytes) -> tuple[pl.DataFrame, str]:
    utf8, encoding = decode(content)
    # NUL is one 0 byte in UTF-8 and no other character has one: searching bytes is fast
    if b"\x00" in utf8:
        raise RefusedError(
            [Issue(None, None, f"CSV ではないファイルです（文字以外のデータを含みます）。{SAVE_AS_CSV}")]
        )
    if b"\r" in utf8 and b"\n" not in utf8:  # Excel for Mac's "CSV (Macintosh)" ends lines with CR only
        utf8 = utf8.replace(b"\r", b"\n")
    row, first = _first_line(utf8)
    sep = b"\t" if encoding == "UTF-16" else _separator(first)
    _check_width(row, first, sep)
    return _parse(utf8, sep.decode()), encoding


# How well a row reads as the header: (every required column found, columns recognised)
Recogniser = Callable[[list[str | None]], tuple[bool, int]]


def find_header(cells: Cells, recognise: Recogniser | None) -> int:
    """Index (into cells.frame) of the header row. The first row, within the first 10, in
    which the required columns are found; failing that the row with the most recognised
    names; failing that, a row as wide as the table (its own column names, to be mapped).
    Without a recogniser (no dataset known), the first row with content."""
    df = cells.frame
    top = df.filter(pl.col("_row") <= HEADER_ROWS)
    if recognise is None or top.height == 0:
        return 0
    cols = [c for c in df.columns if c != "_row"]
    best, best_known = None, 0
    for i, values in enumerate(top.select(cols).iter_rows()):
        complete, known = recognise(list(values))
        if complete:
            return i
        if known > best_known:
            best, best_known = i, known
    if best is not None and best_known >= 2:
        return best
    # the header further down (more title or memo lines than the contract allows): say so,
    # rather than read a title line as the header and call every column unnamed
    below = df.filter((pl.col("_row") > HEADER_ROWS) & (pl.col("_row") <= 10 * HEADER_ROWS))
    for row, values in zip(below["_row"], below.select(cols).iter_rows()):
        if recognise(list(values))[0]:
            raise RefusedError(
                [
                    Issue(
                        int(row),
                        None,
                        f"見出し行が{row}行目にあります。見出し行は{HEADER_ROWS}行目までに置いてください"
                        "（上の表題やメモの行を減らして保存し直してください）。",
                        sheet=cells.sheet,
                    )
                ]
            )
    # nothing recognised: the first row as wide as the widest of the top rows (a title line
    # fills one cell; the header names every column that data rows fill)
    filled = [sum(v is not None for v in values) for values in top.select(cols).iter_rows()]
    widest = max(filled)
    return filled.index(widest) if widest >= 2 else 0


def read_table(content: bytes, sheet: str | None = None, recognise: Recogniser | None = None) -> RawTable:
    """The file as a table: header row found (title lines above it skipped), columns
    without a header dropped when empty and refused when not."""
    cells = read_cells(content, sheet)
    return to_table(cells, find_header(cells, recognise))


def to_table(cells: Cells, header_at: int) -> RawTable:
    df = cells.frame
    cols = [c for c in df.columns if c != "_row"]
    header_row = int(df["_row"][header_at])
    header_cells = [df[c][header_at] for c in cols]
    data = df.slice(header_at + 1)

    issues: list[Issue] = []
    kept: list[str] = []
    # which columns hold any value, in one pass: Excel can pad every line with thousands of
    # empty columns, and a filter per column made that quadratic (16,384 columns took 47 s)
    has_value = (
        data.select([pl.col(c).is_not_null().any() for c in cols]).row(0)
        if data.height
        else (False,) * len(cols)
    )
    for i, c in enumerate(cols):
        if header_cells[i] is not None:
            kept.append(c)
            continue
        # a column without a header: Excel leaves these empty at the right; values are an error
        if has_value[i]:
            filled = data.filter(pl.col(c).is_not_null())
            issues.append(
                Issue(
                    int(filled["_row"][0]),
                    None,
                    f"見出しのない列に値「{filled[c][0]}」があります。"
                    f"見出し行（{header_row}行目）に列名を入れるか、値を消してください。",
                    sheet=cells.sheet,
                    letter=column_letter(int(c)),
                )
            )
    if issues:
        raise RefusedError(issues)
    return RawTable(
        header=[header_cells[int(c)] for c in kept],
        letters=[column_letter(int(c)) for c in kept],
        header_row=header_row,
        data=data.select([*kept, "_row"]),
        encoding=cells.encoding,
        sheet=cells.sheet,
        sheets=cells.sheets,
        error_cells=[e for e in cells.error_cells if e[0] > header_row],
    )
