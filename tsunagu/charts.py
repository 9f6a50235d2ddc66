"""Chart builders: plain functions that return an `alt.Chart`, so tests can read `.to_dict()`.

Colours come from here only: one per district, from the Okabe–Ito palette, which stays
distinguishable for the common forms of colour blindness.
"""

from __future__ import annotations

import altair as alt
import polars as pl

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
ACTIVE_COLOR, SUBSIDIZED_COLOR = "#0072B2", "#E69F00"
FONT = "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Meiryo, sans-serif"


def district_colors(districts: list[str]) -> alt.Scale:
    """The same district gets the same colour on every chart (by its order in areas)."""
    return alt.Scale(domain=districts,
                     range=[OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(districts))])


def _configure(chart: alt.Chart) -> alt.Chart:
    return chart.configure(font=FONT).configure_axis(
        labelFontSize=13, titleFontSize=13).configure_legend(
        labelFontSize=13, titleFontSize=13).configure_title(fontSize=16, anchor="start")


def fiscal_year_trend(df: pl.DataFrame, title: str) -> alt.Chart:
    """活動中 and 補助金対象 places per 年度 (from places_by_fiscal_year), labelled with values."""
    long = df.select("fiscal_year_label", "as_of_month", "n_active", "n_subsidized").unpivot(
        index=["fiscal_year_label", "as_of_month"], variable_name="measure", value_name="count",
    ).with_columns(pl.col("measure").replace({"n_active": "通いの場（活動中）",
                                               "n_subsidized": "うち補助金対象"}))
    order = df["fiscal_year_label"].to_list()
    base = alt.Chart(long).encode(
        x=alt.X("fiscal_year_label:N", sort=order, title="年度（各年度3月時点）",
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="か所"),
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=["通いの場（活動中）", "うち補助金対象"],
                                        range=[ACTIVE_COLOR, SUBSIDIZED_COLOR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("fiscal_year_label:N", title="年度"),
                 alt.Tooltip("as_of_month:N", title="時点"),
                 alt.Tooltip("measure:N", title="区分"),
                 alt.Tooltip("count:Q", title="か所", format=",")],
    )
    lines = base.mark_line(point=True, strokeWidth=3)
    labels = base.mark_text(dy=-12, fontSize=13).encode(text=alt.Text("count:Q", format=","))
    return _configure((lines + labels).properties(title=title, height=320))


def district_bars(df: pl.DataFrame, value: str, value_title: str, title: str,
                  districts: list[str]) -> alt.Chart:
    """One bar per district, coloured by district, labelled with its value."""
    base = alt.Chart(df).encode(
        y=alt.Y("district:N", sort=districts, title=None),
        x=alt.X(f"{value}:Q", title=value_title),
        color=alt.Color("district:N", scale=district_colors(districts), legend=None),
        tooltip=[alt.Tooltip("district:N", title="地区"),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=",")],
    )
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(
        text=alt.Text(f"{value}:Q", format=","), color=alt.value("#222"))
    return _configure((bars + labels).properties(title=title, height=36 * len(districts) + 40))
