"""国の調査（通いの場）: the yearly national survey's 通いの場 items for the chosen municipality and
年度, filled in from the monthly lists, with every place listed and why it was counted or not."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.survey import (
    BAND_RULE,
    MONTH_RULE,
    SURVEY_NAME,
    SURVEY_RATE_RULE,
    mapping_rows,
    national_context,
)
from tsunagu.contract.wareki import fiscal_year_label, month_label
from tsunagu.dashboard import gate, header, session, widgets
from tsunagu.documents import survey_workbook
from tsunagu.query import participation, survey

f = header.page_header("国の調査（通いの場）")
fy = f.fiscal_year
places = session.run_query(
    "survey_places", prefecture=f.prefecture, municipality=f.municipality, fiscal_year=fy
)
people = session.run_query("area_summary", prefecture=f.prefecture, municipality=f.municipality)
report = survey.summarise(
    places,
    f.prefecture,
    f.municipality,
    fy,
    int(people["population_65plus"][0]) if people.height else None,
)

st.subheader(f"{fmt.plain(f.municipality)}　{fiscal_year_label(fy)}")
st.caption(
    f"「{SURVEY_NAME}」の通いの場の項目を、登録された毎月の一覧から数えます。"
    f"市町村全体の値です（左の地区・小学校区の絞り込みは使いません）。{MONTH_RULE}"
)
if report.as_of_month is None:
    st.info(f"{fiscal_year_label(fy)}の通いの場の一覧が登録されていません。", icon=":material/search_off:")
    st.stop()
st.markdown(
    f"**数えた月: {month_label(report.as_of_month)}**　（この月の一覧の {report.n_listed:,}か所のうち）"
)

c = st.columns(4)
c[0].metric("通いの場（月1回以上・活動中）", fmt.number(report.n_counted, "か所"))
c[1].metric("参加者実人数", fmt.number(report.participants_real, "人"))
c[2].metric("うち65歳以上", fmt.number(report.participants_65plus, "人"))
c[3].metric("参加率（65歳以上）", participation.pct(report.rate_pct))
st.caption(
    f"{participation.coverage_text(report.n_reporting, report.n_counted)}（調査で数える通いの場のうち）。"
    f"{SURVEY_RATE_RULE}"
)
if report.n_reporting < report.n_counted:
    st.warning(
        f"参加実人数（うち65歳以上）の入力がない通いの場が {report.n_counted - report.n_reporting:,}か所あります。"
        "その分は参加者・参加率に入っていません。一覧で確かめてから調査票に写してください。",
        icon=":material/warning:",
    )

st.markdown("### 調査票の項目（調査の順）")
rows = survey_workbook.summary_rows(report)
header_row = survey_workbook.SUMMARY_HEADER
summary = pl.DataFrame(
    {
        header_row[0]: [r[0] for r in rows],
        header_row[1]: [r[1] for r in rows],
        # the rate as shown everywhere (one decimal); the workbook keeps it whole, formatted
        header_row[2]: [
            None if r[2] is None else participation.shown(r[2]) if r[3] == "%" else float(r[2]) for r in rows
        ],
        header_row[3]: [r[3] for r in rows],
        header_row[4]: [r[4] for r in rows],
        header_row[5]: [r[5] for r in rows],
    },
    schema={
        header_row[0]: pl.String,
        header_row[1]: pl.String,
        header_row[2]: pl.Float64,
        header_row[3]: pl.String,
        header_row[4]: pl.Float64,
        header_row[5]: pl.Float64,
    },
)
# every row in view: these are the figures to copy into the survey's form
widgets.table(
    summary, f"国の調査_通いの場_{f.municipality_label}_{fy}年度.csv", height=35 * (summary.height + 1) + 3
)
st.caption(f"{BAND_RULE}　{national_context()}")

st.markdown("### 数えなかった通いの場")
left = pl.DataFrame(report.not_counted, schema={"理由": pl.String, "か所": pl.Int64}, orient="row")
widgets.table(
    left, f"国の調査_数えなかった通いの場_{f.municipality_label}_{fy}年度.csv", empty="ありません。"
)

st.markdown("### Excel（調査票の項目・通いの場の一覧・区分の対応表）")
if gate.can_detail(*f.place):
    st.download_button(
        "Excelでダウンロード",
        data=lambda: survey_workbook.workbook(report),
        file_name=survey_workbook.file_name(report),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
        key="dl-survey",
    )
else:  # the list names every place (個人宅 among them) with its participants
    st.caption(f":material/lock: {gate.detail_note(*f.place)}")

st.markdown("### 通いの場の一覧（数えたか・理由）")
widgets.table(
    report.places.select(key for key, _ in survey_workbook.PLACE_COLUMNS),  # as the workbook lists them
    f"国の調査_通いの場一覧_{f.municipality_label}_{fy}年度.csv",
    height=420,
    detail=f.place,
)

with st.expander("区分の対応表（つなぐの区分 → 調査の区分）"):
    st.dataframe(
        pl.DataFrame(
            mapping_rows(), schema=["つなぐの列", "つなぐの区分", "調査の項目", "調査の区分"], orient="row"
        ),
        hide_index=True,
    )
