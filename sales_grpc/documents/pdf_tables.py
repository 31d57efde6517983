"""The PDF writer of exports: rows kept as text (at most PDF_MAX_ROWS), then drawn as a table
in the PdfRenderer's worker processes, never on the event loop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time
from typing import Protocol

from ..domain.errors import FailedPrecondition, PreconditionViolation
from ..domain.reports import Caption, Column, ColumnType
from .report_pdf import TableView
from .text import text_of

PDF_MAX_ROWS = 2000
BLOCK_BYTES = 64 * 1024  # what a writer hands back at a time: one export chunk at most
_RIGHT = frozenset({ColumnType.INTEGER, ColumnType.DECIMAL})


class TableRenderer(Protocol):
    async def render_table(self, view: TableView) -> bytes: ...


def too_large_for_pdf() -> FailedPrecondition:
    return FailedPrecondition(
        f"the report has more than {PDF_MAX_ROWS} rows, too many for a PDF; export it as "
        "CSV (or JSON Lines, XLSX), or narrow the filter",
        violations=[PreconditionViolation("REPORT_TOO_LARGE_FOR_PDF", "format",
                                          f"PDF holds at most {PDF_MAX_ROWS} rows; use CSV")],
        reason="REPORT_TOO_LARGE_FOR_PDF")


class PdfTableWriter:
    content_type = "application/pdf"

    def __init__(self, columns: Sequence[Column], caption: Caption,
                 renderer: TableRenderer) -> None:
        self._columns = list(columns)
        self._caption = caption
        self._renderer = renderer
        self._rows: list[tuple[str, ...]] = []
        self._pdf = b""

    def begin(self) -> bytes:
        return b""

    def row(self, values: Sequence[object]) -> bytes:
        if len(self._rows) == PDF_MAX_ROWS:
            raise too_large_for_pdf()
        self._rows.append(tuple(text_of(v) for v in values))
        return b""

    async def seal(self) -> None:
        created = datetime.combine(self._caption.day, time(), UTC)
        self._pdf = await self._renderer.render_table(TableView(
            self._caption.title, self._caption.subtitle, tuple(c.name for c in self._columns),
            tuple(c.type in _RIGHT for c in self._columns), tuple(self._rows), created))
        self._rows = []

    def finish(self) -> Iterator[bytes]:
        for start in range(0, len(self._pdf), BLOCK_BYTES):
            yield self._pdf[start:start + BLOCK_BYTES]

    def close(self) -> None:
        self._rows, self._pdf = [], b""
