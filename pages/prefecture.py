"""県域比較 (the conference board): the municipalities of a prefecture side by side, its project
groups (areas' 事業グループ) group by group, who has sent this month's data, and each
municipality's peers."""

import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import board, header, participation, session, widgets
from tsunagu.display import charts

f = header.page_header("県域比較")
# a prefecture with one municipality is a dead end: open on one with several, and say why
pref, moved = board.prefecture_for(session.run_query("municipalities"), f.prefecture, f.municipality)
if moved:
    st.info(moved, icon=":material/info:")
chosen = f.municipality if pref == f.prefecture else ""
period = {"month": f.month, "from_month": f.from_month, "to_month": f.to_month}
compare = session.run_query("prefecture_compare", prefecture=pref, **period)
titles = board.MEASURES

if compare.height < 2:
    st.info(
        f"{fmt.plain(pref)}で比べられる市町村が1つしかありません。圏域マスタに市町村を追加すると比較できます"
        "（デモでは長野県の18町村を比べられます）。",
        icon=":material/info:",
    )
    widgets.table(compare, f"県域比較_{pref}.csv")
else:
    st.caption(
        f"{fmt.plain(pref)}の{compare.height}市町村（{f.period_label}）。"
        + (f"選択中の{fmt.plain(chosen)}を橙色で示します。" if chosen else "")
        + "人口の規模が違う市町村は、下の「似た市町村」で比べるのがおすすめです。"
    )
    measure = st.radio(
        "比べる指標",
        list(titles),
        horizontal=True,
        format_func=board.MEASURE_CHOICES.get,
        key="board_measure",
    )
    widgets.chart(
        charts.ranked_bars(
            compare, measure, titles[measure], f"{titles[measure]}（{pref}、{f.period_label}）", chosen
        ),
        empty=compare.is_empty(),
    )
    widgets.table(compare, f"県域比較_{pref}.csv")

    if compare["project_group"].is_not_null().any():
        st.markdown(f"### 事業グループごとの比較（{fmt.plain(pref)}）")
        groups = session.run_query("prefecture_groups", prefecture=pref, **period)
        st.caption(
            "各グループの市町村の合計から、65歳以上1,000人あたりなどを計算しています（市町村の値の平均ではありません）。"
            "その月のデータが未登録の市町村は0として数えます（下の「データの登録状況」を参照）。"
        )
        parts = groups.filter(~groups["is_total"])
        widgets.chart(
            charts.bars(
                board.groups_table(parts),
                "project_group",
                measure,
                titles[measure],
                f"事業グループ別: {titles[measure]}（{pref}、{f.period_label}）",
            ),
            empty=parts.is_empty(),
        )
        widgets.table(board.groups_table(groups), f"事業グループ比較_{pref}.csv")

participation.prefecture_section(pref, f.month, chosen)

st.markdown(f"### データの登録状況（{fmt.plain(pref)}）")
# the month the councils are asked about: by default the latest any of them has sent (the
# sidebar's month follows the chosen municipality, which may be one that has not sent it)
pref_months = session.run_query("months", prefecture=pref)["month"].to_list()
status_month = st.selectbox("登録状況の対象月", pref_months, format_func=month_label, key="board_month")
status = session.run_query("upload_status", prefecture=pref, month=status_month)
latest = status_month == pref_months[0]
st.markdown(
    "\n".join(f"- {board.count_line(status, ds, latest, status_month)}" for ds in board.STATUS_DATASETS)
)
shown = st.radio(
    "データ",
    board.STATUS_DATASETS,
    format_func=lambda ds: DATASETS[ds].label,
    horizontal=True,
    key="board_dataset",
)
st.caption(
    "未登録の市町村を上に並べています。登録者と登録日時は、その月の登録"
    "（未登録なら最新の登録）のものです（日本時間）。圏域マスタは、登録中の版の月を示します。"
)
with st.container(key="upload_status"):  # large type for the wall (screen.css)
    st.table(board.status_table(status, shown), hide_index=True, border="horizontal")
widgets.download(
    board.status_export(status, status_month), f"登録状況_{pref}_{status_month}.csv", key="dl-upload-status"
)

if compare.height >= 2 or moved:
    everywhere = bool(moved)
    where = "すべての都道府県から" if everywhere else "同じ都道府県から"
    st.markdown(f"### {fmt.plain(f.municipality)}に似た市町村（人口の規模と高齢化率が近い順、{where}）")
    similar = session.run_query(
        "similar_municipalities",
        prefecture=f.prefecture,
        municipality=f.municipality,
        limit=5,
        everywhere=everywhere,
    )
    if everywhere:  # other prefectures: their size, for the user to pick in the sidebar
        widgets.table(
            similar.select("prefecture", "municipality", "distance", "population", "aging_rate_pct"),
            f"似た市町村_{f.municipality_label}.csv",
        )
    else:
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
                    peers, measure, titles[measure], f"似た市町村との比較: {titles[measure]}", chosen
                )
            )
