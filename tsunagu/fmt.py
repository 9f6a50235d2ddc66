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
