"""Small counts of consultations and referrals, hidden where residents can see them.

A count below the threshold (default 5; $TSUNAGU_SUPPRESS_BELOW) is shown as 「5未満」. A
published total would give a single hidden cell away by subtraction, so wherever a group
of cells is shown with its total and exactly one cell of it is hidden, the next smallest
cell is hidden too (complementary suppression), until no group gives one away.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable

import polars as pl

DEFAULT_THRESHOLD = 5


def threshold() -> int:
    try:
        return max(1, int(os.environ.get("TSUNAGU_SUPPRESS_BELOW", DEFAULT_THRESHOLD)))
    except ValueError:
        return DEFAULT_THRESHOLD


COMPLEMENT = "＊"  # hidden only so that a total cannot give a small cell away


def label(k: int | None = None) -> str:
    return f"{k or threshold()}未満"


def note(k: int | None = None) -> str:
    return (f"「{label(k)}」は{k or threshold()}件未満の値です。「{COMPLEMENT}」は、合計から{label(k)}の値が"
            "わかってしまわないように、あわせて伏せた値です。")


def suppressed_cells(values: dict[Hashable, int | None], groups: Iterable[Iterable[Hashable]],
                     k: int | None = None) -> set[Hashable]:
    """Cells to hide: every value below k, plus complements so that no group whose total is
    shown has exactly one hidden cell. `groups` lists the cells behind each shown total."""
    k = k or threshold()
    hidden = {c for c, v in values.items() if v is not None and v < k}
    groups = [list(g) for g in groups]
    changed = True
    while changed:
        changed = False
        for group in groups:
            inside = [c for c in group if c in hidden]
            if len(inside) != 1:
                continue
            others = [c for c in group if c not in hidden and values.get(c) is not None]
            if not others:
                continue
            # hide the smallest other cell: it gives away the least information
            hidden.add(min(others, key=lambda c: (values[c], str(c))))
            changed = True
    return hidden


def district_count(value: int | None, chosen: Iterable[str], per_district: dict[str, int | None],
                   unit: str = "", k: int | None = None) -> str:
    """The count of some districts where every district's count and the municipality's total
    may also be shown (screens, handouts): small counts are 「5未満」, and a count is also
    hidden (＊) when the total minus the other districts would give a small one away."""
    shown = show(value, k)
    if value is None or shown.endswith("未満"):
        return shown
    chosen = set(chosen)
    if chosen and chosen != set(per_district):
        hidden = suppressed_cells(per_district, [list(per_district)], k)
        if hidden & chosen:
            return COMPLEMENT
    return shown + unit


def show(value: int | None, k: int | None = None) -> str:
    """One count on its own (no total beside it)."""
    if value is None:
        return "—"
    return label(k) if value < (k or threshold()) else f"{value:,}"


def table(df: pl.DataFrame, columns: list[str], k: int | None = None,
          total_row: str | None = "合計", key: str | None = None) -> pl.DataFrame:
    """A table of counts as text, small counts hidden, with a total row if asked.

    Each column with its total is a group; the totals themselves are hidden when small.
    """
    k = k or threshold()
    key = key or df.columns[0]
    values = {(r, c): df[c][r] for c in columns for r in range(df.height)}
    groups = [[(r, c) for r in range(df.height)] for c in columns] if total_row else []
    hidden = suppressed_cells(values, groups, k)

    def cell(r: int, c: str) -> str:
        v = df[c][r]
        if v is None:
            return "—"
        if (r, c) in hidden:
            return label(k) if v < k else COMPLEMENT
        return f"{v:,}"

    out = df.with_columns([pl.Series(c, [cell(r, c) for r in range(df.height)], dtype=pl.String)
                           for c in columns])
    if total_row:
        totals = {c: df[c].sum() for c in columns}
        extra = {col: [None] for col in out.columns}
        extra[key] = [total_row]
        for c in columns:
            extra[c] = [show(int(totals[c]), k)]
        out = pl.concat([out, pl.DataFrame(extra, schema=out.schema)])
    return out
