"""フォーラム・交流会: what was held where, who came, what they said, and who has not met."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.wareki import fiscal_year_label
from tsunagu.dashboard import header, session, widgets
from tsunagu.display import charts

f = header.page_header("フォーラム・交流会")
area, when = f.area_label, f.period_label
if f.school_district:
    st.caption("行事は地区単位で記録しているため、小学校区ではなく地区で絞り込んでいます。")

monthly = session.run_query("forums_monthly", **f.area(school=False))
period = monthly.filter(pl.col("month").is_between(pl.lit(f.from_month), pl.lit(f.to_month)))
c = st.columns(4)
c[0].metric("行事（期間中）", fmt.number(period["n_events"].sum(), "回"))
c[1].metric("参加者（会場）", fmt.number(period["attendees_onsite"].sum(), "人"))
c[2].metric("参加者（オンライン）", fmt.number(period["attendees_online"].sum(), "人"))
responses = period["survey_responses"].sum()
positive = period["survey_positive"].sum()
c[3].metric(
    "肯定的回答率",
    f"{100 * positive / responses:.1f}%" if responses else "—",
    help="アンケートで肯定的に答えた人の割合（肯定的回答数 ÷ 回答数）",
)

by = session.run_query(
    "forums_by_type_district", **f.area(school=False), from_month=f.from_month, to_month=f.to_month
)
st.markdown(f"### 種別・地区ごとの行事（{when}）")
widgets.table(by, "行事_種別地区別.csv", empty=f"{when}に{area}で開かれた行事はありません。")

st.markdown("### 参加者の推移")
widgets.chart(charts.stacked_attendance(monthly, f"毎月の参加者数（{area}）"), empty=monthly.is_empty())
widgets.chart(
    charts.monthly_lines(
        monthly.filter(pl.col("survey_responses").is_not_null()),
        {"response_rate_pct": "回答率（%）", "positive_rate_pct": "肯定的回答率（%）"},
        f"アンケートの回答率と肯定的回答率（{area}）",
        "%",
    ),
    empty=monthly["survey_responses"].is_null().all(),
    message="アンケートの記録はありません。",
)

missing = session.run_query("forums_missing_koryukai", **f.area(school=False), fiscal_year=f.fiscal_year)
st.markdown(f"### {fiscal_year_label(f.fiscal_year)}に交流会を開いていない地区")
if missing.is_empty():
    st.success("すべての地区で交流会が開かれています。", icon=":material/check_circle:")
else:
    widgets.table(missing, "交流会未開催の地区.csv")

st.markdown(f"### 行事の一覧（{when}）")
events = session.run_query(
    "forum_events", **f.area(school=False), from_month=f.from_month, to_month=f.to_month
)
widgets.table(
    events.drop("prefecture", "municipality"),
    "行事一覧.csv",
    empty="この期間の行事はありません。",
    detail=f.place,
)
