"""PdfRenderer: renders document views to PDF in a pool of worker processes, off the event loop.

Why processes and not threads: fpdf2 (and the fontTools subsetting it does) is pure Python, so
a render holds the GIL for its whole 0.1 to 0.5 s. In a thread it would still stop the event
loop, and every other call of the server, for most of that time; in another process it costs
the server nothing but pickling a small view and receiving the bytes.

The worker processes (process_pool.py) start on the first render and run at the lowest CPU
priority, so a burst of PDFs slows PDFs, not GetCustomer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ..domain.documents.view import DocumentView, LineView, PartyBlock, TotalsView
from ..process_pool import ProcessPool, lower_priority
from .pdf import render_pdf
from .report_pdf import TableView, render_table_pdf

CONTENT_TYPE = "application/pdf"
_ZERO = Decimal(0)
WARM_UP = DocumentView(
    "Warm-up", "0", date(2000, 1, 1), datetime(2000, 1, 1, tzinfo=UTC), "USD",
    PartyBlock("Ab"), PartyBlock("Ab"),
    (LineView("A", "Ab", 1, _ZERO, _ZERO, _ZERO, _ZERO),),
    TotalsView(_ZERO, _ZERO, _ZERO, _ZERO, _ZERO))


def _start_worker() -> None:
    """At the lowest priority (process_pool.py says why), then renders a one-line document
    once, so the imports and the first reading of the fonts are not charged to a caller's
    render."""
    lower_priority()
    render_pdf(WARM_UP)


class PdfRenderer:
    content_type = CONTENT_TYPE

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"PDF_WORKERS={workers} must be at least 1")
        self._pool = ProcessPool(workers, _start_worker, "PDF renderer", "RENDERER_RESTARTED")

    async def render(self, view: DocumentView) -> bytes:
        return await self._pool.run(render_pdf, view)

    async def render_table(self, view: TableView) -> bytes:
        """A report's rows as a PDF table (documents/report_pdf.py)."""
        return await self._pool.run(render_table_pdf, view)

    async def close(self) -> None:
        await self._pool.close()
