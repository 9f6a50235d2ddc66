"""ホーム（概要）: the month's headline figures and the 年度 trend of places."""

import streamlit as st

from tsunagu import charts, fmt, ui
from tsunagu.wareki import month_label

st.title("地域づくりダッシュボード「つなぐ」")
ui.demo_banner()
if ui.no_data_notice():
    st.stop()
choice = ui.municipality_filter()
if choice is None:
    st.warning("圏域マスタ（areas）が未登録のため、市町村を選べません。先に圏域マスタを登録してください。")
    st.stop()
pref, muni = choice

figures = ui.run_query("overview", municipality=muni, prefecture=pref)
current, previous, year_ago = (figures.row(i, named=True) for i in range(3))
st.subheader(f"{pref}{muni}　{month_label(current['month'])}時点")

HEADLINES = [
    ("n_active_places", "通いの場（活動中）", "か所"),
    ("n_subsidized_places", "うち補助金対象", "か所"),
    ("n_pantry_sites", "互近助パントリー", "か所"),
    ("households_served", "パントリー利用世帯", "世帯"),
    ("consultations", "相談件数", "件"),
    ("referrals", "つなぎ件数", "件"),
    ("attendees_total", "フォーラム・交流会 参加者", "人"),
]
cols = st.columns(4)
for i, (key, label, unit) in enumerate(HEADLINES):
    with cols[i % 4]:
        delta = fmt.change(current[key], previous[key])
        st.metric(
            label, fmt.number(current[key], unit), delta=delta,
            delta_color="off" if delta == "±0" else "normal",
            help=f"前月比（{month_label(previous['month'])}との差）。"
                 f"前年同月（{month_label(year_ago['month'])}）: {fmt.number(year_ago[key], unit)}",
        )

trend = ui.run_query("places_by_fiscal_year", municipality=muni, prefecture=pref)
if trend.is_empty():
    st.info("この市町村の通いの場のデータはまだありません。")
else:
    st.altair_chart(
        charts.fiscal_year_trend(trend, f"{muni}の通いの場の推移（年度末＝3月時点）"),
        width="stretch",
    )

st.caption("データの更新状況")
fresh = ui.run_query("data_freshness")
LABELS = {"areas": "圏域マスタ", "places": "居場所・通いの場", "pantry": "互近助パントリー",
          "forums": "フォーラム・交流会"}
st.dataframe(
    fresh.with_columns(
        fresh["dataset"].replace(LABELS),
        fresh["latest_committed_at"].str.slice(0, 16).str.replace("T", " "),
    ).rename({
        "dataset": "データ", "latest_month": "最新の月", "latest_committed_at": "登録日時",
        "n_months": "月数", "n_rows_latest": "最新月の行数"}),
    hide_index=True,
)
