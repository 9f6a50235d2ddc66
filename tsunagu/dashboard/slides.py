"""The slides of 作戦会議モード: what each kind shows for an area (build) and how it fills the
wall (draw). One headline per slide, centred and at least a fifth of the screen's height, one
line of context under it, the area and month at the top; sizes in vh so 1920×1080 and
1280×720 look alike (the layout is in screen.css). Consultation and referral counts come
from the disclosure rule only, never exact (session.disclosed(wall=True))."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import polars as pl
import streamlit as st

from tsunagu.contract import fmt
from tsunagu.contract.wareki import era_date_text, fiscal_year_label, fiscal_year_of, month_label
from tsunagu.dashboard import agenda as ag
from tsunagu.dashboard import mapview, participation, session
from tsunagu.display import maps, privacy

e = html.escape
WEEKDAYS = "月火水木金土日"
MOST_GAPS = 15  # named on one slide; the rest are counted


@dataclass(frozen=True)
class Area:
    prefecture: str
    municipality: str
    district: str = ag.WHOLE

    @property
    def districts(self) -> list[str] | None:
        return None if self.district == ag.WHOLE else [self.district]

    @property
    def where(self) -> str:
        return self.municipality if self.district == ag.WHOLE else f"{self.municipality} {self.district}地区"

    def query(self) -> dict:
        return {"municipality": self.municipality, "prefecture": self.prefecture, "districts": self.districts}


@dataclass
class Slide:
    kind: str
    title: str
    where: str
    month: str
    value: str = ""  # a number slide's headline
    unit: str = ""
    context: str | None = None  # the one line under the headline
    line: str | None = None  # 参加率 under the count of places (issue 18)
    hidden_note: bool = False  # a count is hidden: say why at the foot
    rows: list[tuple[str, str, float, bool]] = field(default_factory=list)  # (label, value, share, marked)
    reference: tuple[float, str] | None = None  # a bar chart's line for the municipality
    names: list[tuple[str, str]] = field(default_factory=list)  # the gaps: (school district, why)
    more: int = 0
    extra: dict = field(default_factory=dict)  # a map slide's own (mapview.wall_slides)


def short_month(month: str) -> str:
    return month_label(month).split("（")[0]


def shift(month: str, months: int) -> str:
    y, m = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + months, 12)
    return f"{y:04d}-{m + 1:02d}"


def date_text(day: dt.date) -> str:
    """2025-05-20 -> 「令和7年5月20日（火）」."""
    return f"{era_date_text(day)}（{WEEKDAYS[day.weekday()]}）"


def _overview(area: Area) -> tuple[dict, dict, dict]:
    rows = session.run_query("overview", **area.query())
    return rows.row(0, named=True), rows.row(1, named=True), rows.row(2, named=True)


def _schools(area: Area, month: str) -> pl.DataFrame:
    return mapview.school_table(area.prefecture, area.municipality, month)


def _city_per_1000(table: pl.DataFrame) -> float | None:
    per = table["municipality_per_1000_65plus"].drop_nulls()
    return float(per[0]) if len(per) else None


def _year_change(now, ago, unit: str, month: str) -> str | None:
    change = fmt.change(now, ago)
    return None if change is None else f"前年同月（{short_month(shift(month, -12))}）から {change}{unit}"


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "　".join(kept) if kept else None


def build(item: ag.Item, area: Area, agenda: ag.Agenda) -> Slide:
    """One slide of the agenda for an area (item.district already applied to `area`)."""
    now, before, ago = _overview(area)
    month = now["month"]
    base = {"where": area.where, "month": month}
    kind = item.kind
    if kind == "title":
        day = agenda.date
        return Slide(
            "title",
            agenda.name,
            **base,
            context=date_text(day) if day else None,
        )
    if kind in ("places", "subsidized"):
        key = "n_active_places" if kind == "places" else "n_subsidized_places"
        value = now[key]
        slide = Slide(
            "number",
            ag.KINDS[kind] if kind == "places" else "うち補助金対象サロン",
            **base,
            value=fmt.number(value),
            unit="" if value is None else "か所",
        )
        change = _year_change(value, ago[key], "か所", month)
        if kind == "subsidized":
            share = (
                f"活動中の通いの場の{100 * value / now['n_active_places']:.0f}%"
                if value is not None and now["n_active_places"]
                else None
            )
            slide.context = _join(share, change)
            return slide
        table = _schools(area, month)
        city = _city_per_1000(table)
        mine = table.filter(pl.col("district") == area.district) if area.districts else table
        old = mine["population_65plus"].sum()
        per = 1000 * mine["n_active"].sum() / old if old else None
        if per is None:
            slide.context = change
        elif area.districts and city is not None:
            slide.context = f"65歳以上1,000人あたり {per:.2f}か所（{area.municipality}全体 {city:.2f}か所）"
        else:
            slide.context = _join(f"65歳以上1,000人あたり {per:.2f}か所", change)
        slide.line = participation.wall_line(area.prefecture, area.municipality, area.districts, month)
        return slide
    if kind == "compare":
        return _compare(area, month, base)
    if kind == "gaps":
        return _gaps(area, month, base)
    if kind in ("map", "gapmap"):
        aging, gaps = mapview.wall_slides(area.where, month, area.districts)
        spec = aging if kind == "map" else gaps
        return Slide("map", spec["title"], **base, extra=spec)
    if kind == "trend":
        return _trend(area, base)
    if kind == "pantry":
        value = now["households_served"]
        sites = now["n_pantry_sites"]
        return Slide(
            "number",
            "パントリーを利用した世帯",
            **base,
            value=fmt.number(value),
            unit="" if value is None else "世帯",
            context=_join(
                None if sites is None else f"設置 {sites:,}か所",
                _year_change(value, ago["households_served"], "世帯", month),
            )
            or "この月のパントリーのデータはありません",
        )
    if kind in ("consultations", "referrals"):
        # the wall is never exact: what the disclosure rule allows, as everywhere
        rule = session.disclosed(area.prefecture, area.municipality, area.districts or (), wall=True)
        shown = rule.figure(kind, [month])
        change = rule.change(kind, [month], [before["month"]])
        return Slide(
            "number",
            ag.KINDS[kind],
            **base,
            value=shown.text,
            unit="件" if shown.shown and shown.value is not None else "",
            context=None if change is None else f"前月（{short_month(before['month'])}）から {change}",
            hidden_note=shown.text.endswith("未満") or shown.text == privacy.COMPLEMENT,
        )
    if kind == "forums":
        return _forums(area, month, base)
    raise ValueError(kind)


def _compare(area: Area, month: str, base: dict) -> Slide:
    whole = Area(area.prefecture, area.municipality)
    rows = session.run_query("places_by_district", **whole.query(), month=month)
    city = _city_per_1000(_schools(area, month))
    values = [v for v in rows["active_per_1000_65plus"].to_list() if v is not None]
    top = max([*values, city or 0, 0.01]) * 1.08
    bars = [
        (d, "—" if v is None else f"{v:.2f}", 0 if v is None else v / top, d == area.district)
        for d, v in rows.select("district", "active_per_1000_65plus").iter_rows()
    ]
    context = None if city is None else f"{area.municipality}全体 {city:.2f}か所"
    if area.districts:
        order = sorted((v for v in values), reverse=True)
        mine = rows.filter(pl.col("district") == area.district)["active_per_1000_65plus"]
        if len(mine) and mine[0] is not None:
            context = _join(context, f"{area.district}地区は{len(order)}地区中{order.index(mine[0]) + 1}番目")
    return Slide(
        "bars",
        "地区の比較：65歳以上1,000人あたりの通いの場（か所）",
        **base,
        rows=bars,
        reference=None if city is None else (city / top, f"{area.municipality}全体 {city:.2f}"),
        context=context,
    )


def _gaps(area: Area, month: str, base: dict) -> Slide:
    table = _schools(area, month)
    whole = maps.whole(table)
    city = _city_per_1000(table)
    gaps = table.filter(pl.col("is_gap"))
    if area.districts:
        gaps = gaps.filter(pl.col("district") == area.district)
    gaps = gaps.sort("active_per_1000_65plus", nulls_last=True)
    names = [
        (
            r["school_district"] + ("" if area.districts else f"（{r['district']}）"),
            f"高齢化率 {r['aging_rate_pct']:.1f}%・1,000人あたり {r['active_per_1000_65plus'] or 0:.2f}か所",
        )
        for r in gaps.head(MOST_GAPS).iter_rows(named=True)
    ]
    rule = (
        None
        if whole.aging_rate_pct is None or city is None
        else (
            f"手薄＝高齢化率が{area.municipality}全体（{whole.aging_rate_pct:.1f}%）より高く、"
            f"65歳以上1,000人あたりの通いの場が全体（{city:.2f}か所）の4分の3未満"
        )
    )
    return Slide(
        "names",
        f"通いの場が手薄な小学校区　{gaps.height}か所",
        **base,
        names=names,
        more=max(0, gaps.height - MOST_GAPS),
        context=rule,
    )


def _trend(area: Area, base: dict) -> Slide:
    years = session.run_query("places_by_fiscal_year", **area.query())
    top = max([*years["n_active"].to_list(), 1]) * 1.05
    cols = [
        (fiscal_year_label(fy, western=False), f"{n:,}", n / top, i == years.height - 1)
        for i, (fy, n) in enumerate(years.select("fiscal_year", "n_active").iter_rows())
    ]
    context = None
    if years.height >= 2:
        last, prev = years.row(-1, named=True), years.row(-2, named=True)
        context = (
            f"{fiscal_year_label(last['fiscal_year'], western=False)}（{short_month(last['as_of_month'])}時点）"
            f" {last['n_active']:,}か所　前年度から {fmt.change(last['n_active'], prev['n_active'])}か所"
        )
    return Slide("columns", "通いの場（活動中）の推移：各年度3月時点", **base, rows=cols, context=context)


def _forums(area: Area, month: str, base: dict) -> Slide:
    fy = fiscal_year_of(month)

    def held(first: str, last: str) -> pl.DataFrame:
        return session.run_query("forums_by_type_district", **area.query(), from_month=first, to_month=last)

    rows = held(f"{fy}-04", month)
    before = held(f"{fy - 1}-04", shift(month, -12))
    n = int(rows["n_events"].sum()) if rows.height else 0
    people = int(rows["attendees_total"].sum() or 0) if rows.height else 0
    n_before = int(before["n_events"].sum()) if before.height else 0
    kinds = rows.group_by("event_type", maintain_order=True).agg(pl.col("n_events").sum())
    return Slide(
        "number",
        f"{fiscal_year_label(fy, western=False)}のフォーラム・交流会（{short_month(month)}まで）",
        **base,
        value=f"{n:,}",
        unit="回",
        context=f"参加 {people:,}人　前年度の同じ時期 {n_before:,}回",
        line="・".join(f"{t} {c:,}回" for t, c in kinds.iter_rows()) or None,
    )


# drawing


def _md(text: str) -> None:
    st.markdown(text, unsafe_allow_html=True)


def draw(
    slide: Slide, counter: str, meeting: str, prefecture: str, municipality: str, badge: str = ""
) -> None:
    """The slide, in the container screen.css lays out over the whole screen."""
    head = f'<span class="slide-count">{e("　".join(p for p in (badge, meeting, counter) if p))}</span>'
    _md(f'<p class="slide-where"><span>{e(slide.where)}　{e(month_label(slide.month))}時点</span>{head}</p>')
    if slide.kind == "title":
        _md(
            f'<div class="slide-headline slide-meeting"><p class="slide-name">{e(slide.title)}</p>'
            + (f'<p class="slide-date">{e(slide.context)}</p>' if slide.context else "")
            + "</div>"
        )
        _md(f'<p class="slide-change">{e(slide.where)}　データは{e(short_month(slide.month))}時点</p>')
    elif slide.kind == "map":
        _md(f'<p class="slide-title">{e(slide.title)}</p>')
        mapview.wall_map(prefecture, municipality, slide.extra)
    else:
        _md(f'<p class="slide-title">{e(slide.title)}</p>')
        if slide.kind == "number":
            _md(
                f'<p class="slide-number slide-headline">{e(slide.value)}'
                f'<span class="slide-unit">{e(slide.unit)}</span></p>'
            )
        elif slide.kind == "bars":
            _md(_bars(slide))
        elif slide.kind == "columns":
            _md(_columns(slide))
        elif slide.kind == "names":
            _md(_names(slide))
        if slide.context:
            _md(f'<p class="slide-change">{e(slide.context)}</p>')
        if slide.line:
            _md(f'<p class="slide-rate">{e(slide.line)}</p>')
    notes = []
    if slide.hidden_note:
        notes.append(privacy.note())
    if session.db().is_demo:
        notes.append("デモデータ（公表資料の数値＋架空の数値）")
    if notes:
        _md(f'<p class="slide-note">{e("　".join(notes))}</p>')


def _bars(slide: Slide) -> str:
    n = max(1, len(slide.rows))
    row = min(7.0, 58.0 / n)  # vh per district: six fit with room, thirty still fit
    parts = []
    for label, value, share, marked in slide.rows:
        cls = "wall-bar marked" if marked else "wall-bar"
        parts.append(
            f'<div class="{cls}" style="height:{row:.2f}vh;font-size:{row * 0.6:.2f}vh">'
            f'<span class="wall-bar-label">{"▶ " if marked else ""}{e(label)}</span>'
            f'<span class="wall-bar-track"><span class="wall-bar-fill" style="width:{100 * share:.1f}%"></span>'
            f'<span class="wall-bar-value">{e(value)}</span></span></div>'
        )
    ref = ""
    if slide.reference:
        share, label = slide.reference
        ref = (
            f'<div class="wall-bar-ref" style="left:calc(var(--label) + (100% - var(--label)) * {share:.4f})">'
            f"<span>{e(label)}</span></div>"
        )
    return f'<div class="slide-headline wall-bars" role="img" aria-label="{e(slide.title)}">{"".join(parts)}{ref}</div>'


def _columns(slide: Slide) -> str:
    if not slide.rows:
        return '<p class="slide-number slide-headline">—</p>'
    parts = [
        f'<div class="wall-col{" marked" if marked else ""}"><span class="wall-col-value">{e(value)}</span>'
        f'<span class="wall-col-bar" style="height:{100 * share:.1f}%"></span>'
        f'<span class="wall-col-label">{e(label)}</span></div>'
        for label, value, share, marked in slide.rows
    ]
    return f'<div class="slide-headline wall-cols">{"".join(parts)}</div>'


def _names(slide: Slide) -> str:
    n = len(slide.names)
    if n == 0:
        return '<div class="slide-headline wall-names"><p class="wall-none">ありません</p></div>'
    size = 11.0 if n <= 2 else 7.0 if n <= 6 else 5.0 if n <= 9 else 4.0
    cols = 1 if n <= 3 else 2 if n <= 8 else 3
    items = "".join(
        f'<li><span class="wall-name" style="font-size:{size:.1f}vh">{e(name)}</span>'
        f'<span class="wall-why">{e(why)}</span></li>'
        for name, why in slide.names
    )
    more = f'<p class="wall-more">ほか {slide.more}か所</p>' if slide.more else ""
    return (
        f'<div class="slide-headline wall-names"><ul style="grid-template-columns:repeat({cols}, auto)">'
        f"{items}</ul>{more}</div>"
    )
