"""The conference board (県域比較): which prefecture it shows, and who has sent what (query
upload_status) as the wall, the screen and Excel read it."""

from __future__ import annotations

import polars as pl

from tsunagu.contract import fmt
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import month_label

# the measures the board compares: chart titles, and the shorter words of the choice
MEASURES = {
    "active_per_1000_65plus": "通いの場（65歳以上1,000人あたり）",
    "pantry_per_10000_65plus": "パントリー設置数（65歳以上1万人あたり）",
    "attendance_per_1000": "行事参加者（人口1,000人あたり）",
}
MEASURE_CHOICES = {
    "active_per_1000_65plus": "通いの場（65歳以上1,000人あたり）",
    "pantry_per_10000_65plus": "パントリー（65歳以上1万人あたり）",
    "attendance_per_1000": "行事参加（人口1,000人あたり）",
}
STATUS_DATASETS = ("places", "pantry", "forums", "areas")
MISSING = "未登録"
NEVER = "未登録（これまでなし）"
STATES = {"in": "登録済み", "missing": MISSING, "never": NEVER}
NO_GROUP = "（グループなし）"
# names of the missing ones in the count line up to this many; more, and the table says it
NAMED_MISSING = 5


def month_short(month: str | None) -> str:
    """'2025-03' -> '2025年3月' (the era form is on the page's header already)."""
    return month_label(month).split("（")[0] if month else "—"


def prefecture_for(munis: pl.DataFrame, prefecture: str, municipality: str) -> tuple[str, str | None]:
    """The prefecture the board shows, and why it is not the user's own (None when it is):
    a prefecture with one municipality has nothing to compare, so the board opens on the
    one with the most (the first of them in the areas' order)."""
    counts = munis.group_by("prefecture", maintain_order=True).len()
    n = dict(counts.iter_rows())
    if n.get(prefecture, 0) >= 2 or counts.is_empty():
        return prefecture, None
    best, most = max(counts.iter_rows(), key=lambda r: r[1])
    if most < 2:
        return prefecture, None
    why = (
        f"{fmt.plain(prefecture)}で比べられる市町村は{fmt.plain(municipality)}だけのため、"
        f"市町村の多い{fmt.plain(best)}（{most}市町村）を表示しています。"
        "ほかの都道府県は左の「都道府県」で選べます。"
        f"{fmt.plain(municipality)}に人口の規模と高齢化率が近い市町村は、すべての都道府県から下に示します。"
    )
    return best, why


def count_line(status: pl.DataFrame, dataset: str, latest: bool, month: str) -> str:
    """「今月（2025年3月）の居場所・通いの場: 18市町村のうち17が登録済み」, naming the missing
    ones when there are few (Markdown: names escaped)."""
    rows = status.filter(pl.col("dataset") == dataset)
    label = DATASETS[dataset].label
    done = int((rows["state"] == "in").sum())
    if dataset == "areas":  # a master kept until replaced, not sent monthly
        line = f"{label}: {rows.height}市町村のうち{done}が登録済み"
    else:
        when = month_short(month)
        line = f"{f'今月（{when}）' if latest else when}の{label}: {rows.height}市町村のうち{done}が登録済み"
    missing = rows.filter(pl.col("state") != "in")["municipality"].to_list()
    if 0 < len(missing) <= NAMED_MISSING:
        line += f"（未登録: {'、'.join(fmt.plain(m) for m in missing)}）"
    return line


def status_table(status: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """One dataset's status for st.table (whose cells are Markdown: every value from the data
    is escaped): the ones not sent first, marked in red and bold as well as in words."""
    rows = status.filter(pl.col("dataset") == dataset)
    return pl.DataFrame(
        {
            "市町村": [fmt.plain(m) for m in rows["municipality"]],
            "状態": [f":red[**{STATES[s]}**]" if s != "in" else STATES[s] for s in rows["state"].to_list()],
            "最新の受付月": [month_short(m) for m in rows["latest_month"].to_list()],
            "登録者": [fmt.plain(u) if u else "—" for u in rows["user_name"].to_list()],
            "登録日時": [fmt.plain(fmt.jst(t)) for t in rows["committed_at"].to_list()],
        },
        schema=dict.fromkeys(("市町村", "状態", "最新の受付月", "登録者", "登録日時"), pl.String),
    )


def status_export(status: pl.DataFrame, month: str) -> pl.DataFrame:
    """Every dataset's status as one sheet for Excel (plain text, Japan time)."""
    return pl.DataFrame(
        {
            "団体コード": status["municipality_code"].to_list(),
            "市町村": status["municipality"].to_list(),
            "事業グループ": status["project_group"].to_list(),
            "データ": [DATASETS[d].label for d in status["dataset"].to_list()],
            "対象月": [month_short(month)] * status.height,
            "状態": [STATES[s] for s in status["state"].to_list()],
            "最新の受付月": [month_short(m) for m in status["latest_month"].to_list()],
            "登録者": status["user_name"].to_list(),
            "登録日時（日本時間）": [
                fmt.jst(t, excel=True) if t else None for t in status["committed_at"].to_list()
            ],
        },
        schema={
            k: pl.String
            for k in (
                "団体コード",
                "市町村",
                "事業グループ",
                "データ",
                "対象月",
                "状態",
                "最新の受付月",
                "登録者",
                "登録日時（日本時間）",
            )
        },
    )


def groups_table(groups: pl.DataFrame) -> pl.DataFrame:
    """The groups as the table shows them: a municipality without a group under its own name."""
    return groups.drop("is_total").with_columns(pl.col("project_group").fill_null(NO_GROUP))
