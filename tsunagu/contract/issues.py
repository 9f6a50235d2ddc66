"""Errors and warnings about an uploaded file, as a coordinator reads them."""

from __future__ import annotations

import errno
from dataclasses import dataclass

# what the operating system said, in the user's words (its own text is English)
_OS_REASONS = {
    errno.ENOENT: "ファイルまたはフォルダがありません",
    errno.EISDIR: "ファイルではなくフォルダです",
    errno.ENOTDIR: "途中の名前がフォルダではありません",
    errno.EACCES: "読み書きする権限がありません",
    errno.EPERM: "読み書きする権限がありません",
    errno.ENOSPC: "ディスクの空きが足りません",
    errno.EDQUOT: "ディスクの使用量の上限に達しました",
    errno.EROFS: "読み取り専用のディスクです",
    errno.EFBIG: "ファイルが大きすぎます（ファイルの大きさの上限を超えました）",
    errno.EIO: "ディスクの読み書きでエラーが起きました",
    errno.EEXIST: "同じ名前のファイルがすでにあります",
    errno.ENAMETOOLONG: "名前が長すぎます",
    errno.EMFILE: "開いているファイルが多すぎます",
    errno.ENFILE: "開いているファイルが多すぎます",
}


def os_reason(e: OSError) -> str:
    """An OSError in Japanese (「ディスクの空きが足りません」), with the system's code for the rest."""
    if e.errno in _OS_REASONS:
        return _OS_REASONS[e.errno]
    code = errno.errorcode.get(e.errno) if e.errno else None
    return f"システムのエラー（{code}）" if code else "システムのエラー"


@dataclass(frozen=True, order=True)
class Issue:
    row: int | None  # Excel's row number (header = 1); None for the whole file
    column: str | None  # the header as the user typed it, or "C列" for a column without one
    message: str
    # "error" refuses the file; "warning" is shown and does not block; "damaged" names a
    # damaged stored file that a check had to skip (the upload itself is not refused)
    level: str = "error"
    sheet: str | None = None  # a workbook's sheet
    letter: str | None = None  # the column's letter (E), when the file has the column
    # a feature of a boundaries file: (its position, 1 = first; its name, "" if it has none)
    feature: tuple[int, str] | None = None

    @property
    def place(self) -> str:
        """Where, as a coordinator finds it in Excel: 「Sheet1 の 12行目・E列（地区）」, or in a
        boundaries file: 「3番目の地物（倉敷市立万寿小学校）」."""
        if self.feature is not None:
            index, name = self.feature
            return f"{index:,}番目の地物" + (f"（{name}）" if name else "")
        where = []
        if self.row is not None:
            where.append(f"{self.row}行目")
        if self.letter:
            where.append(f"{self.letter}列（{self.column}）" if self.column else f"{self.letter}列")
        elif self.column:
            where.append(f"「{self.column}」列")
        text = "・".join(where)
        if self.sheet:
            return f"{self.sheet} の {text}" if text else f"シート「{self.sheet}」"
        return text or "ファイル全体"

    def __str__(self) -> str:
        if self.level == "damaged":
            return f"[保存データの破損] {self.message}"
        prefix = self.place
        label = "エラー" if self.level == "error" else "注意"
        return f"[{label}] {prefix}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "level": self.level,
            "sheet": self.sheet,
            "letter": self.letter,
            "feature": self.place if self.feature is not None else None,
        }


class RefusedError(Exception):
    """The file is refused whole; nothing was written."""

    def __init__(self, issues: list[Issue]):
        # as a coordinator reads the file: by row, then left to right (B before AA), then by name
        self.issues = sorted(
            issues,
            key=lambda i: (
                i.row or 0,
                i.feature[0] if i.feature else 0,
                (len(i.letter), i.letter) if i.letter else (0, ""),
                i.column or "",
                i.message,
            ),
        )
        super().__init__("\n".join(str(i) for i in self.issues))
