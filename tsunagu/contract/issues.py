"""Errors and warnings about an uploaded file, as a coordinator reads them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Issue:
    row: int | None  # Excel's row number (header = 1); None for the whole file
    column: str | None  # the header as the user typed it, or "C列" for a column without one
    message: str
    # "error" refuses the file; "warning" is shown and does not block; "damaged" names a
    # damaged stored file that a check had to skip (the upload itself is not refused)
    level: str = "error"

    def __str__(self) -> str:
        if self.level == "damaged":
            return f"[保存データの破損] {self.message}"
        where = []
        if self.row is not None:
            where.append(f"{self.row}行目")
        if self.column:
            where.append(f"「{self.column}」列")
        prefix = "・".join(where) if where else "ファイル全体"
        label = "エラー" if self.level == "error" else "注意"
        return f"[{label}] {prefix}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "level": self.level}


class RefusedError(Exception):
    """The file is refused whole; nothing was written."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(issues, key=lambda i: (i.row or 0, i.column or "", i.message))
        super().__init__("\n".join(str(i) for i in self.issues))
