"""The guidebook residents take home: Japanese text drawn from the embedded font (no tofu), body
type 12 pt and up, places grouped by school district and weekday with fees and contacts, the
month and the 社協's contact, and a QR code that decodes to the public page on the same area;
nothing of a place not 公開 and no 個人宅 coordinates in it. Managers' 一覧表 gains the same
columns; signed in, the handouts page offers the guidebook."""

from __future__ import annotations

import ctypes
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp

from tests.test_handout import check_document, flat, glyphs  # noqa: F401 - glyphs is a fixture
from tests.test_public import PLACES, PRIVATE_COORDS, SECRET
from tsunagu.documents import guidebook, handout
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database

TODAY = dt.date(2025, 4, 1)
ADDRESS = "https://tsunagu.example.jp/guide"
OFFICE = "倉敷市社会福祉協議会 地域福祉課 086-000-0001（平日 8:30～17:15）"


@pytest.fixture
def db(store) -> Database:
    result = ingest(PLACES.encode("cp932"), "places", "2025-03", store, file_name="places.csv")
    assert result.ok, result.errors
    return Database(store)


def sizes(data: bytes) -> list[tuple[int, str, float, float]]:
    """(page, character, font size in pt, distance from the page's bottom in pt) of every
    character drawn."""
    out = []
    pdf = pdfium.PdfDocument(data)
    for i in range(len(pdf)):
        text = pdf[i].get_textpage()
        for k in range(text.count_chars()):
            ch = chr(pdfium_c.FPDFText_GetUnicode(text, k))
            if ch.isspace():
                continue
            box = [ctypes.c_double() for _ in range(4)]
            pdfium_c.FPDFText_GetCharBox(text, k, *(ctypes.byref(b) for b in box))
            out.append((i, ch, pdfium_c.FPDFText_GetFontSize(text, k), box[2].value))
    return out


def test_the_guidebook_is_large_japanese_type_grouped_by_school_and_weekday(db, glyphs):  # noqa: F811
    area = guidebook.GuideArea("岡山県", "倉敷市", "玉島", None, "332020")
    data = guidebook.guidebook(db, area, address=ADDRESS, office=OFFICE, today=TODAY)
    texts = check_document(data, glyphs)
    text = flat("".join(texts))
    assert "通いの場ガイド倉敷市玉島地区" in text
    assert "2025年3月（令和7年3月）時点2か所（2025年4月1日作成）" in text
    assert flat(OFFICE) in text
    # by school district, then weekday: 玉島小 before 長尾小 (the areas file's order)
    assert text.index("玉島小学区（1か所）") < text.index("■火曜日") < text.index("長尾小学区（1か所）")
    assert text.index("長尾小学区（1か所）") < text.index("■木曜日")
    assert "火曜のひだまりサロン毎週火曜10:00～12:00サロン対象:高齢者無料運営グループ086-000-1111" in text
    assert "おうちカフェ（個人宅）第1・第3木曜" in text and "300円" in text
    body = [s for s in sizes(data) if s[3] > 22 * 72 / 25.4]  # above the footer
    assert body and min(s[2] for s in body) >= guidebook.BODY_PT - 0.01
    assert min(s[2] for s in sizes(data)) >= guidebook.FOOTER_PT - 0.01


def test_nothing_of_a_place_not_published_reaches_the_guidebook(db):
    data = guidebook.guidebook(db, guidebook.GuideArea("岡山県", "倉敷市"), address=ADDRESS, today=TODAY)
    pdf = pdfium.PdfDocument(data)
    everything = flat("".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))))
    assert "4か所" in everything and "真備の会食" in everything and "水島の子ども食堂" in everything
    for secret in (*SECRET, *PRIVATE_COORDS):
        assert flat(secret) not in everything, secret


def test_the_qr_code_opens_the_public_page_on_the_same_area(db):
    area = guidebook.GuideArea("岡山県", "倉敷市", "玉島", "長尾小", "332020")
    data = guidebook.guidebook(db, area, address=ADDRESS, today=TODAY)
    image = pdfium.PdfDocument(data)[0].render(scale=3).to_pil()
    (code,) = zxingcpp.read_barcodes(image)
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    url = urlsplit(code.text)
    assert f"{url.scheme}://{url.netloc}{url.path}" == ADDRESS
    assert parse_qs(url.query) == {"m": ["332020"], "d": ["玉島"], "s": ["長尾小"]}
    assert guidebook.file_name(area, "2025-03") == "通いの場ガイド_332020_倉敷市_玉島_長尾小_2025-03.pdf"


def test_the_一覧表_gains_the_residents_columns(db):
    data = handout.places_directory(db, handout.Area("岡山県", "倉敷市", "玉島", "2025-03"), today=TODAY)
    text = flat("".join(pdfium.PdfDocument(data)[i].get_textpage().get_text_range() for i in range(1)))
    assert "曜日・時間参加費問い合わせ先公開" in text
    assert "火曜のひだまりサロン" in text and "毎週火曜10:00～12:00無料運営グループ086-000-1111○" in text
    # managers see every place, published or not: the 公開 column says which
    assert "ひみつのサロン" in text and "086-000-2222" in text


def test_signed_in_the_handouts_page_offers_the_guidebook(db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from tests.test_app import signed_in

    monkeypatch.setenv("TSUNAGU_DATA_DIR", str(db.store.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    signed_in(at, "sc_tanaka")
    at.run()
    at.switch_page("pages/handouts.py").run()
    assert not at.exception, [e.message for e in at.exception]
    (button,) = [
        b
        for b in at.get("download_button")
        if b.proto.id.endswith("dl_guidebook") or "ガイドブック" in b.proto.label
    ]
    assert button.proto.label == "ガイドブックをダウンロード"
