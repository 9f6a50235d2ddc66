"""通いの場ガイド, the public page for residents: no sign-in, phone first, large type.

It reads only the guide's own named queries (query/guide.py: published, running places, the
columns a card shows; school district names and shapes) and the admin's settings; nothing
here reaches a signed-in page, a download of the dashboard, or any other query (the query
names are fixed in this module, never taken from the address or a widget). The address may
name an area (?m= 団体コード or name, &d= district, &s= school district), as the guidebook's
QR code does; it only preselects the search.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl
import streamlit as st

from tsunagu.config import data_dir
from tsunagu.contract import fmt
from tsunagu.contract import weekdays as wd
from tsunagu.contract.schema import PLACE_CATEGORIES, TARGETS
from tsunagu.contract.wareki import month_label
from tsunagu.dashboard import mapview
from tsunagu.dashboard.session import database, run_query
from tsunagu.display import guide_map, maps
from tsunagu.query import guide
from tsunagu.store import settings
from tsunagu.store.versions import Store

ALL = "すべて"
PAGE_SIZE = 20
BASEMAP = "pale"  # 地理院タイル's pale map: the points read best on it; offline, a plain background
OFF_MESSAGE = (
    "通いの場ガイドは、ただいま公開をお休みしています。ご不便をおかけしてすみません。"
    "通いの場（サロンや体操の集まりなど）について知りたいときは、お住まいの市町村の"
    "社会福祉協議会にお気軽にお問い合わせください。"
)
NOTHING_YET = (
    "まだ掲載している場所がありません。通いの場について知りたいときは、お住まいの市町村の"
    "社会福祉協議会にお問い合わせください。"
)
STYLE = """
<style>
/* phone first, large type: residents of every age read this on a small screen */
.stMainBlockContainer { max-width: 46rem; padding: 1rem 0.9rem 3rem; font-size: 1.15rem; }
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer label { font-size: 1.15rem; }
.stMainBlockContainer details summary p { font-size: 1.25rem; font-weight: 600; }
.stMainBlockContainer button p { font-size: 1.1rem; }
.stMainBlockContainer [data-baseweb="select"] div { font-size: 1.1rem; }
.tsunagu-card dl { margin: 0; }
.tsunagu-card dt { font-weight: 700; margin-top: 0.5rem; color: #0B3D6B; }
.tsunagu-card dd { margin: 0; font-size: 1.2rem; }
</style>
"""


def _settings() -> settings.PublicGuide:
    return settings.load(Store(data_dir()))


@st.cache_data(max_entries=64, show_spinner=False)
def _places(root: str, version: int, prefecture: str, municipality: str) -> pl.DataFrame:
    # shared by every reader: a city's published places, their weekdays read once per version
    return guide.published(database(root), prefecture, municipality)


def published_places(prefecture: str, municipality: str) -> pl.DataFrame:
    root = str(data_dir())
    return _places(root, database(root).refresh(), prefecture, municipality)


def _pick(label: str, options: list, wanted, key: str, **kw):
    """A selectbox that starts at the address's choice (once per session), else the first."""
    if key not in st.session_state and wanted in options:
        st.session_state[key] = wanted
    return st.selectbox(label, options, key=key, **kw)


def _municipality(munis: pl.DataFrame) -> tuple[str, str, str | None]:
    rows = munis.rows(named=True)
    wanted = st.query_params.get("m")
    chosen = next(
        (r for r in rows if wanted and wanted in (r["municipality_code"], r["municipality"])), rows[0]
    )
    if len(rows) == 1:
        r = rows[0]
    else:
        names = [f"{r['prefecture']}/{r['municipality']}" for r in rows]
        picked = _pick(
            "市町村",
            names,
            f"{chosen['prefecture']}/{chosen['municipality']}",
            "guide_muni",
            format_func=lambda k: k.split("/", 1)[1],
        )
        r = rows[names.index(picked)]
    return r["prefecture"], r["municipality"], r["municipality_code"]


def card(r: dict) -> str:
    """A place's card as HTML (every value escaped): when, where, kind, fee and contact."""
    e = html.escape
    venue = r["venue_type"] or "会場はお問い合わせください"
    if r["venue_type"] == "個人宅":
        venue = "個人のお宅（場所はお問い合わせください）"
    rows = [
        ("日時", guide.when_label(r["weekdays"], r["hours"])),
        ("場所", f"{venue}　{r['school_district']}学区（{r['district']}地区）"),
        ("種別・対象", r["category"] + (f"（対象: {r['target']}）" if r["target"] else "")),
        ("参加費", "お問い合わせください" if r["fee_yen"] is None else guide.fee_label(r["fee_yen"])),
        ("問い合わせ先", r["contact"] or "社会福祉協議会にお問い合わせください"),
    ]
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    return f'<div class="tsunagu-card"><dl>{items}</dl></div>'


def _summary(r: dict) -> str:
    days = wd.label(r["days"]) if r["days"] else (r["weekdays"] or "")
    return f"{r['name']}　{days}".strip()


@dataclass(frozen=True)
class Offer:
    """The guidebook the page offers (the page draws the button: documents are not a
    dashboard module's to import): the area searched, the 社協's contact, the page's address."""

    prefecture: str
    municipality: str
    code: str | None
    district: str | None
    school_district: str | None
    office: str
    address: str
    month: str | None


def page() -> Offer | None:
    """The page; the guidebook to offer for what was searched, if the admin allows it."""
    st.html(STYLE)
    st.title("通いの場ガイド")
    conf = _settings()
    if not conf.enabled:
        st.info(OFF_MESSAGE, icon=":material/info:")
        return None
    munis = run_query("public_municipalities")
    if munis.is_empty():
        st.info(NOTHING_YET, icon=":material/info:")
        return None
    st.markdown("近くのサロンや体操、カフェなど、地域の人が集まる「通いの場」を探せます。")
    prefecture, municipality, code = _municipality(munis)
    places = published_places(prefecture, municipality)
    schools = run_query("public_school_districts", prefecture=prefecture, municipality=municipality)

    districts = list(dict.fromkeys(schools["district"].to_list()))
    district = _pick("地区", [ALL, *districts], st.query_params.get("d"), "guide_district")
    district = None if district == ALL else district
    in_district = schools if district is None else schools.filter(pl.col("district") == district)
    school_names = list(dict.fromkeys(in_district["school_district"].to_list()))
    school = _pick(
        "小学校区", [ALL, *school_names], st.query_params.get("s"), f"guide_school_{district or ALL}"
    )
    school = None if school == ALL else school
    day = st.pills(
        "曜日",
        list(range(7)),
        format_func=lambda d: wd.WEEKDAYS[d],
        key="guide_day",
        help="「開催曜日」に書かれた曜日で探します。毎月15日のように日にちで開く場所は、曜日では出てきません。",
    )
    c1, c2 = st.columns(2)
    category = c1.selectbox("種別", [ALL, *PLACE_CATEGORIES], key="guide_category")
    target = c2.selectbox(
        "対象",
        [ALL, *[t for t in TARGETS if t != guide.OPEN_TO_ALL]],
        key="guide_target",
        help="選んだ対象の場所と、対象を限らない場所（限定なし）を探します。",
    )
    free = st.toggle("無料の場所だけ", key="guide_free")
    search = guide.Search(
        district=district,
        school_district=school,
        weekday=day,
        category=None if category == ALL else category,
        target=None if target == ALL else target,
        free=free,
    )
    found = guide.search(places, search)
    month = places["month"][0] if places.height else None
    as_of = f"（{month_label(month).split('（')[0]}時点）" if month else ""
    st.markdown(f"### {found.height:,}か所 見つかりました{as_of}")

    listing, on_map = st.tabs(["一覧", "地図"])
    with listing:
        _cards(found, search)
    with on_map:
        _map(found, schools, prefecture, municipality)

    office = conf.office((prefecture, municipality))
    st.markdown("### お問い合わせ・ご相談")
    st.markdown(fmt.plain(office or f"{municipality}の社会福祉協議会（生活支援コーディネーター）"))
    st.caption(
        "ここに載っているのは、運営している方が掲載に同意した場所だけです。日時や参加費は変わることがあります。"
    )
    if not conf.guidebook:
        return None
    address = conf.address or guide.address_from(st.context.url)
    return Offer(prefecture, municipality, code, district, school, office, address, month)


def _cards(found: pl.DataFrame, search: guide.Search) -> None:
    if found.is_empty():
        st.info(
            "条件に合う場所が見つかりませんでした。曜日や種別を「すべて」にして、もう一度探してみてください。"
        )
        return
    shown_key = f"guide_shown:{hash(search)}"
    shown = st.session_state.get(shown_key, PAGE_SIZE)
    for r in found.head(shown).iter_rows(named=True):
        with st.expander(fmt.plain(_summary(r))):  # a name is shown, never read as Markdown
            st.html(card(r))
    if found.height > shown:
        if st.button(f"さらに表示する（残り {found.height - shown:,}か所）", key=f"more:{shown_key}"):
            st.session_state[shown_key] = shown + PAGE_SIZE
            st.rerun()


def _map(found: pl.DataFrame, schools: pl.DataFrame, prefecture: str, municipality: str) -> None:
    """The places found on a map (display/guide_map.py); a point tapped shows its card."""
    m = guide_map.public_map(
        found, schools, f"通いの場ガイド（{municipality}）", size=(mapview.FIT_WIDTH, 380)
    )
    if m.view is None:
        st.info("地図に表示できる場所がありません。", icon=":material/search_off:")
        return
    key = f"guide_map_{len(found)}_{hash(tuple(found['name'].to_list()))}"
    st.pydeck_chart(
        mapview._Deck(maps.deck_spec(m, BASEMAP, point_scale=2.2)),  # a finger, not a mouse
        height=420,
        on_select="rerun",
        selection_mode="single-object",
        key=key,
        alt=f"{m.title}の地図（点は通いの場。個人宅の場所は小学校区ごとに1点）",
    )
    # the legend's swatches are drawn by the map's style sheet
    st.markdown(mapview.CSS + mapview.legend_html(m.legend), unsafe_allow_html=True)
    notes = []
    if m.unplaced:
        notes.append(f"位置の登録がない{m.unplaced:,}か所は地図に出ていません（一覧で見られます）。")
    notes.append("個人のお宅で開く場所は、小学校区ごとに灰色の1点で示しています。")
    st.caption("".join(notes) + "　" + mapview.source_note(database(str(data_dir())).is_demo, BASEMAP))
    objects = (st.session_state.get(key) or {}).get("selection", {}).get("objects", {})
    for rows in objects.values():
        row = rows[0].get("row", -1) if rows else -1
        if isinstance(row, int) and 0 <= row < found.height:
            r = found.row(row, named=True)
            st.markdown(f"#### {fmt.plain(r['name'])}")
            st.html(card(r))
