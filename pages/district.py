"""地区カルテ: one district across every dataset, beside the municipality, for a 第2層 協議体."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.labels import MEASURES
from tsunagu.dashboard import gate, header, mapview, participation, session, widgets
from tsunagu.display import privacy

f = header.page_header("地区カルテ")
options = list(f.all_districts)
if not options:
    st.info("この市町村の地区が圏域マスタにありません。", icon=":material/search_off:")
    st.stop()
pick, _ = st.columns([1, 3])
district = pick.selectbox("地区", options, index=options.index(f.districts[0]) if f.districts else 0)
card = session.run_query(
    "district_card",
    municipality=f.municipality,
    prefecture=f.prefecture,
    district=district,
    month=f.month,
    from_month=f.from_month,
    to_month=f.to_month,
)
st.subheader(f"{fmt.plain(district)}地区（{f.period_label}）")
st.caption("各数字の下の小さな字は比べる値です。件数は市町村の地区の平均、率は市町村全体の値です。")
rule = session.disclosed(f.prefecture, f.municipality, [district])
cols = st.columns(4)
for i, row in enumerate(card.iter_rows(named=True)):
    label, unit = MEASURES[row["measure"]]
    value, other = row["district_value"], row["municipality_value"]
    digits = 1 if row["is_rate"] else 0
    if row["measure"] in privacy.SENSITIVE:  # what the disclosure rule allows, the average too
        shown = rule.figure(row["measure"], [f.month], unit).text
        avg = rule.average(row["measure"], [f.month], unit)
    else:
        shown = (
            "—"
            if value is None
            else (f"{value:,.{digits}f}{unit}" if row["is_rate"] else fmt.number(round(value), unit))
        )
        avg = (
            "—"
            if other is None
            else (
                f"{other:,.1f}{unit}"
                if row["is_rate"] or abs(other) < 100
                else fmt.number(round(other), unit)
            )
        )
    with cols[i % 4]:
        st.metric(label, shown)
        st.caption(("市町村全体 " if row["is_rate"] else "地区平均 ") + avg)
if not gate.can_detail(*f.place):  # the table would show what the metrics above hide
    card = card.filter(~pl.col("measure").is_in(privacy.SENSITIVE))
table = card.with_columns(
    pl.col("measure").replace({k: v[0] for k, v in MEASURES.items()}),
    pl.col("district_value").round(1),
    pl.col("municipality_value").round(1),
).drop("is_rate")
widgets.table(table, f"地区カルテ_{f.municipality_label}_{district}.csv")
participation.district_section(f, district)
mapview.area_map(f, "district_map", districts=[district])
