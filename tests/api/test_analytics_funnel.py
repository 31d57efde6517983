"""GetConversionFunnel over the wire, on quotes taken through the real flows: each step's
count, value and rate equal those of the documents made here, the median wait is read from
them, a rep sees only their own quotes, and bad input is INVALID_ARGUMENT."""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from bson import ObjectId

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from erp.sales.v1 import quote_service_pb2 as qpb
from erp.sales.v1 import quote_service_pb2_grpc as qgrpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..conftest import Running
from .helpers import fails
from .invoice_fixtures import Billing
from .order_fixtures import line
from .test_analytics import projected

PERMISSIONS = ["sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock",
               "sales:billing"]
STEPS = ["CREATED", "SENT", "ACCEPTED", "ORDER_CONFIRMED", "INVOICED", "PAID"]


@pytest.fixture(scope="module")
async def funnel_server(fresh_settings: Callable[..., Settings]
                        ) -> AsyncIterator[tuple[Running, dict[str, list[Decimal]]]]:
    settings = fresh_settings()
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    running = Running(app, server, channel, settings)
    rep = running.token("rep-1", Role.SALES_REP, "team-a", PERMISSIONS)
    values = await _cohort(running, rep)
    other = Billing(channel, running.token("rep-2", Role.SALES_REP, "team-b", PERMISSIONS))
    quotes = qgrpc.QuoteServiceStub(channel)
    customer = await other.customer()
    product = await other.product(price="7.00", tax_rate="0")
    await _quote(quotes, other.md, customer.id, line(product.id, 1), send=True)
    yield running, values
    await channel.close()
    await server.stop(1)
    await app.close()


async def _quote(quotes: qgrpc.QuoteServiceStub, md: object, customer_id: str, *lines: object,
                 send: bool = False) -> qpb.Quote:
    quote = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer_id, lines=list(lines))), metadata=md)).quote
    if send:
        quote = (await quotes.SendQuote(qpb.SendQuoteRequest(id=quote.id), metadata=md)).quote
    return quote


async def _cohort(running: Running, md: object) -> dict[str, list[Decimal]]:
    """rep-1's quotes: paid, invoiced, confirmed and left, rejected, only sent, a draft; the
    values each step should hold, in USD."""
    shop = Billing(running.channel, md)
    quotes = qgrpc.QuoteServiceStub(running.channel)
    customer = await shop.customer()
    product = await shop.product(price="10.00", tax_rate="0")
    values: dict[str, list[Decimal]] = {step: [] for step in STEPS}
    for quantity, reach in ((3, "PAID"), (2, "INVOICED"), (4, "ORDER_CONFIRMED"),
                            (5, "SENT"), (6, "SENT"), (1, "CREATED")):
        quote = await _quote(quotes, md, customer.id, line(product.id, quantity),
                             send=reach != "CREATED")
        total = Decimal(quote.totals.grand_total.amount)
        values["CREATED"].append(total)
        if reach == "CREATED":
            continue
        values["SENT"].append(total)
        if quantity == 6:
            await quotes.RejectQuote(qpb.RejectQuoteRequest(id=quote.id, reason="no"),
                                     metadata=md)
        if reach == "SENT":
            continue
        accepted = await quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=quote.id, confirm=True),
                                            metadata=md)
        values["ACCEPTED"].append(total)
        values["ORDER_CONFIRMED"].append(Decimal(accepted.sales_order.totals.grand_total.amount))
        if reach == "ORDER_CONFIRMED":
            continue
        invoice = await shop.finalize((await shop.invoice_order(accepted.sales_order.id)).id)
        values["INVOICED"].append(Decimal(invoice.totals.grand_total.amount))
        if reach == "PAID":
            await shop.pay(invoice.id, invoice.totals.grand_total.amount)
            values["PAID"].append(Decimal(invoice.totals.grand_total.amount))
    return values


def _request(**fields: str) -> pb.GetConversionFunnelRequest:
    today = datetime.now(UTC).date()
    return pb.GetConversionFunnelRequest(
        start_date=(today - timedelta(days=1)).isoformat(),
        end_date=(today + timedelta(days=1)).isoformat(), **fields)


def _ratio(part: int, whole: int) -> str:
    return "" if not whole else format((Decimal(part) / whole).quantize(
        Decimal("0.000001")).normalize(), "f")


async def test_each_step_counts_values_and_rates_equal_the_documents_made(
        funnel_server: tuple[Running, dict[str, list[Decimal]]]) -> None:
    running, values = funnel_server
    reply = await pb_grpc.AnalyticsServiceStub(running.channel).GetConversionFunnel(
        _request(owner_id="rep-1"), metadata=running.token("admin-1", Role.ADMIN, ""))
    assert [pb.FunnelStep.Name(s.step) for s in reply.stages] == [
        f"FUNNEL_STEP_{s}" for s in STEPS]
    counts = [len(values[s]) for s in STEPS]
    assert [s.count for s in reply.stages] == counts == [6, 5, 3, 3, 2, 1]
    assert reply.cohort_size == 6
    for stage, step, previous in zip(reply.stages, STEPS, [0, *counts], strict=False):
        assert [(v.amount.currency_code, Decimal(v.amount.amount), v.document_count)
                for v in stage.values] == [("USD", sum(values[step]), len(values[step]))]
        assert stage.rate_from_created == _ratio(len(values[step]), 6)
        assert stage.rate_from_previous == (_ratio(len(values[step]), previous)
                                            if step != "CREATED" else "")
        assert stage.HasField("median_time_from_previous") == (step != "CREATED")
    docs = await running.app.mongo.db.quotes.find(
        {"owner_id": "rep-1", "accept_time": {"$ne": None}}).to_list()
    waits = [(d["accept_time"] - d["send_time"]).total_seconds() for d in docs]
    wait = reply.stages[2].median_time_from_previous.ToTimedelta().total_seconds()
    assert wait == pytest.approx(statistics.median(waits), abs=1e-3)


async def test_a_rep_sees_the_funnel_of_their_own_quotes_only(
        funnel_server: tuple[Running, dict[str, list[Decimal]]]) -> None:
    running, _ = funnel_server
    analytics = pb_grpc.AnalyticsServiceStub(running.channel)
    rep2 = running.token("rep-2", Role.SALES_REP, "team-b")
    own = await analytics.GetConversionFunnel(_request(), metadata=rep2)
    assert [s.count for s in own.stages] == [1, 1, 0, 0, 0, 0]
    assert own.stages[2].rate_from_previous == "0" and not own.stages[3].rate_from_previous
    other = await analytics.GetConversionFunnel(_request(owner_id="rep-1"), metadata=rep2)
    assert other.cohort_size == 0 and [s.count for s in other.stages] == [0] * 6
    everyone = await analytics.GetConversionFunnel(
        _request(), metadata=running.token("admin-1", Role.ADMIN, ""))
    assert everyone.cohort_size == 7
    assert await running.app.mongo.db.quotes.count_documents(
        {"_id": {"$type": "objectId"}}) == 7 and ObjectId


async def test_bad_ranges_zones_and_filters_are_invalid_argument(
        funnel_server: tuple[Running, dict[str, list[Decimal]]]) -> None:
    running, _ = funnel_server
    analytics = pb_grpc.AnalyticsServiceStub(running.channel)
    admin = running.token("admin-1", Role.ADMIN, "")
    for request, path in ((pb.GetConversionFunnelRequest(start_date="2026-03-02",
                                                         end_date="2026-03-01"), "end_date"),
                          (_request(time_zone="Nowhere/City"), "time_zone"),
                          (_request(customer_id="c" * 101), "customer_id"),
                          (pb.GetConversionFunnelRequest(end_date="2026-03-01"), "start_date")):
        failure = await fails(analytics.GetConversionFunnel(request, metadata=admin),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert path in failure.fields, failure.fields


async def test_rollups_of_the_real_quote_order_and_invoice_flows_equal_a_rebuild(
        funnel_server: tuple[Running, dict[str, list[Decimal]]]) -> None:
    running, _ = funnel_server
    await projected(running, 60)
    assert await running.app.analytics.maintenance.check() == []
    rows = await running.app.mongo.db.analytics_rollups.distinct("basis")
    assert {"bookings", "billings", "collections", "quotes_sent", "quotes_accepted",
            "quotes_rejected"} <= set(rows)
