"""はじめに (editor): the first uploads in order, each ticked once done, with its template and
a link to the upload page set to that dataset."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.schema import DATASETS
from tsunagu.dashboard import gate, guide, header, widgets

# the template each step offers: the Excel workbook (headers, drop-downs), as on the upload page
from tsunagu.ingest.workbook import template_workbook as make_template

COUNTS = ("人口", "65歳以上人口")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

user = gate.require("editor")
header.page_header("はじめに", role="editor", with_filters=False)
state = guide.for_user(user)
done = sum(p.complete for p in state.steps)

if state.complete:
    st.success(
        "すべての手順が済みました。これからは毎月「データ更新」ページで登録します。",
        icon=":material/task_alt:",
    )
    guide.link("pages/overview.py", label="ホームで数字を見る", icon=":material/home:")
else:
    st.markdown("つなぐにデータを登録する手順です。上から順に進めてください。")
    st.progress(done / len(state.steps), text=f"{len(state.steps)}つの手順のうち {done}つが済みました")
    if state.has_figures:
        st.info("ホームにはもう数字が出ています。", icon=":material/home:")
        guide.link("pages/overview.py", label="ホームを見る", icon=":material/home:")
if not user.scope.everywhere:
    st.caption(f"あなたの担当: {fmt.plain(user.scope.label)}")


@st.cache_data(show_spinner=False)
def template(dataset: str) -> bytes:
    return make_template(dataset)


areas_done = state.steps[0].started
for number, p in enumerate(state.steps, start=1):
    step, label = p.step, DATASETS[p.step.dataset].label
    if p.complete:
        mark, status = ":material/check_circle:", ":green[済み]"
    elif p.started:
        mark, status = ":material/pending:", "一部済み"
    else:
        mark, status = ":material/radio_button_unchecked:", "まだ"
    with st.container(border=True, key=f"step-{step.dataset}"):
        st.markdown(f"## {mark} {number}. {step.title}　{status}")
        if p.started and p.missing:
            st.caption(
                f"済み: {fmt.plain(guide.places(p.done, p))}　まだ: {fmt.plain(guide.places(p.missing, p))}"
            )
        st.markdown(step.why)
        if p.complete:
            with st.expander("書き方をもう一度見る"):
                st.markdown(step.how)
        else:
            st.markdown(step.how)
        if step.dataset == "areas":
            with st.expander("記入例（倉敷市の一部。数値は例です）", expanded=not p.complete):
                st.dataframe(
                    pl.DataFrame(guide.AREAS_EXAMPLE),
                    hide_index=True,
                    placeholder=widgets.EMPTY_CELL,
                    column_config={c: st.column_config.NumberColumn(format="localized") for c in COUNTS},
                )
        content = template(step.dataset)
        workbook = content[:2] == b"PK"  # an .xlsx is a zip file
        st.download_button(
            f"{label}のひな形（{'Excel' if workbook else 'CSV'}）",
            content,
            file_name=f"ひな形_{label}." + ("xlsx" if workbook else "csv"),
            mime=XLSX if workbook else "text/csv",
            icon=":material/download:",
            key=f"template-{step.dataset}",
        )
        waiting = step.dataset != "areas" and not areas_done
        guide.link(
            "pages/upload.py",
            label=f"{label}を登録する",
            icon=":material/upload_file:",
            query_params={"dataset": step.dataset},
            disabled=waiting,
        )
        if waiting:
            st.caption("先に圏域マスタを登録してください。")

if user.can("admin"):
    st.caption(
        "登録の前に画面を試すには、別のデータフォルダにデモデータを作れます（README の「はじめかた」）。"
    )
