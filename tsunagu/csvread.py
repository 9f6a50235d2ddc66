"""Turn the bytes Excel gives us into text cells with Excel's row numbers.

Nothing is interpreted here beyond the file's shape: every cell stays text, so the
validators decide types and can name the exact cell that is wrong.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from tsunagu.issues import Issue, RefusedError


@dataclass
class RawTable:
    header: list[str]  # stripped header cells, one per kept column
    letters: list[str]  # Excel column letters of those columns (A, B, …)
    header_row: int  # Excel row number of the header (1 unless blank rows precede it)
    data: pl.DataFrame  # columns "0".."n-1" (text or null) and "_row" (Excel row number)
    encoding: str


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA', as Excel labels columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_NOT_CSV = (
    (b"PK\x03\x04", "Excel ブック（.xlsx）のファイルです"),
    (b"\xd0\xcf\x11\xe0", "古い形式の Excel ブック（.xls）のファイルです"),
    (b"%PDF", "PDF ファイルです"),
)
SAVE_AS_CSV = "Excel の「名前を付けて保存」で「CSV UTF-8（コンマ区切り）」か「CSV（コンマ区切り）」を選んで保存し直してください。"


CP932 = "Shift_JIS（CP932）"
UNREADABLE = ("文字コードを読み取れません。UTF-8 か Shift_JIS（Excel の「CSV（コンマ区切り）」）で"
              "保存したCSVファイルを選んでください。")


def _encoding(content: bytes) -> str:
    """Which of Excel's encodings the bytes are in: UTF-8 (with BOM), CP932 or UTF-16.
    CP932 is only presumed here (not UTF-8); decoding it is the check."""
    for magic, what in _NOT_CSV:
        if content.startswith(magic):
            raise RefusedError([Issue(None, None, f"CSV ではなく{what}。{SAVE_AS_CSV}")])
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if content.startswith(b"\xef\xbb\xbf"):
        return "UTF-8（BOM付き）"
    try:
        content.decode("utf-8")  # the str itself is not needed
        return "UTF-8"
    except UnicodeDecodeError:
        return CP932


def decode(content: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """Bytes -> (the text as UTF-8 bytes, the encoding's name). The CSV parser takes bytes,
    so no str of the whole file is kept: a 1 M-row file's str takes ~300 MB and polars
    would encode it again (~0.5 s)."""
    encoding = encoding or _encoding(content)
    try:
        if encoding == "UTF-16":
            return content.decode("utf-16").encode("utf-8"), encoding
        if encoding == "UTF-8（BOM付き）":
            content[3:].decode("utf-8")
            return content[3:], encoding
        if encoding == "UTF-8":
            return content, encoding
        return content.decode("cp932").encode("utf-8"), encoding
    except UnicodeDecodeError:
        raise RefusedError([Issue(None, None, UNREADABLE)]) from None


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
        raise RefusedError([Issue(row, None, (
            f"見出し行に {width:,} 列あります。このデータで使う列は多くても {MAX_COLUMNS:,} 列までです。"
            "別のファイルを選んでいないか、見出し行が正しいかを確かめてください。"))])


def _parse(utf8: bytes, sep: str) -> pl.DataFrame:
    """Cells as text; blank lines stay as all-null rows so row numbers match Excel."""
    try:
        return _clean(_read_csv(utf8, sep))
    except (pl.exceptions.PolarsError, ValueError):  # ragged or odd files: the slow reader takes anything
        text = utf8.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        cols = {str(i): [r[i] if i < len(r) else None for r in rows] for i in range(width)}
        return _clean(pl.DataFrame(cols, schema={k: pl.String for k in cols}))


def _read_csv(utf8: bytes, sep: str) -> pl.DataFrame:
    # the fast path; polars keeps blank lines as null rows
    df = pl.read_csv(utf8, has_header=False, infer_schema=False, separator=sep, quote_char='"',
                     raise_if_empty=False)
    return df.rename({c: str(i) for i, c in enumerate(df.columns)})


def _clean(df: pl.DataFrame) -> pl.DataFrame:
    """Trim every cell; an empty cell is a missing value."""
    return df.select([pl.col(c).str.strip_chars().replace("", None).alias(c) for c in df.columns])


PIECE_BYTES = 8 << 20


def _pieces(content: bytes, size: int) -> list[tuple[int, int]]:
    """Byte ranges of about `size` that end at a line break outside quotes. In CP932 (as in
    UTF-8) a quote or a line feed is never part of a two-byte character, so bytes can be
    counted: an even number of quotes before a line feed puts it outside any quoted cell."""
    bounds, start = [], 0
    while start < len(content):
        end = content.find(b"\n", start + size)
        while end >= 0 and content.count(b'"', start, end) % 2:
            end = content.find(b"\n", end + 1)
        end = len(content) if end < 0 else end + 1
        bounds.append((start, end))
        start = end
    return bounds


def _parse_cp932(content: bytes) -> tuple[pl.DataFrame, bytes, int, bytes] | None:
    """A large CP932 file in pieces: Python decodes one piece while polars (which releases
    the GIL) parses and trims the one before, so the two cores share the ~1 s of decoding
    a 1 M-row file needs. Returns (cells, separator, header row, header line), or None
    when the file is better read whole (small, quotes unbalanced, or a piece polars
    cannot read: the whole-file path then decides, with its fallback and messages)."""
    if len(content) < 2 * PIECE_BYTES or content.count(b'"') % 2 or b"\x00" in content:
        return None
    bounds = _pieces(content, PIECE_BYTES)
    first_utf8 = content[bounds[0][0]:bounds[0][1]].decode("cp932").encode("utf-8")
    row, first = _first_line(first_utf8)
    if not first:
        return None
    sep = _separator(first)
    _check_width(row, first, sep)

    def parse(utf8: bytes) -> pl.DataFrame:
        return _clean(_read_csv(utf8, sep.decode()))

    with ThreadPoolExecutor(1) as pool:
        futures = [pool.submit(parse, first_utf8)]
        for a, b in bounds[1:]:
            futures.append(pool.submit(parse, content[a:b].decode("cp932").encode("utf-8")))
        try:
            frames = [f.result() for f in futures]
        except (pl.exceptions.PolarsError, ValueError):
            return None
    width = max(f.width for f in frames)
    return pl.concat(frames, how="diagonal").select([str(i) for i in range(width)]), sep, row, first


def read_table(content: bytes) -> RawTable:
    if not content or content.isspace():  # not strip(): that copies a 100 MB file
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    encoding = _encoding(content)
    pieces = None
    if encoding == CP932:
        try:
            pieces = _parse_cp932(content)
        except UnicodeDecodeError:
            raise RefusedError([Issue(None, None, UNREADABLE)]) from None
    if pieces is not None:
        df = pieces[0]
    else:
        utf8 = decode(content, encoding)[0]
        # NUL is one 0 byte in UTF-8 and no other character has one: searching bytes is fast
        if b"\x00" in utf8:
            raise RefusedError([Issue(None, None, f"CSV ではないファイルです（文字以外のデータを含みます）。{SAVE_AS_CSV}")])
        if b"\r" in utf8 and b"\n" not in utf8:  # Excel for Mac's "CSV (Macintosh)" ends lines with CR only
            utf8 = utf8.replace(b"\r", b"\n")
        row, first = _first_line(utf8)
        sep = b"\t" if encoding == "UTF-16" else _separator(first)
        _check_width(row, first, sep)
        df = _parse(utf8, sep.decode())
    if df.width == 0 or df.height == 0:
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    cols = df.columns
    df = df.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    non_empty = df.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cols]))
    if non_empty.height == 0:
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    header_row = non_empty["_row"][0]
    header_cells = [non_empty[c][0] for c in cols]
    data = non_empty.slice(1)

    issues: list[Issue] = []
    kept: list[str] = []
    # which columns hold any value, in one pass: Excel can pad every line with thousands of
    # empty columns, and a filter per column made that quadratic (16,384 columns took 47 s)
    has_value = data.select([pl.col(c).is_not_null().any() for c in cols]).row(0) \
        if data.height else (False,) * len(cols)
    for i, c in enumerate(cols):
        if header_cells[i] is not None:
            kept.append(c)
            continue
        # a column without a header: Excel leaves these empty at the right; values are an error
        if has_value[i]:
            filled = data.filter(pl.col(c).is_not_null())
            issues.append(Issue(
                int(filled["_row"][0]), f"{column_letter(i)}列",
                f"見出しのない列に値「{filled[c][0]}」があります。1行目に列名を入れるか、値を消してください。",
            ))
    if issues:
        raise RefusedError(issues)
    return RawTable(
        header=[header_cells[int(c)] for c in kept],
        letters=[column_letter(int(c)) for c in kept],
        header_row=int(header_row),
        data=data.select([*kept, "_row"]),
        encoding=encoding,
    )
