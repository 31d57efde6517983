"""Trends, sales performance, top customers and products, and KPIs over the wire: each figure
equals one computed here from the documents the known history wrote (two currencies, two
teams, local midnights and DST changes); a rep sees only their own; bad input is
INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.analytics import Period, periods

from ..conftest import Running
from .analytics_fixtures import History, Order, known_history, write
from .helpers import fails
from .test_analytics import figures, projected

FIRST, LAST = "2026-02-01", "2026-11-30"
SPAN = (date.fromisoformat(FIRST), date.fromisoformat(LAST))
UTC_ZONE = ZoneInfo("UTC")
CATALOG = [("p-1", "SKU-1", "Widget", "tools"), ("p-2", "SKU-2", "Gadget", "tools"),
           ("p-3", "SKU-3", "Kite", "toys")]
ON_HAND = {"p-1": 8, "p-2": 0, "p-3": 3}
Figures = dict[str, tuple[Decimal, int]]


@pytest.fixture(scope="module")
async def history_server(fresh_settings: Callable[..., Settings]
                         ) -> AsyncIterator[tuple[Running, History]]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    history = known_history()
    await write(app.mongo, history)
    await app.mongo.db.products.insert_many([
        {"_id": pid, "sku": sku, "name": name, "category": category,
         "stock": {"on_hand": ON_HAND[pid]}} for pid, sku, name, category in CATALOG])
    running = Running(app, server, channel, settings)
    await projected(running)
    yield running, history
    await channel.close()
    await server.stop(1)
    await app.close()


def stub(running: Running) -> pb_grpc.AnalyticsServiceStub:
    return pb_grpc.AnalyticsServiceStub(running.channel)


def ratio(part: Decimal | int, whole: Decimal | int, places: str = "0.000001") -> str:
    if whole == 0:
        return ""
    value = (Decimal(part) / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_EVEN)
    return format(value.normalize() if value else Decimal(0), "f")


def kept(history: History, zone: ZoneInfo = UTC_ZONE, first: date = SPAN[0],
         last: date = SPAN[1]) -> list[Order]:
    return [o for o in history.orders if o.confirmed and not o.cancelled
            and first <= o.confirmed.astimezone(zone).date() <= last]


def in_range(moment: datetime | None) -> bool:
    return moment is not None and SPAN[0] <= moment.date() <= SPAN[1]


def add(sums: Figures, currency: str, amount: Decimal, count: int = 1) -> None:
    old = sums.get(currency, (Decimal(0), 0))
    sums[currency] = (old[0] + amount, old[1] + count)


async def test_monthly_trend_in_new_york_gives_growth_and_a_moving_average_of_the_documents(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    zone = ZoneInfo("America/New_York")
    reply = await stub(running).GetSalesTrends(pb.GetSalesTrendsRequest(
        start_date=FIRST, end_date=LAST, time_zone="America/New_York",
        period=pb.CALENDAR_PERIOD_MONTH, moving_average_periods=2),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    spans = periods(*SPAN, Period.MONTH)
    assert spans is not None
    january = [(date(2026, 1, 1), date(2026, 1, 31))]
    series = history.expected("BOOKINGS", zone, january + spans)
    assert reply.moving_average_periods == 2
    assert [(p.start_date, p.end_date) for p in reply.periods] == [
        (a.isoformat(), b.isoformat()) for a, b in spans]
    for i, period in enumerate(reply.periods, 1):
        now, before = series[i], series[i - 1]
        got = {a.revenue.amount.currency_code: a for a in period.amounts}
        assert set(got) == set(now) | set(before)
        for currency, entry in got.items():
            amount = now.get(currency, (Decimal(0), 0))[0]
            base = before.get(currency, (Decimal(0), 0))[0]
            assert Decimal(entry.revenue.amount.amount) == amount
            assert entry.period_over_period == ratio(amount - base, base)
            assert entry.year_over_year == ""  # nothing in 2025
            assert Decimal(entry.moving_average.amount) == ((amount + base) / 2).quantize(
                Decimal("0.01"), ROUND_HALF_UP)
    march = {a.revenue.amount.currency_code: a for a in reply.periods[1].amounts}
    # NY's March: the order a second before its first midnight is February's.
    assert march["USD"].revenue.document_count == 2 and march["USD"].period_over_period


async def test_a_first_period_cut_by_the_range_is_compared_with_the_whole_period_before(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    reply = await stub(running).GetSalesTrends(pb.GetSalesTrendsRequest(
        start_date="2026-03-04", end_date="2026-03-08", period=pb.CALENDAR_PERIOD_WEEK),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    [now, week_before] = history.expected("BOOKINGS", UTC_ZONE, [
        (date(2026, 3, 4), date(2026, 3, 8)), (date(2026, 2, 23), date(2026, 3, 1))])
    got = {a.revenue.amount.currency_code: a.period_over_period
           for a in reply.periods[0].amounts}
    assert got == {c: ratio(now[c][0] - week_before[c][0], week_before[c][0])
                   for c in ("EUR", "USD")}
    assert got["USD"]  # the whole week of 23 February, not 2-3 March


async def test_a_daily_trend_a_year_later_falls_by_all_of_kolkatas_days(
        history_server: tuple[Running, History]) -> None:
    running, _ = history_server
    reply = await stub(running).GetSalesTrends(pb.GetSalesTrendsRequest(
        start_date="2027-03-01", end_date="2027-03-02", time_zone="Asia/Kolkata",
        period=pb.CALENDAR_PERIOD_DAY), metadata=running.token("admin-1", Role.ADMIN, ""))
    yoy = [{a.revenue.amount.currency_code: a.year_over_year for a in p.amounts}
           for p in reply.periods]
    # Kolkata's 1 March 2026 held EUR 300.03 (a second before midnight) and 2 March 400.04.
    assert yoy[0]["EUR"] == "-1" and yoy[1]["EUR"] == "-1"


async def test_trends_of_a_customer_of_a_product_and_of_a_category_equal_their_documents(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    admin = running.token("admin-1", Role.ADMIN, "")

    async def totals(**fields: str) -> Figures:
        reply = await stub(running).GetSalesTrends(pb.GetSalesTrendsRequest(
            start_date=FIRST, end_date=LAST, period=pb.CALENDAR_PERIOD_YEAR, **fields),
            metadata=admin)
        return {a.revenue.amount.currency_code: (Decimal(a.revenue.amount.amount),
                                                 a.revenue.document_count)
                for a in reply.periods[0].amounts if a.revenue.document_count}

    customer: Figures = {}
    for o in kept(history):
        if o.customer == "cust-3":
            add(customer, o.currency, Decimal(o.total))
    assert await totals(customer_id="cust-3") == customer

    def lines(products: set[str]) -> Figures:
        sums: Figures = {}
        for o in kept(history):
            mine = [x for x in o.lines if x[0] in products]
            if mine:  # an order counts once per product it holds
                add(sums, o.currency, sum((Decimal(g) - Decimal(d) for _, _, g, d in mine),
                                          Decimal(0)), len({x[0] for x in mine}))
        return sums

    assert await totals(product_id="p-1") == lines({"p-1"})
    assert await totals(category="tools") == lines({"p-1", "p-2"})
    assert await totals(category="tools", product_id="p-3") == {}


def performance(history: History, key: Callable[[Order], str]) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for o in kept(history):
        row = rows.setdefault(key(o), {"revenue": {}, "customers": set(), "gross": {}})
        add(row["revenue"], o.currency, Decimal(o.total))  # type: ignore[arg-type]
        row["customers"].add(o.customer)  # type: ignore[attr-defined]
        add(row["gross"], o.currency, o.discount, 0)  # type: ignore[arg-type]
        gross = row.setdefault("subtotal", {})
        add(gross, o.currency, o.subtotal, 0)  # type: ignore[arg-type]
    return rows


async def test_performance_per_rep_and_team_equals_the_documents_and_a_rep_sees_only_theirs(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    reply = await stub(running).GetSalesPerformance(pb.GetSalesPerformanceRequest(
        start_date=FIRST, end_date=LAST), metadata=running.token("admin-1", Role.ADMIN, ""))
    for rows, key in ((reply.reps, lambda o: o.owner), (reply.teams, lambda o: o.team)):
        expected = performance(history, key)
        assert sorted(expected) == [r.owner_id or r.team_id for r in rows]
        for row in rows:
            want = expected[row.owner_id or row.team_id]
            assert figures(row.revenue) == want["revenue"]
            assert row.orders == sum(c for _, c in want["revenue"].values())  # type: ignore
            assert row.unique_customers == len(want["customers"])  # type: ignore[arg-type]
            assert {r.currency_code: r.value for r in row.discount_rates} == {
                c: ratio(d, want["subtotal"][c][0])  # type: ignore[index]
                for c, (d, _) in want["gross"].items()}  # type: ignore[attr-defined]
            quotes = [q for q in history.quotes if key(q) == (row.owner_id or row.team_id)]
            outcomes = [sum(in_range(getattr(q, name)) for q in quotes)
                        for name in ("sent", "accepted", "rejected", "expired")]
            assert [row.quotes_sent, row.quotes_accepted, row.quotes_rejected,
                    row.quotes_expired] == outcomes
            assert row.win_rate == ratio(outcomes[1], sum(outcomes[1:]))
    rep = await stub(running).GetSalesPerformance(pb.GetSalesPerformanceRequest(
        start_date=FIRST, end_date=LAST), metadata=running.token("rep-2", Role.SALES_REP,
                                                                 "team-b"))
    assert [r.owner_id for r in rep.reps] == ["rep-2"] and [t.team_id for t in rep.teams] == [
        "team-b"]
    other = await stub(running).GetSalesPerformance(pb.GetSalesPerformanceRequest(
        start_date=FIRST, end_date=LAST, owner_id="rep-1"),
        metadata=running.token("rep-2", Role.SALES_REP, "team-b"))
    assert list(other.reps) == [] and list(other.teams) == []


async def test_top_customers_rank_within_each_currency_on_each_basis(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    admin = running.token("admin-1", Role.ADMIN, "")
    reply = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date=FIRST, end_date=LAST), metadata=admin)
    sums: dict[tuple[str, str], Decimal] = {}
    for o in kept(history):
        sums[o.currency, o.customer] = sums.get((o.currency, o.customer), Decimal(0)) + Decimal(
            o.total)
    expected = sorted(sums.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))
    assert [(c.revenue.amount.currency_code, c.customer_id, Decimal(c.revenue.amount.amount))
            for c in reply.customers] == [(cur, cust, amount) for (cur, cust), amount in expected]
    assert [c.rank for c in reply.customers if c.revenue.amount.currency_code == "USD"] == [
        1, 2, 3]
    billed = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date=FIRST, end_date=LAST, basis=pb.REVENUE_BASIS_BILLINGS, limit=1),
        metadata=admin)
    # USD: cust-1's 500.00 invoice less its 20.25 credit note (the void one not counted).
    assert [(c.customer_id, c.revenue.amount.amount, c.revenue.document_count)
            for c in billed.customers] == [("cust-3", "250.50", 1), ("cust-1", "479.75", 1)]
    rep = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date=FIRST, end_date=LAST), metadata=running.token("rep-2", Role.SALES_REP,
                                                                 "team-b"))
    assert {c.customer_id for c in rep.customers} == {"cust-3", "cust-4"}


async def test_top_products_by_units_and_by_revenue_per_currency_within_a_category(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    admin = running.token("admin-1", Role.ADMIN, "")
    units: dict[str, int] = {}
    net: dict[tuple[str, str], Decimal] = {}
    for o in kept(history):
        for product, quantity, gross, discount in o.lines:
            units[product] = units.get(product, 0) + quantity
            key = (o.currency, product)
            net[key] = net.get(key, Decimal(0)) + Decimal(gross) - Decimal(discount)
    reply = await stub(running).ListTopProducts(pb.ListTopProductsRequest(
        start_date=FIRST, end_date=LAST), metadata=admin)
    assert [(p.product_id, p.units, p.rank) for p in reply.products] == [
        (pid, n, i) for i, (pid, n) in enumerate(
            sorted(units.items(), key=lambda kv: (-kv[1], kv[0])), 1)]
    assert reply.products[0].name and reply.products[0].category
    by_revenue = await stub(running).ListTopProducts(pb.ListTopProductsRequest(
        start_date=FIRST, end_date=LAST, ranking=pb.PRODUCT_RANKING_REVENUE, category="tools",
        limit=1), metadata=admin)
    best = {}
    for (currency, product), amount in sorted(net.items(), key=lambda kv: (-kv[1], kv[0][1])):
        if product in ("p-1", "p-2"):
            best.setdefault(currency, (product, amount))
    assert {p.currency_code: (p.product_id, Decimal(p.revenue[0].amount.amount))
            for p in by_revenue.products} == best


async def test_kpis_equal_the_documents_figures_and_rates(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    reply = await stub(running).GetKpis(pb.GetKpisRequest(start_date=FIRST, end_date=LAST),
                                        metadata=running.token("admin-1", Role.ADMIN, ""))
    days = (SPAN[1] - SPAN[0]).days + 1
    assert reply.days == days == 303
    [bookings] = history.expected("BOOKINGS", UTC_ZONE, [SPAN])
    [billings] = history.expected("BILLINGS", UTC_ZONE, [SPAN])
    [collections] = history.expected("COLLECTIONS", UTC_ZONE, [SPAN])
    receivables = {"USD": Decimal("500.00"), "EUR": Decimal("250.50")}
    by_currency = {f.currency_code: f for f in reply.figures}
    assert sorted(by_currency) == ["EUR", "USD"]
    for currency, f in by_currency.items():
        assert figures([f.bookings])[currency] == bookings[currency]
        assert figures([f.billings])[currency] == billings[currency]
        assert figures([f.collections])[currency] == collections[currency]
        assert f.days_sales_outstanding == ratio(receivables[currency] * days,
                                                 billings[currency][0], "0.1")
        orders = kept(history)
        assert f.discount_rate == ratio(
            sum((o.discount for o in orders if o.currency == currency), Decimal(0)),
            sum((o.subtotal for o in orders if o.currency == currency), Decimal(0)))
        paid = [(p.day - i.day).days for p, i in zip(history.payments, history.paid_invoices(),
                                                      strict=True)
                if i and p.currency == currency and p.method != "CREDIT_BALANCE"]
        assert f.average_days_to_pay == ratio(sum(paid), len(paid), "0.1")
    assert by_currency["USD"].average_days_to_pay == "14"
    outcomes = [sum(in_range(getattr(q, name)) for q in history.quotes)
                for name in ("sent", "accepted", "rejected", "expired")]
    r = reply.rates
    assert [r.quotes_sent, r.quotes_accepted, r.quotes_rejected, r.quotes_expired] == outcomes
    assert r.quote_win_rate == ratio(outcomes[1], sum(outcomes[1:])) == "0.5"
    assert r.quote_to_order_conversion == ratio(outcomes[1], outcomes[0])
    cancelled = [o for o in history.orders if o.confirmed and o.cancelled
                 and in_range(o.confirmed)]
    assert (r.orders_kept, r.orders_cancelled) == (len(kept(history)), len(cancelled))
    assert r.cancellation_rate == ratio(len(cancelled), len(kept(history)) + len(cancelled))
    rep = await stub(running).GetKpis(pb.GetKpisRequest(start_date=FIRST, end_date=LAST),
                                      metadata=running.token("rep-2", Role.SALES_REP, "team-b"))
    assert [f.currency_code for f in rep.figures] == ["EUR", "USD"]
    assert figures([f.receivables for f in rep.figures]) == {
        "EUR": (Decimal("250.50"), 1), "USD": (Decimal(0), 0)}


async def test_product_analytics_per_product_and_category_against_the_month_before(
        history_server: tuple[Running, History]) -> None:
    running, history = history_server
    first, last = date(2026, 3, 1), date(2026, 3, 31)
    before = (date(2026, 1, 29), date(2026, 2, 28))
    reply = await stub(running).GetProductAnalytics(pb.GetProductAnalyticsRequest(
        start_date=first.isoformat(), end_date=last.isoformat(), movers=1),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    assert (reply.previous_start_date, reply.previous_end_date) == tuple(
        d.isoformat() for d in before)

    def sold(a: date, b: date) -> tuple[dict[str, int], dict[str, Figures]]:
        units: dict[str, int] = {}
        net: dict[str, Figures] = {}
        for o in kept(history, UTC_ZONE, a, b):
            lines: dict[str, Decimal] = {}
            for product, quantity, gross, discount in o.lines:
                units[product] = units.get(product, 0) + quantity
                lines[product] = lines.get(product, Decimal(0)) + Decimal(gross) - Decimal(
                    discount)
            for product, amount in lines.items():
                add(net.setdefault(product, {}), o.currency, amount)
        return units, net

    units, net = sold(first, last)
    earlier, _ = sold(*before)
    ids = sorted(set(units) | set(earlier), key=lambda p: (-units.get(p, 0), p))
    assert [p.product_id for p in reply.products] == ids
    for p in reply.products:
        assert (p.units, p.previous_units) == (units.get(p.product_id, 0),
                                               earlier.get(p.product_id, 0))
        assert figures(p.revenue) == net.get(p.product_id, {})
        assert p.units_change == ratio(p.units - p.previous_units, p.previous_units)
        assert p.stock_on_hand == ON_HAND[p.product_id]
        assert p.stock_turnover == ratio(p.units, ON_HAND[p.product_id])
    change = {p: units.get(p, 0) - earlier.get(p, 0) for p in ids}
    best = sorted((p for p in ids if change[p] > 0), key=lambda p: (-change[p], p))
    worst = sorted((p for p in ids if change[p] < 0), key=lambda p: (change[p], p))
    assert best and (list(reply.best_movers), list(reply.worst_movers)) == (best[:1], worst[:1])
    categories = {c.category: c.units for c in reply.categories}
    assert categories == {"tools": units.get("p-1", 0) + units.get("p-2", 0),
                          "toys": units.get("p-3", 0)}


@pytest.mark.parametrize(("first", "last"), [(date(2026, 3, 1), date(2026, 4, 30)),
                                             (date(2026, 11, 1), date(2026, 11, 30))])
async def test_new_returning_repeat_and_quiet_customers_equal_the_documents(
        history_server: tuple[Running, History], first: date, last: date) -> None:
    running, history = history_server
    reply = await stub(running).GetCustomerAnalytics(pb.GetCustomerAnalyticsRequest(
        start_date=first.isoformat(), end_date=last.isoformat(), quiet_days=20),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    orders = kept(history, UTC_ZONE, date(1970, 1, 1), date(2999, 1, 1))
    firsts: dict[str, datetime] = {}
    for o in orders:
        assert o.confirmed
        firsts[o.customer] = min(firsts.get(o.customer, o.confirmed), o.confirmed)
    spans = periods(first, last, Period.MONTH)
    assert spans is not None
    for (a, b), got in zip(spans, reply.periods, strict=True):
        active = {o.customer for o in kept(history, UTC_ZONE, a, b)}
        new = {c for c in active if firsts[c].date() >= a}
        assert (got.new_customers, got.returning_customers) == (len(new), len(active - new))
    in_range = kept(history, UTC_ZONE, first, last)
    per: dict[str, list[datetime]] = {}
    for o in in_range:
        assert o.confirmed
        per.setdefault(o.customer, []).append(o.confirmed)
    assert reply.customers == len(per)
    assert reply.new_customers == sum(1 for c in per if firsts[c].date() >= first)
    assert reply.repeat_customers == sum(1 for times in per.values() if len(times) >= 2)
    assert reply.repeat_rate == ratio(reply.repeat_customers, reply.customers)
    cutoff = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) - timedelta(
        days=20)
    quiet = sorted(((c, max(t)) for c, t in per.items() if max(t) < cutoff),
                   key=lambda item: (item[1], item[0]))
    assert [(q.customer_id, q.last_order_date) for q in reply.quiet_customers] == [
        (c, t.date().isoformat()) for c, t in quiet][:5]
    assert {c.customer_id for c in reply.top_customers} == set(per)


@pytest.mark.parametrize(("call", "request_"), [
    ("GetSalesTrends", pb.GetSalesTrendsRequest(start_date=FIRST, end_date=LAST)),
    ("ListTopCustomers", pb.ListTopCustomersRequest(start_date=FIRST, end_date=LAST)),
    ("ListTopProducts", pb.ListTopProductsRequest(start_date=FIRST, end_date=LAST)),
    ("GetKpis", pb.GetKpisRequest(start_date=FIRST, end_date=LAST)),
    ("GetCustomerAnalytics", pb.GetCustomerAnalyticsRequest(start_date=FIRST, end_date=LAST)),
    ("GetProductAnalytics", pb.GetProductAnalyticsRequest(start_date=FIRST, end_date=LAST)),
])
async def test_a_rep_asking_for_another_reps_figures_gets_nothing_of_theirs(
        history_server: tuple[Running, History], call: str, request_: Any) -> None:
    running, history = history_server
    rep = running.token("rep-2", Role.SALES_REP, "team-b")
    own = await getattr(stub(running), call)(request_, metadata=rep)
    request_.owner_id = "rep-1"
    other = await getattr(stub(running), call)(request_, metadata=rep)
    mine = {o.customer for o in history.orders if o.owner == "rep-2"}
    theirs = {o.customer for o in history.orders if o.owner == "rep-1"} - mine
    assert not any(f'"{c}"' in str(own) for c in theirs)
    assert not any(f'"{c}"' in str(other) for c in theirs | mine)
    amounts = re.findall(r'amount: "([-0-9.]+)"', str(other))
    assert all(Decimal(a) == 0 for a in amounts), (call, amounts)
    assert re.search(r"(units|count|customers): [1-9]", str(other)) is None


@pytest.mark.parametrize(("call", "request_", "path"), [
    ("GetSalesTrends", pb.GetSalesTrendsRequest(start_date=FIRST, end_date=LAST,
                                                moving_average_periods=53),
     "moving_average_periods"),
    ("GetSalesTrends", pb.GetSalesTrendsRequest(start_date=FIRST, end_date=LAST,
                                                basis=pb.REVENUE_BASIS_BILLINGS,
                                                product_id="p-1"), "basis"),
    ("GetSalesTrends", pb.GetSalesTrendsRequest(start_date=LAST, end_date=FIRST), "end_date"),
    ("GetSalesPerformance", pb.GetSalesPerformanceRequest(start_date=FIRST, end_date=LAST,
                                                          time_zone="Mars/Base"), "time_zone"),
    ("ListTopCustomers", pb.ListTopCustomersRequest(start_date=FIRST, end_date=LAST,
                                                    limit=101), "limit"),
    ("ListTopCustomers", pb.ListTopCustomersRequest(start_date=FIRST, end_date=LAST,
                                                    basis=7), "basis"),
    ("ListTopProducts", pb.ListTopProductsRequest(start_date=FIRST, end_date=LAST,
                                                  ranking=9), "ranking"),
    ("ListTopProducts", pb.ListTopProductsRequest(start_date=FIRST, end_date=LAST,
                                                  category="x" * 101), "category"),
    ("GetKpis", pb.GetKpisRequest(start_date="2026-13-01", end_date=LAST), "start_date"),
    ("GetProductAnalytics", pb.GetProductAnalyticsRequest(start_date=FIRST, end_date=LAST,
                                                          movers=101), "movers"),
    ("GetCustomerAnalytics", pb.GetCustomerAnalyticsRequest(start_date=FIRST, end_date=LAST,
                                                            quiet_days=-1), "quiet_days"),
])
async def test_bad_input_is_invalid_argument_naming_the_field(
        history_server: tuple[Running, History], call: str, request_: object,
        path: str) -> None:
    running, _ = history_server
    method = getattr(stub(running), call)
    failure = await fails(method(request_, metadata=running.token("admin-1", Role.ADMIN, "")),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert path in failure.fields, failure.fields
