"""The built-in reports of quotes, invoice lines, credit notes, customers, products and the
aging per customer, over the wire, against sums of the documents the test made."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.config import Settings
from sales_grpc.domain.aging import BUCKETS
from sales_grpc.domain.quotes import QuoteState

from .report_book import Book, D, make_book
from .report_fixtures import Reporting, export, request, serve_reporting


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> Book:
    return await make_book(reporting)


async def rows(reporting: Reporting, report: str, md: object, **fields: str
               ) -> list[dict[str, str]]:
    data = (await export(reporting.reports, request(report, **fields), md)).data
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


async def test_quotes_report_totals_the_quotes(reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "quotes", book.admin)
    assert sorted(r["quote_number"] for r in got) == sorted(q.number for q in book.quotes)
    assert sum(Decimal(r["grand_total"]) for r in got) == sum(
        D(q.totals.grand_total) for q in book.quotes)
    assert {r["quote_state"] for r in got} == {QuoteState.DRAFT.value}


async def test_invoice_lines_report_totals_every_invoice_line(
        reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "invoice_lines", book.admin)
    assert len(got) == sum(len(i.lines) for i in book.invoices)
    assert sum(Decimal(r["total"]) for r in got) == sum(
        D(x.total_amount) for i in book.invoices for x in i.lines)
    assert sum(int(r["quantity"]) for r in got) == sum(
        x.quantity for i in book.invoices for x in i.lines)


async def test_credit_notes_report_totals_the_notes(reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "credit_notes", book.admin)
    assert [r["credit_note_number"] for r in got] == [n.number for n in book.credit_notes]
    assert sum(Decimal(r["grand_total"]) for r in got) == sum(
        D(n.totals.grand_total) for n in book.credit_notes)
    assert sum(Decimal(r["amount_applied"]) + Decimal(r["amount_to_balance"]) for r in got) \
        == sum(D(n.totals.grand_total) for n in book.credit_notes)


async def test_customers_report_shows_each_customers_spending_and_what_they_owe(
        reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "customers", book.admin)
    assert len(got) == len(book.customers) and {r["currency"] for r in got} == {"USD"}
    assert sum(Decimal(r["total_spent"]) for r in got) == sum(
        D(o.totals.grand_total) for o in book.orders)
    assert sum(Decimal(r["outstanding"]) for r in got) == sum(
        D(i.amount_due) for i in book.invoices)
    assert sum(int(r["order_count"]) for r in got) == len(book.orders)


async def test_products_report_shows_the_catalogs_stock_to_every_caller(
        reporting: Reporting, book: Book) -> None:
    stub = pgrpc.ProductServiceStub(reporting.channel)
    for md in (book.admin, book.rep3):
        got = {r["sku"]: r for r in await rows(reporting, "products", md)}
        assert len(got) == len(book.products)
        for product_id in book.products:
            product = (await stub.GetProduct(ppb.GetProductRequest(id=product_id),
                                             metadata=book.admin)).product
            row = got[product.sku]
            assert (int(row["on_hand"]), int(row["reserved"]), int(row["available"])) == (
                product.stock.on_hand, product.stock.reserved, product.stock.available)
            assert Decimal(row["unit_price"]) == D(product.unit_price)


async def test_aging_per_customer_buckets_add_up_to_what_each_customer_owes(
        reporting: Reporting, book: Book) -> None:
    as_of = date.fromisoformat(book.invoices[0].due_date) + timedelta(days=40)
    got = await rows(reporting, "customer_aging", book.admin, as_of_date=as_of.isoformat())
    owed: dict[str, Decimal] = {}
    for invoice in book.invoices:
        owed[invoice.customer_id] = owed.get(invoice.customer_id, Decimal(0)) + D(
            invoice.amount_due)
    assert {r["customer_id"]: Decimal(r["amount_due"]) for r in got} == {
        k: v for k, v in owed.items() if v}
    for row in got:
        assert sum(Decimal(row[b]) for b in BUCKETS) == Decimal(row["amount_due"])
        assert Decimal(row["days_31_60"]) == Decimal(row["amount_due"])
        assert row["invoice_count"] == "1"


async def test_a_rep_of_another_team_sees_only_their_own_customers_and_invoice_lines(
        reporting: Reporting, book: Book) -> None:
    got = await rows(reporting, "customers", book.rep3)
    assert {r["owner_id"] for r in got} == {"rep-3"} and len(got) == 1
    lines = await rows(reporting, "invoice_lines", book.manager_b)
    assert {r["team_id"] for r in lines} == {"team-b"}
    assert len(lines) == len(book.invoices[2].lines)


async def test_products_report_counts_the_units_and_net_sales_the_caller_sees(
        reporting: Reporting, book: Book) -> None:
    sold: dict[str, tuple[int, Decimal]] = {}
    for order in book.orders:
        for x in order.lines:
            units, net = sold.get(x.sku, (0, Decimal(0)))
            sold[x.sku] = (units + x.quantity, net + D(x.gross_amount) - D(x.discount_amount))
    got = await rows(reporting, "products", book.admin)
    assert {r["sku"]: (int(r["units_sold"]), Decimal(r["net_sales"])) for r in got} == sold
    mine = {x.sku for x in book.orders[2].lines}
    for row in await rows(reporting, "products", book.rep3):
        assert int(row["units_sold"]) == (sold[row["sku"]][0] if row["sku"] in mine else 0)
    later = await rows(reporting, "products", book.admin, start_date="2099-01-01")
    assert len(later) == len(book.products) and {r["units_sold"] for r in later} == {"0"}
