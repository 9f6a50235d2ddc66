"""ユーザー管理 (admin): who may sign in, with which role, home district and scope. An admin
scoped to a prefecture sees and manages only the users within it (users.py checks it again)."""

import polars as pl
import streamlit as st

from tsunagu.access import users
from tsunagu.contract.scope import Scope
from tsunagu.dashboard import gate, header, session, widgets

me = gate.require("admin")
header.page_header("ユーザー管理", role="admin", with_filters=False)
mine = me.scope  # what this admin may see and give

current = users.manageable(mine)
if not mine.everywhere:
    st.info(
        f"あなたの担当範囲（{mine.label}）のユーザーだけを表示・追加・変更できます。",
        icon=":material/location_on:",
    )
st.dataframe(
    pl.DataFrame(
        [
            {
                "ユーザー名": u,
                "名前": r.get("name"),
                "役割": users.ROLE_LABELS.get(r.get("role"), "?"),
                "担当範囲": users.scope_of(r).label,
                "担当地区": r.get("district") or "",
            }
            for u, r in sorted(current.items())
        ]
    ),
    hide_index=True,
    placeholder=widgets.EMPTY_CELL,
)

known = mine.within(session.known_municipalities())  # the municipalities this admin may give
if mine.everywhere:
    prefectures = list(dict.fromkeys(p for p, _ in known))
else:
    prefectures = [mine.prefecture] if mine.prefecture else []
KINDS = {"everywhere": "全域", "prefecture": "都道府県の全市町村", "municipalities": "市町村を選ぶ"}
SCOPE_HELP = "このユーザーが見られる詳細、更新できるデータ、管理できるユーザーの範囲です。" + (
    "" if mine.everywhere else f"あなたの担当範囲（{mine.label}）の中だけ選べます。"
)
NOT_CHOSEN = "担当の都道府県か市町村を選んでください。"


def scope_picker(key: str, now: Scope, in_form: bool) -> Scope | None:
    """What a user acts for: everywhere (only an admin of everywhere may give it), a
    prefecture, or municipalities; None when the chosen kind has no place chosen. In a form
    (no rerun on change) both lists are drawn and the kind says which one counts."""
    kinds = [
        k for k in KINDS if (k != "everywhere" or mine.everywhere) and (k != "prefecture" or prefectures)
    ]
    now_kind = "everywhere" if now.everywhere else "prefecture" if now.prefecture else "municipalities"
    kind = st.radio(
        "担当範囲",
        kinds,
        index=kinds.index(now_kind) if now_kind in kinds else 0,
        format_func=KINDS.get,
        horizontal=True,
        key=f"{key}_kind",
        help=SCOPE_HELP,
    )
    pref, munis = None, []
    if in_form or kind == "prefecture":
        pref_options = list(dict.fromkeys([*prefectures, *([now.prefecture] if now.prefecture else [])]))
        pref = st.selectbox(
            "担当の都道府県",
            pref_options,
            index=pref_options.index(now.prefecture) if now.prefecture in pref_options else 0,
            key=f"{key}_pref",
        )
    if in_form or kind == "municipalities":
        options = sorted(set(known) | set(now.municipalities))  # theirs stay selectable
        munis = st.multiselect(
            "担当の市町村（複数可）",
            [f"{p}/{m}" for p, m in options],
            default=[f"{p}/{m}" for p, m in sorted(now.municipalities)],
            format_func=lambda k: "{1}（{0}）".format(*k.split("/", 1)),
            key=f"{key}_munis",
            placeholder="市町村を選ぶ",
        )
    if kind == "everywhere":
        return Scope()
    if kind == "prefecture":
        return Scope(prefecture=pref) if pref else None
    return Scope(municipalities=frozenset(tuple(k.split("/", 1)) for k in munis)) if munis else None


with st.form("add_user", clear_on_submit=True):
    st.markdown("## ユーザーを追加")
    c1, c2, c3, c4 = st.columns(4)
    username = c1.text_input("ユーザー名（半角英数字）")
    name = c2.text_input("名前")
    role = c3.selectbox("役割", users.ROLES, format_func=users.ROLE_LABELS.get)
    district = c4.text_input("担当地区（任意）")
    # a new user starts with the admin's own scope when that is one place (their prefecture)
    new_scope = scope_picker(
        "add", mine if mine.prefecture or len(mine.municipalities) <= 1 else Scope(), in_form=True
    )
    if st.form_submit_button("追加する", icon=":material/person_add:"):
        password = users.random_password()
        try:
            if new_scope is None:
                raise users.UsersError(NOT_CHOSEN)
            users.add(
                username.strip(),
                password,
                role,
                name.strip() or None,
                district.strip() or None,
                scope=new_scope,
                by=mine,
            )
            st.success(
                f"追加しました（担当: {new_scope.label}）。最初のパスワード: `{password}`"
                "（この画面を閉じると二度と表示されません。本人に伝えてください）"
            )
        except users.UsersError as e:
            st.error(str(e))

st.markdown("## 役割・担当範囲の変更、パスワードの再発行、削除")
st.caption(
    "役割や担当範囲を変える・パスワードを再発行する・削除すると、そのユーザーのこれまでのサインインは"
    "すべての端末で終わります（コピーされたクッキーも使えなくなります）。"
)
if current:
    target = st.selectbox("ユーザー", sorted(current), key="target_user")  # kept when a user is added
    c1, c2, c3 = st.columns(3)
    new_role = c1.selectbox(
        "新しい役割",
        users.ROLES,
        format_func=users.ROLE_LABELS.get,
        index=users.ROLES.index(current[target]["role"]),
    )
    if c1.button("役割を変える"):
        try:
            if users.set_role(target, new_role, by=mine):
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
            users.set_password(target, password, by=mine)
            st.success(
                f"新しいパスワード: `{password}`（一度だけ表示します。"
                f"「{target}」のこれまでのサインインはすべて終了しました）"
            )
        except users.UsersError as e:
            st.error(str(e))
    if c3.button("削除する"):
        try:
            users.remove(target, by=mine)
            st.success(f"「{target}」を削除しました。")
        except users.UsersError as e:
            st.error(str(e))

    st.markdown("### 担当範囲")
    target_scope = users.scope_of(current[target])
    st.caption(f"「{target}」の今の担当範囲: {target_scope.label}")
    chosen_scope = scope_picker(f"edit_{target}", target_scope, in_form=False)  # keyed by user: theirs
    if st.button("担当範囲を変える", key="set_scope", icon=":material/location_on:"):
        try:
            if chosen_scope is None:
                raise users.UsersError(NOT_CHOSEN)
            if users.set_scope(target, chosen_scope, by=mine):
                st.success(
                    f"「{target}」の担当範囲を「{chosen_scope.label}」に変えました。"
                    "これまでのサインインはすべて終了しました。"
                )
            else:
                st.info(f"「{target}」の担当範囲はすでに「{chosen_scope.label}」です。何も変えていません。")
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
            users.sign_out_everywhere(target, by=mine)
            st.success(f"「{target}」のサインインを、すべての端末で終了しました。")
        except users.UsersError as e:
            st.error(str(e))
