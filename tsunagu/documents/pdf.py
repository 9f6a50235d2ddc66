"""A4 documents in Japanese: the font embedded, page numbers and the source on every page.

fpdf2 writes the PDF; the font is IPAex Gothic, shipped in a PyPI wheel (matplotlib-fontja),
so a fresh machine needs nothing but the package index and no network once installed. Only
the glyphs used are embedded (subset), which keeps a handout around 100 KB.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.fonts import FontFace

from tsunagu.display.font import FONT_FAMILY, font_path

INK = (17, 17, 17)
MUTED = (85, 85, 85)
ACCENT = (11, 61, 107)  # the presentation mode's title colour
RULE = (190, 198, 210)
HEAD_FILL = (228, 235, 245)
# Japanese has no spaces to break at: wrap at any character, and never stretch a line
WRAP = {"align": "L", "wrapmode": "CHAR"}


class Document(FPDF):
    """An A4 portrait page with a title line, a footer naming the source, and 「n / N」."""

    def __init__(self, title: str, source: str, notice: str | None = None):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FONT_FAMILY, fname=str(font_path()))
        self.set_font(FONT_FAMILY, size=10)
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=20)
        self.set_title(title)
        self.set_lang("ja")
        self.set_creator("つなぐ（tsunagu）")
        self.source = source
        self.notice = notice

    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def footer(self) -> None:
        self.set_y(-16)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FONT_FAMILY, size=7.5)
        self.set_text_color(*MUTED)
        text = self.source + (f"\n{self.notice}" if self.notice else "")
        self.set_xy(self.l_margin, self.get_y() + 1)
        self.multi_cell(self.width - 22, 3.6, text, **WRAP)
        self.set_xy(self.w - self.r_margin - 22, self.h - 15)
        self.set_font(FONT_FAMILY, size=9)
        self.cell(22, 4, f"{self.page_no()} / {{nb}}", align="R")
        self.set_text_color(*INK)

    def title_block(self, title: str, subtitle: str, conditions: str) -> None:
        self.set_text_color(*ACCENT)
        self.set_font(FONT_FAMILY, size=19)
        self.multi_cell(self.width, 9, title, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_text_color(*INK)
        self.set_font(FONT_FAMILY, size=12)
        self.multi_cell(self.width, 6.5, subtitle, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_font(FONT_FAMILY, size=8.5)
        self.set_text_color(*MUTED)
        self.multi_cell(self.width, 4.5, conditions, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_text_color(*INK)
        self.ln(2)

    def heading(self, text: str, need: float = 30) -> None:
        """A section heading, moved to the next page with its first lines if it would be alone."""
        if self.get_y() + need > self.page_break_trigger:
            self.add_page()
        self.ln(2)
        self.set_font(FONT_FAMILY, size=12.5)
        self.set_text_color(*ACCENT)
        self.cell(self.width, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(*ACCENT)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.width, self.get_y())
        self.set_text_color(*INK)
        self.ln(1.5)

    def note(self, text: str, size: float = 8.5) -> None:
        self.set_font(FONT_FAMILY, size=size)
        self.set_text_color(*MUTED)
        self.multi_cell(self.width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", **WRAP)
        self.set_text_color(*INK)

    def figures(self, cards: Sequence[tuple[str, str, str]], per_row: int = 4) -> None:
        """Headline figures as boxes: (label, value, small text under it)."""
        gap = 3
        w = (self.width - gap * (per_row - 1)) / per_row
        h = 25
        for start in range(0, len(cards), per_row):
            if self.get_y() + h > self.page_break_trigger:
                self.add_page()
            y = self.get_y()
            for i, (label, value, small) in enumerate(cards[start : start + per_row]):
                x = self.l_margin + i * (w + gap)
                self.set_draw_color(*RULE)
                self.rect(x, y, w, h)
                self.set_xy(x + 2, y + 1.8)
                self.set_font(FONT_FAMILY, size=8.5)
                self.set_text_color(*MUTED)
                self.cell(w - 4, 4, label)
                self.set_xy(x + 2, y + 6.5)
                self.set_font(FONT_FAMILY, size=17 if len(value) <= 9 else 13)
                self.set_text_color(*INK)
                self.cell(w - 4, 9, value)
                self.set_xy(x + 2, y + 16.5)
                self.set_font(FONT_FAMILY, size=7.5)
                self.set_text_color(*MUTED)
                self.multi_cell(w - 4, 3.4, small, **WRAP)
            self.set_text_color(*INK)
            self.set_xy(self.l_margin, y + h + gap)

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        align: Sequence[str],
        size: float = 8.5,
    ) -> None:
        """A table whose heading row repeats on every page it runs onto."""
        self.set_font(FONT_FAMILY, size=size)
        self.set_draw_color(*RULE)
        style = FontFace(emphasis="", fill_color=HEAD_FILL, color=INK)
        with super().table(
            col_widths=tuple(widths),
            text_align=tuple(align),
            headings_style=style,
            line_height=size * 0.55,
            padding=(0.9, 1.2),
            borders_layout="HORIZONTAL_LINES",
            width=self.width,
            repeat_headings=1,
            first_row_as_headings=True,
            wrapmode="CHAR",
        ) as t:
            t.row([str(h) for h in headings])
            for row in rows:
                t.row(["" if v is None else str(v) for v in row])
        self.ln(2)

    def picture(self, png: bytes, height: float) -> None:
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, w=self.width, h=height, keep_aspect_ratio=True)
        self.ln(2)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
