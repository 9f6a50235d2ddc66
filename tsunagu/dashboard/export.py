"""Tables as files a manager opens in Excel."""

from __future__ import annotations

import io

import polars as pl

from tsunagu.contract.labels import COLUMNS


def safe_cell(value):
    """Excel runs a cell starting with = + - @ as a formula: prefix a quote to keep it text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_excel_csv(df: pl.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel reads Japanese correctly), Japanese headers, no formulas."""
    out = df.with_columns(
        [
            pl.col(c).map_elements(safe_cell, return_dtype=pl.String)
            for c, t in df.schema.items()
            if t == pl.String
        ]
    ).rename({c: COLUMNS.get(c, c) for c in df.columns})
    buf = io.BytesIO()
    out.write_csv(buf)
    return b"\xef\xbb\xbf" + buf.getvalue()
