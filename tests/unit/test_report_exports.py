"""The export stream over fake rows: fixed chunk offsets, progress, the whole file's SHA-256,
resuming after any chunk, and resume tokens bound to their caller and export."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from sales_grpc.documents.tables import writer_for
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.errors import FailedPrecondition, InvalidArgument
from sales_grpc.domain.reports import ExportFormat
from sales_grpc.services.export_tokens import ResumeTokens
from sales_grpc.services.report_exports import (
    ExportChunk,
    ExportHeader,
    ExportRequest,
    ExportTrailer,
    ReportExports,
)
from sales_grpc.services.report_plans import ReportPlanner

ADMIN = Principal("admin-1", Role.ADMIN, frozenset({"sales:read"}))


class FakeRows:
    def __init__(self, count: int) -> None:
        self.count = count
        self.reference = "ref"
        self.open_cursors = 0

    async def estimate(self, *args: Any) -> int:
        return self.count

    async def rows(self, *args: Any) -> AsyncGenerator[tuple[list[Any], list[object]], None]:
        self.open_cursors += 1
        try:
            for n in range(self.count):
                yield [n, 0], [f"P-{n}", "inv", "cust", "rep", "team", "EUR", n, "CARD",
                               f"{self.reference} {n}", date(2026, 1, 1),
                               datetime(2026, 1, 1, tzinfo=UTC)]
        finally:
            self.open_cursors -= 1


def exports(rows: FakeRows, secret: str = "s") -> ReportExports:
    return ReportExports(ReportPlanner(rows), writer_for, ResumeTokens(secret), chunk_bytes=100)


async def parts(service: ReportExports, request: ExportRequest, who: Principal = ADMIN
                ) -> list[Any]:
    return [p async for p in service.export(who, request)]


def csv_request(**fields: Any) -> ExportRequest:
    return ExportRequest("payments", ExportFormat.CSV, **fields)


async def test_chunks_fall_at_fixed_offsets_and_the_trailer_hashes_the_whole_file() -> None:
    got = await parts(exports(FakeRows(40)), csv_request())
    header, chunks, trailer = got[0], got[1:-1], got[-1]
    assert isinstance(header, ExportHeader) and header.estimated_rows == 40
    assert isinstance(trailer, ExportTrailer) and trailer.row_count == 40
    assert all(len(c.data) == 100 for c in chunks[:-1]) and 0 < len(chunks[-1].data) <= 100
    data = b"".join(c.data for c in chunks)
    assert trailer.sha256 == hashlib.sha256(data).hexdigest() and trailer.size_bytes == len(data)
    assert [c.bytes_done for c in chunks] == [min(100 * i, len(data))
                                               for i in range(1, len(chunks) + 1)]
    assert chunks[-1].rows_done == 40


# PDF needs the renderer's processes, and a resume after each of its hundreds of 100-byte
# chunks would draw it hundreds of times: tests/api/test_report_pdf.py resumes one.
@pytest.mark.parametrize("fmt", [f for f in ExportFormat if f is not ExportFormat.PDF])
async def test_resuming_after_any_chunk_gives_the_rest_of_the_same_file(fmt: ExportFormat
                                                                      ) -> None:
    service = exports(FakeRows(30))
    whole = await parts(service, ExportRequest("payments", fmt))
    data = b"".join(p.data for p in whole if isinstance(p, ExportChunk))
    for cut in (p for p in whole if isinstance(p, ExportChunk)):
        rest = await parts(service, ExportRequest("payments", fmt,
                                                  resume_token=cut.resume_token))
        assert rest[0].start_offset == cut.bytes_done
        tail = b"".join(p.data for p in rest if isinstance(p, ExportChunk))
        assert data[:cut.bytes_done] + tail == data
        assert rest[-1].sha256 == whole[-1].sha256


async def test_a_resume_after_the_rows_before_the_cut_changed_is_refused() -> None:
    rows = FakeRows(30)
    service = exports(rows)
    cut = (await parts(service, csv_request()))[3]
    rows.reference = "changed"
    with pytest.raises(FailedPrecondition) as raised:
        await parts(service, csv_request(resume_token=cut.resume_token))
    assert raised.value.reason == "EXPORT_SOURCE_CHANGED"
    assert rows.open_cursors == 0


async def test_a_token_of_another_caller_export_or_key_is_refused() -> None:
    service = exports(FakeRows(30))
    token = (await parts(service, csv_request()))[2].resume_token
    other = Principal("admin-2", Role.ADMIN, frozenset({"sales:read"}))
    for who, request, svc in (
            (other, csv_request(resume_token=token), service),
            (ADMIN, csv_request(filter='currency = "EUR"', resume_token=token), service),
            (ADMIN, csv_request(byte_order_mark=True, resume_token=token), service),
            (ADMIN, ExportRequest("payments", ExportFormat.JSONL, resume_token=token), service),
            (ADMIN, csv_request(resume_token=token), exports(FakeRows(30), "other-key")),
            (ADMIN, csv_request(resume_token=token[:-3] + "abc"), service)):
        with pytest.raises(InvalidArgument) as raised:
            await parts(svc, request, who)
        assert raised.value.violations[0].field == "resume_token"


async def test_closing_the_stream_early_closes_the_rows() -> None:
    rows = FakeRows(1000)
    stream = exports(rows).export(ADMIN, csv_request())
    await anext(stream)
    await anext(stream)
    assert rows.open_cursors == 1
    await stream.aclose()
    assert rows.open_cursors == 0
