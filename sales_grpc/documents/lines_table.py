"""The lines table of the PDF layout: a header row, then one row per line whose SKU and
description wrap, moved whole to the next page when it does not fit (the page's header()
repeats the header row there)."""

from __future__ import annotations

from fpdf import FPDF

from ..domain.documents.view import LineView
from . import formatting as fmt

# Columns (mm, 180 in all): title, width, alignment.
COLUMNS = (("SKU", 25.0, "L"), ("Description", 59.0, "L"), ("Qty", 14.0, "R"),
           ("Unit price", 24.0, "R"), ("Discount", 20.0, "R"), ("Tax", 14.0, "R"),
           ("Total", 24.0, "R"))
WRAPPED = (0, 1)  # SKU and description wrap; numbers stay on one line
FONT_SIZE = 8.5
LINE_HEIGHT = 4.2
PAD = 1.4  # above and below a row's text
MAX_ROW_LINES = 40  # a row never outgrows a page; a longer description ends in "…"
HEADER_FILL = (232, 236, 241)
STRIPE_FILL = (247, 248, 250)
INK = (25, 28, 32)


class LinesTable:
    def __init__(self, pdf: FPDF, family: str, currency: str) -> None:
        self.pdf = pdf
        self.family = family
        self.currency = currency
        self._widths: dict[tuple[str, float, str], float] = {}

    def header(self) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, "B", FONT_SIZE)
        pdf.set_text_color(*INK)  # also under a page's grey running header
        pdf.set_fill_color(*HEADER_FILL)
        for title, width, align in COLUMNS:
            pdf.cell(width, 7, title, align=align, fill=True)
        pdf.ln(7)

    def row(self, line: LineView, stripe: bool) -> None:
        pdf = self.pdf
        texts = (line.sku, line.description, fmt.quantity(line.quantity),
                 fmt.amount(line.unit_price, self.currency, exact=True),
                 fmt.amount(line.discount, self.currency) if line.discount else "",
                 "" if line.tax_rate is None else fmt.rate(line.tax_rate),
                 fmt.amount(line.total, self.currency))
        pdf.set_font(self.family, "", FONT_SIZE)
        wrapped = {i: self.wrap(texts[i], COLUMNS[i][1]) for i in WRAPPED}
        height = max(len(parts) for parts in wrapped.values()) * LINE_HEIGHT + 2 * PAD
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()  # the page's header() repeats the header row
            pdf.set_font(self.family, "", FONT_SIZE)
        top, x = pdf.get_y(), pdf.l_margin
        if stripe:
            pdf.set_fill_color(*STRIPE_FILL)
            pdf.rect(pdf.l_margin, top, pdf.epw, height, style="F")
        for i, (_, width, align) in enumerate(COLUMNS):
            for n, part in enumerate(wrapped.get(i, [texts[i]])):
                pdf.set_xy(x, top + PAD + n * LINE_HEIGHT)
                pdf.cell(width, LINE_HEIGHT, part, align=align)
            x += width
        pdf.set_xy(pdf.l_margin, top + height)

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy word wrap of `text` into a column, long words broken where they must be.
        fpdf2's own (multi_cell with dry_run) measures every candidate line afresh and took
        two thirds of a 200-line render; here each word is measured once."""
        room = width - 2 * self.pdf.c_margin
        space = self._width(" ")
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            current, used = "", 0.0
            for word in paragraph.split():
                size = self._width(word)
                if current and used + space + size <= room:
                    current, used = f"{current} {word}", used + space + size
                    continue
                if current:
                    lines.append(current)
                while size > room:  # a word wider than the column: as much as fits per line
                    cut = next(n for n in range(len(word) - 1, 0, -1)
                               if self._width(word[:n]) <= room or n == 1)
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self._width(word)
                current, used = word, size
            lines.append(current)
        if len(lines) > MAX_ROW_LINES:
            lines = [*lines[:MAX_ROW_LINES - 1], lines[MAX_ROW_LINES - 1] + " …"]
        return lines

    def _width(self, text: str) -> float:
        key = (self.pdf.font_style, self.pdf.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.pdf.get_string_width(text)
        return width
