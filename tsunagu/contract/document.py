"""The column tables of docs/contract.md, rendered from the schema.

The rest of docs/contract.md is written by hand; the tables between its two markers are
this module's output, so the page cannot drift from what validation enforces.
tests/test_contract_doc.py compares them; `python -m tsunagu contract-doc --write` (or
`make docs`) rewrites them after a change to schema.py.
"""

from __future__ import annotations

from tsunagu.contract.parse import DATE_EXPECTED, FALSE_WORDS, MONTH_EXPECTED, TRUE_WORDS
from tsunagu.contract.schema import (
    AREA,
    BOOL,
    DATASETS,
    DATE,
    ENUM,
    GEOMETRY,
    INT,
    MONTH,
    NUMBER,
    TEXT,
    Column,
    Dataset,
)

START = "<!-- contract-tables:start -->"
END = "<!-- contract-tables:end -->"
REGENERATE = "python -m tsunagu contract-doc --write"

TYPE_NAMES = {
    TEXT: "文字",
    AREA: "地名",
    ENUM: "選択肢",
    INT: "整数",
    NUMBER: "数値",
    BOOL: "はい／いいえ",
    MONTH: "年月",
    DATE: "日付",
    GEOMETRY: "形（WKB）",
}


def _range(col: Column) -> str:
    if col.min is None and col.max is None:
        return ""
    lo = "" if col.min is None else f"{col.min:g}{'より大きく' if col.min_exclusive else '以上'}"
    hi = "" if col.max is None else f"{col.max:g}以下"
    return lo + hi


def _rule(ds: Dataset, col: Column) -> str:
    """What a cell of the column may hold, in the order a coordinator checks it."""
    parts = []
    if col.type == ENUM:
        parts.append("次のどれか: " + "、".join(col.values))
    elif col.type == BOOL:
        parts.append(f"はい = {'、'.join(TRUE_WORDS)}／いいえ = {'、'.join(FALSE_WORDS)}")
    elif col.type == MONTH:
        parts.append(MONTH_EXPECTED)
    elif col.type == DATE:
        parts.append(DATE_EXPECTED)
    elif col.type == AREA and ds.has_areas:
        parts.append("圏域マスタにある名前（圏域マスタの書き方で保存）")
    if col.type in (INT, NUMBER):
        parts.append(_range(col))
    if col.unique:
        parts.append("ファイルの中で重複しない")
    if col.is_id:
        parts.append("全角の英数字は半角にして保存")
    if col.note:
        parts.append(col.note)
    return "。".join(p for p in parts if p)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"


def _dataset_table(ds: Dataset) -> str:
    lines = [f"### `{ds.name}` {ds.label}", ""]
    if ds.kind == "geo":
        lines += [
            "CSV ではなく、GeoJSON（.geojson・.json）か Shapefile の ZIP で登録します。"
            "1つの地物（ポリゴンかマルチポリゴン）が1つの小学校区で、保存される列は次のとおりです。",
            "",
        ]
    lines += [
        "| 列の見出し | キー | 型 | 必須 | 入れられる値・範囲・決まり |",
        "|---|---|---|---|---|",
    ]
    for col in ds.columns:
        required = "必須" if col.required else "任意"
        lines.append(
            f"| {_cell(col.header)} | `{col.key}` | {TYPE_NAMES[col.type]} | {required} | "
            f"{_cell(_rule(ds, col))} |"
        )
    lines.append("")
    if ds.kind == "geo":
        lines.append("地物が1つもないファイルは受け付けません。")
    elif ds.allow_empty:
        lines.append("見出し行だけのファイル（データ0行）は「この月は0件」として登録します（注意を表示）。")
    else:
        lines.append("見出し行だけのファイル（データ0行）は受け付けません。")
    return "\n".join(lines)


def render_tables() -> str:
    """The markdown of every dataset's column table, as it stands between the markers."""
    intro = (
        f"この節の表は `tsunagu/contract/schema.py` から作っています。手で直さず、schema.py を直してから "
        f"`{REGENERATE}` で作り直してください（`tests/test_contract_doc.py` が一致を確かめます）。"
    )
    return "\n\n".join([intro, *(_dataset_table(ds) for ds in DATASETS.values())])


def _bounds(text: str) -> tuple[int, int]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise ValueError(f"{START} と {END} が1つずつ、この順にありません")
    return start + len(START), end


def tables_in(text: str) -> str:
    """The tables a page holds between its markers, without the surrounding blank lines."""
    start, end = _bounds(text)
    return text[start:end].strip("\n")


def with_tables(text: str) -> str:
    """The page with the tables between its markers replaced by the schema's."""
    start, end = _bounds(text)
    return text[:start] + "\n" + render_tables() + "\n" + text[end:]
