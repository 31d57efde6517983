"""Analytics answers cached in Redis: the same question in the same scope is answered from the
cache (a rollup changed behind the projector's back does not show), another question or
another scope is not, and a confirmed order makes the next answer fresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from bson import Decimal128

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..conftest import Running
from .analytics_fixtures import known_history, write
from .order_fixtures import Shop, line
from .test_analytics import figures, projected


@pytest.fixture(scope="module")
async def cache_server(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Running]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    await write(app.mongo, known_history())
    running = Running(app, server, channel, settings)
    await projected(running)
    yield running
    await channel.close()
    await server.stop(1)
    await app.close()


def this_year(zone: str = "UTC") -> pb.GetRevenueRequest:
    """From the known history's year on: the orders confirmed now fall in it too."""
    return pb.GetRevenueRequest(start_date="2026-01-01", end_date="2099-12-31",
                                time_zone=zone, period=pb.CALENDAR_PERIOD_YEAR)


async def test_a_repeated_question_is_answered_from_the_cache_until_an_order_is_confirmed(
        cache_server: Running) -> None:
    running = cache_server
    analytics = pb_grpc.AnalyticsServiceStub(running.channel)
    clerk = running.token("rep-1", Role.SALES_REP, "team-a", [
        "sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"])
    admin = running.token("admin-1", Role.ADMIN, "")
    first = figures((await analytics.GetRevenue(this_year(), metadata=admin)).totals)
    mine = figures((await analytics.GetRevenue(this_year(), metadata=clerk)).totals)
    assert mine != first  # the scope is part of the key
    # A rollup changed behind the projector's back: no version bump, so no fresh answer.
    month = datetime(2026, 6, 1, tzinfo=UTC)
    await running.app.mongo.db.analytics_rollups.insert_one({
        "_id": "tampered", "basis": "bookings", "level": "month", "start": month,
        "currency": "USD", "owner_id": "rep-1", "team_id": "team-a", "dimension": "",
        "subject": "", "amount": Decimal128("1000.00"), "count": 1})
    assert figures((await analytics.GetRevenue(this_year(), metadata=admin)).totals) == first
    other = figures((await analytics.GetRevenue(this_year("Asia/Kolkata"),
                                                metadata=admin)).totals)
    assert other["USD"][0] == first["USD"][0] + Decimal("1000.00")
    shop = Shop(running.channel, clerk)
    customer = await shop.customer()
    product = await shop.product(price="5.00", tax_rate="0")
    await shop.confirm((await shop.order(customer.id, line(product.id, 1))).id)
    expected = (first["USD"][0] + Decimal("1005.00"), first["USD"][1] + 2)
    for _ in range(40):
        fresh = figures((await analytics.GetRevenue(this_year(), metadata=admin)).totals)
        if fresh["USD"] == expected:
            break
        await asyncio.sleep(0.1)
    assert fresh["USD"] == expected
