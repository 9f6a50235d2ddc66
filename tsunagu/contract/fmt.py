"""Numbers and changes as Japanese readers expect them: 1,234 and ＋12 / −3."""

from __future__ import annotations


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
