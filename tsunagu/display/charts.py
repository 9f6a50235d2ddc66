"""Chart builders: plain functions that return an `alt.Chart`, so tests can read `.to_dict()`.

Colours come from here only: one per district, from the Okabe–Ito palette, which stays
distinguishable for the common forms of colour blindness.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import threading
from collections import OrderedDict

import altair as alt
import polars as pl

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
ACTIVE_COLOR, SUBSIDIZED_COLOR = "#0072B2", "#E69F00"
FONT = "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Meiryo, sans-serif"


def district_colors(districts: list[str]) -> alt.Scale:
    """The same district gets the same colour on every chart (by its order in areas)."""
    return alt.Scale(domain=districts, range=[OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(districts))])


# Chart objects are checked against the Vega-Lite schema in the tests (every page's charts,
# see test_charts_are_valid_vega_lite), not on every rerun: Altair validating each object as
# it is built and again in to_dict() took about half of a page's rerun.
alt.utils.schemapi.disable_debug_mode()


@alt.theme.register("tsunagu", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    # a theme instead of chart.configure(): configure() deep-copies the chart on every rerun
    return {
        "config": {
            "font": FONT,
            "axis": {"labelFontSize": 13, "titleFontSize": 13},
            "legend": {"labelFontSize": 13, "titleFontSize": 13},
            "title": {"fontSize": 16, "anchor": "start", "subtitleFontSize": 13, "subtitleColor": "#333"},
        }
    }


# A chart is a pure function of its data and arguments, and building one with Altair cost
# 10-25 ms of a rerun's CPU; sessions looking at the same area rebuild the same charts. So a
# builder called again with equal data (compared by content: the frames a page gets are new
# copies each run) and equal arguments returns the chart it built before. $TSUNAGU_RERUN_CACHE=off
# builds every time (the benchmark's "before").
REUSE_ENV = "TSUNAGU_RERUN_CACHE"
_REUSED_MAX = 256
_reused: OrderedDict = OrderedDict()
_reused_lock = threading.Lock()


def reusing() -> bool:
    return os.environ.get(REUSE_ENV, "on").strip().lower() not in {"off", "0", "no", "false"}


_SMALL_CELLS = 20_000


def _content(value) -> object:
    """A hashable stand-in for an argument: a frame by its bytes (schema and rows in order)."""
    if isinstance(value, pl.DataFrame):
        if value.height * value.width <= _SMALL_CELLS:  # a page's frames: ~20x quicker than IPC
            body = pickle.dumps((list(map(str, value.schema.items())), value.to_dict(as_series=False)))
        else:
            body = value.write_ipc(None).getvalue()
        return ("frame", hashlib.blake2b(body, digest_size=20).digest())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *(_content(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *((k, _content(v)) for k, v in value.items()))
    hash(value)  # anything else must be hashable as it is (str, numbers, None)
    return (type(value).__name__, value)  # True and 1 are equal keys, not equal arguments


def _reuse(build):
    @functools.wraps(build)
    def builder(*args, **kwargs):
        if not reusing():
            return build(*args, **kwargs)
        key = (build.__name__, _content(args), _content(kwargs))
        with _reused_lock:
            chart = _reused.get(key)
            if chart is not None:
                _reused.move_to_end(key)
                return chart
        chart = build(*args, **kwargs)
        with _reused_lock:
            _reused[key] = chart
            while len(_reused) > _REUSED_MAX:
                _reused.popitem(last=False)
        return chart

    return builder


def _district_color(districts: list[str]) -> alt.Color:
    """Each district in its own colour, the legend on top in the areas file's order, four to a
    row: in one row, a phone's narrow chart cut the last districts off the legend."""
    return alt.Color(
        "district:N",
        title="地区",
        scale=district_colors(districts),
        sort=districts,
        legend=alt.Legend(orient="top", columns=4),
    )


def _layered(*layers, **properties) -> alt.LayerChart:
    """The layers as one chart, in one step: `a + b + c` deep-copied the whole chart at every
    `+` and again for `.properties()` (about half of a chart's cost)."""
    return alt.LayerChart(layer=list(layers), **properties)


def spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec of a chart, with its (small, aggregated) data inline (a new dict on
    every call: callers may change it)."""
    return chart.to_dict(validate=False)


@_reuse
def fiscal_year_trend(df: pl.DataFrame, title: str, label_size: int = 13) -> alt.Chart:
    """活動中 and 補助金対象 places per 年度 (from places_by_fiscal_year), labelled with values
    (larger on the wall: `label_size`)."""
    long = (
        df.select("fiscal_year_label", "as_of_month", "n_active", "n_subsidized")
        .unpivot(
            index=["fiscal_year_label", "as_of_month"],
            variable_name="measure",
            value_name="count",
        )
        .with_columns(
            pl.col("measure").replace({"n_active": "通いの場（活動中）", "n_subsidized": "うち補助金対象"})
        )
    )
    order = df["fiscal_year_label"].to_list()
    base = alt.Chart(long).encode(
        x=alt.X(
            "fiscal_year_label:N", sort=order, title="年度（各年度3月時点）", axis=alt.Axis(labelAngle=0)
        ),
        y=alt.Y("count:Q", title="か所"),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(
                domain=["通いの場（活動中）", "うち補助金対象"], range=[ACTIVE_COLOR, SUBSIDIZED_COLOR]
            ),
            legend=alt.Legend(orient="top"),
        ),
        tooltip=[
            alt.Tooltip("fiscal_year_label:N", title="年度"),
            alt.Tooltip("as_of_month:N", title="時点"),
            alt.Tooltip("measure:N", title="区分"),
            alt.Tooltip("count:Q", title="か所", format=","),
        ],
    )
    lines = base.mark_line(point=True, strokeWidth=3)
    labels = base.mark_text(dy=-label_size, fontSize=label_size).encode(text=alt.Text("count:Q", format=","))
    return _layered(lines, labels, title=title, height=320)


def bar_height(rows: int, per_row: int) -> int:
    """A bar chart's height: the page stretches charts to its width and fits the axis and its
    title inside the height, so a chart of two bars needs that room on top of its rows (two
    municipalities, or two 事業グループ, once drew as a flat line)."""
    return max(190, per_row * rows + 150)


@_reuse
def district_bars(
    df: pl.DataFrame, value: str, value_title: str, title: str, districts: list[str]
) -> alt.Chart:
    """One bar per district, coloured by district, labelled with its value."""
    base = alt.Chart(df).encode(
        y=alt.Y("district:N", sort=districts, title=None),
        x=alt.X(f"{value}:Q", title=value_title),
        color=alt.Color("district:N", scale=district_colors(districts), legend=None),
        tooltip=[
            alt.Tooltip("district:N", title="地区"),
            alt.Tooltip(f"{value}:Q", title=value_title, format=","),
        ],
    )
    bars = base.mark_bar()
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(
        text=alt.Text(f"{value}:Q", format=","), color=alt.value("#222")
    )
    return _layered(bars, labels, title=title, height=bar_height(len(districts), 36))


@_reuse
def bars(
    df: pl.DataFrame, category: str, value: str, value_title: str, title: str, color: str = ACTIVE_COLOR
) -> alt.Chart:
    """Horizontal bars, largest first, labelled with values."""
    base = alt.Chart(df).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None),
        x=alt.X(f"{value}:Q", title=value_title),
        tooltip=[
            alt.Tooltip(f"{category}:N", title="区分"),
            alt.Tooltip(f"{value}:Q", title=value_title, format=","),
        ],
    )
    chart = base.mark_bar(color=color) + base.mark_text(align="left", dx=4, fontSize=13).encode(
        text=alt.Text(f"{value}:Q", format=",")
    )
    return chart.properties(title=title, height=bar_height(df.height, 30))


@_reuse
def district_lines(
    df: pl.DataFrame, value: str, value_title: str, title: str, districts: list[str]
) -> alt.Chart:
    """One line per district over months, in the district's colour."""
    chart = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=_month_axis(df),
            y=alt.Y(f"{value}:Q", title=value_title),
            color=_district_color(districts),
            tooltip=[
                alt.Tooltip("month:N", title="月"),
                alt.Tooltip("district:N", title="地区"),
                alt.Tooltip(f"{value}:Q", title=value_title, format=","),
            ],
        )
    )
    return chart.properties(title=title, height=320)


def _month_axis(df: pl.DataFrame) -> alt.X:
    """Months across, slanted, about twelve of them labelled however many there are."""
    unique = sorted(set(df["month"].to_list()))
    ticks = unique[:: max(1, len(unique) // 12)]
    return alt.X("month:N", title="月", axis=alt.Axis(labelAngle=-45, values=ticks))


@_reuse
def monthly_lines(df: pl.DataFrame, columns: dict[str, str], title: str, y_title: str) -> alt.Chart:
    """Several monthly measures as lines (columns: key -> Japanese name)."""
    long = (
        df.select("month", *columns)
        .unpivot(index="month", variable_name="measure", value_name="value")
        .with_columns(pl.col("measure").replace(columns))
    )
    names = list(columns.values())
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=_month_axis(df),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=names,
                legend=alt.Legend(orient="top"),
                scale=alt.Scale(domain=names, range=OKABE_ITO[: len(names)]),
            ),
            tooltip=[
                alt.Tooltip("month:N", title="月"),
                alt.Tooltip("measure:N", title="項目"),
                alt.Tooltip("value:Q", title="値", format=","),
            ],
        )
    )
    return chart.properties(title=title, height=300)


@_reuse
def stacked_attendance(df: pl.DataFrame, title: str) -> alt.Chart:
    long = (
        df.select("month", "attendees_onsite", "attendees_online")
        .unpivot(index="month", variable_name="where", value_name="people")
        .with_columns(pl.col("where").replace({"attendees_onsite": "会場", "attendees_online": "オンライン"}))
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=_month_axis(df),
            y=alt.Y("people:Q", title="参加者数（人）", stack=True),
            color=alt.Color(
                "where:N",
                title=None,
                sort=["会場", "オンライン"],
                scale=alt.Scale(domain=["会場", "オンライン"], range=[ACTIVE_COLOR, SUBSIDIZED_COLOR]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("month:N", title="月"),
                alt.Tooltip("where:N", title="参加"),
                alt.Tooltip("people:Q", title="人", format=","),
            ],
        )
    )
    return chart.properties(title=title, height=300)


@_reuse
def ranked_bars(df: pl.DataFrame, value: str, value_title: str, title: str, chosen: str) -> alt.Chart:
    """Municipalities ranked by a measure, the chosen one highlighted."""
    base = alt.Chart(df).encode(
        y=alt.Y("municipality:N", sort="-x", title=None),
        x=alt.X(f"{value}:Q", title=value_title),
        tooltip=[
            alt.Tooltip("municipality:N", title="市町村"),
            alt.Tooltip(f"{value}:Q", title=value_title, format=",.2f"),
        ],
    )
    bars_ = base.mark_bar().encode(
        color=alt.condition(
            alt.datum.municipality == chosen, alt.value(SUBSIDIZED_COLOR), alt.value("#9BB7D4")
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(
        text=alt.Text(f"{value}:Q", format=",.2f")
    )
    return _layered(bars_, labels, title=title, height=bar_height(df.height, 26))


_fonts_registered = False


def to_png(chart: alt.TopLevelMixin, width: int | None = None, scale: float = 2.0) -> bytes:
    """The chart as a PNG, drawn offline by vl-convert with the embedded Japanese font
    (the browser's fonts are not there), at twice the pixels so it prints sharply."""
    import vl_convert as vlc

    from tsunagu.display.font import FONT_FAMILY, font_path

    global _fonts_registered
    if not _fonts_registered:
        vlc.register_font_directory(str(font_path().parent))
        _fonts_registered = True
    drawn = spec(chart)
    drawn.setdefault("config", {})["font"] = FONT_FAMILY
    if width:
        drawn["width"] = width
    # no base URL allowed: every chart carries its data inline, and nothing is fetched
    return vlc.vegalite_to_png(drawn, scale=scale, allowed_base_urls=[])
