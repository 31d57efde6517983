"""ReportService over the wire: each built-in report against sums of the documents the tests
create, the file formats, the stream's checksum, resuming, cancelling, tokens and scope."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import openpyxl
import pytest

from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.aging import BUCKETS, bucket_of

from .helpers import fails
from .invoice_fixtures import Billing
from .order_fixtures import line
from .report_fixtures import (
    Reporting,
    export,
    insert_payments,
    request,
    serve_reporting,
    sha256,
)

NOTES = 'Hello, "world" – Здравствуй, 世界; 50% off'
# Payments written straight to the database may hold what the API refuses in notes.
TRICKY = 'Hello, "world"\r\nline two,\nЗдравствуй 世界 ; tab\there'
BULK = 3000
CLERK = ["sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"]


@dataclass
class Book:
    admin: Any
    rep1: Any
    rep2: Any
    orders: list[Any]
    invoices: list[Any]
    payments: list[Decimal]


def D(money: Any) -> Decimal:
    return Decimal(money.amount or "0")


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> AsyncIterator[Book]:
    admin = reporting.token("admin-1", Role.ADMIN, "")
    rep1 = reporting.token("rep-1", Role.SALES_REP, "team-a", CLERK)
    rep2 = reporting.token("rep-2", Role.SALES_REP, "team-a", CLERK)
    manager = reporting.token("manager-a", Role.SALES_MANAGER, "team-a")
    shop1, shop2 = Billing(reporting.channel, rep1), Billing(reporting.channel, rep2)
    orders = []
    for shop, specs in ((shop1, [("12.34", 3, "0.2"), ("0.99", 7, "0")]),
                        (shop1, [("1000.01", 1, "0.07")]),
                        (shop2, [("5.55", 2, "0.1"), ("3.00", 4, "0"), ("7.25", 1, "0.2")])):
        customer = await shop.customer()
        lines = [line((await shop.product(price=p, stock=q, tax_rate=t)).id, q)
                 for p, q, t in specs]
        order = await shop.order(customer.id, *lines, notes=NOTES)
        orders.append(await shop.confirm(order.id))
    invoices = [await shop1.finalize((await shop1.invoice_order(orders[0].id)).id),
                await shop1.finalize((await shop1.invoice_order(orders[1].id)).id),
                await shop2.open_invoice("40.00", 2)]
    paid = [Decimal("10.00"), Decimal("25.50")]
    await shop1.pay(invoices[0].id, str(paid[0]), md=manager)
    await shop1.pay(invoices[2].id, str(paid[1]), md=manager)
    invoices = [await shop1.get(i.id, md=admin) for i in invoices]
    await insert_payments(reporting.app, BULK, TRICKY)
    yield Book(admin, rep1, rep2, orders, invoices, paid)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_list_report_templates_names_each_built_in_report_with_typed_columns(
        reporting: Reporting, book: Book) -> None:
    reply = await reporting.reports.ListReportTemplates(rpb.ListReportTemplatesRequest(),
                                                        metadata=book.rep1)
    templates = {t.id: t for t in reply.templates}
    assert set(templates) == {"sales_orders", "order_lines", "quotes", "invoices",
                              "invoice_lines", "payments", "credit_notes", "customers",
                              "products", "revenue_daily", "revenue_monthly",
                              "receivables_aging", "customer_aging", "commissions"}
    columns = {c.name: c.type for c in templates["order_lines"].columns}
    assert columns["quantity"] == rpb.COLUMN_TYPE_INTEGER
    assert columns["total"] == rpb.COLUMN_TYPE_DECIMAL
    assert "state" in templates["sales_orders"].filter_fields


async def test_order_reports_total_the_orders_created(reporting: Reporting, book: Book) -> None:
    orders = csv_rows((await export(reporting.reports, request("sales_orders"), book.admin)).data)
    assert len(orders) == len(book.orders)
    assert sum(Decimal(r["grand_total"]) for r in orders) == sum(
        D(o.totals.grand_total) for o in book.orders)
    got = await export(reporting.reports, request("order_lines"), book.admin)
    lines = csv_rows(got.data)
    assert len(lines) == sum(len(o.lines) for o in book.orders) == got.trailer.row_count
    assert got.header.estimated_row_count == len(lines)
    assert sum(Decimal(r["total"]) for r in lines) == sum(
        D(x.total_amount) for o in book.orders for x in o.lines)
    assert sum(int(r["quantity"]) for r in lines) == sum(
        x.quantity for o in book.orders for x in o.lines)


async def test_invoice_payment_and_aging_reports_equal_the_documents(
        reporting: Reporting, book: Book) -> None:
    invoices = csv_rows((await export(reporting.reports, request("invoices"), book.admin)).data)
    assert sorted(r["invoice_number"] for r in invoices) == sorted(
        i.number for i in book.invoices)
    assert sum(Decimal(r["amount_due"]) for r in invoices) == sum(
        D(i.amount_due) for i in book.invoices)
    payments = csv_rows((await export(reporting.reports, request(
        "payments", filter='currency = "USD"'), book.admin)).data)
    assert sorted(Decimal(r["amount"]) for r in payments) == sorted(book.payments)
    as_of = date.fromisoformat(book.invoices[0].due_date) + timedelta(days=45)
    aging = csv_rows((await export(reporting.reports, request(
        "receivables_aging", as_of_date=as_of.isoformat()), book.admin)).data)
    owed = {i.number: i for i in book.invoices if D(i.amount_due) > 0}
    assert {r["invoice_number"] for r in aging} == set(owed)
    for row in aging:
        invoice = owed[row["invoice_number"]]
        expected = BUCKETS[bucket_of(date.fromisoformat(invoice.due_date), as_of)]
        assert row["bucket"] == expected
        assert Decimal(row[expected]) == D(invoice.amount_due) == Decimal(row["amount_due"])
        assert sum(Decimal(row[b]) for b in BUCKETS) == D(invoice.amount_due)


async def test_csv_with_commas_quotes_newlines_and_non_latin_text_round_trips(
        reporting: Reporting, book: Book) -> None:
    got = await export(reporting.reports, request("sales_orders", byte_order_mark=True),
                       book.admin)
    assert got.data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(got.data)
    assert [r["notes"] for r in rows] == [NOTES] * len(book.orders)
    assert {r["order_number"] for r in rows} == {o.number for o in book.orders}
    payments = csv_rows((await export(reporting.reports, request(
        "payments", filter='currency = "EUR"'), book.admin)).data)
    assert [r["reference"] for r in payments] == [f"{TRICKY} #{n}" for n in range(1, BULK + 1)]


async def test_jsonl_parses_and_xlsx_opens_with_the_same_rows_as_csv(
        reporting: Reporting, book: Book) -> None:
    text = csv_rows((await export(reporting.reports, request("order_lines"), book.admin)).data)
    lines = (await export(reporting.reports, request("order_lines", rpb.EXPORT_FORMAT_JSONL),
                          book.admin)).data.decode().splitlines()
    assert [json.loads(x)["total"] for x in lines] == [r["total"] for r in text]
    assert [json.loads(x)["quantity"] for x in lines] == [int(r["quantity"]) for r in text]
    xlsx = await export(reporting.reports, request("order_lines", rpb.EXPORT_FORMAT_XLSX),
                        book.admin)
    assert xlsx.trailer.sha256 == sha256(xlsx.data)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == list(text[0])
    names = list(cells[0])
    assert [str(r[names.index("order_number")]) for r in cells[1:]] == [
        r["order_number"] for r in text]
    assert [Decimal(str(r[names.index("total")])) for r in cells[1:]] == [
        Decimal(r["total"]) for r in text]
    # Cells are typed by their column: numbers, whole numbers and dates a sheet can sum/sort.
    kinds = {c.name: c.type for c in xlsx.header.columns}
    cell_types = {rpb.COLUMN_TYPE_DECIMAL: (float, int), rpb.COLUMN_TYPE_INTEGER: int,
                  rpb.COLUMN_TYPE_DATE: datetime, rpb.COLUMN_TYPE_TIMESTAMP: datetime,
                  rpb.COLUMN_TYPE_STRING: str}
    seen = set()
    for r in cells[1:]:
        for name, value in zip(names, r, strict=True):
            if value is not None and kinds[name] in cell_types:
                assert isinstance(value, cell_types[kinds[name]]), (name, value)
                seen.add(kinds[name])
    assert {rpb.COLUMN_TYPE_DECIMAL, rpb.COLUMN_TYPE_INTEGER, rpb.COLUMN_TYPE_STRING,
            rpb.COLUMN_TYPE_TIMESTAMP} <= seen


async def test_trailer_sha256_matches_the_bytes_of_chunks_of_at_most_64_kib(
        reporting: Reporting, book: Book) -> None:
    got = await export(reporting.reports, request("payments"), book.admin)
    assert len(got.chunks) > 3
    assert all(0 < len(c.data) <= 64 * 1024 for c in got.chunks)
    assert got.trailer.sha256 == sha256(got.data)
    assert got.trailer.size_bytes == len(got.data) == got.chunks[-1].bytes_done
    assert got.trailer.row_count == BULK + len(book.payments) == len(csv_rows(got.data))
    assert [c.rows_done for c in got.chunks] == sorted(c.rows_done for c in got.chunks)


@pytest.mark.parametrize("fmt", [rpb.EXPORT_FORMAT_CSV, rpb.EXPORT_FORMAT_JSONL,
                                 rpb.EXPORT_FORMAT_XLSX])
async def test_an_export_cut_off_and_resumed_is_byte_identical_to_an_uncut_one(
        reporting: Reporting, book: Book, fmt: int) -> None:
    req = request("payments", fmt, filter='currency = "EUR"')
    whole = await export(reporting.reports, req, book.admin)
    cut = await export(reporting.reports, req, book.admin, stop_after=2)
    assert cut.trailer is None
    req.resume_token = cut.chunks[-1].resume_token
    rest = await export(reporting.reports, req, book.admin)
    assert rest.header.start_offset == len(cut.data)
    assert cut.data + rest.data == whole.data
    assert rest.trailer.sha256 == whole.trailer.sha256 == sha256(whole.data)


async def test_cancelling_a_stream_closes_its_cursor(reporting: Reporting, book: Book) -> None:
    before = reporting.commands.killed_cursors("payments")
    await export(reporting.reports, request("payments"), book.admin, stop_after=1)
    for _ in range(250):  # up to 5 s: a loaded machine is slow to see the cancel
        # killCursors is seen as it starts; the count drops once it has completed.
        if reporting.commands.killed_cursors("payments") > before and \
                reporting.app.reports.open_cursors == 0:
            break
        await asyncio.sleep(0.02)
    assert reporting.commands.killed_cursors("payments") == before + 1
    assert reporting.app.reports.open_cursors == 0


async def test_a_forged_or_another_callers_or_exports_token_is_invalid_argument(
        reporting: Reporting, book: Book) -> None:
    req = request("payments")
    token = (await export(reporting.reports, req, book.admin, stop_after=1)
             ).chunks[0].resume_token
    body, signature = token.split(".")
    for forged in (body[:-2] + "AA." + signature, token + "x", "nonsense"):
        await fails(export(reporting.reports, request("payments", resume_token=forged),
                           book.admin), grpc.StatusCode.INVALID_ARGUMENT)
    other = reporting.token("admin-2", Role.ADMIN, "")
    for md, req in ((other, request("payments", resume_token=token)),
                    (book.admin, request("invoices", resume_token=token)),
                    (book.admin, request("payments", rpb.EXPORT_FORMAT_JSONL,
                                         resume_token=token)),
                    (book.admin, request("payments", filter='currency = "EUR"',
                                         resume_token=token))):
        failure = await fails(export(reporting.reports, req, md),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert "resume_token" in failure.fields


async def test_resuming_after_rows_before_the_cut_changed_is_failed_precondition(
        reporting: Reporting, book: Book) -> None:
    req = request("payments", filter='currency = "EUR"')
    cut = await export(reporting.reports, req, book.admin, stop_after=2)
    payments = reporting.app.mongo.db.payments
    first = await payments.find_one({"currency": "EUR"}, sort=[("_id", 1)])
    await payments.update_one({"_id": first["_id"]}, {"$set": {"reference": "changed"}})
    try:
        req.resume_token = cut.chunks[-1].resume_token
        await fails(export(reporting.reports, req, book.admin),
                    grpc.StatusCode.FAILED_PRECONDITION)
    finally:
        await payments.update_one({"_id": first["_id"]},
                                  {"$set": {"reference": first["reference"]}})


async def test_a_rep_exports_only_their_own_rows_and_a_manager_their_teams(
        reporting: Reporting, book: Book) -> None:
    rows = csv_rows((await export(reporting.reports, request("order_lines"), book.rep1)).data)
    mine = [o for o in book.orders if o.owner_id == "rep-1"]
    assert {r["owner_id"] for r in rows} == {"rep-1"}
    assert len(rows) == sum(len(o.lines) for o in mine)
    payments = csv_rows((await export(reporting.reports, request("payments"), book.rep2)).data)
    assert {r["owner_id"] for r in payments} <= {"rep-2"}
    manager = reporting.token("manager-a", Role.SALES_MANAGER, "team-a")
    team = csv_rows((await export(reporting.reports, request("payments"), manager)).data)
    assert len(team) == len(book.payments) and {r["team_id"] for r in team} == {"team-a"}


@pytest.mark.parametrize(("req", "field"), [
    (request("nope"), "report_id"),
    (request("payments", rpb.EXPORT_FORMAT_UNSPECIFIED), "format"),
    (request("payments", filter="colour = RED"), "filter"),
    (request("payments", start_date="2026-02-01", end_date="2026-01-01"), "end_date"),
    (request("payments", start_date="yesterday"), "start_date"),
])
async def test_bad_export_requests_are_invalid_argument_naming_the_field(
        reporting: Reporting, book: Book, req: rpb.ExportReportRequest, field: str) -> None:
    failure = await fails(export(reporting.reports, req, book.admin),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert field in failure.fields


async def test_a_date_range_keeps_the_days_in_it(reporting: Reporting, book: Book) -> None:
    rows = csv_rows((await export(reporting.reports, request(
        "payments", start_date="2026-01-02", end_date="2026-01-03"), book.admin)).data)
    assert rows and {r["payment_date"] for r in rows} == {"2026-01-02", "2026-01-03"}
