"""県域比較: the municipalities of a prefecture side by side, and each one's peers."""

import streamlit as st

from tsunagu.contract import fmt
from tsunagu.dashboard import header, session, widgets
from tsunagu.display import charts

f = header.page_header("県域比較")
compare = session.run_query(
    "prefecture_compare", prefecture=f.prefecture, month=f.month, from_month=f.from_month, to_month=f.to_month
)
if compare.height < 2:
    st.info(
        f"{fmt.plain(f.prefecture)}で比べられる市町村が1つしかありません。圏域マスタに市町村を追加すると比較できます"
        "（デモでは長野県の18町村を比べられます）。",
        icon=":material/info:",
    )
    widgets.table(compare, f"県域比較_{f.prefecture}.csv")
    st.stop()
st.caption(
    f"{fmt.plain(f.prefecture)}の{compare.height}市町村（{f.period_label}）。選択中の{fmt.plain(f.municipality)}を橙色で示します。"
    "人口の規模が違う市町村は、下の「似た市町村」で比べるのがおすすめです。"
)
measure = st.radio(
    "比べる指標",
    ["active_per_1000_65plus", "pantry_per_10000_65plus", "attendance_per_1000"],
    horizontal=True,
    format_func={
        "active_per_1000_65plus": "通いの場（65歳以上1,000人あたり）",
        "pantry_per_10000_65plus": "パントリー（65歳以上1万人あたり）",
        "attendance_per_1000": "行事参加（人口1,000人あたり）",
    }.get,
)
titles = {
    "active_per_1000_65plus": "通いの場（65歳以上1,000人あたり）",
    "pantry_per_10000_65plus": "パントリー設置数（65歳以上1万人あたり）",
    "attendance_per_1000": "行事参加者（人口1,000人あたり）",
}
widgets.chart(
    charts.ranked_bars(
        compare,
        measure,
        titles[measure],
        f"{titles[measure]}（{f.prefecture}、{f.period_label}）",
        f.municipality,
    ),
    empty=compare.is_empty(),
)
widgets.table(compare, f"県域比較_{f.prefecture}.csv")

st.markdown(f"### {fmt.plain(f.municipality)}に似た市町村（人口の規模と高齢化率が近い順）")
similar = session.run_query(
    "similar_municipalities", prefecture=f.prefecture, municipality=f.municipality, limit=5
)
peers = compare.join(similar.select("municipality", "distance"), on="municipality").sort("distance")
widgets.table(
    peers.select(
        "municipality",
        "distance",
        "population",
        "aging_rate_pct",
        "active_per_1000_65plus",
        "pantry_per_10000_65plus",
        "attendance_per_1000",
    ),
    f"似た市町村_{f.municipality_label}.csv",
)
if not peers.is_empty():
    widgets.chart(
        charts.ranked_bars(
            peers, measure, titles[measure], f"似た市町村との比較: {titles[measure]}", f.municipality
        )
    )
