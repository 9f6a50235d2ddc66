"""The map on paper: the A4 handout carries the map as an image with its source line, over
tiles fetched at print time from the configured address when it answers, and the boundaries
alone when it does not (a council's offline server), never an error or a page without it."""

from __future__ import annotations

import contextlib
import http.server
import io
import threading

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from tests.test_handout import TODAY, flat, pages_text
from tsunagu.display import maps
from tsunagu.documents import handout, mapimage

MAGENTA = (255, 0, 255)  # the tile server's colour: nothing on the map itself is this colour


@contextlib.contextmanager
def tile_server():
    """A loopback tile server whose every tile is solid magenta; yields its XYZ address and
    the paths asked for."""
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), MAGENTA).save(buffer, "PNG")
    png, asked = buffer.getvalue(), []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")  # a browser's map asks with CORS
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{{style}}/{{z}}/{{x}}/{{y}}.png", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _fresh_tiles(monkeypatch):
    """Each test fetches for itself: no tile or failure remembered from another."""
    monkeypatch.setattr(mapimage, "_tiles", type(mapimage._tiles)())
    monkeypatch.setattr(mapimage, "_down", {})


def images(data: bytes) -> list[Image.Image]:
    doc = pdfium.PdfDocument(data)
    try:
        return [
            obj.get_bitmap(render=False).to_pil().convert("RGB")
            for page in doc
            for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])
        ]
    finally:
        doc.close()


def share(image: Image.Image, color, tolerance: int = 24) -> float:
    """The share of the picture's pixels within `tolerance` of a colour, in every channel."""
    pixels = np.asarray(image, dtype=np.int16)
    return float((np.abs(pixels - np.array(color)) <= tolerance).all(axis=2).mean())


TAMASHIMA = handout.Area("岡山県", "倉敷市", "玉島", "2025-03")
MAP_TITLE = "小学校区の高齢化率と通いの場（倉敷市玉島地区、2025年3月時点）"


def the_map(data: bytes) -> Image.Image:
    """The map's picture: the first image of the first page (the trend chart comes after)."""
    first = images(data)[0]
    assert first.size[0] > 1000  # drawn for print (200 dpi), not a thumbnail
    return first


def test_the_handout_map_is_drawn_over_tiles_fetched_at_print_time(demo_db, monkeypatch):
    with tile_server() as (address, asked):
        monkeypatch.setenv(maps.TILE_ENV, address)
        data = handout.district_handout(demo_db, TAMASHIMA, today=TODAY)
    assert asked and all(path.startswith("/pale/") for path in asked)  # the pale map, for print
    text = flat("".join(pages_text(data)))
    assert flat(MAP_TITLE) in text
    assert (
        flat("出典 — 背景地図：地理院タイル（淡色地図）https://maps.gsi.go.jp/development/ichiran.html")
        in text
    )
    assert flat(f"小学校区の境界：{maps.DEMO_SOURCE}") in text
    picture = the_map(data)
    assert share(picture, MAGENTA) > 0.15  # the tiles, around the shaded area
    assert share(picture, (17, 17, 17), 40) > 0.002  # the gap districts' outlines


def test_without_tiles_the_handout_map_shows_the_boundaries_alone(demo_db, monkeypatch):
    monkeypatch.setenv(maps.TILE_ENV, "http://127.0.0.1:9/{z}/{x}/{y}.png")  # nothing listens there
    data = handout.district_handout(demo_db, TAMASHIMA, today=TODAY)
    text = flat("".join(pages_text(data)))
    assert flat(MAP_TITLE) in text
    assert flat("背景地図（地理院タイル）は印刷時に取得できなかったため、境界のみを示しています") in text
    assert flat(f"小学校区の境界：{maps.DEMO_SOURCE}") in text
    picture = the_map(data)
    assert share(picture, MAGENTA) == 0
    assert share(picture, (255, 255, 255), 6) > 0.3  # white where the tiles would be
    # the shading of 高齢化率 (each class's colour at the map's opacity over white)
    shaded = [
        tuple(round(255 - 0.72 * (255 - c)) for c in maps.rgba(hex_color)[:3])
        for hex_color in maps.AGING_COLORS[1:]
    ]
    assert sum(share(picture, c, 10) for c in shaded) > 0.05
    assert share(picture, (17, 17, 17), 40) > 0.002


def test_paper_names_no_place(demo_db):
    """Residents take the handout home: its map is a viewer's (no name; 個人宅 places at their
    school district's representative point)."""
    m = handout.area_map(demo_db, TAMASHIMA)
    places = demo_db.query("places_list", **TAMASHIMA.params(), month=TAMASHIMA.month, status="活動中")
    names = set(places["name"])
    assert not any(p["tip_title"] in names for p in m.places)
    homes = places.filter(places["venue_type"] == "個人宅").drop_nulls("lat")
    assert homes.height > 0
    positions = {tuple(p["position"]) for p in m.places}
    assert not {(round(r["lon"], 5), round(r["lat"], 5)) for r in homes.iter_rows(named=True)} & positions


def test_the_source_line_names_both_sources():
    assert mapimage.source_line(True, "std", is_demo=False) == (
        "出典 — 背景地図：地理院タイル（標準地図）https://maps.gsi.go.jp/development/ichiran.html。"
        "小学校区の境界：国土数値情報（小学校区データ）（国土交通省）を加工して作成。"
    )
    assert "国土数値情報（小学校区データ）" in mapimage.source_line(False, "pale", is_demo=False)


def test_a_municipality_without_boundaries_gets_no_map(demo_db):
    area = handout.Area("東京都", "武蔵野市", None, "2025-03")
    assert handout.area_map(demo_db, area) is None
    text = flat("".join(pages_text(handout.district_handout(demo_db, area, today=TODAY))))
    assert "小学校区の高齢化率と通いの場" not in text
