"""The yearly national 通いの場 survey filled in from the monthly places lists: for a 年度 and a
municipality, the places the survey counts (活動中, meeting at least once a month) by 主な活動,
運営主体, 会場 and frequency band, their participants (all, 65+, 75+) and the 参加率, and for
every place listed that month whether it was counted and why.

The rules are tsunagu/contract/survey.py's: the month a 年度 counts (MONTH_RULE), the bands
(BAND_RULE) and the one table from the project's categories to the survey's headings.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tsunagu.contract.schema import SURVEY_ACTIVITIES
from tsunagu.contract.survey import (
    ACTIVITY_OF_CATEGORY,
    BANDS,
    NOT_GIVEN,
    OPERATOR_OF_TYPE,
    OPERATORS,
    VENUE_OF_TYPE,
    VENUES,
    band_of,
)
from tsunagu.query.database import Database

FROM_LIST, FROM_CATEGORY = "主な活動の列", "種別から読み替え"


def _sessions(value: float | None) -> str:
    return "—" if value is None else f"{value:g}回/月"


def reason(status: str, sessions: float | None) -> tuple[bool, str]:
    """Whether the survey counts a place listed in its month, and why, in a sentence."""
    if status != "活動中":
        return False, f"{status}のため数えない"
    if sessions is None:
        return False, "開催頻度が空欄のため数えない（月1回以上か確かめられない）"
    band = band_of(sessions)
    if band is None:
        return False, f"月1回未満（{_sessions(sessions)}）のため数えない"
    return True, f"活動中・{_sessions(sessions)}（{band}）"


def classify(places: pl.DataFrame) -> pl.DataFrame:
    """survey_places with what the survey makes of each place: counted or not and why, its
    frequency band and its headings of 主な活動内容 (and where that came from), 運営主体 and 会場."""
    rows = []
    for r in places.iter_rows(named=True):
        counted, why = reason(r["status"], r["sessions_per_month"])
        activity = r["main_activity"] or ACTIVITY_OF_CATEGORY.get(r["category"])
        rows.append(
            {
                "is_counted": counted,
                "reason": why,
                "band": band_of(r["sessions_per_month"]) if counted else None,
                "survey_activity": activity or NOT_GIVEN,
                "activity_source": FROM_LIST if r["main_activity"] else FROM_CATEGORY,
                "survey_operator": OPERATOR_OF_TYPE.get(r["operator_type"], NOT_GIVEN),
                "survey_venue": VENUE_OF_TYPE.get(r["venue_type"], NOT_GIVEN),
            }
        )
    extra = pl.DataFrame(
        rows,
        schema={
            "is_counted": pl.Boolean,
            "reason": pl.String,
            "band": pl.String,
            "survey_activity": pl.String,
            "activity_source": pl.String,
            "survey_operator": pl.String,
            "survey_venue": pl.String,
        },
    )
    return pl.concat([places, extra], how="horizontal")


@dataclass(frozen=True)
class SurveyReport:
    prefecture: str
    municipality: str
    fiscal_year: int
    as_of_month: str | None  # None: no places list in that 年度
    population_65plus: int | None
    places: pl.DataFrame  # classify(): every place listed that month
    by_activity: list[tuple[str, int]]  # the survey's headings in its order (未入力 last, if any)
    by_operator: list[tuple[str, int]]
    by_venue: list[tuple[str, int]]
    by_band: list[tuple[str, int]]

    @property
    def counted(self) -> pl.DataFrame:
        return self.places.filter(pl.col("is_counted"))

    @property
    def n_listed(self) -> int:
        return self.places.height

    @property
    def n_counted(self) -> int:
        return self.counted.height

    @property
    def n_reporting(self) -> int:
        """Counted places that give 参加実人数のうち65歳以上 (what the 参加率 adds up)."""
        return self.counted["participants_65plus"].is_not_null().sum()

    def _total(self, column: str) -> int | None:
        values = self.counted[column].drop_nulls()
        return int(values.sum()) if values.len() else None

    @property
    def participants_real(self) -> int | None:
        return self._total("participants_real")

    @property
    def participants_65plus(self) -> int | None:
        return self._total("participants_65plus")

    @property
    def participants_75plus(self) -> int | None:
        return self._total("participants_75plus")

    @property
    def rate_pct(self) -> float | None:
        """参加率 (%), unrounded as the queries give it (shown with one decimal)."""
        older = self.participants_65plus
        if older is None or not self.population_65plus:
            return None
        return 100 * older / self.population_65plus

    @property
    def not_counted(self) -> list[tuple[str, int]]:
        """Why places were left out, with how many (most first)."""
        left = self.places.filter(~pl.col("is_counted"))
        groups = left.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
        return list(groups.iter_rows())


def _counts(frame: pl.DataFrame, column: str, headings: tuple[str, ...]) -> list[tuple[str, int]]:
    n = dict(frame.group_by(column).len().iter_rows())
    out = [(h, int(n.get(h, 0))) for h in headings]
    if n.get(NOT_GIVEN):
        out.append((NOT_GIVEN, int(n[NOT_GIVEN])))
    return out


def summarise(
    places: pl.DataFrame,
    prefecture: str,
    municipality: str,
    fiscal_year: int,
    population_65plus: int | None,
) -> SurveyReport:
    """The report from survey_places' rows (a test gives crafted ones)."""
    classified = classify(places)
    counted = classified.filter(pl.col("is_counted"))
    as_of = places["as_of_month"][0] if places.height else None
    return SurveyReport(
        prefecture,
        municipality,
        fiscal_year,
        as_of,
        population_65plus,
        classified,
        _counts(counted, "survey_activity", SURVEY_ACTIVITIES),
        _counts(counted, "survey_operator", OPERATORS),
        _counts(counted, "survey_venue", VENUES),
        _counts(counted, "band", tuple(b.label for b in BANDS)),
    )


def report(db: Database, prefecture: str, municipality: str, fiscal_year: int) -> SurveyReport:
    """The survey's 通いの場 items of a municipality for a 年度, from the store."""
    places = db.query(
        "survey_places", prefecture=prefecture, municipality=municipality, fiscal_year=fiscal_year
    )
    summary = db.query("area_summary", prefecture=prefecture, municipality=municipality)
    people = (
        int(summary["population_65plus"][0])
        if summary.height and summary["population_65plus"][0] is not None
        else None
    )
    return summarise(places, prefecture, municipality, fiscal_year, people)
