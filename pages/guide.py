"""通いの場ガイド（公開ページ, at /guide: the file is named for its address, so a first visitor
before any navigation ran lands on it too): residents find places near home by area, weekday, kind, who it is
for and fee, with no sign-in. What it shows and reads: tsunagu/dashboard/public.py; the
guidebook of the area searched, when the admin allows it: tsunagu/documents/guidebook.py."""

import streamlit as st

from tsunagu.dashboard import gate, public, session
from tsunagu.documents.guidebook import GuideArea, file_name, guidebook

gate.through_app()  # the navigation runs first (as for every page), but no sign-in is asked
offer = public.page()
if offer is not None:
    area = GuideArea(offer.prefecture, offer.municipality, offer.district, offer.school_district, offer.code)
    database = session.db()  # the download is drawn on another thread, outside this run
    st.download_button(
        f"ガイドブック（{area.name}・PDF）を印刷用にダウンロード",
        data=lambda: guidebook(database, area, address=offer.address, office=offer.office),
        file_name=file_name(area, offer.month),
        mime="application/pdf",
        icon=":material/print:",
        on_click="ignore",
        key="guide_pdf",
    )
