"""居場所・通いの場: how many, where, what kind, how it changed, and where the gaps are."""

import polars as pl
import streamlit as st

from tsunagu.dashboard import editing, header, mapview, participation, session, widgets
from tsunagu.display import charts

f = header.page_header("居場所・通いの場")
area, when = f.area_label, f.period_label
districts = list(f.all_districts)

by_district = session.run_query("places_by_district", **f.area(school=False), month=f.month)
c1, c2, c3 = st.columns(3)
list_now = session.run_query("places_list", **f.area(), month=f.month)
active = list_now.filter(pl.col("status") == "活動中")
c1.metric("通いの場（活動中）", f"{active.height:,}か所")
c2.metric("うち補助金対象", f"{active['subsidized'].sum():,}か所")
c3.metric("休止中", f"{list_now.filter(pl.col('status') == '休止中').height:,}か所")
participation.places_headline(f)

# only the open tab is drawn (drawing all six took half of a rerun); the tab is in the link.
# Editors get a seventh, for their own municipalities.
can_edit = editing.can_edit(f.place)
tab_counts, tab_trend, tab_changes, tab_gaps, tab_map, tab_list, *tab_edit = st.tabs(
    ["地区・種別", "年度の推移", "開始・休止・終了", "手薄な小学校区", "地図", "一覧・検索"]
    + (["編集"] if can_edit else []),
    key="places_tab",
    bind="query-params",
)

if tab_counts.open or tab_gaps.open:
    schools = session.run_query("places_coverage", **f.area(school=False), month=f.month)

if tab_counts.open:
    with tab_counts:
        left, right = st.columns(2)
        with left:
            widgets.chart(
                charts.district_bars(
                    by_district, "n_active", "か所", f"地区別の通いの場（{when}）", districts
                ),
                empty=by_district.is_empty(),
            )
            widgets.table(by_district, "通いの場_地区別.csv")
        with right:
            dim = st.radio(
                "分け方",
                ["category", "venue_type", "operator_type", "target"],
                horizontal=True,
                format_func={
                    "category": "種別",
                    "venue_type": "会場種別",
                    "operator_type": "運営主体",
                    "target": "対象",
                }.get,
            )
            breakdown = session.run_query("places_breakdown", **f.area(), dimension=dim, month=f.month)
            widgets.chart(
                charts.bars(breakdown, "value", "n_active", "か所", f"{area}の通いの場（{when}）"),
                empty=breakdown.is_empty(),
            )
            widgets.table(breakdown, f"通いの場_{dim}.csv")
        st.markdown("### 小学校区別")
        widgets.table(schools.drop("is_gap", "municipality_per_1000_65plus"), "通いの場_小学校区別.csv")
        participation.places_by_district(f, districts)

if tab_trend.open:
    with tab_trend:
        trend = session.run_query("places_by_fiscal_year", **f.area())
        widgets.chart(
            charts.fiscal_year_trend(trend, f"通いの場の推移（{area}、各年度3月時点）"),
            empty=trend.is_empty(),
        )
        widgets.table(trend, "通いの場_年度推移.csv")
        participation.places_trend(f)

if tab_changes.open:
    with tab_changes:
        changes = session.run_query(
            "places_changes", **f.area(), from_month=f.from_month, to_month=f.to_month
        )
        counts = {k: changes.filter(pl.col("change") == k).height for k in ("開始", "休止", "終了")}
        a, b, c = st.columns(3)
        a.metric("新しく始まった", f"{counts['開始']:,}か所")
        b.metric("休止した", f"{counts['休止']:,}か所")
        c.metric("終了した", f"{counts['終了']:,}か所")
        widgets.table(
            changes,
            "通いの場_開始休止終了.csv",
            empty=f"{when}に開始・休止・終了した通いの場はありません。",
            detail=f.place,
        )

if tab_gaps.open:
    with tab_gaps:
        mapview.area_map(f, "gaps_map", mode="gaps")
        gaps = schools.filter(pl.col("is_gap")).sort("aging_rate_pct", descending=True)
        st.markdown("### 手薄な小学校区の一覧")
        widgets.table(
            gaps.drop("is_gap"), "通いの場_手薄な小学校区.csv", empty="手薄な小学校区はありません。"
        )
        participation.gaps(f, districts)

if tab_map.open:
    with tab_map:
        mapview.area_map(f, "places_map")

if tab_list.open:
    with tab_list:
        search = st.text_input("名前・ID・小学校区・種別で検索", placeholder="例: サロン、玉島、KRS-0012")
        # no search: the list already fetched above (the same query; not run twice)
        found = (
            session.run_query("places_list", **f.area(), month=f.month, search=search) if search else list_now
        )
        st.caption(f"{found.height:,}件")
        widgets.table(
            found.drop("lat", "lon"),
            "通いの場_一覧.csv",
            empty="条件に合う通いの場はありません。",
            height=480,
            detail=f.place,
        )

if tab_edit and tab_edit[0].open:
    with tab_edit[0]:
        editing.editor("places", f.place)
