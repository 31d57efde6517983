"""Custom reports saved as templates, over the wire: picked columns, filters, sorts, exact
group-by aggregates, validation naming the field, sharing within a team, mask and etag."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.config import Settings

from .helpers import fails
from .report_book import Book, D, make_book
from .report_fixtures import Reporting, export, request, serve_reporting

Agg = rpb.ReportAggregate


@pytest.fixture(scope="module")
async def reporting(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as served:
        yield served


@pytest.fixture(scope="module")
async def book(reporting: Reporting) -> Book:
    return await make_book(reporting)


async def create(reporting: Reporting, md: Any, **fields: Any) -> rpb.ReportTemplate:
    template = rpb.ReportTemplate(display_name=fields.pop("display_name", "Mine"), **fields)
    return (await reporting.reports.CreateReportTemplate(
        rpb.CreateReportTemplateRequest(report_template=template), metadata=md)).report_template


async def run(reporting: Reporting, md: Any, report_id: str, **fields: str
              ) -> rpb.RunReportResponse:
    return await reporting.reports.RunReport(
        rpb.RunReportRequest(report_id=report_id, **fields), metadata=md)


def table(reply: rpb.RunReportResponse) -> list[dict[str, Any]]:
    names = [c.name for c in reply.columns]
    return [{n: getattr(v, v.WhichOneof("kind")) if v.WhichOneof("kind") else None
             for n, v in zip(names, row.values, strict=True)} for row in reply.rows]


async def test_grouped_report_sums_counts_and_averages_exactly_per_group(
        reporting: Reporting, book: Book) -> None:
    template = await create(
        reporting, book.admin, source="order_lines", group_by=["owner_id"],
        aggregates=[Agg(function=rpb.AGGREGATE_FUNCTION_COUNT),
                    Agg(function=rpb.AGGREGATE_FUNCTION_SUM, column="total"),
                    Agg(function=rpb.AGGREGATE_FUNCTION_AVG, column="total"),
                    Agg(function=rpb.AGGREGATE_FUNCTION_MIN, column="unit_price"),
                    Agg(function=rpb.AGGREGATE_FUNCTION_MAX, column="quantity")],
        order_by="sum_total desc")
    assert [c.name for c in template.columns] == [
        "owner_id", "count", "sum_total", "avg_total", "min_unit_price", "max_quantity"]
    lines: dict[str, list[Any]] = defaultdict(list)
    for order in book.orders:
        lines[order.owner_id] += order.lines
    rows = table(await run(reporting, book.admin, template.id))
    assert [r["owner_id"] for r in rows] == sorted(
        lines, key=lambda o: -sum(D(x.total_amount) for x in lines[o]))
    for row in rows:
        mine = lines[row["owner_id"]]
        total = sum(D(x.total_amount) for x in mine)
        assert row["count"] == len(mine)
        assert Decimal(row["sum_total"]) == total
        assert Decimal(row["avg_total"]) == (total / len(mine)).quantize(
            Decimal("0.000001"), rounding=ROUND_HALF_UP)
        assert Decimal(row["min_unit_price"]) == min(D(x.unit_price) for x in mine)
        assert row["max_quantity"] == max(x.quantity for x in mine)


async def test_a_grouped_exports_header_estimates_its_groups_exactly_not_its_source_rows(
        reporting: Reporting, book: Book) -> None:
    """The groups are folded before the header goes out, so its estimate is their count;
    also resumed, and for a single grand-total row."""
    template = await create(reporting, book.admin, source="order_lines",
                            group_by=["owner_id", "currency"],
                            aggregates=[Agg(function=rpb.AGGREGATE_FUNCTION_COUNT)])
    groups = {(o.owner_id, o.totals.grand_total.currency_code) for o in book.orders}
    lines = sum(len(o.lines) for o in book.orders)
    assert len(groups) < lines
    got = await export(reporting.reports, request(template.id), book.admin)
    assert got.header.estimated_row_count == got.trailer.row_count == len(groups)
    req = request(template.id, resume_token=got.chunks[0].resume_token)
    assert (await export(reporting.reports, req, book.admin)).header.estimated_row_count == len(
        groups)
    total = await create(reporting, book.admin, source="order_lines",
                         aggregates=[Agg(function=rpb.AGGREGATE_FUNCTION_SUM, column="total")])
    got = await export(reporting.reports, request(total.id, rpb.EXPORT_FORMAT_JSONL),
                       book.admin)
    assert got.header.estimated_row_count == got.trailer.row_count == 1


async def test_aggregates_without_group_by_give_one_total_row_equal_to_the_documents(
        reporting: Reporting, book: Book) -> None:
    template = await create(reporting, book.admin, source="invoices", aggregates=[
        Agg(function=rpb.AGGREGATE_FUNCTION_SUM, column="amount_due"),
        Agg(function=rpb.AGGREGATE_FUNCTION_SUM, column="grand_total")])
    rows = table(await run(reporting, book.admin, template.id))
    assert rows == [{"sum_amount_due": str(sum(D(i.amount_due) for i in book.invoices)),
                     "sum_grand_total": str(sum(D(i.totals.grand_total)
                                                for i in book.invoices))}]


async def test_picked_columns_filter_and_sort_apply_to_runs_and_exports_alike(
        reporting: Reporting, book: Book) -> None:
    template = await create(reporting, book.admin, source="sales_orders",
                            column_names=["order_number", "grand_total"],
                            filter='currency = "USD"', order_by="grand_total desc")
    reply = await run(reporting, book.admin, template.id, filter='owner_id != "rep-2"')
    expected = sorted((o for o in book.orders if o.owner_id != "rep-2"),
                      key=lambda o: -D(o.totals.grand_total))
    assert table(reply) == [{"order_number": o.number, "grand_total": o.totals.grand_total.amount}
                            for o in expected]
    data = (await export(reporting.reports, request(template.id, filter='owner_id != "rep-2"'),
                         book.admin)).data
    assert list(csv.reader(io.StringIO(data.decode(), newline=""))) == [
        ["order_number", "grand_total"], *([r["order_number"], r["grand_total"]]
                                           for r in table(reply))]


@pytest.mark.parametrize(("fields", "field"), [
    ({"source": "cars"}, "report_template.source"),
    ({"source": "payments", "column_names": ["amount", "colour"]},
     "report_template.column_names[1]"),
    ({"source": "payments", "filter": "colour = RED"}, "report_template.filter"),
    ({"source": "payments", "group_by": ["colour"]}, "report_template.group_by[0]"),
    ({"source": "payments", "aggregates": [Agg(function=rpb.AGGREGATE_FUNCTION_SUM,
                                               column="method")]},
     "report_template.aggregates[0].column"),
    ({"source": "payments", "aggregates": [Agg(column="amount")]},
     "report_template.aggregates[0].function"),
    ({"source": "payments", "order_by": "reference"}, "report_template.order_by"),
    ({"source": "payments", "display_name": ""}, "report_template.display_name"),
])
async def test_an_invalid_template_is_invalid_argument_naming_the_field(
        reporting: Reporting, book: Book, fields: dict[str, Any], field: str) -> None:
    failure = await fails(create(reporting, book.rep1, **fields),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert field in failure.fields, failure.fields


async def test_a_template_is_seen_by_its_owner_and_when_shared_by_the_team_only(
        reporting: Reporting, book: Book) -> None:
    private = await create(reporting, book.rep1, source="payments", display_name="Private")
    shared = await create(reporting, book.rep1, source="sales_orders", display_name="Team",
                          shared_with_team=True)

    async def listed(md: Any) -> set[str]:
        reply = await reporting.reports.ListReportTemplates(rpb.ListReportTemplatesRequest(),
                                                            metadata=md)
        return {t.id for t in reply.templates if not t.built_in}

    assert {private.id, shared.id} <= await listed(book.rep1)
    assert shared.id in await listed(book.rep2) and private.id not in await listed(book.rep2)
    assert not {private.id, shared.id} & await listed(book.rep3)
    for template in (private, shared):
        await fails(reporting.reports.GetReportTemplate(
            rpb.GetReportTemplateRequest(id=template.id), metadata=book.rep3),
            grpc.StatusCode.NOT_FOUND)
        failure = await fails(run(reporting, book.rep3, template.id),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert "report_id" in failure.fields
        await fails(export(reporting.reports, request(template.id), book.rep3),
                    grpc.StatusCode.INVALID_ARGUMENT)
    await fails(run(reporting, book.rep2, private.id), grpc.StatusCode.INVALID_ARGUMENT)
    rows = table(await run(reporting, book.rep2, shared.id))  # the caller's rows, not rep-1's
    assert [r["owner_id"] for r in rows] == ["rep-2"]


async def test_only_the_owner_updates_with_a_mask_and_etag_and_deletes(
        reporting: Reporting, book: Book) -> None:
    template = await create(reporting, book.rep1, source="payments", shared_with_team=True)
    change = rpb.ReportTemplate(id=template.id, display_name="Renamed", etag=template.etag,
                                column_names=["amount"], source="ignored: not in the mask")
    mask = FieldMask(paths=["display_name", "column_names"])
    updated = (await reporting.reports.UpdateReportTemplate(rpb.UpdateReportTemplateRequest(
        report_template=change, update_mask=mask), metadata=book.rep1)).report_template
    assert (updated.display_name, updated.source, [c.name for c in updated.columns],
            updated.etag) == ("Renamed", "payments", ["amount"], "v2")
    for paths in (["owner_id"], ["display_name.text"], []):
        refused = await fails(reporting.reports.UpdateReportTemplate(
            rpb.UpdateReportTemplateRequest(report_template=change,
                                            update_mask=FieldMask(paths=paths)),
            metadata=book.rep1), grpc.StatusCode.INVALID_ARGUMENT)
        assert list(refused.fields) == ["update_mask"], refused.fields
    await fails(reporting.reports.UpdateReportTemplate(rpb.UpdateReportTemplateRequest(
        report_template=change, update_mask=mask), metadata=book.rep1),
        grpc.StatusCode.ABORTED)
    await fails(reporting.reports.DeleteReportTemplate(rpb.DeleteReportTemplateRequest(
        id=template.id), metadata=book.rep2), grpc.StatusCode.PERMISSION_DENIED)
    await reporting.reports.DeleteReportTemplate(rpb.DeleteReportTemplateRequest(
        id=template.id, etag="v2"), metadata=book.rep1)
    await fails(reporting.reports.GetReportTemplate(rpb.GetReportTemplateRequest(
        id=template.id), metadata=book.rep1), grpc.StatusCode.NOT_FOUND)


async def test_a_create_retried_with_its_request_id_returns_the_first_template(
        reporting: Reporting, book: Book) -> None:
    req = rpb.CreateReportTemplateRequest(request_id="retry-1", report_template=rpb.ReportTemplate(
        display_name="Once", source="quotes"))
    first = (await reporting.reports.CreateReportTemplate(req, metadata=book.rep2)
             ).report_template
    again = (await reporting.reports.CreateReportTemplate(req, metadata=book.rep2)
             ).report_template
    assert again.id == first.id
    listed = await reporting.reports.ListReportTemplates(rpb.ListReportTemplatesRequest(),
                                                         metadata=book.rep2)
    assert [t.id for t in listed.templates if t.display_name == "Once"] == [first.id]


async def test_a_built_in_report_cannot_be_changed_or_deleted(
        reporting: Reporting, book: Book) -> None:
    got = (await reporting.reports.GetReportTemplate(rpb.GetReportTemplateRequest(
        id="payments"), metadata=book.rep1)).report_template
    assert got.built_in and [c.name for c in got.columns][:2] == ["payment_id",
                                                                  "invoice_number"]
    failure = await fails(reporting.reports.DeleteReportTemplate(
        rpb.DeleteReportTemplateRequest(id="payments"), metadata=book.rep1),
        grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.info is not None and failure.info.reason == "BUILT_IN_TEMPLATE"
