"""The revenue reports over the wire: the analytics rollups per UTC day and month, equal to
the documents' sums and to GetRevenue for the same basis and range, in the caller's scope."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from erp.sales.v1 import analytics_service_pb2 as apb
from erp.sales.v1 import analytics_service_pb2_grpc as agrpc
from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.config import Settings

from .report_book import Book, D, make_book
from .report_fixtures import Reporting, export, request, serve_reporting

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings(analytics_poll_seconds=0.2)) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> Book:
    made = await make_book(reporting)
    outbox = reporting.app.mongo.db.outbox
    for _ in range(600):  # up to 30 s on a loaded machine
        if await outbox.count_documents({"projected_time": None}) == 0:
            return made
        await asyncio.sleep(0.05)
    raise AssertionError("the projector did not catch up")


async def rows(reporting: Reporting, report: str, md: Any, **fields: str
               ) -> list[dict[str, str]]:
    data = (await export(reporting.reports, request(report, **fields), md)).data
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def total(rows: list[dict[str, str]], basis: str) -> Decimal:
    return sum((Decimal(r["amount"]) for r in rows if r["basis"] == basis), Decimal(0))


async def test_daily_and_monthly_revenue_equal_the_documents_sums(
        reporting: Reporting, book: Book) -> None:
    for report, start in (("revenue_daily", TODAY), ("revenue_monthly", TODAY[:8] + "01")):
        got = await rows(reporting, report, book.admin, start_date=start, end_date=TODAY)
        assert got and {r["currency"] for r in got} == {"USD"}
        assert total(got, "bookings") == sum(D(o.totals.grand_total) for o in book.orders)
        assert total(got, "collections") == sum(book.payments)
        assert sum(int(r["count"]) for r in got if r["basis"] == "bookings") == len(book.orders)


async def test_revenue_report_reconciles_with_get_revenue_for_each_basis(
        reporting: Reporting, book: Book) -> None:
    stub = agrpc.AnalyticsServiceStub(reporting.channel)
    got = await rows(reporting, "revenue_daily", book.admin, start_date=TODAY, end_date=TODAY)
    for basis in ("BOOKINGS", "BILLINGS", "COLLECTIONS"):
        answer = await stub.GetRevenue(apb.GetRevenueRequest(
            start_date=TODAY, end_date=TODAY, time_zone="UTC",
            basis=getattr(apb, f"REVENUE_BASIS_{basis}")), metadata=book.admin)
        assert {t.amount.currency_code: D(t.amount) for t in answer.totals} == {
            "USD": total(got, basis.lower())}


async def test_a_rep_sees_only_their_own_revenue_and_the_filter_takes_a_basis(
        reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "revenue_daily", book.rep3, filter="basis = BOOKINGS")
    assert {r["owner_id"] for r in got} == {"rep-3"} and {r["basis"] for r in got} == {
        "bookings"}
    assert total(got, "bookings") == D(book.orders[2].totals.grand_total)


async def test_a_template_groups_daily_revenue_by_month_and_basis(
        reporting: Reporting, book: Book) -> None:
    template = (await reporting.reports.CreateReportTemplate(rpb.CreateReportTemplateRequest(
        report_template=rpb.ReportTemplate(
            display_name="Monthly", source="revenue_daily", group_by=["month", "basis"],
            aggregates=[rpb.ReportAggregate(function=rpb.AGGREGATE_FUNCTION_SUM,
                                            column="amount")])),
        metadata=book.admin)).report_template
    reply = await reporting.reports.RunReport(rpb.RunReportRequest(report_id=template.id),
                                              metadata=book.admin)
    got = {(r.values[0].string_value, r.values[1].string_value): Decimal(
        r.values[2].decimal_value) for r in reply.rows}
    assert got[(TODAY[:7], "bookings")] == sum(D(o.totals.grand_total) for o in book.orders)
    assert got[(TODAY[:7], "collections")] == sum(book.payments)
