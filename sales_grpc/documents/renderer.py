"""PdfRenderer: renders document views to PDF in a pool of worker processes, off the event loop.

Why processes and not threads: fpdf2 (and the fontTools subsetting it does) is pure Python, so
a render holds the GIL for its whole 0.1 to 0.5 s. In a thread it would still stop the event
loop, and every other call of the server, for most of that time; in another process it costs
the server nothing but pickling a small view and receiving the bytes.

The pool starts on the first render (a server that renders nothing starts no processes) and
its workers are spawned, not forked: a fork of a process running gRPC's threads is unsafe.
Workers run at the lowest CPU priority, so when renders and calls compete for the cores, the
calls win and a burst of PDFs slows PDFs, not GetCustomer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from ..domain.documents.view import DocumentView, LineView, PartyBlock, TotalsView
from ..domain.errors import Unavailable
from .pdf import render_pdf
from .report_pdf import TableView, render_table_pdf

V = TypeVar("V")

WORKER_NICENESS = 19
CONTENT_TYPE = "application/pdf"
_ZERO = Decimal(0)
WARM_UP = DocumentView(
    "Warm-up", "0", date(2000, 1, 1), datetime(2000, 1, 1, tzinfo=UTC), "USD",
    PartyBlock("Ab"), PartyBlock("Ab"),
    (LineView("A", "Ab", 1, _ZERO, _ZERO, _ZERO, _ZERO),),
    TotalsView(_ZERO, _ZERO, _ZERO, _ZERO, _ZERO))


def _start_worker() -> None:
    """Lowers the worker's priority, then renders a one-line document once, so the imports
    and the first reading of the fonts are not charged to a caller's render."""
    _leave_the_servers_cpu_group()
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # pragma: no cover - a platform without nice: render at normal priority
        pass
    render_pdf(WARM_UP)


def _leave_the_servers_cpu_group() -> None:
    """Where Linux shares the CPU between sessions first (autogroup, on in many kernels and
    VMs, this one included), nice only ranks processes within their session: busy workers
    made the server's whole session busy, and its calls then waited behind other sessions'
    work (GetCustomer's p99 beside 8 renders went from 1.4x to 3.6x alone; bench/pdf.py). In
    a session of their own at the lowest priority the workers yield to the server either
    way. Without autogroup (a container's cgroup) this changes nothing, and nice still
    ranks them below the server. A worker outside the terminal's process group also misses
    a Ctrl-C meant for the server, which closes the pool itself when it stops."""
    try:
        os.setsid()
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(WORKER_NICENESS))
    except (OSError, AttributeError):  # no autogroup, or not POSIX
        pass


class PdfRenderer:
    content_type = CONTENT_TYPE

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"PDF_WORKERS={workers} must be at least 1")
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker)
        return self._pool

    async def render(self, view: DocumentView) -> bytes:
        return await self._run(render_pdf, view)

    async def render_table(self, view: TableView) -> bytes:
        """A report's rows as a PDF table (documents/report_pdf.py)."""
        return await self._run(render_table_pdf, view)

    async def _run(self, render: Callable[[V], bytes], view: V) -> bytes:
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, render, view)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start afresh on the next call.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise Unavailable("the PDF renderer restarted; retry the call",
                              reason="RENDERER_RESTARTED") from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # waits for renders in progress, in a thread: not on the loop
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
