"""ユーザー管理 (admin): who may sign in, with which role and home district."""

import polars as pl
import streamlit as st

from tsunagu.access import users
from tsunagu.dashboard import gate, header, widgets

me = gate.require("admin")
header.page_header("ユーザー管理", role="admin", with_filters=False)

current = users.load()
st.dataframe(
    pl.DataFrame(
        [
            {
                "ユーザー名": u,
                "名前": r.get("name"),
                "役割": users.ROLE_LABELS.get(r.get("role"), "?"),
                "担当地区": r.get("district") or "",
            }
            for u, r in sorted(current.items())
        ]
    ),
    hide_index=True,
    placeholder=widgets.EMPTY_CELL,
)

with st.form("add_user", clear_on_submit=True):
    st.markdown("## ユーザーを追加")
    c1, c2, c3, c4 = st.columns(4)
    username = c1.text_input("ユーザー名（半角英数字）")
    name = c2.text_input("名前")
    role = c3.selectbox("役割", users.ROLES, format_func=users.ROLE_LABELS.get)
    district = c4.text_input("担当地区（任意）")
    if st.form_submit_button("追加する", icon=":material/person_add:"):
        password = users.random_password()
        try:
            users.add(username.strip(), password, role, name.strip() or None, district.strip() or None)
            st.success(
                f"追加しました。最初のパスワード: `{password}`（この画面を閉じると二度と表示されません。本人に伝えてください）"
            )
        except users.UsersError as e:
            st.error(str(e))

st.markdown("## 役割の変更・パスワードの再発行・削除")
st.caption(
    "役割を変える・パスワードを再発行する・削除すると、そのユーザーのこれまでのサインインは"
    "すべての端末で終わります（コピーされたクッキーも使えなくなります）。"
)
if current:
    target = st.selectbox("ユーザー", sorted(current))
    c1, c2, c3 = st.columns(3)
    new_role = c1.selectbox(
        "新しい役割",
        users.ROLES,
        format_func=users.ROLE_LABELS.get,
        index=users.ROLES.index(current[target]["role"]),
    )
    if c1.button("役割を変える"):
        try:
            if users.set_role(target, new_role):
                st.success(
                    f"「{target}」の役割を「{users.ROLE_LABELS[new_role]}」に変えました。"
                    "これまでのサインインはすべて終了しました。"
                )
            else:
                st.info(
                    f"「{target}」の役割はすでに「{users.ROLE_LABELS[new_role]}」です。何も変えていません。"
                )
        except users.UsersError as e:
            st.error(str(e))
    if c2.button("パスワードを再発行"):
        password = users.random_password()
        try:
            users.set_password(target, password)
            st.success(
                f"新しいパスワード: `{password}`（一度だけ表示します。"
                f"「{target}」のこれまでのサインインはすべて終了しました）"
            )
        except users.UsersError as e:
            st.error(str(e))
    if c3.button("削除する"):
        try:
            users.remove(target)
            st.success(f"「{target}」を削除しました。")
        except users.UsersError as e:
            st.error(str(e))

    st.markdown("### すべての端末からサインアウトさせる")
    st.caption(
        "端末を置き忘れた、サインインしたままの画面を誰かに見られたかもしれない、というときに。"
        "本人はもう一度パスワードでサインインすれば使えます。"
    )
    yourself = "（自分を選んでいます。この画面もサインアウトします）" if target == me.username else ""
    sure = st.checkbox(
        f"「{target}」を、すべての端末からサインアウトさせます{yourself}", key="sign_out_user_sure"
    )
    if st.button(
        "サインアウトさせる", type="primary", disabled=not sure, icon=":material/logout:", key="sign_out_user"
    ):
        try:
            users.sign_out_everywhere(target)
            st.success(f"「{target}」のサインインを、すべての端末で終了しました。")
        except users.UsersError as e:
            st.error(str(e))
