"""Exporting a report as a file streamed in chunks, resumable after any chunk.

The file is cut into chunks at fixed offsets (every `chunk_bytes`), so the same rows always
give the same chunks. A resumed export writes the file again from its first row without
sending what the client already has: this both brings the SHA-256 of the whole file up to
the cut (hashlib's state cannot be carried in a token) and proves that the rows before the
cut still give the bytes the client holds (the token carries their SHA-256); if they do not,
the export is FAILED_PRECONDITION and must start again. The cost of a resume is reading the
rows before the cut once more, on the server, without sending them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from ..domain.access import Principal
from ..domain.errors import FailedPrecondition, InvalidArgument, PreconditionViolation
from ..domain.reports import Caption, Column, DateRange, ExportFormat, Report
from .export_tokens import Cut, ResumeTokens, binding
from .report_plans import ReportPlan, ReportPlanner, ReportRequest

CHUNK_BYTES = 64 * 1024
_EXTENSIONS = {ExportFormat.CSV: "csv", ExportFormat.JSONL: "jsonl", ExportFormat.XLSX: "xlsx",
               ExportFormat.PDF: "pdf"}
# Formats written whole before their first byte: their first chunk is awaited before the
# header goes out, so that a refusal (a PDF over its row cap) comes before any message.
_WHOLE = frozenset({ExportFormat.PDF})


class TableWriter(Protocol):
    """Writes a file a row at a time (documents/tables.py): bytes as rows come, then the rest."""

    content_type: str

    def begin(self) -> bytes: ...
    def row(self, values: Sequence[object]) -> bytes: ...
    async def seal(self) -> None: ...  # work after the last row, off the event loop
    def finish(self) -> Iterator[bytes]: ...
    def close(self) -> None: ...


WriterFactory = Callable[[ExportFormat, Sequence[Column], bool, Caption], TableWriter]


@dataclass(frozen=True)
class ExportRequest:
    report_id: str
    format: ExportFormat | None
    filter: str = ""
    dates: DateRange = DateRange()
    as_of: str = ""
    byte_order_mark: bool = False
    resume_token: str = ""


@dataclass(frozen=True)
class ExportHeader:
    report: Report
    format: ExportFormat
    content_type: str
    file_name: str
    estimated_rows: int
    start_offset: int


@dataclass(frozen=True)
class ExportChunk:
    data: bytes
    rows_done: int
    bytes_done: int
    resume_token: str


@dataclass(frozen=True)
class ExportTrailer:
    row_count: int
    size_bytes: int
    sha256: str


ExportPart = ExportHeader | ExportChunk | ExportTrailer


@dataclass(frozen=True)
class _Plan:
    rows: ReportPlan
    format: ExportFormat
    bound_to: str
    byte_order_mark: bool
    resume: Cut | None

    @property
    def report(self) -> Report:
        return self.rows.report

    @property
    def as_of(self) -> date:
        return self.rows.as_of


class ReportExports:
    def __init__(self, planner: ReportPlanner, writers: WriterFactory, tokens: ResumeTokens,
                 *, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._planner = planner
        self._writers = writers
        self._tokens = tokens
        self._chunk = chunk_bytes

    @property
    def open_cursors(self) -> int:
        """Database cursors held by exports in progress."""
        return self._planner.open_cursors

    async def _plan(self, principal: Principal, request: ExportRequest) -> _Plan:
        rows = await self._planner.plan(principal, ReportRequest(
            request.report_id, request.filter, request.dates, request.as_of))
        if request.format is None:
            raise InvalidArgument.of("format", "must be CSV, JSONL, XLSX or PDF")
        bound_to = binding(principal.subject, principal.role.value, principal.team_id,
                           rows.report.id, request.format.value, request.filter,
                           rows.dates.start, rows.dates.end, rows.as_of_text,
                           request.byte_order_mark)
        resume = (self._tokens.decode(request.resume_token, bound_to)
                  if request.resume_token else None)
        if resume is not None:  # the day the export began, so a resume writes the same rows
            rows = replace(rows, as_of=date.fromisoformat(resume.as_of))
        # A report computed whole (grouped, commissions) is computed before the header, which
        # then gives its exact row count.
        rows = await self._planner.prepare(rows)
        return _Plan(rows, request.format, bound_to, request.byte_order_mark, resume)

    async def export(self, principal: Principal, request: ExportRequest
                     ) -> AsyncGenerator[ExportPart, None]:
        """The header, the chunks after the resume token's (all without one), the trailer."""
        plan = await self._plan(principal, request)
        estimate = await self._planner.estimate(plan.rows)
        writer = self._writers(plan.format, plan.report.columns, plan.byte_order_mark,
                               _caption(plan, request))
        try:
            async with contextlib.aclosing(self._chunks(plan, writer)) as chunks:
                start = 0 if plan.resume is None else await _skip_to(plan.resume, chunks)
                first = [await anext(chunks)] if plan.format in _WHOLE and not start else []
                yield ExportHeader(plan.report, plan.format, writer.content_type,
                                   f"{plan.report.id}-{plan.as_of.isoformat()}."
                                   f"{_EXTENSIONS[plan.format]}", estimate, start)
                for part, _ in first:
                    yield part
                async for part, _ in chunks:
                    yield part
        finally:
            writer.close()

    async def _chunks(self, plan: _Plan, writer: TableWriter
                      ) -> AsyncGenerator[tuple[ExportChunk | ExportTrailer, str], None]:
        """The file's chunks and trailer, each with the SHA-256 of the file up to its end."""
        digest = hashlib.sha256()
        pending = bytearray()
        ends: deque[tuple[int, int]] = deque()  # (file offset, rows done there): the progress
        sent = rows = 0

        def chunk(size: int) -> tuple[ExportChunk, str]:
            nonlocal sent, rows
            data = bytes(pending[:size])
            del pending[:size]
            digest.update(data)
            sent += len(data)
            while ends and ends[0][0] <= sent:
                _, rows = ends.popleft()
            prefix = digest.hexdigest()
            token = self._tokens.encode(plan.bound_to, Cut(sent, prefix, plan.as_of.isoformat()))
            return ExportChunk(data, rows, sent, token), prefix

        source = self._planner.rows(plan.rows)
        count = 0
        async with contextlib.aclosing(source):
            pending += writer.begin()
            written = len(pending)
            async for _, row in source:
                piece = writer.row(row)
                count += 1
                pending += piece
                written += len(piece)
                if ends and ends[-1][0] == written:
                    # No bytes since the last row (XLSX and PDF write their file at the end):
                    # a cut at this offset is after the later row, so one entry is kept, not
                    # one per row (a million of them were 190 MB).
                    ends[-1] = (written, count)
                else:
                    ends.append((written, count))
                while len(pending) >= self._chunk:
                    yield chunk(self._chunk)
        await writer.seal()
        for block in writer.finish():
            pending += block
            while len(pending) >= self._chunk:
                yield chunk(self._chunk)
        if pending:
            yield chunk(len(pending))
        yield ExportTrailer(count, sent, digest.hexdigest()), digest.hexdigest()


def _caption(plan: _Plan, request: ExportRequest) -> Caption:
    """What a PDF prints under its title: fixed by the request, so a resume repeats it."""
    dates = plan.rows.dates
    parts = [f"Filter: {request.filter}" if request.filter else "",
             f"{plan.report.date_field} from {dates.start or '…'} to {dates.end or '…'}"
             if dates.start or dates.end else "", f"As of {plan.as_of.isoformat()} (UTC)"]
    return Caption(plan.report.display_name or plan.report.id,
                   "  ·  ".join(p for p in parts if p), plan.as_of)


async def _skip_to(cut: Cut, chunks: AsyncIterator[tuple[ExportChunk | ExportTrailer, str]]
                   ) -> int:
    """Reads the chunks up to the cut, checking the bytes before it are the client's."""
    if cut.offset == 0:
        return 0
    async for part, prefix in chunks:
        if not isinstance(part, ExportChunk) or part.bytes_done > cut.offset:
            break
        if part.bytes_done == cut.offset:
            if prefix == cut.prefix_sha256:
                return cut.offset
            break
    raise FailedPrecondition(
        "the rows before the resume point changed since the export began; start again",
        violations=[PreconditionViolation("EXPORT_SOURCE_CHANGED", "resume_token",
                                          "the rows before the cut now give other bytes")],
        reason="EXPORT_SOURCE_CHANGED")
