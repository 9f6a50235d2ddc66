"""ホーム（概要）: the month's headline figures against the month before and a year before."""

import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.labels import HEADLINES
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import gate, header, participation, session, widgets
from tsunagu.display import charts, privacy

f = header.page_header("地域づくりダッシュボード「つなぐ」")

figures = session.run_query("overview", **f.area(), month=f.month)
current, previous, year_ago = (figures.row(i, named=True) for i in range(3))

st.caption(
    f"{month_label(current['month'])}の値。矢印は前月（{month_label(previous['month'])}）との差、"
    f"下の小さな字は前年同月（{month_label(year_ago['month'])}）との比較です。"
)
exact = gate.can_detail(*f.place)
rule = session.disclosed(f.prefecture, f.municipality, f.districts, f.school_district)
months = {p: [r["month"]] for p, r in (("now", current), ("before", previous), ("year", year_ago))}
cols = st.columns(4)
for i, (key, label, unit) in enumerate(HEADLINES):
    with cols[i % 4]:
        if key in privacy.SENSITIVE:  # consultations and referrals: what the disclosure rule allows
            shown, earlier = (rule.figure(key, months[p], unit).text for p in ("now", "year"))
            delta, year_change = (rule.change(key, months["now"], months[p]) for p in ("before", "year"))
        else:
            shown, earlier = fmt.number(current[key], unit), fmt.number(year_ago[key], unit)
            delta, year_change = (
                fmt.change(current[key], previous[key]),
                fmt.change(current[key], year_ago[key]),
            )
        st.metric(
            label,
            shown,
            delta=delta,
            delta_color="off" if delta in (None, "±0") else "normal",
            delta_arrow="off" if delta == "±0" else "auto",
        )
        st.caption(f"前年同月 {earlier}" + (f"（{year_change}）" if year_change else ""))
        if key == "n_active_places":  # a place paused this month shows here, not as a closure
            paused = fmt.change(current["n_paused_places"], previous["n_paused_places"])
            st.caption(
                f"休止中 {fmt.number(current['n_paused_places'], unit)}"
                + (f"（前月比 {paused}）" if paused and paused != "±0" else "")
            )

if not exact:
    st.caption(privacy.note())
trend = session.run_query("places_by_fiscal_year", **f.area())
widgets.chart(
    charts.fiscal_year_trend(trend, f"通いの場の推移（{f.area_label}、各年度3月時点）"),
    empty=trend.is_empty(),
    message="この地域の通いの場のデータはまだありません。",
)

participation.overview_section(f)

st.markdown(f"### データの更新状況（{f.municipality}）")
fresh = session.run_query("data_freshness", municipality=f.municipality, prefecture=f.prefecture)
LABELS = {name: ds.label for name, ds in DATASETS.items()}
st.dataframe(
    fresh.with_columns(
        fresh["dataset"].replace(LABELS),
        fresh["latest_month"].map_elements(month_label, return_dtype=str),
        fresh["latest_committed_at"].map_elements(fmt.jst, return_dtype=str),  # Japan time
    )
    .rename(
        {
            "dataset": "データ",
            "latest_month": "最新の月",
            "latest_committed_at": "登録日時",
            "n_months": "月数",
            "n_rows_latest": "最新月の行数",
        }
    )
    .to_arrow(),
    hide_index=True,
    placeholder=widgets.EMPTY_CELL,
)
