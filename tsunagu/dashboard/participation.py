"""参加率 on the dashboard's pages: each function draws one self-contained part (a page calls it
in one line), always with the national target (8%) beside the figure and, where some places
give no count, how many the figure covers."""

from __future__ import annotations

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.survey import MONTH_RULE, RATE_RULE, TARGET_LABEL, national_context
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import session, widgets
from tsunagu.dashboard.filters import Filters
from tsunagu.display import participation as charts
from tsunagu.query import participation as rates

TITLE = rates.RATE_LABEL
NO_COUNTS = "参加実人数（うち65歳以上）の入力がある通いの場がないため、参加率を出せません。"


def _short(month: str) -> str:
    return month_label(month).split("（")[0]


def _monthly(f: Filters, districts=None, school: bool = True) -> pl.DataFrame:
    area = f.area(school=school)
    if districts is not None:
        area["districts"] = list(districts) or None
    return session.run_query("participation_monthly", **area)


def metric(label: str, monthly: pl.DataFrame, month: str) -> rates.Rate | None:
    """The month's rate as a metric, its change from the month before, and what it covers."""
    now = rates.at(monthly, month)
    if now is None:
        st.metric(label, "—")
        st.caption(f"{_short(month)}の通いの場の一覧がありません。")
        return None
    change = rates.change_text(now, rates.before(monthly, month))
    st.metric(
        label,
        now.text,
        delta=change,
        delta_color="off" if change in (None, "±0ポイント") else "normal",
        delta_arrow="off" if change == "±0ポイント" else "auto",
    )
    st.caption(f"{now.against_target}。{now.coverage}" if now.rate_pct is not None else NO_COUNTS)
    return now


def overview_section(f: Filters) -> None:
    """ホーム: the area's rate this month beside the target, and its 年度 series."""
    st.markdown(f"### {TITLE}")
    monthly = _monthly(f)
    left, right = st.columns([1, 3])
    with left:
        metric(f"参加率（{_short(f.month)}）", monthly, f.month)
    with right:
        st.caption(f"{RATE_RULE}{national_context()}")
    trend(monthly, f"{TITLE}の推移（{f.area_label}）")


def trend(monthly: pl.DataFrame, title: str, label_size: int = 13) -> None:
    years = rates.fiscal_years(monthly)
    widgets.chart(
        charts.rate_trend(years, title, label_size=label_size),
        empty=years.filter(pl.col(charts.RATE).is_not_null()).is_empty(),
        message="この地域には、参加実人数（うち65歳以上）の入力がある月がまだありません。",
    )
    st.caption(MONTH_RULE)


def places_headline(f: Filters) -> None:
    """居場所・通いの場, beside the counts at the top: the month's rate and what it covers."""
    c1, c2 = st.columns([1, 2])
    with c1:
        metric(TITLE, _monthly(f), f.month)
    c2.caption(f"{RATE_RULE}{TARGET_LABEL}。")


def places_trend(f: Filters) -> None:
    """The 年度の推移 tab: the rate by 年度 and month by month."""
    monthly = _monthly(f)
    st.markdown(f"### {TITLE}")
    trend(monthly, f"{TITLE}の推移（{f.area_label}）")
    widgets.chart(
        charts.rate_monthly(monthly, f"{TITLE}（月ごと、{f.area_label}）"),
        empty=monthly.filter(pl.col(charts.RATE).is_not_null()).is_empty(),
    )
    widgets.table(rates.for_table(rates.fiscal_years(monthly)), "通いの場_参加率_年度.csv")


def places_by_district(f: Filters, districts: list[str]) -> None:
    """The 地区・種別 tab: each district's rate against the target."""
    rows = session.run_query("participation_by_district", **f.area(school=False), month=f.month)
    st.markdown(f"### 地区別の{TITLE}")
    widgets.chart(
        charts.rate_bars(rows, f"地区別の{TITLE}（{f.period_label}）", districts),
        empty=rows.is_empty(),
    )
    widgets.table(rates.for_table(rows), "通いの場_参加率_地区別.csv")


def gaps(f: Filters, districts: list[str]) -> None:
    """The 手薄な小学校区 tab's participation axis: 参加率 against 高齢化率 per school district."""
    schools = rates.with_gaps(
        session.run_query("participation_coverage", **f.area(school=False), month=f.month)
    )
    st.markdown(f"### 小学校区ごとの高齢化率と{TITLE}")
    st.caption(
        f"赤い輪 = 高齢化率が{f.municipality}全体より高く、参加率が国の目標（8%）に届かない小学校区。"
        "点線（縦）は市町村全体の高齢化率、破線（横）は国の目標です。"
        "参加実人数の入力がない通いの場は数に入らないため、入力のある通いの場の数を表に示します。"
    )
    widgets.chart(
        charts.rate_scatter(
            schools, f"小学校区ごとの高齢化率と参加率（{f.area_label}、{f.period_label}）", districts
        ),
        empty=schools.filter(pl.col(charts.RATE).is_not_null()).is_empty(),
    )
    low = schools.filter(pl.col("is_gap")).sort("participation_rate_pct")
    widgets.table(
        rates.for_table(low.drop("is_gap")),
        "通いの場_参加率の低い小学校区.csv",
        empty="高齢化率が高く参加率が国の目標に届かない小学校区はありません。",
    )


def district_section(f: Filters, district: str) -> None:
    """地区カルテ: the district's rate beside the municipality's and the target, and its series."""
    st.markdown(f"### {TITLE}")
    mine = _monthly(f, [district], school=False)
    whole = _monthly(f, [], school=False)
    c1, c2, c3 = st.columns(3)
    with c1:
        metric(f"{fmt.plain(district)}地区", mine, f.month)
    with c2:
        metric(f"{fmt.plain(f.municipality)}全体", whole, f.month)
    c3.caption(f"{RATE_RULE}{national_context()}")
    trend(mine, f"{district}地区の{TITLE}の推移")


def prefecture_section(prefecture: str, month: str, chosen: str) -> None:
    """県域比較: municipalities ranked by 参加率, the target as a line."""
    rows = session.run_query("participation_by_municipality", prefecture=prefecture, month=month)
    st.markdown(f"### {TITLE}の順位（{fmt.plain(prefecture)}、{_short(month)}）")
    unlisted = rows.filter(~pl.col("has_list"))["municipality"].to_list()
    missing = rows.filter(pl.col("has_list") & pl.col("participation_rate_pct").is_null())[
        "municipality"
    ].to_list()
    st.caption(
        "参加実人数の入力がない通いの場は合計に入らないため、入力のある通いの場の数を表に示します"
        "（入力が少ない市町村の参加率は低めに出ます）。"
        + (f"参加実人数の入力がなく順位のない市町村: {fmt.plain('、'.join(missing))}。" if missing else "")
        + (f"この月の一覧が未登録の市町村: {fmt.plain('、'.join(unlisted))}。" if unlisted else "")
        + TARGET_LABEL
        + "。"
    )
    widgets.chart(
        charts.rate_ranked(rows, f"{TITLE}（{prefecture}、{_short(month)}）", chosen),
        empty=rows.filter(pl.col("participation_rate_pct").is_not_null()).is_empty(),
    )
    widgets.table(rates.for_table(rows), f"県域比較_参加率_{prefecture}.csv")


def wall_line(prefecture: str, municipality: str, districts: list[str] | None, month: str) -> str:
    """作戦会議モード: one line under the count of places: the month's rate, the target and how
    many places it covers (「参加率（65歳以上）8.4%　国の目標 8% を0.4ポイント上回る　入力 769 / 852か所」)."""
    monthly = session.run_query(
        "participation_monthly", prefecture=prefecture, municipality=municipality, districts=districts
    )
    now = rates.at(monthly, month)
    if now is None or now.rate_pct is None:
        return f"参加率（65歳以上）— {NO_COUNTS}"
    return (
        f"参加率（65歳以上）{now.text}　{now.against_target}"
        f"　参加実人数の入力 {now.n_reporting:,} / {now.n_active:,}か所"
    )
