"""履歴・復元 (admin): every upload attempt, and putting an earlier version of a month back."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.labels import ACTIONS, OUTCOMES
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import gate, header, session, widgets
from tsunagu.store.versions import StoreError

user = gate.require("admin")
header.page_header("履歴・復元", role="admin", with_filters=False)
store = session.db().store

st.markdown("## 登録の履歴（監査ログ、新しい順）")
records = store.history()
if not records:
    st.info("まだ記録がありません。", icon=":material/inbox:")
else:
    log = pl.DataFrame(
        [
            {
                k: r.get(k)
                for k in (
                    "at",
                    "user",
                    "action",
                    "outcome",
                    "dataset",
                    "month",
                    "file_name",
                    "rows",
                    "errors",
                    "version",
                    "sha256",
                )
            }
            for r in reversed(records)
        ],
        infer_schema_length=None,
    )
    # the log keeps its codes; the screen says them in Japanese (a column all empty is typed Null)
    log = log.with_columns(
        pl.col(c).cast(pl.String).replace(names)
        for c, names in (
            ("action", ACTIONS),
            ("outcome", OUTCOMES),
            ("dataset", {k: d.label for k, d in DATASETS.items()}),
        )
    )
    widgets.table(
        log.rename(
            {
                "at": "日時",
                "user": "登録者",
                "action": "操作",
                "outcome": "結果",
                "dataset": "データ",
                "month": "月",
                "file_name": "ファイル名",
                "rows": "行数",
                "errors": "エラー数",
                "version": "版",
                "sha256": "SHA-256",
            }
        ),
        "監査ログ.csv",
        height=360,
    )

st.markdown("## 前の版に戻す")
c1, c2 = st.columns(2)
dataset = c1.selectbox("データの種類", list(DATASETS), format_func=lambda d: DATASETS[d].label)
months = store.months(dataset)
if not months:
    st.info("このデータはまだ登録されていません。")
    st.stop()
month = c2.selectbox("月", list(reversed(months)), format_func=month_label)
versions = store.versions(dataset, month)
table = pl.DataFrame(
    [
        {
            "版": v["version"],
            "いま有効": "○" if v["live"] else "",
            "行数": v["rows"],
            "登録者": v.get("user"),
            "ファイル名": v.get("source_name"),
            "操作": ACTIONS.get(v.get("action"), v.get("action")),
            "登録日時": v.get("committed_at"),
        }
        for v in versions
    ]
)
st.dataframe(table, hide_index=True, placeholder=widgets.EMPTY_CELL)
choices = [v["version"] for v in versions if not v["live"]]
if not choices:
    st.caption("戻せる前の版はありません。")
    st.stop()
chosen = st.selectbox("戻す版", list(reversed(choices)))
sure = st.checkbox(
    f"{DATASETS[dataset].label}・{month_label(month)}を版 {chosen} に戻します（今の版も保管されます）"
)
if st.button("この版に戻す", type="primary", disabled=not sure, icon=":material/restore:"):
    try:
        info = store.restore(dataset, month, chosen, user=user.username)
        st.success(
            f"戻しました。新しい版 {info.version}（{info.rows:,}行）として記録しました。",
            icon=":material/check_circle:",
        )
        if info.unfinished:
            st.warning(fmt.plain(info.unfinished_note()), icon=":material/warning:")
    except StoreError as e:
        st.error(str(e))
