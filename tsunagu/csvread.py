"""Turn the bytes Excel gives us into text cells with Excel's row numbers.

Nothing is interpreted here beyond the file's shape: every cell stays text, so the
validators decide types and can name the exact cell that is wrong.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
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


def decode(content: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding name). Excel writes UTF-8 (with BOM), CP932, or UTF-16."""
    for magic, what in _NOT_CSV:
        if content.startswith(magic):
            raise RefusedError([Issue(None, None, f"CSV ではなく{what}。{SAVE_AS_CSV}")])
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    elif content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "UTF-8（BOM付き）"
        except UnicodeDecodeError:
            pass
    else:
        for codec, name in (("utf-8", "UTF-8"), ("cp932", "Shift_JIS（CP932）")):
            try:
                return content.decode(codec), name
            except UnicodeDecodeError:
                continue
    raise RefusedError([Issue(None, None,
        "文字コードを読み取れません。UTF-8 か Shift_JIS（Excel の「CSV（コンマ区切り）」）で"
        "保存したCSVファイルを選んでください。")])


def _to_utf8(content: bytes) -> tuple[bytes, str, str | None]:
    """(the text as UTF-8 bytes, the encoding's name, the text if it was decoded).

    The CSV parser takes bytes, so a CP932 file goes straight to UTF-8 bytes without a
    str of the whole file; everything else goes through decode() as before."""
    for magic, _ in _NOT_CSV:
        if content.startswith(magic):
            decode(content)  # refuses it, with the message for that kind of file
    if not content.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        try:
            return content, "UTF-8", content.decode("utf-8")
        except UnicodeDecodeError:
            pass
        try:
            # the str of a 1 M-row file takes ~300 MB: keep only its UTF-8 bytes
            return content.decode("cp932").encode("utf-8"), "Shift_JIS（CP932）", None
        except UnicodeDecodeError:
            pass
    text, encoding = decode(content)  # BOM, UTF-16, or the refusal
    return (content[3:] if encoding == "UTF-8（BOM付き）" else text.encode("utf-8")), encoding, text


def _separator(text: str, whole: Callable[[], str] | None = None) -> str:
    """Comma or tab, as the first line with content says. Its head is enough and keeps a
    100 MB file fast; `whole` gives the whole text when `text` is only the file's head."""
    head = text[:65536]
    lines = head.splitlines()
    if len(head) < len(text) or whole is not None:
        lines = lines[:-1]  # the last one may be cut short
    first = next((line for line in lines if line.strip(" ,\t")), None)
    if first is None:
        full = text if whole is None else whole()
        first = next((line for line in full.splitlines() if line.strip(" ,\t")), "")
    return "\t" if first.count("\t") > first.count(",") else ","


def _parse(text: str | None, sep: str, utf8: bytes) -> pl.DataFrame:
    """Cells as text; blank lines stay as all-null rows so row numbers match Excel.
    `utf8` is the text as UTF-8 bytes; `text` the same as a str, if the caller has it."""
    try:
        # the fast path; polars keeps blank lines as null rows. Bytes, not a StringIO:
        # polars would encode the text again, which costs ~0.5 s for a 1 M-row file
        df = pl.read_csv(
            utf8, has_header=False, infer_schema=False, separator=sep, quote_char='"',
            raise_if_empty=False,
        )
        return df.rename({c: str(i) for i, c in enumerate(df.columns)})
    except (pl.exceptions.PolarsError, ValueError):  # ragged or odd files: the slow reader takes anything
        text = utf8.decode("utf-8") if text is None else text
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        cols = {str(i): [r[i] if i < len(r) else None for r in rows] for i in range(width)}
        return pl.DataFrame(cols, schema={k: pl.String for k in cols})


def read_table(content: bytes) -> RawTable:
    if not content.strip():
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    utf8, encoding, text = _to_utf8(content)
    # a NUL byte is a NUL character in UTF-8 and CP932 (a trail byte is never 0): the bytes
    # are searched much faster than the decoded text
    if ("\x00" in text) if encoding == "UTF-16" else (b"\x00" in content):
        raise RefusedError([Issue(None, None, f"CSV ではないファイルです（文字以外のデータを含みます）。{SAVE_AS_CSV}")])
    if encoding == "UTF-16":
        sep = "\t"
    elif text is not None:
        sep = _separator(text)
    else:
        sep = _separator(utf8[:262144].decode("utf-8", errors="ignore"), lambda: utf8.decode("utf-8"))
    df = _parse(text, sep, utf8)
    if df.width == 0 or df.height == 0:
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    cols = df.columns
    # one pass per column: trim, then an empty cell is a missing value
    df = df.select(
        [pl.col(c).str.strip_chars().alias(c) for c in cols]
    ).select(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in cols]
    ).with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    non_empty = df.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cols]))
    if non_empty.height == 0:
        raise RefusedError([Issue(None, None, "ファイルが空です。見出し行（1行目）とデータのあるCSVファイルを選んでください。")])
    header_row = non_empty["_row"][0]
    header_cells = [non_empty[c][0] for c in cols]
    data = non_empty.slice(1)

    issues: list[Issue] = []
    kept: list[str] = []
    for i, c in enumerate(cols):
        if header_cells[i] is not None:
            kept.append(c)
            continue
        # a column without a header: Excel leaves these empty at the right; values are an error
        filled = data.filter(pl.col(c).is_not_null())
        if filled.height:
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
