"""公開ページの設定 (admin): whether the public guide for residents (通いの場ガイド) is on, whether
it offers the guidebook PDF, its address (the guidebook's QR code), and how residents reach
each 社協. Kept in the data folder (store/settings.py); every change goes to the audit log."""

import streamlit as st

from tsunagu.config import data_dir
from tsunagu.contract import fmt
from tsunagu.dashboard import header, session
from tsunagu.query import guide
from tsunagu.store import settings
from tsunagu.store.versions import Store, muni_key

me = header.page_header("公開ページの設定", role="admin", with_filters=False)
store = Store(data_dir())
now = settings.load(store)
everywhere = me.scope.everywhere
address_now = now.address or guide.address_from(st.context.url)

st.markdown(
    "住民向けの公開ページ「通いの場ガイド」は、サインインなしで見られます。載るのは、通いの場の一覧で"
    "「公開」が「はい」で、活動中の場所だけです（個人宅は小学校区までしか示しません）。"
)
st.markdown(f"公開ページのアドレス: `{address_now}`" if address_now else "公開ページのアドレス: （未設定）")
st.caption("ここでの変更は、すべて監査ログ（履歴・復元）に残ります。")

st.markdown("## 公開ページ")
if not everywhere:
    st.caption(
        f"公開ページ全体の設定は、担当範囲が全域の管理者だけが変えられます（あなたの担当: {me.scope.label}）。"
    )
with st.form("guide_switches"):
    enabled = st.toggle("公開ページを公開する", value=now.enabled, disabled=not everywhere)
    offer = st.toggle(
        "公開ページからガイドブック（PDF）をダウンロードできるようにする",
        value=now.guidebook,
        disabled=not everywhere,
    )
    address = st.text_input(
        "公開ページのアドレス（ガイドブックのQRコードに使います）",
        value=now.address,
        placeholder=guide.address_from(st.context.url) or "https://tsunagu.example.jp/guide",
        disabled=not everywhere,
        help="住民がインターネットから開くアドレスです。空欄なら、いまこの画面を開いているアドレスを使います。",
    )
    if st.form_submit_button("保存する", icon=":material/save:", disabled=not everywhere):
        try:
            new = settings.PublicGuide(enabled, offer, address, settings.load(store).offices)
            if settings.save(store, new, user=me.username):
                st.success(
                    "保存しました。"
                    + (
                        "公開ページを公開しています。"
                        if enabled
                        else "公開ページは「お休み中」と表示します。"
                    )
                )
                now = settings.load(store)
            else:
                st.info("変更はありません。")
        except settings.SettingsError as e:
            st.error(str(e))

st.markdown("## 社会福祉協議会の連絡先")
st.caption(
    "公開ページとガイドブックに「お問い合わせ・ご相談」として載せます。住民が電話できる番号と受付時間を書いてください。"
)
mine = me.scope.within(session.known_municipalities())
if not mine:
    st.info("担当範囲の市町村の圏域マスタがまだ登録されていません。")
else:
    with st.form("guide_offices"):
        typed = {
            muni_key(*m): st.text_input(
                fmt.plain(m[1]),
                value=now.office(m),
                placeholder=f"{m[1]}社会福祉協議会 地域福祉課 000-000-0000（平日 8:30～17:15）",
                key=f"office_{muni_key(*m)}",
            )
            for m in mine
        }
        if st.form_submit_button("連絡先を保存する", icon=":material/save:"):
            latest = settings.load(store)
            offices = {**latest.offices, **typed}
            if settings.save(
                store,
                settings.PublicGuide(latest.enabled, latest.guidebook, latest.address, offices),
                user=me.username,
            ):
                st.success("連絡先を保存しました。")
            else:
                st.info("変更はありません。")
