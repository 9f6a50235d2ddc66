"""配布資料（PDF）: the A4 handout of a district or the municipality, and the 通いの場一覧表,
for the month chosen in the sidebar. Paper leaves the room, so small consultation and
referral counts are hidden in it whatever the reader's role."""

import io
import zipfile

import streamlit as st

from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import gate, header, session
from tsunagu.display import privacy
from tsunagu.documents import guidebook, handout
from tsunagu.query import guide
from tsunagu.store import settings

f = header.page_header("配布資料（PDF）")
database = session.db()  # the downloads are drawn on another thread, outside this run
names = gate.can_detail(*f.place)
options = ["全域", *f.all_districts]
start = options.index(f.districts[0]) if len(f.districts) == 1 and f.districts[0] in options else 0
pick, _ = st.columns([1, 2])
chosen = pick.selectbox(
    "地区",
    options,
    index=start,  # no key: follows the sidebar when it changes
    help="サイドバーで地区を1つだけ選んでいると、その地区が最初から選ばれます。",
)
area = handout.Area(
    f.prefecture, f.municipality, None if chosen == "全域" else chosen, f.month, f.municipality_code
)
st.caption(
    f"{area.name}、{month_label(f.month)}時点（サイドバーの「月」で変えられます）。"
    f"A4縦・日本語フォント埋め込み。相談・つなぎ件数は役割にかかわらず{privacy.label()}を伏せて印刷されます。"
)

left, right = st.columns(2)
with left:
    st.markdown("### :material/description: 配布資料")
    st.caption(
        "今月の数字（前月・前年同月との比較）、通いの場の推移、"
        + ("小学校区ごとの通いの場" if area.district else "地区ごとの数字")
        + "、今年度の行事。出典・抽出条件・ページ番号つき。"
    )
    st.download_button(
        "配布資料をダウンロード",
        data=lambda: handout.district_handout(database, area),
        file_name=handout.file_name("handout", area),
        mime="application/pdf",
        icon=":material/download:",
        on_click="ignore",
        key="dl_handout",
        type="primary",
    )
with right:
    st.markdown("### :material/format_list_bulleted: 通いの場一覧表")
    st.caption(
        "名称・小学校区・種別・会場・対象・開催頻度・状態を、小学校区ごとに並べた一覧（終了した場所は除く）。"
    )
    if names:
        st.download_button(
            "一覧表をダウンロード",
            data=lambda: handout.places_directory(database, area),
            file_name=handout.file_name("places", area),
            mime="application/pdf",
            icon=":material/download:",
            on_click="ignore",
            key="dl_places",
        )
    else:  # the list names places, like the detailed tables: managers within their scope (README, roles)
        note = gate.detail_note(*f.place, "名前の入った一覧表は「管理職」以上の役割でダウンロードできます。")
        st.caption(f":material/lock: {note}")


st.markdown("### :material/menu_book: 通いの場ガイドブック（住民向け）")
st.caption(
    "公開に同意した活動中の場所だけを、小学校区・曜日ごとに大きな文字で。日時・参加費・問い合わせ先、"
    "社協の連絡先と、公開ページを開くQRコードつき。公開ページと同じく最新の一覧から作ります（サイドバーの月には従いません）。"
)
g1, g2, g3 = st.columns([1, 1, 1])
schools = (
    []
    if area.district is None
    else session.districts_of(f.prefecture, f.municipality)[1].get(area.district, [])
)
if area.district is None:  # a disabled select would be grey text nobody can read on a projector
    school = "地区全体"
    g1.caption("小学校区ごとのガイドブックは、サイドバーで地区を選ぶと作れます。")
else:
    school = g1.selectbox("小学校区", ["地区全体", *schools], key="guidebook_school")
guide_conf = settings.load(database.store)
guide_area = guidebook.GuideArea(
    f.prefecture, f.municipality, area.district, None if school == "地区全体" else school, f.municipality_code
)
g2.download_button(
    "ガイドブックをダウンロード",
    data=lambda: guidebook.guidebook(
        database,
        guide_area,
        address=guide_conf.address or guide.address_from(st.context.url),
        office=guide_conf.office(f.place),
    ),
    file_name=guidebook.file_name(guide_area, None),
    mime="application/pdf",
    icon=":material/download:",
    on_click="ignore",
    key="dl_guidebook",
)
if not guide_conf.enabled:
    g3.caption(
        "公開ページはいま止めています（管理者の「公開ページの設定」）。QRコードの先はお休みの案内です。"
    )


def every_district() -> bytes:
    """One ZIP with the handout and the list of each district, for a 第1層 meeting."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for d in [None, *f.all_districts]:
            one = handout.Area(f.prefecture, f.municipality, d, f.month, f.municipality_code)
            z.writestr(handout.file_name("handout", one), handout.district_handout(database, one))
            if names:
                z.writestr(handout.file_name("places", one), handout.places_directory(database, one))
    return buf.getvalue()


st.divider()
st.download_button(
    f"全地区まとめて（全域と{len(f.all_districts)}地区、ZIP）",
    data=every_district,
    file_name=f"配布資料_{f.municipality_label}_全地区_{f.month}.zip",
    mime="application/zip",
    icon=":material/folder_zip:",
    on_click="ignore",
    key="dl_all",
    help="作るのに地区の数×数秒かかります。",
)
