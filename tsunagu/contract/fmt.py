"""Numbers, changes and times as Japanese readers expect them: 1,234, ＋12 / −3, and
2026年12月2日 5:46 (Japan time)."""

from __future__ import annotations

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9))  # Japan keeps no daylight saving time


def number(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}{unit}"
    return f"{int(value):,}{unit}"


def change(current, before) -> str | None:
    """'+12' / '-3' / '±0' for st.metric's delta; None when either side is unknown."""
    if current is None or before is None:
        return None
    diff = current - before
    if diff == 0:
        return "±0"
    return f"{diff:+,}"


_MARKDOWN = set("\\`*_{}[]()<>#+-.!|:$~=\"'&")


def plain(text) -> str:
    """Text from data (names, file names, cell values) as it reads, for Streamlit elements
    that render Markdown (st.markdown, st.error, st.caption, …): every punctuation mark that
    Markdown or Streamlit give a meaning to is escaped, and line breaks become spaces, so a
    name like `**x**`, `[a](javascript:…)` or `![](http://…)` is shown, never rendered."""
    s = " ".join(str(text).splitlines())
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in s)


def jst(iso: str | None, excel: bool = False) -> str:
    """A time as the store records it (ISO, UTC) in Japan time: 「2026年12月2日 5:46」, or for a
    spreadsheet 「2026/12/02 05:46」 (Excel reads it as a date and time); 「—」 when none."""
    if not iso:
        return "—"
    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return str(iso)
    if t.tzinfo is None:  # the store writes UTC
        t = t.replace(tzinfo=dt.UTC)
    t = t.astimezone(JST)
    return (
        t.strftime("%Y/%m/%d %H:%M") if excel else f"{t.year}年{t.month}月{t.day}日 {t.hour}:{t.minute:02d}"
    )
