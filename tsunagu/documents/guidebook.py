"""通いの場ガイドブック: the A4 guide residents take home, for a school district, a district or
the whole municipality, made from the same published places as the public page.

Large type (body 12 pt and up, headings larger), places grouped by school district and then
by the weekday they meet on (a place meeting on two weekdays is under both), each with its
days and hours, kind and who it is for, fee and the contact its organiser agreed to publish;
the month of the data and the day it was made, how to reach the 社協, and a QR code that
opens the public page on the same area. It reads only public_places (query/guide.py): a place
not marked 公開, an address, coordinates, a person's name other than the published contact,
and anything of the pantry never reach it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import polars as pl
import segno

from tsunagu.contract.wareki import month_label
from tsunagu.display.font import FONT_FAMILY
from tsunagu.documents.pdf import ACCENT, INK, MUTED, RULE, WRAP, Document
from tsunagu.query import guide
from tsunagu.query.database import Database

JST = dt.timezone(dt.timedelta(hours=9))
BODY_PT = 12  # the smallest type of the body; headings are larger
FOOTER_PT = 10
DEMO_NOTICE = "デモデータ：掲載している場所・連絡先はすべて架空のものです。"
INTRO = (
    "地域の人が気軽に集まる「通いの場」（サロン、カフェ、体操、会食など）のうち、運営している方が"
    "掲載に同意した場所の一覧です。行ってみたい場所があれば、問い合わせ先にご連絡ください。"
    "日時や参加費は変わることがあります。"
)
PRIVATE_NOTE = "個人のお宅で開いている場所は、場所をのせていません。問い合わせ先にお尋ねください。"
TABLE_HEAD = ["名称", "日時", "種別・対象", "参加費", "問い合わせ先"]
TABLE_WIDTHS = [42, 36, 34, 20, 48]


@dataclass(frozen=True)
class GuideArea:
    """What a guidebook covers: a municipality, one of its districts, or one school district."""

    prefecture: str
    municipality: str
    district: str | None = None
    school_district: str | None = None
    code: str | None = None  # 団体コード: the QR code's short form of the municipality

    @property
    def name(self) -> str:
        if self.school_district:
            return f"{self.municipality} {self.school_district}学区"
        if self.district:
            return f"{self.municipality} {self.district}地区"
        return self.municipality

    @property
    def search(self) -> guide.Search:
        return guide.Search(district=self.district, school_district=self.school_district)


def file_name(area: GuideArea, month: str | None) -> str:
    """通いの場ガイド_332020_倉敷市_玉島_玉島小_2025-03.pdf"""
    muni = f"{area.code}_{area.municipality}" if area.code else area.municipality
    parts = [p for p in (area.district, area.school_district) if p] or ["全域"]
    return f"通いの場ガイド_{muni}_{'_'.join(parts)}{f'_{month}' if month else ''}.pdf"


class Guidebook(Document):
    """A Document in large type: its footer at 10 pt (the source, the notice, the page)."""

    def footer(self) -> None:
        self.set_y(-18)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FONT_FAMILY, size=FOOTER_PT)
        self.set_text_color(*MUTED)
        text = self.source + (f"\n{self.notice}" if self.notice else "")
        self.set_xy(self.l_margin, self.get_y() + 1)
        self.multi_cell(self.width - 24, 4.4, text, **WRAP)
        self.set_xy(self.w - self.r_margin - 22, self.h - 17)
        self.cell(22, 5, f"{self.page_no()} / {{nb}}", align="R")
        self.set_text_color(*INK)

    def para(self, body: str, size: float = BODY_PT, color=INK) -> None:
        self.set_font(FONT_FAMILY, size=size)
        self.set_text_color(*color)
        self.multi_cell(self.width, size * 0.52, body, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_text_color(*INK)

    def big_heading(self, text: str, size: float = 16, need: float = 40) -> None:
        if self.get_y() + need > self.page_break_trigger:
            self.add_page()
        self.ln(3)
        self.set_font(FONT_FAMILY, size=size)
        self.set_text_color(*ACCENT)
        self.multi_cell(self.width, size * 0.55, text, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_draw_color(*ACCENT)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.width, self.get_y())
        self.set_line_width(0.2)
        self.set_text_color(*INK)
        self.ln(2)


def qr_png(url: str) -> bytes:
    """The QR code of the public page's address (error correction M: survives a smudge)."""
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="png", scale=10, border=4)
    return buf.getvalue()


def _row(r: dict) -> list[str]:
    kind = r["category"] + (f"\n対象: {r['target']}" if r["target"] else "")
    where = "（個人宅）" if r["venue_type"] == "個人宅" else ""
    when = "\n".join(p.strip() for p in (r["weekdays"], r["hours"]) if p and p.strip())
    contact = guide.contact_lines(r["contact"]) or "社協へお問い合わせください"
    return [
        r["name"] + where,
        when or "日時はお問い合わせください",
        kind,
        guide.fee_label(r["fee_yen"]),
        contact,
    ]


def guidebook(
    db: Database,
    area: GuideArea,
    *,
    address: str,
    office: str = "",
    today: dt.date | None = None,
) -> bytes:
    """The guidebook of an area as PDF bytes. `address`: the public page's address (its QR
    code opens the page on this area); `office`: how to reach the 社協 (the admin's setting)."""
    today = today or dt.datetime.now(JST).date()
    places = guide.search(guide.published(db, area.prefecture, area.municipality), area.search)
    month = places["month"][0] if places.height else None
    as_of = f"{month_label(month)}時点" if month else "掲載できる場所はまだありません"
    source = (
        f"出典：{area.municipality}の通いの場の登録データ（{month_label(month) if month else '—'}分）から"
        f"「つなぐ」で作成。作成日 {today.year}年{today.month}月{today.day}日"
    )
    doc = Guidebook(f"通いの場ガイド {area.name}", source, DEMO_NOTICE if db.store.is_demo() else None)
    doc.set_auto_page_break(True, margin=22)
    doc.add_page()

    doc.set_text_color(*ACCENT)
    doc.set_font(FONT_FAMILY, size=26)
    doc.multi_cell(doc.width, 12, "通いの場ガイド", new_x="LMARGIN", new_y="NEXT", **WRAP)
    doc.set_font(FONT_FAMILY, size=18)
    doc.multi_cell(doc.width, 9, area.name, new_x="LMARGIN", new_y="NEXT", **WRAP)
    doc.set_text_color(*INK)
    doc.para(f"{as_of}　{places.height:,}か所　（{today.year}年{today.month}月{today.day}日 作成）", size=13)
    doc.ln(2)
    doc.para(INTRO)
    doc.ln(3)
    _contact_box(doc, area, address, office)

    if places.is_empty():
        doc.big_heading("掲載している場所")
        doc.para("この地域には、いま掲載できる通いの場がありません。社会福祉協議会にお問い合わせください。")
        return doc.to_bytes()
    if places.filter(pl.col("venue_type") == "個人宅").height:
        doc.para(PRIVATE_NOTE, color=MUTED)
    doc.para("いくつもの曜日に開く場所は、それぞれの曜日にのせています。", color=MUTED)
    for (district, school), group in places.group_by(["district", "school_district"], maintain_order=True):
        title = f"{school}学区" if area.district else f"{district}地区　{school}学区"
        doc.big_heading(f"{title}（{group.height}か所）")
        for day, on in guide.by_weekday(group):
            doc.set_font(FONT_FAMILY, size=14)
            if doc.get_y() + 30 > doc.page_break_trigger:
                doc.add_page()
            doc.cell(doc.width, 8, f"■ {day}", new_x="LMARGIN", new_y="NEXT")
            doc.table(
                TABLE_HEAD,
                [_row(r) for r in on.iter_rows(named=True)],
                widths=TABLE_WIDTHS,
                align=["LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"],
                size=BODY_PT,
            )
    return doc.to_bytes()


def _contact_box(doc: Guidebook, area: GuideArea, address: str, office: str) -> None:
    """How to reach the 社協, and the QR code of the public page on this area."""
    url = guide.page_url(address, area.municipality, area.code, area.district, area.school_district)
    top = doc.get_y()
    size = 38  # mm: a phone reads it at arm's length
    text_w = doc.width - size - 6
    doc.set_draw_color(*RULE)
    doc.set_font(FONT_FAMILY, size=14)
    doc.set_text_color(*ACCENT)
    doc.set_xy(doc.l_margin + 3, top + 3)
    doc.cell(text_w, 7, "お問い合わせ・ご相談")
    doc.set_text_color(*INK)
    doc.set_xy(doc.l_margin + 3, top + 11)
    doc.set_font(FONT_FAMILY, size=13)
    doc.multi_cell(
        text_w - 3,
        6.5,
        office or f"{area.municipality}の社会福祉協議会（生活支援コーディネーター）",
        new_x="LEFT",
        new_y="NEXT",
        **WRAP,
    )
    doc.set_xy(doc.l_margin + 3, doc.get_y() + 2)
    doc.set_font(FONT_FAMILY, size=BODY_PT)
    doc.multi_cell(
        text_w - 3,
        6,
        "スマートフォンで右のQRコードを読むと、最新の情報を曜日や場所で探せます。",
        new_x="LEFT",
        new_y="NEXT",
        **WRAP,
    )
    if address:
        doc.set_font(FONT_FAMILY, size=BODY_PT)
        doc.multi_cell(text_w - 3, 6, address, new_x="LEFT", new_y="NEXT", wrapmode="CHAR")
    bottom = max(doc.get_y() + 3, top + size + 6)
    doc.image(io.BytesIO(qr_png(url)), x=doc.l_margin + doc.width - size - 2, y=top + 3, w=size, h=size)
    doc.rect(doc.l_margin, top, doc.width, bottom - top)
    doc.set_xy(doc.l_margin, bottom + 3)
