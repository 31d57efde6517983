"""The PDF layout of every sales document (fpdf2): `render_pdf(view)` returns the file's bytes.

A4 portrait. Page 1: the seller (logo, name, address, tax id) and the title with the number
and dates, the customer's block, then the lines. Every page repeats the table header at its
top when lines continue there, and ends with a footer naming the document and "Page N of M";
a watermark ("DRAFT", "VOID") crosses every page, translucent over the text. After the lines:
the totals and what follows them (paid, credited, amount due), then the reason, notes and
terms. DejaVu Sans is embedded (subset), so any Latin, Greek or Cyrillic name prints as itself.

The same view always gives the same bytes: the PDF's creation date is the document version's
time, and fpdf2 derives the file id from the content.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ..domain.documents.view import DocumentView, PartyBlock
from . import formatting as fmt
from .lines_table import HEADER_FILL, INK, LinesTable

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
MARGIN = 15.0
RULE = (150, 158, 168)
MUTED = (95, 102, 112)
WATERMARK = (200, 30, 30)
WATERMARK_OPACITY = 0.2  # seen at once, yet the text under it stays legible


class _Layout(FPDF):
    def __init__(self, view: DocumentView) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.view = view
        self.in_table = False
        self.lines = LinesTable(self, FAMILY, view.currency)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=22)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_creation_date(_utc(view.version_time))
        self.set_title(view.heading)
        self.set_author(view.seller.name)
        self.set_creator("sales-grpc")
        self.set_text_color(*INK)

    # -- on every page -----------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self._font(8, color=MUTED)
        self.cell(0, 5, f"{self.view.seller.name}  ·  {self.view.heading}",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)
        if self.in_table:
            self.lines.header()

    def footer(self) -> None:
        if self.view.watermark:
            self.watermark(self.view.watermark)
        self.set_y(-16)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(1.5)
        self._font(8, color=MUTED)
        left = self.view.seller.name
        if self.view.seller.tax_id:
            left += f"  ·  Tax ID {self.view.seller.tax_id}"
        self.cell(self.epw / 2, 5, left)
        name = self.view.number or self.view.title
        self.cell(self.epw / 2, 5, f"{name}  ·  Page {self.page_no()} of {{nb}}", align="R")

    def watermark(self, text: str) -> None:
        """`text` across the page's diagonal, translucent and drawn last: the table's shaded
        rows would cover it in parts if it were drawn first."""
        x, y = self.w / 2, self.h / 2
        size = 130.0
        self._font(size, "B", color=WATERMARK)
        size *= min(1.0, 170 / self.get_string_width(text))  # a long word fits the diagonal
        self._font(size, "B", color=WATERMARK)
        with self.local_context(fill_opacity=WATERMARK_OPACITY), \
                self.rotation(angle=55, x=x, y=y):
            # Centred: the baseline half a cap height (0.73 em; 1 pt is 0.3528 mm) below.
            self.text(x - self.get_string_width(text) / 2, y + size * 0.3528 * 0.73 / 2, text)

    # -- blocks --------------------------------------------------------------------------------

    def letterhead(self) -> None:
        seller, top = self.view.seller, self.get_y()
        if seller.logo_path:
            self.image(seller.logo_path, x=MARGIN, y=top, h=14, keep_aspect_ratio=True)
            self.set_y(top + 17)
        self._party(seller, name_size=13, width=95)
        left_end = self.get_y()
        self.set_xy(self.w - MARGIN - 80, top)
        self._font(20, "B")
        self.multi_cell(80, 9, self.view.title, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.ln(1)
        details: list[tuple[str, str | date]] = []
        if self.view.number:
            details.append(("Number", self.view.number))
        if self.view.issue_date is not None:
            details.append((self.view.date_label, self.view.issue_date))
        details += self.view.details
        for label, value in details:
            self.set_x(self.w - MARGIN - 80)
            self._font(9, color=MUTED)
            self.cell(34, 5, label, align="R")
            self._font(9, "B")
            self.multi_cell(46, 5, _text(value), align="R", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)
        self.set_y(max(left_end, self.get_y()) + 8)

    def bill_to(self) -> None:
        self._font(8, "B", color=MUTED)
        self.cell(0, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._party(self.view.customer, name_size=11, width=110)
        self.ln(6)

    def _party(self, party: PartyBlock, name_size: float, width: float) -> None:
        self._font(name_size, "B")
        self.multi_cell(width, name_size * 0.5, party.name, new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)
        self._font(9)
        for text in party.lines:
            self.multi_cell(width, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if party.tax_id:
            self.multi_cell(width, 4.5, f"Tax ID: {party.tax_id}", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT)

    def lines_table(self) -> None:
        self.in_table = True
        self.lines.header()
        for i, line in enumerate(self.view.lines):
            self.lines.row(line, stripe=i % 2 == 1)
        self.in_table = False
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(4)

    def totals(self) -> None:
        view, currency, t = self.view, self.view.currency, self.view.totals
        rows = [(label, value) for label, value in (
            ("Subtotal", t.subtotal), ("Discount", None if t.discount is None else -t.discount),
            ("Tax", t.tax), ("Shipping", t.shipping)) if value is not None]
        below = sum(10.5 if row.strong else 6 for row in view.summary) + 2 * bool(view.summary)
        if self.get_y() + 6 * len(rows) + 12 + below > self.page_break_trigger:
            self.add_page()  # the totals and what follows them stay together
        left = self.w - MARGIN - 90
        for label, value in rows:
            self._amount_row(left, label, fmt.money(value, currency))
        self.set_draw_color(*INK)
        self.line(left + 20, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
        self.ln(2.5)
        self.set_x(left)
        self._font(11, "B")
        self.cell(45, 8, "Total", align="R")
        self.cell(45, 8, fmt.money(t.grand_total, currency), align="R",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if view.summary:
            self.ln(2)
        for row in view.summary:
            if row.strong:
                self.ln(1.5)
                self.set_fill_color(*HEADER_FILL)
                self.rect(left, self.get_y(), 90, 8, style="F")
                self.set_x(left - 40)
                self._font(11, "B")
                self.cell(85, 8, row.label, align="R")
                self.cell(45, 8, fmt.money(row.amount, currency), align="R",
                          new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.ln(1)
            else:  # labels may be long ("Applied to invoice INV-2026-000123"): room leftwards
                self._amount_row(left - 40, row.label, fmt.money(row.amount, currency),
                                 label_width=85)
        self.ln(6)

    def _amount_row(self, left: float, label: str, value: str, label_width: float = 45
                    ) -> None:
        self.set_x(left)
        self._font(9, color=MUTED)
        self.cell(label_width, 6, label, align="R")
        self._font(9)
        self.cell(45, 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def remarks(self) -> None:
        view = self.view
        for heading, text in (("Reason", view.reason), ("Notes", view.notes),
                              ("Terms", view.terms)):
            if not text.strip():
                continue
            self._font(9, "B")
            self.cell(0, 6, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self._font(9)
            self.multi_cell(0, 4.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(3)

    def _font(self, size: float, style: str = "", color: tuple[int, int, int] = INK) -> None:
        self.set_font(FAMILY, style, size)
        self.set_text_color(*color)


def render_pdf(view: DocumentView) -> bytes:
    """The document as PDF bytes. CPU-bound pure Python: call it through PdfRenderer, never
    on the event loop."""
    pdf = _Layout(view)
    pdf.add_page()
    pdf.letterhead()
    pdf.bill_to()
    pdf.lines_table()
    pdf.totals()
    pdf.remarks()
    return bytes(pdf.output())


def _text(value: str | date) -> str:
    return fmt.day(value) if isinstance(value, date) else value


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
