"""Charts of 参加率 (people aged 65+ taking part in 通いの場 ÷ people aged 65+), each with the
national target as a dashed reference line: by 年度, by month, by district, per school district
against 高齢化率, and municipalities ranked."""

from __future__ import annotations

import functools

import altair as alt
import polars as pl

from tsunagu.contract.survey import TARGET_PCT
from tsunagu.display.charts import (
    ACTIVE_COLOR,
    SUBSIDIZED_COLOR,
    _district_color,
    _layered,
    _month_axis,
    _reuse,
    bar_height,
    district_colors,
)

TARGET_COLOR = "#D55E00"  # Okabe–Ito vermilion: the line every chart compares with
RATE = "participation_rate_pct"
RATE_TITLE = "参加率（65歳以上、%）"
TARGET_TEXT = f"国の目標 {TARGET_PCT:g}%"


@functools.cache
def _target(axis: str, label_size: int = 13, at_end: bool = False) -> tuple[alt.Chart, alt.Chart]:
    """The national target: a dashed line across (axis "y") or down (axis "x") and its label,
    as two layers. Built once per form and shared by every chart (Altair never changes a layer
    it is given; building these two cost ~15 ms a chart)."""
    data = pl.DataFrame({"target": [TARGET_PCT], "label": [TARGET_TEXT]})
    base = alt.Chart(data)
    rule = base.mark_rule(color=TARGET_COLOR, strokeDash=[6, 4], size=2).encode(**{axis: "target:Q"})
    if axis == "y":
        text = base.mark_text(
            color=TARGET_COLOR,
            align="right" if at_end else "left",
            dy=-8,
            fontSize=label_size,
            fontWeight="bold",
        ).encode(y="target:Q", x=alt.value("width" if at_end else 0), text="label:N")
    else:
        text = base.mark_text(
            color=TARGET_COLOR, align="left", dx=4, y=-6, fontSize=label_size, fontWeight="bold"
        ).encode(x="target:Q", text="label:N")
    return rule, text


def _scale(values: pl.Series) -> alt.Scale:
    """From 0 to a little above the highest rate, and never hiding the target line."""
    top = max([TARGET_PCT, *[v for v in values.to_list() if v is not None]])
    return alt.Scale(domain=[0, round(top * 1.15 + 0.5)])


def _tooltip(*first: alt.Tooltip) -> list[alt.Tooltip]:
    """What a point or bar says when pointed at: what it is (`first`), then the rate and the
    places it counts."""
    return [
        *first,
        alt.Tooltip(f"{RATE}:Q", title="参加率（%）", format=".1f"),
        alt.Tooltip("n_reporting:Q", title="入力がある通いの場", format=","),
        alt.Tooltip("n_active:Q", title="通いの場（活動中）", format=","),
    ]


@_reuse
def rate_trend(df: pl.DataFrame, title: str, label_size: int = 13) -> alt.LayerChart:
    """参加率 per 年度 (participation.fiscal_years: the 年度's last month), labelled; 年度 with
    no count are left out."""
    shown = df.filter(pl.col(RATE).is_not_null()).select(
        "fiscal_year_label", "as_of_month", RATE, "n_reporting", "n_active"
    )
    base = alt.Chart(shown).encode(
        x=alt.X(
            "fiscal_year_label:N",
            sort=shown["fiscal_year_label"].to_list(),
            title="年度（各年度の最後の月）",
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y(f"{RATE}:Q", title=RATE_TITLE, scale=_scale(shown[RATE])),
        tooltip=_tooltip(
            alt.Tooltip("fiscal_year_label:N", title="年度"), alt.Tooltip("as_of_month:N", title="時点")
        ),
    )
    line = base.mark_line(point=True, strokeWidth=3, color=ACTIVE_COLOR)
    labels = base.mark_text(dy=-label_size, fontSize=label_size).encode(
        text=alt.Text(f"{RATE}:Q", format=".1f")
    )
    return _layered(line, labels, *_target("y", label_size), title=title, height=320)


@_reuse
def rate_monthly(df: pl.DataFrame, title: str) -> alt.LayerChart:
    """参加率 month by month (participation_monthly), with the target."""
    shown = df.filter(pl.col(RATE).is_not_null()).select("month", RATE, "n_reporting", "n_active")
    line = (
        alt.Chart(shown)
        .mark_line(point=True, color=ACTIVE_COLOR)
        .encode(
            x=_month_axis(shown) if shown.height else alt.X("month:N", title="月"),
            y=alt.Y(f"{RATE}:Q", title=RATE_TITLE, scale=_scale(shown[RATE])),
            tooltip=_tooltip(alt.Tooltip("month:N", title="月")),
        )
    )
    return _layered(line, *_target("y"), title=title, height=300)


@_reuse
def rate_bars(df: pl.DataFrame, title: str, districts: list[str], label_size: int = 13) -> alt.LayerChart:
    """One bar per district (participation_by_district), the target as a line down."""
    shown = df.select("district", RATE, "n_reporting", "n_active")
    base = alt.Chart(shown).encode(
        y=alt.Y("district:N", sort=districts, title=None),
        x=alt.X(f"{RATE}:Q", title=RATE_TITLE, scale=_scale(shown[RATE])),
        tooltip=_tooltip(alt.Tooltip("district:N", title="地区")),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("district:N", scale=district_colors(districts), legend=None)
    )
    labels = base.mark_text(align="left", dx=4, fontSize=label_size, color="#222").encode(
        text=alt.Text(f"{RATE}:Q", format=".1f")
    )
    return _layered(
        bars, labels, *_target("x", label_size), title=title, height=bar_height(len(districts), 36)
    )


@_reuse
def rate_scatter(df: pl.DataFrame, title: str, districts: list[str]) -> alt.LayerChart:
    """Each school district (participation.with_gaps): 高齢化率 across, 参加率 up; the target
    across, the municipality's 高齢化率 down; the gaps (older, under the target) ringed."""
    shown = df.filter(pl.col(RATE).is_not_null())
    base = alt.Chart(shown).encode(
        x=alt.X("aging_rate_pct:Q", title="高齢化率（%）", scale=alt.Scale(zero=False)),
        y=alt.Y(f"{RATE}:Q", title=RATE_TITLE, scale=_scale(shown[RATE])),
        tooltip=_tooltip(
            alt.Tooltip("school_district:N", title="小学校区"),
            alt.Tooltip("district:N", title="地区"),
            alt.Tooltip("aging_rate_pct:Q", title="高齢化率（%）"),
        ),
    )
    points = base.mark_circle(size=140, opacity=0.85).encode(color=_district_color(districts))
    gaps = base.transform_filter("datum.is_gap").mark_point(size=420, color=TARGET_COLOR, strokeWidth=2.5)
    whole = (
        alt.Chart(shown.select("municipality_aging_rate_pct").head(1))
        .mark_rule(color="#777", strokeDash=[2, 3])
        .encode(x="municipality_aging_rate_pct:Q")
    )
    return _layered(points, gaps, whole, *_target("y"), title=title, height=380)


@_reuse
def rate_ranked(df: pl.DataFrame, title: str, chosen: str) -> alt.LayerChart:
    """Municipalities ranked by 参加率 (participation_by_municipality), the chosen one
    highlighted; municipalities without a rate are left out (the table lists them)."""
    shown = df.filter(pl.col(RATE).is_not_null()).select("municipality", RATE, "n_reporting", "n_active")
    base = alt.Chart(shown).encode(
        y=alt.Y("municipality:N", sort="-x", title=None),
        x=alt.X(f"{RATE}:Q", title=RATE_TITLE, scale=_scale(shown[RATE])),
        tooltip=_tooltip(alt.Tooltip("municipality:N", title="市町村")),
    )
    bars = base.mark_bar().encode(
        color=alt.condition(
            alt.datum.municipality == chosen, alt.value(SUBSIDIZED_COLOR), alt.value("#9BB7D4")
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(text=alt.Text(f"{RATE}:Q", format=".1f"))
    return _layered(bars, labels, *_target("x"), title=title, height=bar_height(shown.height, 26))
