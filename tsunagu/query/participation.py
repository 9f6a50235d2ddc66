"""参加率 (people aged 65+ taking part in 通いの場 ÷ people aged 65+) as every surface states it,
from the named queries participation_monthly, participation_by_district and
participation_coverage: the figure, how many places it covers, and the national target."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tsunagu.contract.survey import TARGET_PCT
from tsunagu.query.database import Database

RATE_LABEL = "通いの場の参加率（65歳以上）"


def shown(value: float) -> float:
    """A rate as every surface shows it: one decimal (the queries give it unrounded, so no
    figure is rounded twice)."""
    return float(f"{value:.1f}")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def coverage_text(n_reporting: int, n_active: int) -> str:
    """「参加実人数（うち65歳以上）の入力がある通いの場 769 / 852か所」: what a rate covers."""
    return f"参加実人数（うち65歳以上）の入力がある通いの場 {n_reporting:,} / {n_active:,}か所"


@dataclass(frozen=True)
class Rate:
    """One area's 参加率 in one month (a 年度's figure is the 年度's last month)."""

    month: str
    rate_pct: float | None  # None: no 活動中 place gives the count
    n_active: int
    n_reporting: int
    participants_65plus: int | None
    population_65plus: int | None

    @property
    def text(self) -> str:
        return pct(self.rate_pct)

    @property
    def complete(self) -> bool:
        return self.n_reporting == self.n_active

    @property
    def coverage(self) -> str:
        return coverage_text(self.n_reporting, self.n_active)

    @property
    def against_target(self) -> str:
        """「国の目標 8% まで あと1.2ポイント」 / 「国の目標 8% を0.4ポイント上回る」."""
        if self.rate_pct is None:
            return f"国の目標 {TARGET_PCT:g}%"
        diff = round(shown(self.rate_pct) - TARGET_PCT, 1)
        if diff > 0:
            return f"国の目標 {TARGET_PCT:g}% を{diff:.1f}ポイント上回る"
        if diff == 0:
            return f"国の目標 {TARGET_PCT:g}% に届いている"
        return f"国の目標 {TARGET_PCT:g}% まで あと{-diff:.1f}ポイント"

    def line(self) -> str:
        """The sentence for paper: the rate, the target and what it covers."""
        partial = "" if self.complete else "（入力のある通いの場だけの合計です）"
        return f"{RATE_LABEL} {self.text}（{self.against_target}）。{self.coverage}{partial}"


def rate_of(row: dict) -> Rate:
    return Rate(
        row["month"],
        row["participation_rate_pct"],
        row["n_active"],
        row["n_reporting"],
        row["participants_65plus"],
        row["population_65plus"],
    )


def at(monthly: pl.DataFrame, month: str | None = None) -> Rate | None:
    """The rate of a month of participation_monthly (None = its latest); None when the
    municipality has no places upload that month."""
    rows = monthly if month is None else monthly.filter(pl.col("month") == month)
    if rows.is_empty():
        return None
    return rate_of(rows.row(rows.height - 1, named=True))


def before(monthly: pl.DataFrame, month: str) -> Rate | None:
    """The rate of the latest month before `month` (the month before, as a rule)."""
    return at(monthly.filter(pl.col("month") < month))


def change_text(now: Rate | None, earlier: Rate | None) -> str | None:
    """「+0.1ポイント」 between two rates, None when either is unknown."""
    if now is None or earlier is None or now.rate_pct is None or earlier.rate_pct is None:
        return None
    diff = round(shown(now.rate_pct) - shown(earlier.rate_pct), 1)
    return "±0ポイント" if diff == 0 else f"{diff:+.1f}ポイント"


def fiscal_years(monthly: pl.DataFrame) -> pl.DataFrame:
    """One row per 年度: its last month (March, or the latest of a 年度 not over yet)."""
    return (
        monthly.filter(pl.col("is_fiscal_year_end"))
        .drop("is_fiscal_year_end")
        .rename({"month": "as_of_month"})
    )


def _shown_column() -> pl.Expr:
    return pl.col("participation_rate_pct").map_elements(shown, return_dtype=pl.Float64)


def for_table(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame with its rate as tables and downloads show it (one decimal)."""
    if "participation_rate_pct" not in frame.columns:
        return frame
    return frame.with_columns(_shown_column())


def with_gaps(schools: pl.DataFrame, target: float = TARGET_PCT) -> pl.DataFrame:
    """participation_coverage with `is_gap`: a school district older than the municipality as
    a whole whose 参加率 is under the national target (a rate no place gives is not a gap:
    it is unknown)."""
    return schools.with_columns(
        (
            (pl.col("aging_rate_pct") > pl.col("municipality_aging_rate_pct"))
            & (_shown_column() < target)  # as shown: 7.96 reads 8.0, not under the target
        )
        .fill_null(False)
        .alias("is_gap")
    )


def paper_line(
    db: Database, prefecture: str, municipality: str, districts: list[str] | None, month: str
) -> str:
    """The handout's line: the area's rate in the month, the target and what it covers."""
    monthly = db.query(
        "participation_monthly", prefecture=prefecture, municipality=municipality, districts=districts
    )
    rate = at(monthly, month)
    if rate is None or rate.rate_pct is None:
        return f"{RATE_LABEL} —（参加実人数（うち65歳以上）の入力がある通いの場がありません）。国の目標 {TARGET_PCT:g}%"
    return rate.line()
