"""PDF exports over the wire: a readable table with every row, the row cap refused before
any message, a grouped template as PDF, and a PDF export resumed after its first chunk byte
for byte."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from pypdf import PdfReader

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.config import Settings
from sales_grpc.documents.pdf_tables import PDF_MAX_ROWS

from .helpers import customer, customers, decode
from .report_book import Book, make_book
from .report_fixtures import Reporting, export, insert_payments, request, serve_reporting, sha256

PDF = rpb.EXPORT_FORMAT_PDF
BULK = 600  # rows for a PDF of two chunks (over 64 KiB)


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> Book:
    made = await make_book(reporting)
    await insert_payments(reporting.app, BULK, "Оплата, «счёт»")
    return made


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_a_pdf_export_is_a_readable_table_of_every_row(
        reporting: Reporting, book: Book) -> None:
    got = await export(reporting.reports, request("order_lines", PDF), book.admin)
    assert got.header.content_type == "application/pdf"
    assert got.header.file_name.endswith(".pdf")
    assert got.data.startswith(b"%PDF") and got.trailer.sha256 == sha256(got.data)
    lines = [x for o in book.orders for x in o.lines]
    assert got.trailer.row_count == len(lines)
    text = text_of(got.data)
    assert "Sales order lines" in text
    for order in book.orders:
        assert order.number in text
    for x in lines:
        assert x.total_amount.amount in text


async def test_a_long_company_name_wraps_whole_in_the_customers_pdf(
        reporting: Reporting, book: Book) -> None:
    """A name of 120 characters in a table of 16 columns: its cell wraps, nothing is cut
    (pypdf reads a wrapped cell's lines one after the other)."""
    name = ("Northern Regional Wholesale Supply and Distribution Company for Precision "
            "Tools Fasteners and Industrial Equipment, Ltd.")
    assert len(name) == 120
    await customers(reporting).CreateCustomer(cpb.CreateCustomerRequest(customer=customer(
        company_name=name, customer_type=cpb.CUSTOMER_TYPE_BUSINESS,
        email="long.name@example.com")), metadata=book.rep1)
    got = await export(reporting.reports, request("customers", PDF), book.admin)
    text = text_of(got.data)
    assert "…" not in text
    words = text.split()
    at = words.index("Northern")
    assert words[at:at + len(name.split())] == name.split()


async def test_a_grouped_template_prints_its_groups(reporting: Reporting, book: Book) -> None:
    template = (await reporting.reports.CreateReportTemplate(rpb.CreateReportTemplateRequest(
        report_template=rpb.ReportTemplate(
            display_name="Lines per owner", source="order_lines", group_by=["owner_id"],
            aggregates=[rpb.ReportAggregate(function=rpb.AGGREGATE_FUNCTION_SUM,
                                            column="total")])),
        metadata=book.admin)).report_template
    text = text_of((await export(reporting.reports, request(template.id, PDF),
                                 book.admin)).data)
    assert "Lines per owner" in text and "sum_total" in text
    for owner in ("rep-1", "rep-2", "rep-3"):
        assert owner in text


async def test_a_pdf_of_more_rows_than_the_cap_is_refused_before_any_message(
        reporting: Reporting, book: Book) -> None:
    await insert_payments(reporting.app, PDF_MAX_ROWS + 1 - BULK, currency="GBP")
    call = reporting.reports.ExportReport(request("payments", PDF,
                                                  filter='currency != "USD"'),
                                          metadata=book.admin)
    received: list[Any] = []
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for message in call:
            received.append(message)
    failure = decode(raised.value)
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION and received == []
    assert failure.info is not None and failure.info.reason == "REPORT_TOO_LARGE_FOR_PDF"
    assert "CSV" in failure.message


async def test_a_pdf_export_resumed_after_its_first_chunk_is_byte_identical(
        reporting: Reporting, book: Book) -> None:
    req = request("payments", PDF, filter='currency = "EUR"')
    whole = await export(reporting.reports, req, book.admin)
    assert len(whole.chunks) > 1
    pages = PdfReader(io.BytesIO(whole.data)).pages
    assert "BULK-00001" in pages[0].extract_text()
    assert f"BULK-{BULK:05d}" in pages[-1].extract_text()
    # The first chunk's token is what a client cut off after it holds (a cut-off export
    # draws the whole PDF before its first chunk all the same: one drawing fewer here).
    req.resume_token = whole.chunks[0].resume_token
    rest = await export(reporting.reports, req, book.admin)
    assert rest.header.start_offset == len(whole.chunks[0].data)
    assert whole.chunks[0].data + rest.data == whole.data
    assert rest.trailer.sha256 == sha256(whole.data)
