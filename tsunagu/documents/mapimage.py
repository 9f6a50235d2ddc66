"""The map on paper: the same layers as the screen (display/maps.py) drawn with matplotlib in
Web Mercator, over 地理院タイル fetched at print time when they can be reached (a short
timeout, the address of $TSUNAGU_TILE_URL as on screen); otherwise the boundaries alone on
white. Paper is read by anyone: it is drawn as a viewer's map (no names, 個人宅 places at
their school district's representative point)."""

from __future__ import annotations

import io
import math
import threading
import time
import urllib.request
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tsunagu.display import maps

WORLD = 20037508.342789244  # half the Web Mercator world, in metres
TIMEOUT_S = 2.0  # per tile; the whole fetch gives up after DEADLINE_S
DEADLINE_S = 6.0
MAX_TILES = 40
LEGEND_SHARE = 0.25  # of the picture's width, at its left
RETRY_AFTER_S = 60.0  # an unreachable server is not asked again for every handout of a ZIP
USER_AGENT = "tsunagu (social welfare council dashboard; handout map)"

_tiles: OrderedDict = OrderedDict()  # url -> PNG bytes, for the handouts of one print run
_TILES_MAX = 400
_down: dict[str, float] = {}  # tile template -> when it last failed
_lock = threading.Lock()


@dataclass(frozen=True)
class Picture:
    png: bytes
    tiles: bool  # the basemap is in it
    width_mm: float
    height_mm: float


def _mercator():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def _fetch(url: str) -> bytes:
    with _lock:
        hit = _tiles.get(url)
    if hit is not None:
        return hit
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (an https/http template)
        data = response.read()
    with _lock:
        _tiles[url] = data
        while len(_tiles) > _TILES_MAX:
            _tiles.popitem(last=False)
    return data


def tile_mosaic(template: str, extent: tuple[float, float, float, float], width_px: int):
    """(an RGB image of the tiles covering the extent, its extent in metres), or None when any
    tile cannot be had in time: half a basemap would read as a map of half the area."""
    from PIL import Image

    with _lock:
        failed = _down.get(template)
    if failed is not None and time.monotonic() - failed < RETRY_AFTER_S:
        return None
    x0, y0, x1, y1 = extent
    z = int(math.floor(math.log2(2 * WORLD * width_px / (256 * max(x1 - x0, 1.0)))))
    z = max(5, min(17, z))
    while True:
        size = 2 * WORLD / 2**z
        tx0, tx1 = int((x0 + WORLD) // size), int((x1 + WORLD) // size)
        ty0, ty1 = int((WORLD - y1) // size), int((WORLD - y0) // size)
        if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= MAX_TILES or z <= 5:
            break
        z -= 1
    wanted = [(x, y) for y in range(ty0, ty1 + 1) for x in range(tx0, tx1 + 1)]
    urls = {
        xy: template.replace("{z}", str(z)).replace("{x}", str(xy[0])).replace("{y}", str(xy[1]))
        for xy in wanted
    }
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = {xy: pool.submit(_fetch, url) for xy, url in urls.items()}
            start = time.monotonic()
            images = {}
            for xy, future in futures.items():
                left = DEADLINE_S - (time.monotonic() - start)
                images[xy] = Image.open(io.BytesIO(future.result(timeout=max(0.1, left)))).convert("RGB")
    except Exception:  # unreachable, slow, refused or not an image: boundaries alone
        with _lock:
            _down[template] = time.monotonic()
        return None
    mosaic = Image.new("RGB", ((tx1 - tx0 + 1) * 256, (ty1 - ty0 + 1) * 256), "white")
    for (x, y), image in images.items():
        mosaic.paste(image.resize((256, 256)), ((x - tx0) * 256, (y - ty0) * 256))
    left, top = -WORLD + tx0 * size, WORLD - ty0 * size
    return mosaic, (left, left + (tx1 - tx0 + 1) * size, top - (ty1 - ty0 + 1) * size, top)


def draw(
    m: maps.Map, basemap: str = "pale", width_mm: float = 180, height_mm: float = 105, dpi: int = 200
) -> Picture:
    """The map as a PNG for the page: the area's school districts shaded, the gaps outlined,
    the places, the gap districts named, and a legend."""
    import matplotlib

    matplotlib.use("Agg")  # no display: drawn to a file
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path

    from tsunagu.display.font import font_path

    font = font_manager.FontProperties(fname=str(font_path()))
    to_m = _mercator()

    def project(ring):
        xs, ys = to_m.transform([p[0] for p in ring], [p[1] for p in ring])
        return list(zip(xs, ys))

    def patch(rings, **style):
        path = Path.make_compound_path(*(Path(project(r), closed=True) for r in rings))
        return PathPatch(path, **style)

    fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=dpi)
    ax = fig.add_axes((LEGEND_SHARE, 0, 1 - LEGEND_SHARE, 1))  # the legend beside, never over the map
    ax.set_axis_off()
    shapes_xy = [xy for row in m.schools for ring in row["polygon"][:1] for xy in project(ring)]
    if not shapes_xy:
        shapes_xy = project([p["position"] for p in m.places])
    xs, ys = [p[0] for p in shapes_xy], [p[1] for p in shapes_xy]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # the area whole, a margin round it, in the proportions of the map's part of the picture
    pad = 0.05 * max(x1 - x0, y1 - y0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    aspect = width_mm * (1 - LEGEND_SHARE) / height_mm
    if (x1 - x0) / (y1 - y0) < aspect:
        grow = ((y1 - y0) * aspect - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = ((x1 - x0) / aspect - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)

    tiles = False
    template = maps.tile_url(basemap)
    if template:
        got = tile_mosaic(template, (x0, y0, x1, y1), int(width_mm / 25.4 * dpi))
        if got is not None:
            image, extent = got
            ax.imshow(image, extent=extent, interpolation="bilinear", zorder=0)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            tiles = True

    for row in m.context:
        ax.add_patch(patch(row["polygon"], fill=False, edgecolor="#9A9A9A", linewidth=0.4, zorder=1))
    for row in m.schools:
        r, g, b, _ = row["fill"]
        ax.add_patch(
            patch(
                row["polygon"],
                facecolor=(r / 255, g / 255, b / 255, 0.72),
                edgecolor="#5A5A5A",
                linewidth=0.4,
                zorder=2,
            )
        )
    for row in m.schools:  # gap outlines over every fill
        if row["line_px"] == maps.GAP_LINE_PX:
            ax.add_patch(patch(row["polygon"], fill=False, edgecolor="#111111", linewidth=1.6, zorder=3))
    if m.places:
        px, py = to_m.transform([p["position"][0] for p in m.places], [p["position"][1] for p in m.places])
        # a point's radius in metres on the ground, as printed (Mercator stretches by 1/cos φ)
        per_m = width_mm * (1 - LEGEND_SHARE) / 25.4 * 72 / (x1 - x0)
        sizes = [
            (2 * max(0.9, min(4.5, p["radius"] * per_m / math.cos(math.radians(p["position"][1]))))) ** 2
            for p in m.places
        ]
        colors = [tuple(c / 255 for c in p["color"][:3]) for p in m.places]
        ax.scatter(px, py, s=sizes, c=colors, edgecolors="white", linewidths=0.35, zorder=4)
    for label in m.labels:
        lx, ly = to_m.transform(*label["position"])
        ax.annotate(
            label["text"],
            (lx, ly),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontproperties=font,
            fontsize=6.5,
            color="#111111",
            zorder=5,
            path_effects=[_halo()],
        )

    handles = [
        Patch(facecolor=c, edgecolor="#5A5A5A", linewidth=0.4, label=label) for label, c in m.legend.swatches
    ]
    if m.legend.outline:
        handles.append(Line2D([], [], color="#111111", linewidth=1.6, label=m.legend.outline))
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=4,
            markerfacecolor=c,
            markeredgecolor="white",
            label=label,
        )
        for label, c in m.legend.points
    ]
    handles += [Line2D([], [], linestyle="", label=note) for note in m.legend.notes]
    legend = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        prop=font_manager.FontProperties(fname=str(font_path()), size=6.5),
        title=m.legend.title,
        title_fontproperties=font_manager.FontProperties(fname=str(font_path()), size=7),
        frameon=True,
        framealpha=0.92,
        borderpad=0.6,
        handlelength=1.4,
    )
    legend.get_frame().set_edgecolor("#BBBBBB")
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    plt.close(fig)
    return Picture(out.getvalue(), tiles, width_mm, height_mm)


def _halo():
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=2.2, foreground="white")


def source_line(tiles: bool, basemap: str, is_demo: bool) -> str:
    """What the map is drawn from, as the tiles' terms and 国土数値情報's licence (CC BY 4.0)
    ask: the source named, and that it was edited."""
    boundaries = (
        f"小学校区の境界：{maps.DEMO_SOURCE}"
        if is_demo
        else f"小学校区の境界：{maps.BOUNDARY_SOURCE}（国土交通省）を加工して作成"
    )
    if tiles:
        background = f"背景地図：{maps.ATTRIBUTION}（{maps.BASEMAPS[basemap]}）{maps.ATTRIBUTION_URL}"
    else:
        background = f"背景地図（{maps.ATTRIBUTION}）は印刷時に取得できなかったため、境界のみを示しています"
    return f"出典 — {background}。{boundaries}。"
