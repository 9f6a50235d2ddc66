"""The paper that leaves the room: every district of the demo gets a clean A4 handout with the
right figures, real Japanese text (font embedded, no missing glyphs), the source and page
numbers on every page, and nothing below the threshold; the 通いの場一覧表 lists the running
places school district by school district."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor

import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont

from tests.conftest import ROOT, tsunagu_cli
from tsunagu.display import charts
from tsunagu.documents import handout
from tsunagu.documents.pdf import font_path
from tsunagu.ingest.pipeline import ingest
from tsunagu.query.database import Database

ARTIFACTS = ROOT / "tests" / "artifacts"
TODAY = dt.date(2026, 11, 23)
A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="session")
def glyphs() -> set[int]:
    return set(TTFont(font_path(), lazy=True).getBestCmap())


def pages_text(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        for page in doc:
            width, height = page.get_size()
            assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1, "A4 縦ではありません"
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def flat(text: str) -> str:
    """Text without line breaks or spaces: a name wrapped inside a table cell still matches."""
    return re.sub(r"\s+", "", text)


def check_document(data: bytes, glyphs: set[int]) -> list[str]:
    """What every document must be: A4, the font embedded (a subset, so only what is used),
    every character drawn from the font (no tofu), the source and 「n / N」 on every page."""
    assert data.startswith(b"%PDF-")
    assert b"/FontFile2" in data and b"IPAexGothic" in data, "日本語フォントが埋め込まれていません"
    texts = pages_text(data)
    missing = {ch for t in texts for ch in t if not ch.isspace() and ord(ch) not in glyphs}
    assert not missing, f"フォントにない文字（豆腐になる）: {missing}"
    for i, text in enumerate(texts, 1):
        assert "出典" in text and "つなぐ" in text, f"{i}ページ目に出典がありません"
        assert f"{i} / {len(texts)}" in text, f"{i}ページ目にページ番号がありません"
    return texts


def every_area(db: Database, month: str) -> list[handout.Area]:
    rows = db.sql("select prefecture, municipality, district from districts order by area_order").rows()
    areas, seen = [], set()
    for pref, muni, district in rows:
        if (pref, muni) not in seen:
            seen.add((pref, muni))
            areas.append(handout.Area(pref, muni, None, month))
        areas.append(handout.Area(pref, muni, district, month))
    return areas


_worker_db: Database | None = None


def _make_handout(root: str, area: handout.Area) -> bytes:
    """In a worker process: one Database per process, as the app has."""
    global _worker_db
    if _worker_db is None:
        from tsunagu.store.versions import Store

        _worker_db = Database(Store(root))
    return handout.district_handout(_worker_db, area, today=TODAY)


# a few areas standing for all: the city and its largest and smallest districts (船穂's counts
# are the smallest), a city of three 圏域, a village of two 地区, a town of 50 行政区
REPRESENTATIVE = {
    ("倉敷市", None),
    ("倉敷市", "玉島"),
    ("倉敷市", "船穂"),
    ("倉敷市", "真備"),
    ("武蔵野市", None),
    ("武蔵野市", "中央"),
    ("生坂村", "草尾"),
    ("飯綱町", None),
}


def test_representative_areas_get_a_clean_handout(demo_db, glyphs):
    month = demo_db.query("months")["month"][0]
    areas = [a for a in every_area(demo_db, month) if (a.municipality, a.district) in REPRESENTATIVE]
    assert len(areas) == len(REPRESENTATIVE)
    check_handouts(demo_db, areas, [handout.district_handout(demo_db, a, today=TODAY) for a in areas], glyphs)


@pytest.mark.slow
def test_every_district_of_the_demo_gets_a_clean_handout(demo_dir, demo_db, glyphs):
    """Every area of the demo (make test-all): ~140 documents on both cores."""
    month = demo_db.query("months")["month"][0]
    areas = every_area(demo_db, month)
    assert len(areas) >= 100  # 6 + 3 districts of 倉敷市 and 武蔵野市, 100+ in 長野県, and each municipality
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        made = list(pool.map(_make_handout, [str(demo_dir)] * len(areas), areas, chunksize=8))
    check_handouts(demo_db, areas, made, glyphs)


def check_handouts(demo_db, areas, made, glyphs) -> None:
    """Each handout names its area and month, and prints the overview's figures and the
    consultations and referrals as the disclosure rule gives them to paper."""
    month = areas[0].month
    for area, data in zip(areas, made, strict=True):
        texts = check_document(data, glyphs)
        first, everything = texts[0], flat("".join(texts))
        assert flat(area.name) in flat(first) and "2025年3月（令和7年3月）時点" in first
        assert "抽出条件" in first and "作成2026年11月23日" in everything
        now = demo_db.query("overview", **area.params(), month=month).row(0, named=True)
        assert f"{now['n_active_places']:,}か所" in first, area
        assert f"{now['households_served']:,}世帯" in first, area
        # consultations and referrals as the disclosure rule gives them to paper (audited in
        # test_disclosure.py), with the month before and a year before
        cards = {label: (shown, small) for label, shown, small in handout.headline_cards(demo_db, area)[0]}
        for label in ("相談件数", "つなぎ件数"):
            shown, small = cards[label]
            assert flat(label + shown) in flat(first) and flat(small) in flat(first), (area, label)
        if area.district == "玉島":
            _save_first_page(data, "handout_玉島.png")
        if area.district is None and area.municipality == "倉敷市":
            _save_first_page(data, "handout_倉敷市全域.png")


def test_small_counts_never_reach_paper(demo_db):
    """March 2025: 船穂 had 1 referral and 7 consultations. On paper 船穂 shows 「5未満」, and
    真備 (5 referrals) is hidden too (＊), since the city's 69 minus the rest would give 船穂's 1
    away; the city table shows the same, with the total."""
    funao = flat(
        pages_text(
            handout.district_handout(
                demo_db, handout.Area("岡山県", "倉敷市", "船穂", "2025-03"), today=TODAY
            )
        )[0]
    )
    assert "つなぎ件数5未満" in funao and "相談件数7件" in funao
    mabi = flat(
        pages_text(
            handout.district_handout(
                demo_db, handout.Area("岡山県", "倉敷市", "真備", "2025-03"), today=TODAY
            )
        )[0]
    )
    assert "つなぎ件数＊" in mabi
    city = flat(
        "".join(
            pages_text(
                handout.district_handout(
                    demo_db, handout.Area("岡山県", "倉敷市", None, "2025-03"), today=TODAY
                )
            )
        )
    )
    assert "船穂33145" + "75未満" in city  # places, subsidised, pantry sites, consultations, referrals
    assert "真備10338624＊" in city
    assert "合計8523189726669" in city


def test_threshold_applies_to_paper(demo_db, monkeypatch):
    monkeypatch.setenv("TSUNAGU_SUPPRESS_BELOW", "10")
    funao = flat(
        pages_text(
            handout.district_handout(
                demo_db, handout.Area("岡山県", "倉敷市", "船穂", "2025-03"), today=TODAY
            )
        )[0]
    )
    assert "相談件数10未満" in funao and "「10未満」は10件未満" in funao


PLACES = """通いの場ID,名称,市町村,地区,小学校区,種別,会場種別,対象,補助金対象,状態,開催頻度（回/月）
T-1,なかよしサロン,倉敷市,玉島,長尾小,サロン,集会所・公民館,高齢者,はい,活動中,4
T-2,あおぞら体操,倉敷市,玉島,玉島小,体操・運動,屋外,限定なし,いいえ,活動中,0.5
T-3,ひだまりカフェ,倉敷市,玉島,玉島小,カフェ,個人宅,高齢者,いいえ,休止中,
T-4,おわったサロン,倉敷市,玉島,長尾小,サロン,集会所・公民館,高齢者,はい,終了,2
T-5,みずしま食堂,倉敷市,水島,連島東小,会食・地域食堂,店舗・喫茶店,限定なし,いいえ,活動中,2
"""


def test_places_list_is_ordered_by_school_district_and_leaves_out_ended_places(store, glyphs):
    result = ingest(PLACES.encode("cp932"), "places", "2025-03", store, file_name="places.csv")
    assert result.ok, result.errors
    db = Database(store)
    data = handout.places_directory(db, handout.Area("岡山県", "倉敷市", "玉島", "2025-03"), today=TODAY)
    text = flat("".join(check_document(data, glyphs)))
    # the areas file lists 玉島小 before 長尾小, whatever the order of the upload
    assert text.index("玉島小学区（2か所）") < text.index("長尾小学区（1か所）")
    assert "あおぞら体操体操・運動屋外限定なし2か月に1回活動中" in text
    assert "ひだまりカフェカフェ個人宅高齢者—休止中" in text
    assert "なかよしサロンサロン集会所・公民館高齢者月4回活動中" in text
    assert "おわったサロン" not in text and "みずしま食堂" not in text
    assert "2か所（ほかに休止中1か所）" in text


def test_long_places_list_repeats_its_heading_on_every_page(demo_db, glyphs):
    data = handout.places_directory(demo_db, handout.Area("岡山県", "倉敷市", None, "2025-03"), today=TODAY)
    texts = check_document(data, glyphs)
    assert len(texts) > 10
    assert all("名称" in t and "開催頻度" in t for t in texts)
    everything = flat("".join(texts))
    listed = demo_db.query("places_directory", municipality="倉敷市", month="2025-03")
    assert listed.height > 800
    assert all(flat(name) in everything for name in listed["name"].unique())
    _save_first_page(data, "places_倉敷市全域.png")


def test_command_line_writes_the_handouts(demo_dir, tmp_path):
    out = tmp_path / "out"
    run = tsunagu_cli(
        "handout",
        "--municipality",
        "13203",  # 武蔵野市's 団体コード, as 5 digits: the file names give its 6
        "--district",
        "吉祥寺",
        "--month",
        "2025-03",
        "--out",
        str(out),
        "--data-dir",
        str(demo_dir),
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "通いの場一覧表_132039_武蔵野市_吉祥寺_2025-03.pdf",
        "配布資料_132039_武蔵野市_吉祥寺_2025-03.pdf",
    ]
    wrong = tsunagu_cli(
        "handout",
        "--municipality",
        "武蔵野市",
        "--district",
        "吉祥時",
        "--data-dir",
        str(demo_dir),
        "--out",
        str(out),
    )
    assert wrong.returncode == 2
    assert "地区「吉祥時」は武蔵野市にありません。（使える地区: 吉祥寺、中央、武蔵境）" in wrong.stderr


def test_chart_png_is_drawn_offline(demo_db):
    trend = demo_db.query("places_by_fiscal_year", municipality="倉敷市")
    png = charts.to_png(charts.fiscal_year_trend(trend, "通いの場の推移"), width=600)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert width >= 1200  # drawn at twice the pixels, for print
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chart_通いの場の推移.png").write_bytes(png)


def _save_first_page(data: bytes, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    doc = pdfium.PdfDocument(data)
    doc[0].render(scale=1.4).to_pil().save(ARTIFACTS / name)
    doc.close()
