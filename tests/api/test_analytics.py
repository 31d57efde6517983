"""AnalyticsService over the wire, on a database of its own: revenue on each basis equals sums
computed from the documents here, in several time zones; scope; rollups equal a rebuild
(`sales-grpc analytics check`); a confirm shows on the dashboard once projected."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from bson import Decimal128

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.analytics import Period, periods
from sales_grpc.store.rollups import tally_of

from ..conftest import Running
from .analytics_fixtures import History, known_history, write
from .helpers import fails
from .order_fixtures import Shop, line

BASES = {"BOOKINGS": pb.REVENUE_BASIS_BOOKINGS, "BILLINGS": pb.REVENUE_BASIS_BILLINGS,
         "COLLECTIONS": pb.REVENUE_BASIS_COLLECTIONS}
PERIODS = {Period.DAY: pb.CALENDAR_PERIOD_DAY, Period.MONTH: pb.CALENDAR_PERIOD_MONTH}
FIRST, LAST = "2026-02-01", "2026-11-30"


@pytest.fixture(scope="module")
async def analytics_server(fresh_settings: Callable[..., Settings]
                           ) -> AsyncIterator[tuple[Running, History]]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    history = known_history()
    await write(app.mongo, history)
    await projected(Running(app, server, channel, settings))
    yield Running(app, server, channel, settings), history
    await channel.close()
    await server.stop(1)
    await app.close()


async def projected(running: Running, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await running.app.mongo.db.outbox.count_documents({"projected_time": None}) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the projector did not catch up")


def stub(running: Running) -> pb_grpc.AnalyticsServiceStub:
    return pb_grpc.AnalyticsServiceStub(running.channel)


def figures(amounts: list[pb.CurrencyAmount]) -> dict[str, tuple[Decimal, int]]:
    return {a.amount.currency_code: (Decimal(a.amount.amount), a.document_count)
            for a in amounts}


async def revenue(running: Running, md: object, basis: str, zone: str, period: Period,
                  **fields: str) -> pb.GetRevenueResponse:
    return await stub(running).GetRevenue(pb.GetRevenueRequest(
        start_date=FIRST, end_date=LAST, time_zone=zone, period=PERIODS[period],
        basis=BASES[basis], **fields), metadata=md)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("basis", sorted(BASES))
async def test_revenue_per_local_day_and_month_equals_the_documents_sums(
        analytics_server: tuple[Running, History], basis: str, zone: str) -> None:
    running, history = analytics_server
    admin = running.token("admin-1", Role.ADMIN, "")
    for period in (Period.DAY, Period.MONTH):
        reply = await revenue(running, admin, basis, zone, period)
        spans = periods(date.fromisoformat(FIRST), date.fromisoformat(LAST), period)
        assert spans is not None
        assert [(p.start_date, p.end_date) for p in reply.periods] == [
            (a.isoformat(), b.isoformat()) for a, b in spans]
        expected = history.expected(basis, ZoneInfo(zone), spans)
        assert [figures(p.amounts) for p in reply.periods] == expected, period
        assert reply.basis == BASES[basis] and reply.time_zone == zone


async def test_new_york_puts_a_second_before_midnight_on_the_day_before(
        analytics_server: tuple[Running, History]) -> None:
    running, _ = analytics_server
    reply = await stub(running).GetRevenue(pb.GetRevenueRequest(
        start_date="2026-02-28", end_date="2026-03-01", time_zone="America/New_York",
        period=pb.CALENDAR_PERIOD_DAY), metadata=running.token("admin-1", Role.ADMIN, ""))
    assert [figures(p.amounts).get("USD") for p in reply.periods] == [
        (Decimal("100.10"), 1), (Decimal("200.20"), 1)]
    average = reply.periods[0].amounts[0].average_amount
    assert (average.currency_code, average.amount) == ("USD", "100.10")


async def test_a_rep_sees_only_their_own_and_a_filter_never_widens_the_scope(
        analytics_server: tuple[Running, History]) -> None:
    running, history = analytics_server
    rep = running.token("rep-1", Role.SALES_REP, "team-a")
    spans = [(date.fromisoformat(FIRST), date.fromisoformat(LAST))]
    utc = ZoneInfo("UTC")
    own = await revenue(running, rep, "BOOKINGS", "UTC", Period.MONTH)
    assert figures(own.totals) == history.expected("BOOKINGS", utc, spans, owner="rep-1")[0]
    other = await revenue(running, rep, "BOOKINGS", "UTC", Period.MONTH, owner_id="rep-2")
    assert list(other.totals) == []
    manager = running.token("manager-b", Role.SALES_MANAGER, "team-b")
    team = await revenue(running, manager, "BILLINGS", "UTC", Period.MONTH)
    assert figures(team.totals) == history.expected("BILLINGS", utc, spans, team="team-b")[0]


async def test_bad_ranges_zones_and_values_are_invalid_argument_with_field_details(
        analytics_server: tuple[Running, History]) -> None:
    running, _ = analytics_server
    md = running.token("admin-1", Role.ADMIN, "")
    cases = [
        (dict(start_date="2026-03-02", end_date="2026-03-01"), "end_date"),
        (dict(start_date="2026-03-01", end_date="2026-03-02", time_zone="Mars/Olympus"),
         "time_zone"),
        (dict(start_date="2000-01-01", end_date="2026-01-01", period=pb.CALENDAR_PERIOD_DAY),
         "period"),
        (dict(start_date="2026-03-01", end_date="2026-03-02", basis=99), "basis"),
        (dict(start_date="March 1", end_date="2026-03-02"), "start_date"),
        # Monrovia's offset until 1972 was -00:44:30: no quarter-hour bucket ends there.
        (dict(start_date="1971-01-01", end_date="1971-01-02", time_zone="Africa/Monrovia"),
         "time_zone"),
    ]
    for fields, path in cases:
        failure = await fails(stub(running).GetRevenue(pb.GetRevenueRequest(**fields),
                                                       metadata=md),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert path in failure.fields, (fields, failure.fields)
    failure = await fails(stub(running).GetSalesDashboard(
        pb.GetSalesDashboardRequest(time_zone="../etc/passwd"), metadata=md),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert "time_zone" in failure.fields


def _cli(settings: Settings, action: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MONGODB_URL": settings.mongodb_url,
           "DATABASE_NAME": settings.database_name, "REDIS_URL": settings.redis_url,
           "LOG_LEVEL": "WARNING"}
    command = str(Path(sys.executable).parent / "sales-grpc")
    return subprocess.run([command, "analytics", action], env=env,
                          capture_output=True, text=True, timeout=60)


async def test_rollups_equal_a_rebuild_and_check_reports_a_tampered_one(
        analytics_server: tuple[Running, History]) -> None:
    running, _ = analytics_server
    maintenance = running.app.analytics.maintenance
    assert await maintenance.check() == []
    rollups = running.app.mongo.db.analytics_rollups
    before = {d["_id"]: d for d in await rollups.find({}).to_list()}
    tampered = await rollups.find_one({"level": "day", "basis": "bookings"})
    assert tampered is not None
    await rollups.update_one({"_id": tampered["_id"]}, {"$inc": {"count": 1}})
    checked = await asyncio.to_thread(_cli, running.settings, "check")
    assert checked.returncode == 1, checked.stderr
    assert "bookings day" in checked.stdout and "differ" in checked.stderr
    rebuilt = await asyncio.to_thread(_cli, running.settings, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    after = {d["_id"]: tally_of(d) for d in await rollups.find({}).to_list()}
    assert after == {k: tally_of(d) for k, d in before.items() if not tally_of(d).is_zero}
    checked = await asyncio.to_thread(_cli, running.settings, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_a_confirmed_order_shows_on_the_dashboard_within_seconds(
        analytics_server: tuple[Running, History]) -> None:
    running, _ = analytics_server
    rep = running.token("rep-9", Role.SALES_REP, "team-z", [
        "sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"])
    analytics = stub(running)

    async def today_usd() -> tuple[Decimal, int]:
        reply = await analytics.GetSalesDashboard(
            pb.GetSalesDashboardRequest(time_zone="Asia/Kolkata"), metadata=rep)
        assert [r.period for r in reply.revenue] == list(range(1, 6))
        return figures(reply.revenue[0].current).get("USD", (Decimal(0), 0))

    assert await today_usd() == (Decimal(0), 0)
    shop = Shop(running.channel, rep)
    customer = await shop.customer()
    product = await shop.product(price="12.50", tax_rate="0")
    order = await shop.order(customer.id, line(product.id, 2))
    await shop.confirm(order.id)
    for _ in range(100):  # the projector polls every second; 10 s for a loaded machine
        if await today_usd() == (Decimal("25.00"), 1):
            break
        await asyncio.sleep(0.1)
    assert await today_usd() == (Decimal("25.00"), 1)
    assert await running.app.analytics.maintenance.check() == []


async def test_the_dashboard_shows_open_quotes_and_receivables_with_the_overdue_part(
        analytics_server: tuple[Running, History]) -> None:
    running, _ = analytics_server
    quotes = running.app.mongo.db.quotes
    for number, state, valid_until, total in (("QT-A", "sent", "2999-01-01", "40.00"),
                                              ("QT-B", "sent", "2000-01-01", "50.00"),
                                              ("QT-C", "draft", "2999-01-01", "60.00")):
        await quotes.insert_one({"number": number, "revision": 1, "state": state,
                                 "valid_until": valid_until, "currency": "USD",
                                 "owner_id": "rep-1", "team_id": "team-a",
                                 "totals": {"grand_total": Decimal128(total)}})
    reply = await stub(running).GetSalesDashboard(
        pb.GetSalesDashboardRequest(time_zone="America/New_York"),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    # With the known history's quote still open (USD 10.00, valid until 2999).
    assert figures(reply.open_quotes) == {"USD": (Decimal("50.00"), 2)}
    # The known history's two open invoices fell due in March 2026.
    owed = {"USD": (Decimal("500.00"), 1), "EUR": (Decimal("250.50"), 1)}
    assert figures(reply.receivables_outstanding) == owed
    assert figures(reply.receivables_overdue) == owed
    assert reply.today and reply.time_zone == "America/New_York"
    # The pipeline: drafts and quotes that can still be accepted (the known history's included).
    assert figures(reply.pipeline) == {"USD": (Decimal("110.00"), 3), "EUR": (Decimal("20.00"), 1)}
    month = reply.revenue[2]
    admin = running.token("admin-1", Role.ADMIN, "")
    tops = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date=month.start_date, end_date=month.end_date, time_zone="America/New_York",
        limit=5), metadata=admin)
    assert list(reply.top_customers) == list(tops.customers)
    products = await stub(running).ListTopProducts(pb.ListTopProductsRequest(
        start_date=month.start_date, end_date=month.end_date, time_zone="America/New_York",
        limit=5), metadata=admin)
    assert list(reply.top_products) == list(products.products)
    rep2 = await stub(running).GetSalesDashboard(
        pb.GetSalesDashboardRequest(), metadata=running.token("rep-2", Role.SALES_REP, "team-b"))
    assert figures(rep2.open_quotes) == {}
    assert figures(rep2.receivables_outstanding) == {"EUR": (Decimal("250.50"), 1)}
