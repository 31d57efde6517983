"""RunReport over the wire: typed rows equal to the export's, sums of the documents, the
row cap, scope and bad input."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import grpc
import pytest

from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.config import Settings
from sales_grpc.services.report_runs import MAX_RUN_ROWS

from .helpers import fails
from .report_book import Book, D, make_book
from .report_fixtures import Reporting, export, insert_payments, request, serve_reporting


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> Book:
    return await make_book(reporting)


async def run(reporting: Reporting, md: object, report_id: str, **fields: str
              ) -> rpb.RunReportResponse:
    return await reporting.reports.RunReport(
        rpb.RunReportRequest(report_id=report_id, **fields), metadata=md)


def column(reply: rpb.RunReportResponse, name: str) -> list[rpb.ReportValue]:
    at = [c.name for c in reply.columns].index(name)
    return [row.values[at] for row in reply.rows]


async def test_run_report_gives_typed_rows_that_total_the_documents(
        reporting: Reporting, book: Book) -> None:
    reply = await run(reporting, book.admin, "order_lines")
    lines = [x for o in book.orders for x in o.lines]
    assert len(reply.rows) == len(lines)
    assert sum(Decimal(v.decimal_value) for v in column(reply, "total")) == sum(
        D(x.total_amount) for x in lines)
    assert sum(v.integer_value for v in column(reply, "quantity")) == sum(
        x.quantity for x in lines)
    assert all(v.WhichOneof("kind") == "timestamp_value" for v in column(reply, "create_time"))
    assert {v.string_value for v in column(reply, "order_number")} == {
        o.number for o in book.orders}


async def test_run_report_rows_are_the_exports_rows_in_the_same_order(
        reporting: Reporting, book: Book) -> None:
    reply = await run(reporting, book.admin, "invoices", filter='currency = "USD"')
    data = (await export(reporting.reports, request("invoices", filter='currency = "USD"'),
                         book.admin)).data
    exported = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert [v.string_value for v in column(reply, "invoice_number")] == [
        r["invoice_number"] for r in exported]
    assert [v.decimal_value for v in column(reply, "amount_due")] == [
        r["amount_due"] for r in exported]
    assert [v.date_value for v in column(reply, "due_date")] == [r["due_date"] for r in exported]


async def test_an_empty_value_has_no_kind_and_booleans_are_typed(
        reporting: Reporting, book: Book) -> None:
    reply = await run(reporting, book.admin, "products")
    assert {v.WhichOneof("kind") for v in column(reply, "cost")} == {None}
    assert {v.WhichOneof("kind") for v in column(reply, "active")} == {"boolean_value"}
    assert all(v.boolean_value for v in column(reply, "active"))


async def test_a_rep_runs_the_report_on_their_own_rows_only(
        reporting: Reporting, book: Book) -> None:
    reply = await run(reporting, book.rep3, "sales_orders")
    assert [v.string_value for v in column(reply, "owner_id")] == ["rep-3"]
    assert Decimal(column(reply, "grand_total")[0].decimal_value) == D(
        book.orders[2].totals.grand_total)


async def test_a_report_over_the_row_cap_is_failed_precondition_suggesting_an_export(
        reporting: Reporting, book: Book) -> None:
    await insert_payments(reporting.app, MAX_RUN_ROWS + 1)
    failure = await fails(run(reporting, book.admin, "payments", filter='currency = "EUR"'),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.info is not None and failure.info.reason == "REPORT_TOO_LARGE"
    assert "ExportReport" in failure.message
    fits = await run(reporting, book.admin, "payments", filter='currency = "EUR" AND '
                     "amount <= 10.00")
    assert len(fits.rows) == MAX_RUN_ROWS


@pytest.mark.parametrize(("fields", "field"), [
    ({"report_id": "nope"}, "report_id"),
    ({"report_id": "payments", "filter": "colour = RED"}, "filter"),
    ({"report_id": "payments", "start_date": "2026-13-01"}, "start_date"),
    ({"report_id": "payments", "start_date": "2026-02-01", "end_date": "2026-01-01"},
     "end_date"),
])
async def test_bad_run_requests_are_invalid_argument_naming_the_field(
        reporting: Reporting, book: Book, fields: dict[str, str], field: str) -> None:
    failure = await fails(reporting.reports.RunReport(rpb.RunReportRequest(**fields),
                                                      metadata=book.admin),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert field in failure.fields
