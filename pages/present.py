"""作戦会議モード: the dashboard for the wall. One message per slide, big and high-contrast,
readable from the back of a hall; the district and month always on screen; advanced by
buttons, the keyboard (← →) or a timer; new data appears by itself."""

import html
import time

import altair as alt
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import filters, gate, mapview, participation, session, widgets
from tsunagu.display import charts, privacy

gate.require("viewer")
st.markdown(
    """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header,
[data-testid="stToolbar"], [data-testid="stDecoration"] {display: none !important;}
.block-container {padding: 1.2rem 3rem 0 3rem !important; max-width: 100% !important;}
.slide-where {font-size: 2.1rem !important; font-weight: 700; color: #1a1a1a; margin: 0;}
.slide-title {font-size: 3.2rem !important; font-weight: 700; color: #0b3d6b; margin: 1.2rem 0 0 0;}
.slide-number {font-size: 9rem !important; font-weight: 800; line-height: 1.05; color: #111; margin: 0.4rem 0;}
.slide-unit {font-size: 3.5rem !important; font-weight: 700; margin-left: 0.6rem;}
.slide-change {font-size: 2.6rem !important; font-weight: 600; color: #333;}
.slide-note {font-size: 1.5rem !important; color: #444;}
.slide-rate {font-size: 1.6rem !important; font-weight: 600; color: #0b3d6b; margin: 0;}
</style>""",
    unsafe_allow_html=True,
)

database = session.db()  # its refresh() gives the data version without parsing the manifest
munis = session.run_query("municipalities")
if munis.is_empty():
    st.warning("圏域マスタ（areas）が未登録のため、表示できません。")
    st.stop()
qp = st.query_params
linked = filters.linked_municipality(munis, qp)  # ?code=332020, or ?pref=岡山県&muni=倉敷市
if linked:
    pref, muni = linked
else:
    pref = qp.get("pref") if qp.get("pref") in munis["prefecture"].to_list() else munis["prefecture"][0]
    muni = munis.filter(munis["prefecture"] == pref)["municipality"][0]
districts, _ = session.districts_of(pref, muni)
options = ["全域", *districts]
if "present_district" not in st.session_state:
    wanted = qp.get("district")
    st.session_state.present_district = wanted if wanted in options else "全域"
    st.session_state.present_slide = 0
    st.session_state.present_version = database.refresh()


def slides_for(district: str) -> list[dict]:
    """The slides of one area: a headline number with its change, or one chart."""
    area = {"municipality": muni, "prefecture": pref, "districts": None if district == "全域" else [district]}
    figures = session.run_query("overview", **area)
    now, before = figures.row(0, named=True), figures.row(1, named=True)
    where = f"{muni}{'' if district == '全域' else ' ' + district + '地区'}"

    # the wall is never exact: consultations and referrals are what the disclosure rule allows
    rule = session.disclosed(pref, muni, area["districts"] or (), wall=True)

    def number(key, title, unit, sensitive=False):
        value, prev = now[key], before[key]
        if sensitive:
            shown = rule.figure(key, [now["month"]])
            return {
                "kind": "number",
                "title": title,
                "value": shown.text,
                "unit": unit if shown.shown and shown.value is not None else "",
                "change": rule.change(key, [now["month"]], [before["month"]]),
                "where": where,
                "month": now["month"],
                "before": before["month"],
            }
        return {
            "kind": "number",
            "title": title,
            "value": fmt.number(value),
            "unit": "" if value is None else unit,
            "change": fmt.change(value, prev),
            "where": where,
            "month": now["month"],
            "before": before["month"],
        }

    trend = session.run_query("places_by_fiscal_year", **area)
    return [
        number("n_active_places", "通いの場（活動中）", "か所")
        | {"line": participation.wall_line(pref, muni, area["districts"], now["month"])},
        number("n_subsidized_places", "うち補助金対象サロン", "か所"),
        {
            "kind": "chart",
            "title": "通いの場の推移",
            "where": where,
            "month": now["month"],
            "chart": charts.fiscal_year_trend(trend, f"{where}の通いの場（各年度3月時点）", label_size=24),
            "empty": trend.is_empty(),
        },
        number("n_pantry_sites", "互近助パントリー", "か所"),
        number("households_served", "パントリーを利用した世帯", "世帯"),
        number("consultations", "パントリーでの相談", "件", sensitive=True),
        number("referrals", "相談・支援機関へのつなぎ", "件", sensitive=True),
        *mapview.wall_slides(where, now["month"], area["districts"]),
    ]


def step(delta: int, n: int) -> None:
    st.session_state.present_slide = (st.session_state.present_slide + delta) % n
    st.session_state._present_last = time.monotonic()  # the timer waits a full interval again


@st.fragment(run_every=st.session_state.get("present_every") or 20)
def show() -> None:
    """Redrawn on its own every few seconds: advances the timer and picks up new uploads."""
    if not gate.can("viewer"):  # this sign-in ended elsewhere: the whole page shows the sign-in form
        st.rerun()
    every = st.session_state.get("present_every") or 20
    last = st.session_state.setdefault("_present_last", time.monotonic())
    if st.session_state.get("present_auto") and time.monotonic() - last >= every - 1:
        step(1, len(slides_for("全域")))
        if st.session_state.get("present_playlist") and st.session_state.present_slide == 0:
            i = options.index(st.session_state.present_district)
            st.session_state.present_district = options[(i + 1) % len(options)]
    version = database.refresh()
    if version != st.session_state.present_version:
        st.session_state.present_version = version
        st.toast("新しいデータが登録されたので、表示を更新しました。", icon=":material/sync:")
    slides = slides_for(st.session_state.present_district)
    i = st.session_state.present_slide % len(slides)
    s = slides[i]
    st.markdown(
        f'<p class="slide-where">{html.escape(s["where"])}　{html.escape(month_label(s["month"]))}時点'
        f'<span class="slide-note">　{i + 1} / {len(slides)}</span></p>',
        unsafe_allow_html=True,
    )
    st.markdown(f'<p class="slide-title">{html.escape(s["title"])}</p>', unsafe_allow_html=True)
    if s["kind"] == "number":
        st.markdown(
            f'<p class="slide-number">{html.escape(s["value"])}<span class="slide-unit">'
            f"{html.escape(s['unit'])}</span></p>",
            unsafe_allow_html=True,
        )
        if s.get("change"):
            st.markdown(
                f'<p class="slide-change">前月（{html.escape(month_label(s["before"]).split("（")[0])}）から '
                f"{html.escape(s['change'])}</p>",
                unsafe_allow_html=True,
            )
        elif s["value"].endswith("未満") or s["value"] == privacy.COMPLEMENT:
            st.markdown(f'<p class="slide-note">{html.escape(privacy.note())}</p>', unsafe_allow_html=True)
        if s.get("line"):
            st.markdown(f'<p class="slide-rate">{html.escape(s["line"])}</p>', unsafe_allow_html=True)
    elif s["kind"] == "map":
        mapview.wall_map(pref, muni, s)
    else:
        # no label is cut short on the wall (Vega-Lite truncates long labels by default)
        # one configure(): each call deep-copies the chart (the wall redraws every 20 s)
        big = (
            s["chart"]
            .properties(height=500)
            .configure(
                axis=alt.AxisConfig(
                    labelFontSize=24, titleFontSize=22, labelLimit=0, labelColor="#222", titleColor="#222"
                ),
                legend=alt.LegendConfig(labelFontSize=24, symbolSize=300, labelLimit=0, labelColor="#222"),
                title=alt.TitleConfig(fontSize=26),
            )
        )
        widgets.chart(big, empty=s["empty"], png=False)
    if database.is_demo:
        st.markdown(
            '<p class="slide-note">デモデータ（公表資料の数値＋架空の数値）</p>', unsafe_allow_html=True
        )


show()
n = len(slides_for("全域"))
c = st.columns([1, 1, 2, 2, 2, 2])
c[0].button(
    "前へ",
    icon=":material/chevron_left:",
    on_click=step,
    args=(-1, n),
    shortcut="ArrowLeft",
    key="present_prev",
)
c[1].button(
    "次へ",
    icon=":material/chevron_right:",
    on_click=step,
    args=(1, n),
    shortcut="ArrowRight",
    key="present_next",
)
# the picker mirrors the district shown (the playlist may have moved it on)
st.session_state.present_pick = st.session_state.present_district
c[2].selectbox(
    "地区",
    options,
    key="present_pick",
    label_visibility="collapsed",
    on_change=lambda: st.session_state.update(
        present_district=st.session_state.present_pick, present_slide=0
    ),
)
c[3].toggle("自動で進める", key="present_auto")
c[4].selectbox(
    "間隔",
    [10, 20, 30, 60],
    index=1,
    key="present_every",
    format_func=lambda s: f"{s}秒ごと",
    label_visibility="collapsed",
)
c[5].toggle(
    "全地区を順に", key="present_playlist", help="各地区の同じスライドを順に映します（第1層の会議向け）"
)
