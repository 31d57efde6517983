"""Reports as PDF tables (fpdf2): `render_table_pdf(view)` returns the file's bytes.

A4 landscape: the report's title and what it covers, then the rows under a header row that
every page repeats, striped, numbers right-aligned; a footer with the title and "Page N of M".

Nothing is cut: a cell's text wraps within its column, at spaces (and at its own line
breaks), and a word wider than its column breaks between characters (after its punctuation
if it can); the header's names wrap after an underscore. A row is as tall as its tallest
cell, moves whole to the next page when it does not fit what is left of one, and only a row
taller than a whole page (a note of thousands of characters) continues over the next page,
under the header row again.

Columns get their width from their text (`fitted`): all of it on one line if the page is wide
enough; else numbers keep theirs, every column gets at least its longest word (up to
LONG_WORD digits: dates, amounts, document numbers; longer ones, such as ids, may break), the
narrow columns all they need, and the long texts (names, notes) share the rest in proportion
to their length. The type is 7 pt; a wide table is laid out at each size down to MIN_SIZE
(5 pt) and a smaller size is taken only if its rows take markedly fewer lines (`measure`).

DejaVu Sans is embedded, so any Latin, Greek or Cyrillic text prints as itself. The same view
gives the same bytes (a fixed creation date; fpdf2 derives the file id from the content), so
a PDF export resumes like the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .lines_table import HEADER_FILL, INK, STRIPE_FILL
from .pdf import FAMILY, FONTS, MUTED, RULE

MARGIN = 10.0
SIZES = (7.0, 6.5, 6.0, 5.5, 5.0)  # the type's sizes, largest first (`measure` picks one)
MIN_SIZE = SIZES[-1]
SIZE_SLACK = 1.25  # a larger size is kept if its rows take at most this many times the lines
FIRST_PAGE_HEAD = 30.0  # the title, what the report covers and the header row, about (mm)
LEADING = 1.3  # a text line's height, in type sizes
PAD = 0.6  # above and below a row's text (mm)
MIN_WIDTH = 8.0  # a column's least width (mm)
LONG_WORD = 15  # digits: a word no wider (a date, an amount, a number) breaks only if need be
SLACK = 0.5  # beyond the text and cell margins, so a measured text always fits its cell
BOTTOM = 14.0  # the page's foot left to the footer (mm)
PT = 25.4 / 72  # mm per point; no glyph of DejaVu Sans is wider than an em, so a text of n
# characters at s pt is at most n * s * PT mm wide: most cells need no measuring
_SPACE = re.compile(r"[ \t\r\f\v]+")
_HEADER_BREAK = re.compile(r"(?<=_)")  # a header name may wrap after each underscore
_SOFT_BREAK = re.compile(r"[-/:._,;]|(?<=\d)T(?=\d)")  # where a long word breaks best


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
        self.size = SIZES[0]
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        created = view.created if view.created.tzinfo else view.created.replace(tzinfo=UTC)
        self.set_creation_date(created)
        self.set_title(view.title)
        self.set_creator("sales-grpc")
        self.widths: list[float] = []
        self.header_lines: list[list[str]] = []
        self.header_height = 0.0
        self._widths_1pt: dict[str, float] = {}

    @property
    def line_height(self) -> float:
        return self.size * PT * LEADING

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*MUTED)
        self.cell(0, 4, f"{self.view.title}  ·  Page {self.page_no()} of {{nb}}", align="R")

    # -- the columns' widths and the type's size -------------------------------------------

    def measure(self) -> None:
        """The type's size and each column's width, from the widths of the texts at 1 pt
        (a text's width is proportional to the size): at each size of SIZES the columns
        are laid out (`fitted`) and the rows' lines counted; the largest size is used whose
        table fits on the first page, or else whose rows take at most SIZE_SLACK times the
        fewest lines: the type shrinks only where that gives the long texts room enough to
        wrap to markedly fewer lines (and pages)."""
        n = len(self.view.columns)
        whole = [0.0] * n  # per column at 1 pt: its widest value on one line
        word = [0.0] * n  # its widest word of a value
        spaced = [False] * n  # whether a value has words to wrap between
        self.set_font(FAMILY, "", 1)
        longest = self.get_string_width("0" * LONG_WORD)
        for row in self.view.rows:
            for i, text in enumerate(row):
                if len(text) * PT <= word[i]:  # it cannot be wider than the widest word
                    continue
                spaced[i] = spaced[i] or _SPACE.search(text.strip()) is not None
                for line in text.splitlines() or [""]:
                    if len(line) * PT > whole[i]:
                        whole[i] = max(whole[i], self.width_at_1pt(line))
                    for w in _SPACE.split(line):
                        if len(w) * PT > word[i]:
                            word[i] = max(word[i], self.get_string_width(w))
        self.set_font(FAMILY, "B", 1)
        names = [(self.get_string_width(name), max(self.get_string_width(p) for p in
                                                   _HEADER_BREAK.split(name) if p))
                 for name in self.view.columns]
        # A number never wraps; a word wraps only if wider than LONG_WORD digits (an id);
        # a header wraps after its underscores.
        least_text = [max(min(names[i][1], longest),
                          whole[i] if right else min(word[i], longest))
                      for i, right in enumerate(self.view.right_aligned)]
        most_text = [max(whole[i], names[i][0], least_text[i]) for i in range(n)]
        # Numbers, and columns of single short words (dates, codes, states), never wrap
        # when the page can help it; names, notes and ids give way first.
        rigid = [right or (not spaced[i] and word[i] <= longest)
                 for i, right in enumerate(self.view.right_aligned)]
        pad = 2 * self.c_margin + SLACK
        layouts = []
        for size in SIZES:
            least = [max(MIN_WIDTH, w * size + pad) for w in least_text]
            most = [max(least[i], w * size + pad) for i, w in enumerate(most_text)]
            widths = fitted(most, self.epw, least, rigid)
            layouts.append((self.lines(size, widths), size, widths))
        fewest = min(lines for lines, _, _ in layouts)
        one_page = self.h - BOTTOM - self.t_margin - FIRST_PAGE_HEAD
        _, self.size, self.widths = next(
            (lines, size, widths) for lines, size, widths in layouts
            if lines <= fewest * SIZE_SLACK
            or lines * size * PT * LEADING + len(self.view.rows) * 2 * PAD <= one_page)
        self.set_font(FAMILY, "B", self.size)
        self.header_lines = [self.wrap(name, w, _HEADER_BREAK)
                             for name, w in zip(self.view.columns, self.widths, strict=True)]
        self.header_height = (max(len(lines) for lines in self.header_lines)
                              * self.line_height + 2 * PAD)

    def width_at_1pt(self, text: str) -> float:
        """The width of `text` in the regular font at 1 pt (the current font), remembered."""
        found = self._widths_1pt.get(text)
        if found is None:
            found = self._widths_1pt[text] = self.get_string_width(text)
        return found

    def lines(self, size: float, widths: Sequence[float]) -> int:
        """About how many lines the rows take at `size` in columns `widths`: each cell's
        reckoned from its text's width (wrapping between words takes a little more)."""
        self.set_font(FAMILY, "", 1)
        rooms = [(w - 2 * self.c_margin) / size for w in widths]  # at 1 pt
        lines = 0
        for row in self.view.rows:
            tallest = 1
            for text, room in zip(row, rooms, strict=True):
                if len(text) * PT <= room and "\n" not in text:
                    continue
                count = sum(max(1, math.ceil(self.width_at_1pt(line) / room))
                            for line in text.splitlines())
                tallest = max(tallest, count)
            lines += tallest
        return lines

    # -- drawing -----------------------------------------------------------------------------

    def heading(self) -> None:
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 12)
        self.multi_cell(0, 7, self.view.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4, self.view.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def header_row(self) -> None:
        self.set_font(FAMILY, "B", self.size)
        self.set_text_color(*INK)
        self.set_fill_color(*HEADER_FILL)
        self.rect(self.l_margin, self.get_y(), sum(self.widths), self.header_height, style="F")
        self.lines_at(self.header_lines, 0)
        self.set_y(self.get_y() + self.header_height)
        self.set_font(FAMILY, "", self.size)

    def lines_at(self, cells: Sequence[Sequence[str]], first: int, count: int | None = None
                 ) -> None:
        """Lines first.. (count of them, or all) of each cell, from the current y."""
        top, x = self.get_y() + PAD, self.l_margin
        for lines, width, right in zip(cells, self.widths, self.view.right_aligned,
                                       strict=True):
            shown = lines[first:] if count is None else lines[first:first + count]
            for k, text in enumerate(shown):
                self.set_xy(x, top + k * self.line_height)
                self.cell(width, self.line_height, text, align="R" if right else "L")
            x += width
        self.set_xy(self.l_margin, top - PAD)

    def room(self) -> float:
        return self.h - BOTTOM - self.get_y()

    def body(self) -> None:
        self.header_row()
        line = self.line_height
        page = self.h - BOTTOM - self.t_margin - self.header_height  # a new page's room
        for n, row in enumerate(self.view.rows):
            cells = [self.wrap(text, width)
                     for text, width in zip(row, self.widths, strict=True)]
            total = max(len(lines) for lines in cells)
            height = total * line + 2 * PAD
            # A row goes whole to the next page if it fits there; one taller than a page
            # starts here, unless less than a tenth of a page is left.
            if height > self.room() and (height <= page or self.room() < page / 10):
                self.add_page()
                self.header_row()
            done = 0
            while done < total:  # more than once only for a row taller than a page
                if done:
                    self.add_page()
                    self.header_row()
                count = min(total - done, max(1, int((self.room() - 2 * PAD) / line)))
                height = count * line + 2 * PAD
                if n % 2:
                    self.set_fill_color(*STRIPE_FILL)
                    self.rect(self.l_margin, self.get_y(), sum(self.widths), height, style="F")
                self.lines_at(cells, done, count)
                self.set_y(self.get_y() + height)
                done += count
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.l_margin + sum(self.widths), self.get_y())

    def wrap(self, text: str, width: float, breaks: re.Pattern[str] = _SPACE) -> list[str]:
        """`text` as the lines it takes in a cell `width` wide, in the current font: at its
        own line breaks, then between words, and within a word wider than the cell (after
        its punctuation if it can)."""
        room = width - 2 * self.c_margin
        if len(text) * self.font_size <= room and "\n" not in text:
            return [text]  # fits whatever its glyphs (font_size: the size in mm)
        out: list[str] = []
        joiner = " " if breaks is _SPACE else ""
        for paragraph in text.splitlines() or [""]:
            line = ""
            for word in (w for w in breaks.split(paragraph) if w):
                candidate = f"{line}{joiner}{word}" if line else word
                if self.get_string_width(candidate) <= room:
                    line = candidate
                    continue
                if line:
                    out.append(line)
                while self.get_string_width(word) > room:  # a word wider than the cell
                    cut = self._prefix(word, room)
                    out.append(word[:cut])
                    word = word[cut:]
                line = word
            out.append(line)
        return out

    def _prefix(self, word: str, room: float) -> int:
        """The leading characters of `word` to put on a line `room` wide: the most that
        fit (at least one), cut back to just after a hyphen, slash, colon, dot or the T of
        a time if one is in their second half, or by one so that no line is punctuation
        alone."""
        low, high = 1, len(word)
        while low < high:
            mid = (low + high + 1) // 2
            if self.get_string_width(word[:mid]) <= room:
                low = mid
            else:
                high = mid - 1
        soft = [m.end() for m in _SOFT_BREAK.finditer(word, 0, low) if m.end() < len(word)]
        if soft and soft[-1] * 2 > low:
            return soft[-1]
        if low > 1 and not any(c.isalnum() for c in word[low:]):
            return low - 1  # not a line of a lone comma: its letter goes along
        return low


def fitted(natural: list[float], room: float, least: Sequence[float] = (),
           rigid: Sequence[bool] = ()) -> list[float]:
    """Widths that fill `room`: each column its `natural` width (its text on one line) if
    all fit; else the narrow columns theirs, and the wide ones (names, notes) their `least`
    (their longest word) and a share of the rest in proportion to what they lack of their
    natural width, so that long texts wrap to about as many lines as each other. When
    even the least widths overflow, the columns not `rigid` (text, not numbers, dates or
    codes) give way first, down to MIN_WIDTH; and only when that is not enough are all
    scaled down alike."""
    least = list(least) or [0.0] * len(natural)
    if sum(natural) <= room:
        return natural
    if sum(least) <= room:
        return _shared(natural, least, room)
    rigid = list(rigid) or [False] * len(natural)
    floors = [w if r else min(w, MIN_WIDTH) for w, r in zip(least, rigid, strict=True)]
    if sum(floors) <= room:
        return _shared(least, floors, room)
    return [w * room / sum(floors) for w in floors]


def _shared(most: list[float], floors: list[float], room: float) -> list[float]:
    """Widths from `floors` up to `most` that fill `room` (sum(floors) <= room < sum(most)):
    of the room left above the floors, the columns that lack least get all they lack while
    that is no more than an even share of it; the others share the rest in proportion to
    what they lack."""
    widths = list(floors)
    left = room - sum(floors)
    wanting = sorted((m - f, i) for i, (m, f) in enumerate(zip(most, floors, strict=True))
                     if m > f)
    while wanting and wanting[0][0] <= left / len(wanting):
        lack, i = wanting.pop(0)
        widths[i] += lack
        left -= lack
    lacking = sum(lack for lack, _ in wanting)
    for lack, i in wanting:  # (lacking > 0 here, as sum(most) > room)
        widths[i] += left * lack / lacking
    return widths


def render_table_pdf(view: TableView) -> bytes:
    """The table as PDF bytes. CPU-bound pure Python: call it through PdfRenderer, never on
    the event loop."""
    pdf = _Table(view)
    pdf.measure()
    pdf.add_page()
    pdf.heading()
    pdf.body()
    return bytes(pdf.output())
