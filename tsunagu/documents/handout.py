"""Paper for the meeting: an A4 handout per district (or for the whole municipality) for one
month, and the 通いの場一覧表 ordered by school district.

Residents take these home, so consultation and referral counts are suppressed on paper
whoever prints them (「5未満」 and complementary ＊), and no person's name is printed: the
handout shows counts only, the list shows places (not the people who run them).
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

import polars as pl

from tsunagu.contract import fmt
from tsunagu.contract.labels import HEADLINES
from tsunagu.contract.schema import DATASETS
from tsunagu.contract.wareki import fiscal_year_label, fiscal_year_months, fiscal_year_of, month_label
from tsunagu.display import charts, maps, privacy
from tsunagu.documents import mapimage
from tsunagu.documents.pdf import Document
from tsunagu.query import participation
from tsunagu.query.database import Database

JST = dt.timezone(dt.timedelta(hours=9))  # Japan keeps no daylight saving time
# the order a handout names its sources in
DATASET_NAMES = {name: DATASETS[name].label for name in ("places", "pantry", "forums", "areas")}
MAP_BASEMAP = "pale"  # prints lighter than the standard map, under the shading
DEMO_NOTICE = (
    "デモデータ：倉敷市・武蔵野市・長野県の公表資料にある数値はそのまま、資料にない数値は架空のものです。"
)


@dataclass(frozen=True)
class Area:
    """What a handout covers: a municipality, or one of its districts, as of a month."""

    prefecture: str
    municipality: str
    district: str | None
    month: str
    code: str | None = None  # 団体コード, when areas gives one: it leads the file names

    @property
    def name(self) -> str:
        return f"{self.municipality} {self.district}地区" if self.district else f"{self.municipality}全域"

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.month)

    @property
    def fy_start(self) -> str:
        return fiscal_year_months(self.fiscal_year)[0]

    def params(self) -> dict:
        return {
            "prefecture": self.prefecture,
            "municipality": self.municipality,
            "districts": [self.district] if self.district else None,
        }


def file_name(kind: str, area: Area) -> str:
    """handout → 配布資料_332020_倉敷市_玉島_2025-03.pdf (without a 団体コード:
    配布資料_倉敷市_玉島_2025-03.pdf); places → 通いの場一覧表_…"""
    title = {"handout": "配布資料", "places": "通いの場一覧表"}[kind]
    muni = f"{area.code}_{area.municipality}" if area.code else area.municipality
    return f"{title}_{muni}_{area.district or '全域'}_{area.month}.pdf"


def _short_month(month: str) -> str:
    return month_label(month).split("（")[0]


def _conditions(area: Area, events: bool = True) -> str:
    fy = fiscal_year_label(area.fiscal_year, western=False)
    events_span = (
        f"（行事は{fy}の{_short_month(area.fy_start)}〜{_short_month(area.month)}）" if events else ""
    )
    return (
        f"抽出条件：{area.prefecture} {area.municipality}／地区 {area.district or '全域（すべての地区）'}"
        f"／{month_label(area.month)}時点{events_span}"
    )


def _source(db: Database, area: Area, today: dt.date, datasets: tuple[str, ...]) -> str:
    rows = db.query(
        "data_sources",
        month=area.month,
        from_month=area.fy_start,
        municipality=area.municipality,
        prefecture=area.prefecture,
    )
    rows = rows.filter(pl.col("dataset").is_in(datasets))
    parts = []
    for r in rows.iter_rows(named=True):
        registered = dt.datetime.fromisoformat(r["committed_at"]).astimezone(JST).date()
        span = (
            _short_month(r["month"])
            if r["first_month"] == r["month"]
            else f"{_short_month(r['first_month'])}〜{_short_month(r['month'])}"
        )
        what = "人口" if r["dataset"] == "areas" else f"{span}分"
        parts.append(f"{DATASET_NAMES[r['dataset']]} {what}（{registered:%Y-%m-%d}登録）")
    listed = "、".join(parts) or "登録データなし"
    return f"出典：地域づくりダッシュボード「つなぐ」の登録データ — {listed}。作成 {today:%Y年%-m月%-d日}"


def damage_note(db: Database) -> str | None:
    """Paper outlives the meeting: a month left out because its stored file is damaged is
    named on every page (dataset, month, file)."""
    if not db.problems:
        return None
    listed = "、".join(
        f"{DATASET_NAMES.get(p.dataset, p.dataset)} {p.month}（{p.file}）" for p in db.problems
    )
    return f"注意：保存データの一部が壊れているため、次の月を除いて作成しました — {listed}"


def _document(
    db: Database,
    area: Area,
    title: str,
    today: dt.date | None,
    datasets: tuple[str, ...] = tuple(DATASET_NAMES),
) -> Document:
    today = today or dt.datetime.now(JST).date()
    source = _source(db, area, today, datasets)  # (its query loads the store: problems known)
    notices = [DEMO_NOTICE if db.store.is_demo() else None, damage_note(db)]
    doc = Document(title, source, "\n".join(n for n in notices if n) or None)
    doc.add_page()
    return doc


_rules: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Database -> {key: rule}


def disclosure(db: Database, area: Area) -> privacy.Disclosure:
    """The disclosure rule of the area's municipality, decided once per data version (a ZIP of
    every district's handout asks it twice a district)."""
    key = (db.refresh(), privacy.threshold(), area.prefecture, area.municipality)
    known = _rules.setdefault(db, {})
    if key not in known:
        if len(known) > 64:
            known.clear()
        known[key] = privacy.Disclosure(
            db.query("pantry_disclosure_counts", prefecture=area.prefecture, municipality=area.municipality)
        )
    return known[key]


def headline_cards(db: Database, area: Area) -> tuple[list[tuple[str, str, str]], bool]:
    """The month's figures as printed: (label, figure, the month before and a year before).
    Consultations and referrals as the disclosure rule allows them on paper (never exact)."""
    figures = db.query("overview", **area.params(), month=area.month)
    now, before, year_ago = (figures.row(i, named=True) for i in range(3))
    rule = disclosure(db, area).view([area.district] if area.district else None)
    cards, hid = [], False
    for key, label, unit in HEADLINES:
        if key in privacy.SENSITIVE:
            shown, prev, then = (rule.figure(key, [r["month"]], unit) for r in (now, before, year_ago))
            change = rule.change(key, [now["month"]], [before["month"]])
            hid = hid or not (shown.shown and prev.shown and then.shown)
            shown, prev, then = shown.text, prev.text, then.text
        else:
            shown, prev, then = (fmt.number(r[key], unit) for r in (now, before, year_ago))
            change = fmt.change(now[key], before[key])
        cards.append(
            (label, shown, f"前月 {prev}" + (f"（{change}）" if change else "") + f"\n前年同月 {then}")
        )
    return cards, hid


def _profile(db: Database, area: Area) -> str:
    if area.district:
        card = db.query(
            "district_card",
            prefecture=area.prefecture,
            municipality=area.municipality,
            district=area.district,
            month=area.month,
            from_month=area.fy_start,
            to_month=area.month,
        )
        v = {r["measure"]: r for r in card.iter_rows(named=True)}

        def get(m):
            return v[m]["district_value"] if m in v else None

        rate, city_rate = get("aging_rate_pct"), v.get("aging_rate_pct", {}).get("municipality_value")
        return (
            f"人口 {fmt.number(get('population'), '人')}　65歳以上 {fmt.number(get('population_65plus'), '人')}"
            f"　高齢化率 {'—' if rate is None else f'{rate:.1f}%'}"
            f"（{area.municipality}全体 {'—' if city_rate is None else f'{city_rate:.1f}%'}）"
            f"　小学校区 {fmt.number(get('n_school_districts'), '')}"
        )
    s = db.query("area_summary", prefecture=area.prefecture, municipality=area.municipality)
    if s.is_empty():
        return ""
    r = s.row(0, named=True)
    return (
        f"人口 {fmt.number(r['population'], '人')}　65歳以上 {fmt.number(r['population_65plus'], '人')}"
        f"　高齢化率 {r['aging_rate_pct']:.1f}%　地区 {r['n_districts']}　小学校区 {r['n_school_districts']}"
    )


def district_handout(db: Database, area: Area, today: dt.date | None = None) -> bytes:
    """The A4 handout: headline figures, the map, the trend, the school districts (or
    districts) and the year's events, with the conditions, the source and page numbers."""
    doc = _document(db, area, f"{area.name} 地域づくりの数字 {_short_month(area.month)}", today)
    doc.title_block(f"{area.name}　地域づくりの数字", f"{month_label(area.month)}時点", _conditions(area))
    profile = _profile(db, area)
    if profile:
        doc.note(profile, size=9.5)
        doc.ln(2)

    doc.heading("今月の数字", need=60)
    cards, hid = headline_cards(db, area)
    doc.figures(cards)
    if hid:
        doc.note(privacy.note())
    doc.note(
        participation.paper_line(
            db, area.prefecture, area.municipality, area.params()["districts"], area.month
        )
    )

    _map(doc, db, area)
    trend = db.query("places_by_fiscal_year", **area.params())
    trend = trend.filter(pl.col("as_of_month") <= area.month)
    doc.heading("通いの場の推移（各年度3月時点。今年度は対象月の時点）", need=80)
    if trend.is_empty():
        doc.note("この地域の通いの場のデータはまだありません。")
    else:
        chart = charts.fiscal_year_trend(trend, "").properties(height=230)
        doc.picture(charts.to_png(chart, width=720), height=78)

    if area.district:
        _school_table(doc, db, area)
    else:
        _district_table(doc, db, area)
    _events_table(doc, db, area)
    return doc.to_bytes()


def area_map(db: Database, area: Area) -> maps.Map | None:
    """The handout's map, as a viewer would see it (paper goes home with anyone): the area's
    school districts by 高齢化率, the gaps outlined and named, the places; None when the
    municipality has no boundaries registered."""
    where = {"prefecture": area.prefecture, "municipality": area.municipality}
    shapes = maps.shapes(db.query("school_district_boundaries", **where, month=area.month))
    if not shapes:
        return None
    table = maps.school_table(
        db.query("places_coverage", **where, month=area.month),
        db.query("school_districts", **where),
        db.query("pantry_sites_by_school_district", **where, month=area.month),
    )
    places = db.query("places_list", **area.params(), month=area.month, status="活動中")
    return maps.build(
        "aging",
        table,
        shapes,
        places,
        area.name,
        f"{_short_month(area.month)}時点",
        names=False,
        districts=[area.district] if area.district else (),
        pantry=False,
        labels=7,
        label_all=area.district is not None,
        size=(510, 298),  # the picture's size in points, so names are kept apart as printed
    )


def _map(doc: Document, db: Database, area: Area) -> None:
    m = area_map(db, area)
    if m is None:
        return
    # what is left of the page when that is enough for a map, else a new page's worth
    room = doc.page_break_trigger - doc.get_y() - 24
    height = room if 70 <= room <= 110 else 105
    picture = mapimage.draw(m, MAP_BASEMAP, width_mm=doc.width, height_mm=height)
    doc.heading(m.title, need=height + 20)
    doc.picture(picture.png, height=height)
    doc.note(mapimage.source_line(picture.tiles, MAP_BASEMAP, db.store.is_demo()))


def _school_table(doc: Document, db: Database, area: Area) -> None:
    rows = db.query("places_coverage", **{k: v for k, v in area.params().items()}, month=area.month)
    doc.heading("小学校区ごとの通いの場")
    if rows.is_empty():
        doc.note("小学校区のデータがありません。")
        return
    body = [
        [
            r["school_district"],
            fmt.number(r["population_65plus"], "人"),
            "—" if r["aging_rate_pct"] is None else f"{r['aging_rate_pct']:.1f}%",
            fmt.number(r["n_active"], "か所"),
            "—" if r["active_per_1000_65plus"] is None else f"{r['active_per_1000_65plus']:.2f}",
            "手薄" if r["is_gap"] else "",
        ]
        for r in rows.iter_rows(named=True)
    ]
    doc.table(
        ["小学校区", "65歳以上人口", "高齢化率", "通いの場（活動中）", "65歳以上1,000人あたり", ""],
        body,
        widths=[40, 30, 22, 32, 38, 18],
        align=["LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "CENTER"],
    )
    city = rows["municipality_per_1000_65plus"][0]
    doc.note(
        f"「手薄」は、高齢化率が{area.municipality}全体より高く、65歳以上1,000人あたりの通いの場が"
        f"{area.municipality}全体（{city:.2f}）の4分の3に満たない小学校区です。"
        if city is not None
        else ""
    )


def district_rows(db: Database, area: Area) -> list[list[str]]:
    """Each district's row as printed, then the total: places, pantry sites, and consultations
    and referrals as the disclosure rule allows them on paper."""
    p = dict(prefecture=area.prefecture, municipality=area.municipality)
    places = db.query("places_by_district", **p, month=area.month)
    sites = db.query("pantry_sites_by_district", **p, month=area.month)
    table = (
        places.select("district", "n_active", "n_subsidized")
        .join(sites, on="district", how="left")
        .with_columns(pl.col("n_sites").fill_null(0))
    )
    if table.is_empty():
        return []
    rule = disclosure(db, area)
    totals = table.select(pl.exclude("district").sum()).row(0, named=True)
    rows = []
    for r in [*table.iter_rows(named=True), {**totals, "district": None}]:
        view = rule.view([r["district"]] if r["district"] else None)
        rows.append(
            [
                r["district"] or "合計",
                fmt.number(r["n_active"]),
                fmt.number(r["n_subsidized"]),
                fmt.number(r["n_sites"]),
                *(view.figure(m, [area.month]).text for m in privacy.SENSITIVE),
            ]
        )
    return rows


def _district_table(doc: Document, db: Database, area: Area) -> None:
    doc.heading("地区ごとの数字")
    body = district_rows(db, area)
    if not body:
        doc.note("地区のデータがありません。")
        return
    doc.table(
        ["地区", "通いの場（活動中）", "うち補助金対象", "パントリー", "相談（件）", "つなぎ（件）"],
        body,
        widths=[34, 32, 30, 26, 29, 29],
        align=["LEFT"] + ["RIGHT"] * 5,
    )
    doc.note(privacy.note())


def _events_table(doc: Document, db: Database, area: Area) -> None:
    events = db.query(
        "forums_by_type_district", **area.params(), from_month=area.fy_start, to_month=area.month
    )
    fy = fiscal_year_label(area.fiscal_year, western=False)
    doc.heading(f"フォーラム・交流会（{fy}、{_short_month(area.fy_start)}〜{_short_month(area.month)}）")
    if events.is_empty():
        doc.note("この期間に登録された行事はありません。")
        return
    by_type = events.group_by("event_type", maintain_order=True).agg(
        pl.col("n_events").sum(),
        pl.col("attendees_onsite").sum(),
        pl.col("attendees_online").sum(),
        pl.col("attendees_total").sum(),
    )
    body = [
        [
            r["event_type"],
            fmt.number(r["n_events"], "回"),
            fmt.number(r["attendees_onsite"], "人"),
            fmt.number(r["attendees_online"], "人"),
            fmt.number(r["attendees_total"], "人"),
        ]
        for r in by_type.iter_rows(named=True)
    ]
    doc.table(
        ["種別", "回数", "会場参加", "オンライン参加", "参加者計"],
        body,
        widths=[60, 24, 32, 32, 32],
        align=["LEFT"] + ["RIGHT"] * 4,
    )


def places_directory(db: Database, area: Area, today: dt.date | None = None) -> bytes:
    """The 通いの場一覧表: every running place, school district by school district."""
    rows = db.query("places_directory", **area.params(), month=area.month)
    doc = _document(
        db,
        area,
        f"通いの場一覧表 {area.name} {_short_month(area.month)}",
        today,
        datasets=("places", "areas"),
    )
    n_active = rows.filter(pl.col("status") == "活動中").height
    doc.title_block(
        f"通いの場一覧表　{area.name}",
        f"{month_label(area.month)}時点　{n_active:,}か所（ほかに休止中 {rows.height - n_active:,}か所）",
        _conditions(area, events=False) + "。終了した場所は載せていません。",
    )
    if rows.is_empty():
        doc.note("この地域に登録された通いの場はありません。", size=11)
        return doc.to_bytes()
    many = area.district is None
    for (district, school), group in rows.group_by(["district", "school_district"], maintain_order=True):
        doc.heading(
            f"{district}地区　{school}学区（{group.height}か所）"
            if many
            else f"{school}学区（{group.height}か所）",
            need=22,
        )
        body = [
            [
                r["name"],
                r["category"],
                r["venue_type"] or "—",
                r["target"] or "—",
                how_often(r["sessions_per_month"]),
                r["status"],
            ]
            for r in group.iter_rows(named=True)
        ]
        doc.table(
            ["名称", "種別", "会場", "対象", "開催頻度", "状態"],
            body,
            widths=[56, 26, 35, 27, 20, 16],
            align=["LEFT"] * 4 + ["RIGHT", "CENTER"],
        )
    return doc.to_bytes()


def how_often(per_month: float | None) -> str:
    """4 → 「月4回」; 0.5 → 「2か月に1回」, as councils write it in their lists."""
    if per_month is None:
        return "—"
    if per_month < 1 and abs(1 / per_month - round(1 / per_month)) < 0.01:
        return f"{round(1 / per_month)}か月に1回"
    return f"月{fmt.number(per_month)}回"
