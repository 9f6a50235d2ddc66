"""履歴・復元 (admin): every upload attempt, and putting an earlier version of a month back."""

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.labels import ACTIONS, OUTCOMES
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.scope import EVERYWHERE
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import gate, header, session, widgets
from tsunagu.store.versions import StoreError

user = gate.require("admin")
header.page_header("履歴・復元", role="admin", with_filters=False)
store = session.db().store

st.markdown("## 登録の履歴（監査ログ、新しい順）")
scope = getattr(user, "scope", EVERYWHERE)


def _names(r: dict) -> str:
    return "、".join(m for _, m in r.get("municipalities") or []) or r.get("municipality") or ""


def _mine(r: dict) -> bool:
    # an admin of a prefecture sees its councils' uploads (and the store-wide ones: none)
    munis = r.get("municipalities") or []
    return scope.everywhere or any(scope.covers(p, m) for p, m in munis)


records = [r for r in store.history() if _mine(r)]
if not records:
    st.info("まだ記録がありません。", icon=":material/inbox:")
else:
    log = pl.DataFrame(
        [
            {
                k: _names(r) if k == "municipality" else r.get(k)
                for k in (
                    "at",
                    "user",
                    "action",
                    "outcome",
                    "dataset",
                    "month",
                    "municipality",
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
                "municipality": "市町村",
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
st.caption("市町村ごとに戻します。ほかの市町村の同じ月はそのままです。")
c0, c1, c2 = st.columns(3)
dataset = c1.selectbox("データの種類", list(DATASETS), format_func=lambda d: DATASETS[d].label)
munis = scope.within(store.municipalities())
if not munis:
    st.info("まだ登録がありません。")
    st.stop()
municipality = c0.selectbox("市町村", munis, format_func=lambda m: m[1])
months = store.months(dataset, municipality=municipality)
if not months:
    st.info(f"{fmt.plain(municipality[1])}の「{DATASETS[dataset].label}」はまだ登録されていません。")
    st.stop()
month = c2.selectbox("月", list(reversed(months)), format_func=month_label)
versions = store.versions(dataset, month, municipality)
table = pl.DataFrame(
    [
        {
            "版": v["version"],
            "いま有効": "○" if v["live"] else "",
            "行数（全体）": v["rows"],
            "含む市町村": "、".join(m for _, m in v.get("municipalities") or []),
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
    f"{fmt.plain(municipality[1])}の{DATASETS[dataset].label}・{month_label(month)}を版 {chosen} に戻します"
    "（今の版も保管されます）"
)
if st.button("この版に戻す", type="primary", disabled=not sure, icon=":material/restore:"):
    try:
        info = store.restore(dataset, month, chosen, user=user.username, municipality=municipality)
        st.success(
            f"戻しました。{fmt.plain(municipality[1])}のこの月を、新しい版 {info.version}（{info.rows:,}行）として記録しました。",
            icon=":material/check_circle:",
        )
        if info.unfinished:
            st.warning(fmt.plain(info.unfinished_note()), icon=":material/warning:")
    except StoreError as e:
        st.error(str(e))
