"""互近助パントリー: where the boxes are, who hosts them, and whether they reach people."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.dashboard import editing, gate, header, session, widgets
from tsunagu.display import charts

f = header.page_header("互近助パントリー")
area, when = f.area_label, f.period_label
districts = list(f.all_districts)

monthly = session.run_query("pantry_monthly", **f.area())
if monthly.is_empty():
    st.info(f"{fmt.plain(area)}の互近助パントリーのデータはありません。", icon=":material/search_off:")
    if editing.can_edit(f.place):  # an editor starts the first month here
        editing.editor("pantry", f.place)
    st.stop()
now = monthly.filter(pl.col("month") == f.month)
period = monthly.filter(pl.col("month").is_between(pl.lit(f.from_month), pl.lit(f.to_month)))
row = now.row(0, named=True) if now.height else None
c = st.columns(5)
c[0].metric("設置数", fmt.number(row["n_sites"] if row else None, "か所"))
c[1].metric("提供者（累計）", fmt.number(row["cumulative_donors"] if row else None, "件"))
c[2].metric("利用世帯（期間計）", fmt.number(period["households_served"].sum(), "世帯"))
rule = session.disclosed(f.prefecture, f.municipality, f.districts, f.school_district)
months = rule.between(f.from_month, f.to_month)
c[3].metric("相談（期間計）", rule.figure("consultations", months, "件").text)
c[4].metric(
    "つなぎ率（期間）", rule.rate(months), help="つなぎ件数 ÷ 相談件数。相談・支援機関へつないだ割合です。"
)

# only the open tab is drawn (the eight charts of all four took most of a rerun); the tab is in the link.
# Editors get a fifth, for their own municipalities.
can_edit = editing.can_edit(f.place)
tab_where, tab_types, tab_flow, tab_top, *tab_edit = st.tabs(
    ["地区別", "サポーター・活動の種別", "毎月の動き", "活動の多い設置場所"] + (["編集"] if can_edit else []),
    key="pantry_tab",
    bind="query-params",
)

if tab_where.open:
    with tab_where:
        sites = session.run_query("pantry_sites_by_district", **f.area(school=False), month=f.month)
        left, right = st.columns([2, 3])
        with left:
            widgets.chart(
                charts.district_bars(sites, "n_sites", "か所", f"地区別の設置数（{when}）", districts),
                empty=sites["n_sites"].sum() == 0,
            )
            widgets.table(
                sites.with_columns(pl.col("n_sites")).vstack(
                    pl.DataFrame(
                        {"district": ["合計"], "n_sites": [sites["n_sites"].sum()]}, schema=sites.schema
                    )
                ),
                "パントリー_地区別.csv",
            )
        with right:
            over_time = session.run_query("pantry_sites_by_month", **f.area())
            widgets.chart(
                charts.district_lines(
                    over_time, "n_sites", "設置数（か所）", f"地区別の設置数の推移（{area}）", districts
                ),
                empty=over_time.is_empty(),
            )

if tab_types.open:
    with tab_types:
        left, right = st.columns(2)
        with left:
            sup = session.run_query(
                "pantry_breakdown", **f.area(), dimension="supporter_type", month=f.month
            ).rename({"value": "supporter_type"})  # the column's own name labels the table and CSV
            widgets.chart(
                charts.bars(sup, "supporter_type", "n_sites", "か所", f"サポーター種別（{area}、{when}）"),
                empty=sup.is_empty(),
            )
            widgets.table(sup, "パントリー_サポーター種別.csv")
        with right:
            act = session.run_query(
                "pantry_breakdown", **f.area(), dimension="activity_type", month=f.month
            ).rename({"value": "activity_type"})
            widgets.chart(
                charts.bars(
                    act,
                    "activity_type",
                    "n_sites",
                    "か所",
                    f"活動種別（{area}、{when}）",
                    color=charts.SUBSIDIZED_COLOR,
                ),
                empty=act.is_empty(),
            )
            widgets.table(act, "パントリー_活動種別.csv")

if tab_flow.open:
    with tab_flow:
        if gate.can_detail(*f.place):
            widgets.chart(
                charts.monthly_lines(
                    monthly,
                    {
                        "households_served": "利用世帯数",
                        "consultations": "相談件数",
                        "referrals": "つなぎ件数",
                    },
                    f"毎月の利用と相談（{area}）",
                    "件・世帯",
                )
            )
        else:  # monthly consultations per district are small numbers about identifiable people
            widgets.chart(
                charts.monthly_lines(
                    monthly, {"households_served": "利用世帯数"}, f"毎月の利用世帯（{area}）", "世帯"
                )
            )
            note = gate.detail_note(
                *f.place, "相談件数・つなぎ件数の月別の推移は「管理職」以上の役割で表示されます。"
            )
            st.caption(f":material/lock: {note}")
        widgets.chart(
            charts.monthly_lines(
                monthly, {"items_distributed": "配布点数"}, f"毎月の配布点数（{area}）", "点"
            )
        )
        widgets.chart(
            charts.monthly_lines(
                monthly,
                {"cumulative_donors": "提供者（累計）", "n_sites": "設置数"},
                f"提供者の累計と設置数（{area}）",
                "件・か所",
            )
        )
        if gate.can_detail(*f.place):
            widgets.chart(
                charts.monthly_lines(
                    monthly, {"referral_rate_pct": "つなぎ率（%）"}, f"つなぎ率の推移（{area}）", "%"
                )
            )
            widgets.table(monthly, "パントリー_月別.csv")
        else:
            widgets.table(
                monthly.drop("consultations", "referrals", "referral_rate_pct"), "パントリー_月別.csv"
            )

if tab_top.open:
    with tab_top:
        top = session.run_query(
            "pantry_top_sites", **f.area(), from_month=f.from_month, to_month=f.to_month, limit=10
        )
        st.caption(f"{when}の利用世帯数が多い順（上位10か所）")
        widgets.table(top, "パントリー_上位設置場所.csv", detail=f.place)

if tab_edit and tab_edit[0].open:
    with tab_edit[0]:
        editing.editor("pantry", f.place)
