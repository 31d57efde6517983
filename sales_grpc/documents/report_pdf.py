"""Reports as PDF tables (fpdf2): `render_table_pdf(view)` returns the file's bytes.

A4 landscape: the report's title and what it covers, then the rows under a header row that
every page repeats, striped, numbers right-aligned; a footer with the title and "Page N of M".
Columns share the page's width by the width of their text (header and cells), and a cell too
wide for its column ends in "…". DejaVu Sans is embedded, so any Latin, Greek or Cyrillic text
prints as itself. The same view gives the same bytes (a fixed creation date; fpdf2 derives
the file id from the content), so a PDF export resumes like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .lines_table import HEADER_FILL, INK, STRIPE_FILL
from .pdf import FAMILY, FONTS, MUTED, RULE

MARGIN = 10.0
ROW_HEIGHT = 4.4
MIN_WIDTH = 8.0
SLACK = 0.5  # beyond the text and cell margins, so a measured text always fits its cell


@dataclass(frozen=True)
class TableView:
    title: str
    subtitle: str
    columns: tuple[str, ...]
    right_aligned: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    created: datetime  # the PDF's creation date: part of its bytes


class _Table(FPDF):
    def __init__(self, view: TableView) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.view = view
        self.size = 7.0 if len(view.columns) <= 10 else max(5.0, 7.0 - (len(view.columns) - 10)
                                                             * 0.25)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        created = view.created if view.created.tzinfo else view.created.replace(tzinfo=UTC)
        self.set_creation_date(created)
        self.set_title(view.title)
        self.set_creator("sales-grpc")
        self.widths: list[float] = []

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{self.view.title}  ·  Page {self.page_no()} of {{nb}}", align="R")

    def measure(self) -> None:
        """Each column's width: its widest text, the widest cut down first to fit."""
        self.set_font(FAMILY, "B", self.size)
        pad = 2 * self.c_margin + SLACK
        natural = [self.get_string_width(name) + pad for name in self.view.columns]
        self.set_font(FAMILY, "", self.size)
        for row in self.view.rows:
            for i, text in enumerate(row):
                # Measured only when it may be wider: no glyph is wider than 1 em.
                if len(text) * self.size * 0.3528 + pad > natural[i]:
                    natural[i] = max(natural[i], self.get_string_width(text) + pad)
        self.widths = fitted([max(w, MIN_WIDTH) for w in natural], self.epw)

    def heading(self) -> None:
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 12)
        self.cell(0, 7, self.view.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4, self.view.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def header_row(self) -> None:
        self.set_font(FAMILY, "B", self.size)
        self.set_text_color(*INK)
        self.set_fill_color(*HEADER_FILL)
        for name, width, right in zip(self.view.columns, self.widths, self.view.right_aligned,
                                      strict=True):
            self.cell(width, ROW_HEIGHT + 1, self.fit(name, width), fill=True,
                      align="R" if right else "L")
        self.ln(ROW_HEIGHT + 1)
        self.set_font(FAMILY, "", self.size)

    def body(self) -> None:
        self.header_row()
        for n, row in enumerate(self.view.rows):
            if self.get_y() + ROW_HEIGHT > self.h - 14:
                self.add_page()
                self.header_row()
            if n % 2:
                self.set_fill_color(*STRIPE_FILL)
                self.rect(self.l_margin, self.get_y(), self.epw, ROW_HEIGHT, style="F")
            for text, width, right in zip(row, self.widths, self.view.right_aligned,
                                          strict=True):
                self.cell(width, ROW_HEIGHT, self.fit(text, width), align="R" if right else "L")
            self.ln(ROW_HEIGHT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())

    def fit(self, text: str, width: float) -> str:
        text = " ".join(text.split())  # line breaks would leave the row
        room = width - 2 * self.c_margin
        if self.get_string_width(text) <= room:
            return text
        low, high = 0, len(text)  # the longest prefix that fits with the ellipsis
        while low < high:
            mid = (low + high + 1) // 2
            if self.get_string_width(text[:mid] + "…") <= room:
                low = mid
            else:
                high = mid - 1
        return text[:low] + "…"


def fitted(natural: list[float], room: float) -> list[float]:
    """The widths capped at one limit, as high as lets them fit `room`: narrow columns (codes,
    amounts, dates) keep their width and only the widest (ids, notes) are cut."""
    if sum(natural) <= room:
        return natural
    left, cap = room, room
    for n, width in enumerate(sorted(natural)):
        cap = left / (len(natural) - n)
        if width > cap:
            break
        left -= width
    return [min(w, cap) for w in natural]


def render_table_pdf(view: TableView) -> bytes:
    """The table as PDF bytes. CPU-bound pure Python: call it through PdfRenderer, never on
    the event loop."""
    pdf = _Table(view)
    pdf.measure()
    pdf.add_page()
    pdf.heading()
    pdf.body()
    return bytes(pdf.output())
