"""The map on screen: the area's school districts shaded, places and pantry sites on 地理院タイル
(tsunagu/display/maps.py makes the layers; this draws them with st.pydeck_chart), its legend,
and beside it the figures of the school district clicked (or picked from the list, for those
who do not use a mouse), against the municipality's. Used by the places page, 地区カルテ and
作戦会議モード."""

from __future__ import annotations

import html
import threading
from collections import OrderedDict

import polars as pl
import pydeck as pdk
import streamlit as st

from tsunagu.config import data_dir
from tsunagu.contract import fmt
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import session
from tsunagu.dashboard.filters import Filters
from tsunagu.dashboard.gate import can_detail
from tsunagu.display import maps

NOT_PICKED = "（選んでいません）"
WALL_LABEL_PX = 26
# the view is fitted for a map this wide (the page's width is not known to the server): a phone
# shows the area whole, a wide screen with a margin
FIT_WIDTH = 360
WALL_GAPS_LISTED = 10
# the wall's map on a 1080p screen and on a 720p projector (below the slide's title; the
# wall's buttons show only while the pointer moves, over the slide)
WALL_HEIGHTS = {
    "tall": 700,
    "short": 500,
}  # beside the wall's gap map (the map names them all where they fit)
CSS = """<style>
.map-legend {line-height: 1.55; color: #111;}
.map-legend .t {font-weight: 700; margin: 0.3em 0 0.2em 0;}
.map-legend .sw {display: inline-block; width: 1.1em; height: 0.9em; border: 1px solid #777;
  vertical-align: -0.1em; margin-right: 0.45em;}
.map-legend .ln {display: inline-block; width: 1.1em; height: 0; border-top: 4px solid #111;
  vertical-align: 0.25em; margin-right: 0.45em;}
.map-legend .pt {display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%;
  border: 1px solid #fff; outline: 1px solid #999; vertical-align: -0.05em; margin: 0 0.5em 0 0.15em;}
.map-legend .ring {display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%;
  border: 2.5px solid #111; vertical-align: -0.1em; margin: 0 0.45em 0 0.1em;}
.map-legend .n {color: #333; font-size: 0.92em;}
.map-card {border-collapse: collapse; width: 100%; font-size: 0.95em; margin-top: 0.4em;}
.map-card caption {caption-side: top; text-align: left; font-weight: 700; font-size: 1.1em; color: #111;
  padding-bottom: 0.3em;}
.map-card th, .map-card td {border: none; border-bottom: 1px solid #d5dae0; padding: 0.3em 0.4em;
  text-align: right; white-space: nowrap;}
.map-card tbody th {text-align: left; font-weight: 400; white-space: normal;}
.map-card thead th {font-weight: 700;}
.map-card td.c {color: #333;}
</style>"""


class _Deck(pdk.Deck):
    """The spec as st.pydeck_chart reads a pydeck.Deck (its JSON and its tooltip), written
    compactly (maps.deck_json): pydeck indents every coordinate on a line of its own, and its
    layer arguments read any string as an expression. pydeck's own set-up is skipped: it
    looks for Jupyter and API keys on every call, a few ms a rerun, for nothing used here."""

    def __init__(self, spec: dict):  # pydeck.Deck.__init__ not called: see above
        self.layers: list = []
        self._tooltip = maps.TOOLTIP
        self._spec = spec

    def to_json(self) -> str:
        return maps.deck_json(self._spec)


# each municipality's polygons (decoded, with their deck.gl JSON) and school districts' figures
# worked out once per data version, shared by every session: a rerun only picks from them
_KEPT_MAX = 128
_kept: OrderedDict = OrderedDict()
_kept_lock = threading.Lock()


def _keep(key: tuple, make):
    key = (str(data_dir()), session.db().refresh(), *key)
    with _kept_lock:
        hit = _kept.get(key)
        if hit is not None:
            _kept.move_to_end(key)
    if hit is None:
        hit = make()
        with _kept_lock:
            _kept[key] = hit
            while len(_kept) > _KEPT_MAX:
                _kept.popitem(last=False)
    return hit


def shapes(prefecture: str, municipality: str, month: str | None) -> maps.Shapes:
    """The school districts' polygons as of the month (its latest boundaries upload by then)."""
    return _keep(
        ("shapes", prefecture, municipality, month),
        lambda: maps.shapes(
            session.run_query(
                "school_district_boundaries", municipality=municipality, prefecture=prefecture, month=month
            )
        ),
    )


def school_table(prefecture: str, municipality: str, month: str | None) -> pl.DataFrame:
    """Every school district of the municipality with its figures (the whole is what a
    district is read against, whatever area is shown)."""
    where = {"municipality": municipality, "prefecture": prefecture}
    return _keep(
        ("schools", prefecture, municipality, month),
        lambda: maps.school_table(
            session.run_query("places_coverage", **where, month=month),
            session.run_query("school_districts", **where),
            session.run_query("pantry_sites_by_school_district", **where, month=month),
        ),
    )


POINTS_TITLE = "通いの場（種別）"


def legend_html(legend: maps.Legend, css: str = "") -> str:
    e = html.escape
    parts = [f'<div class="t">{e(legend.title)}</div>']
    parts += [
        f'<div><span class="sw" style="background:{c}"></span>{e(label)}</div>'
        for label, c in legend.swatches
    ]
    if legend.outline:
        parts.append(f'<div><span class="ln"></span>{e(legend.outline)}</div>')
    # the kinds of place: beside a shading, only when there are several; alone (the public
    # guide's legend), even one; under their own heading unless the legend's title is it
    if len(legend.points) > 1 or (legend.points and not legend.swatches):
        if legend.title != POINTS_TITLE:
            parts.append(f'<div class="t">{POINTS_TITLE}</div>')
        parts += [
            f'<div><span class="pt" style="background:{c}"></span>{e(label)}</div>'
            for label, c in legend.points
        ]
    if legend.pantry:
        parts.append(f'<div><span class="ring"></span>{e(legend.pantry)}</div>')
    parts += [f'<div class="n">{e(n)}</div>' for n in legend.notes]
    return f'<div class="map-legend {css}">{"".join(parts)}</div>'


def _label(key: tuple[str, str]) -> str:
    return f"{key[1]}（{key[0]}地区）"


def source_note(is_demo: bool, basemap: str) -> str:
    """Under the map: the tiles' attribution (linked) and where the boundaries come from."""
    parts = []
    attribution = maps.attribution_markdown(basemap)
    if attribution:
        parts.append(attribution + "。インターネットにつながらないときは背景なしで表示します")
    parts.append(f"小学校区の境界：{maps.DEMO_SOURCE if is_demo else maps.BOUNDARY_SOURCE}")
    return "　".join(parts)


def area_map(
    f: Filters, key: str, mode: str | None = None, height: int = 540, districts: list[str] | None = None
) -> None:
    """The map of the filters' area (or of `districts`, for a page that picks its own): the
    shading (chosen here unless `mode` fixes it), the layers to show, the background, and the
    clicked school district's figures beside it."""
    st.markdown(CSS, unsafe_allow_html=True)
    if districts is None:
        districts, school, area = list(f.districts), f.school_district, f.area_label
    else:
        school, area = None, " ".join([f.municipality, "・".join(districts)])
    names = can_detail(*f.place)
    c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
    if mode is None:
        mode = c1.radio(
            "色分け", list(maps.MODES), format_func=maps.MODES.get, horizontal=True, key=f"{key}_mode"
        )
    # with $TSUNAGU_TILE_URL=none there are no tiles to choose
    choices = [b for b in maps.BASEMAPS if b == "none" or maps.tile_url(b)]
    basemap = c2.radio(
        "背景地図", choices, format_func=maps.BASEMAPS.get, horizontal=True, key=f"{key}_basemap"
    )
    show_places = c3.checkbox("通いの場", value=True, key=f"{key}_places")
    show_pantry = c4.checkbox("パントリー", value=True, key=f"{key}_pantry")

    table = school_table(f.prefecture, f.municipality, f.month)
    polygons = shapes(f.prefecture, f.municipality, f.month)
    where = {"municipality": f.municipality, "prefecture": f.prefecture, "districts": districts or None}
    places = (
        session.run_query("places_list", **where, school_district=school, month=f.month, status="活動中")
        if show_places
        else None
    )
    m = maps.build(
        mode,
        table,
        polygons,
        places,
        area,
        f.period_label,
        names,
        districts,
        school,
        pantry=show_pantry,
        size=(FIT_WIDTH, height - 40),
    )
    if not polygons:
        st.info(
            "この市町村の小学校区の境界（boundaries）がまだ登録されていません。"
            "「データ更新」から登録すると、小学校区ごとに色分けして表示します。",
            icon=":material/map:",
        )
    if m.view is None:
        st.info(
            "地図に表示できる小学校区の境界も、座標のある通いの場もありません。", icon=":material/search_off:"
        )
        return
    st.markdown(f"### {fmt.plain(m.title)}")
    pick_key, gen_key = f"{key}_school", f"{key}_gen"
    options = [NOT_PICKED, *(_label(k) for k in m.keys)]
    if st.session_state.get(pick_key) not in options:
        st.session_state[pick_key] = NOT_PICKED
    by_label = {_label(k): k for k in m.keys}
    chart_key = f"{key}_map_{st.session_state.get(gen_key, 0)}_{area}"

    def clicked() -> None:
        objects = dict(st.session_state.get(chart_key, {}).get("selection", {}).get("objects", {}))
        for rows in objects.values():
            if rows:
                label = _label((rows[0]["district"], rows[0]["school_district"]))
                st.session_state[pick_key] = label if label in by_label else NOT_PICKED
                return
        st.session_state[pick_key] = NOT_PICKED

    def picked() -> None:  # chosen from the list: the map drops its own (other) selection
        st.session_state[gen_key] = st.session_state.get(gen_key, 0) + 1

    left, right = st.columns([5, 2])
    with left:
        st.pydeck_chart(
            _Deck(maps.deck_spec(m, basemap)),
            height=height,
            on_select=clicked,
            selection_mode="single-object",
            key=chart_key,
            alt=m.title,
        )
        notes = []
        if m.missing:
            notes.append(f"境界が未登録の小学校区：{'、'.join(m.missing)}")
        if places is not None:
            notes.append(
                f"地図上の通いの場：{places.height - m.unplaced:,} / {places.height:,}か所"
                + ("（座標のない場所は表示していません）" if m.unplaced else "")
            )
        st.caption("　".join([fmt.plain(n) for n in notes] + [source_note(session.db().is_demo, basemap)]))
    with right:
        st.markdown(legend_html(m.legend), unsafe_allow_html=True)
        st.selectbox(
            "小学校区の数字（地図の小学校区をクリックしても選べます）",
            options,
            key=pick_key,
            on_change=picked,
        )
        chosen = by_label.get(st.session_state[pick_key])
        if chosen:
            school_card(table, chosen, f.municipality)


def school_card(table: pl.DataFrame, key: tuple[str, str], municipality: str) -> None:
    """A small 地区カルテ for the 第3層: the school district's figures beside the municipality's."""
    rows = maps.school_figures(table, key)
    e = html.escape
    body = "".join(
        f'<tr><th scope="row">{e(label)}</th><td>{e(value)}</td><td class="c">{e(other)}</td></tr>'
        for label, value, other in rows
    )
    st.markdown(
        f'<table class="map-card"><caption>{e(key[1])}学区（{e(key[0])}地区）</caption>'
        f'<thead><tr><th scope="col"></th><th scope="col">この学区</th><th scope="col">{e(municipality)}</th>'
        f"</tr></thead><tbody>{body}</tbody></table>",
        unsafe_allow_html=True,
    )
    st.caption(
        f"比べる値：件数と人口は{fmt.plain(municipality)}の小学校区あたりの平均、率は全体の値。{maps.GAP_RULE}。"
    )


def wall_slides(where: str, month: str, districts: list[str] | None) -> list[dict]:
    """作戦会議モード's two map slides: where the old live and the places are, and the gaps."""
    return [
        {"kind": "map", "title": title, "mode": mode, "where": where, "month": month, "districts": districts}
        for mode, title in (("aging", "高齢化率と通いの場（小学校区）"), ("gaps", "手薄な小学校区"))
    ]


def wall_map(prefecture: str, municipality: str, slide: dict) -> None:
    """A map slide: readable at 5 m (few colours, a big legend, the gap districts named on the
    map and beside it), nothing a viewer may not see, the basemap pale."""
    st.markdown(CSS, unsafe_allow_html=True)
    mode, month, districts = slide["mode"], slide["month"], slide["districts"]
    table = school_table(prefecture, municipality, month)
    polygons = shapes(prefecture, municipality, month)
    places = None
    if mode == "aging":
        places = session.run_query(
            "places_list",
            municipality=municipality,
            prefecture=prefecture,
            districts=districts,
            month=month,
            status="活動中",
        )
    # two fits, one shown: the server cannot know the projector's height, CSS can
    built = {
        name: maps.build(
            mode,
            table,
            polygons,
            places,
            slide["where"],
            f"{month_label(month)}時点",
            names=False,
            districts=districts or (),
            pantry=False,
            labels=WALL_LABEL_PX if mode == "gaps" else 0,
            size=(1000, height - 40),
            one_color=True,
        )
        for name, height in WALL_HEIGHTS.items()
    }
    m = built["tall"]
    if m.view is None or not polygons:
        st.markdown(
            '<p class="slide-note">小学校区の境界が登録されていないため、地図を表示できません。</p>',
            unsafe_allow_html=True,
        )
        return
    st.markdown(
        "<style>@media (max-height: 899px) {.st-key-wall_map_tall {display: none !important;}}"
        "@media (min-height: 900px) {.st-key-wall_map_short {display: none !important;}}"
        ".wall-legend {font-size: clamp(1rem, 2.3vh, 1.6rem) !important; line-height: 1.4 !important;}"
        ".wall-gaps ul {columns: 2; column-gap: 1.2em; margin: 0; padding-left: 1.1em;}"
        ".wall-gaps li {white-space: nowrap;}</style>",
        unsafe_allow_html=True,
    )
    left, right = st.columns([5, 2])
    for name, height in WALL_HEIGHTS.items():
        with left, st.container(key=f"wall_map_{name}"):
            st.pydeck_chart(
                _Deck(maps.deck_spec(built[name], "pale", label_px=WALL_LABEL_PX, point_scale=1.5)),
                height=height,
                alt=m.title,
            )
    with right:
        legend = m.legend
        if mode == "gaps":  # the fill says it already (a 720p projector has room for little)
            legend.swatches, legend.outline = legend.swatches[:1], None
            legend.notes = ["高齢化率が全体より高く、通いの場（65歳以上1,000人あたり）が全体の4分の3未満"]
        if session.db().is_demo:
            legend.notes.append(maps.DEMO_SHORT)
        st.markdown(legend_html(legend, css="wall-legend"), unsafe_allow_html=True)
        attribution = maps.attribution_markdown("pale")
        if attribution:
            st.caption(attribution)
        if mode == "gaps":
            shown = set(m.keys)
            ordered = table.filter(pl.col("is_gap")).sort("aging_rate_pct", descending=True, nulls_last=True)
            gaps = [
                r for r in ordered.iter_rows(named=True) if (r["district"], r["school_district"]) in shown
            ]
            items = "".join(
                f"<li>{html.escape(r['school_district'])}　{r['aging_rate_pct']:.1f}%</li>"
                for r in gaps[:WALL_GAPS_LISTED]
            )
            more = len(gaps) - WALL_GAPS_LISTED
            st.markdown(
                f'<div class="map-legend wall-legend wall-gaps">'
                f'<div class="t">手薄な小学校区 {len(gaps)}か所（高齢化率の高い順）</div>'
                f"<ul>{items or '<li>ありません</li>'}</ul>"
                + (f'<div class="n">ほか {more}か所</div>' if more > 0 else "")
                + "</div>",
                unsafe_allow_html=True,
            )
