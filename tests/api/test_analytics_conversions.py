"""Every analytics RPC that returns amounts, in a reporting currency, over the wire: on the
known history (USD and EUR documents, two reps in two teams) with EUR->USD and USD->GBP rates
set, each converted figure equals the one computed here from the documents and the rates (each
currency at the rate in effect on the figure's day, rounded to the cent before adding); a
currency without a rate is named, never guessed, and then there is no ranking across
currencies; a rep's conversions cover only the rep's own documents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
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

from ..conftest import Running
from .analytics_fixtures import History, Order, known_history, write
from .helpers import fails
from .test_analytics import projected

# (currency, reporting currency, first day, rate)
RATES = [("EUR", "USD", "2026-03-01", "1.10"), ("EUR", "USD", "2026-03-15", "1.2"),
         ("EUR", "USD", "2026-04-30", "1.05"), ("USD", "GBP", "2026-01-01", "0.79")]
CATALOG = {"p-1": ("Widget", "tools"), "p-2": ("Gadget", "tools"), "p-3": ("Kite", "toys")}
UTC_ZONE = ZoneInfo("UTC")
CENT = Decimal("0.01")
# (reporting currency, range): into USD everything converts, each range at its last day's
# EUR rate; into GBP only USD has a rate, so EUR stays unconverted.
CASES = [("USD", "2026-02-01", "2026-11-30"), ("USD", "2026-03-01", "2026-03-20"),
         ("GBP", "2026-02-01", "2026-11-30")]
# Who asks, and whose documents the answer must cover (None: everyone's).
WHO = {"admin": ("admin-1", Role.ADMIN, "", None), "rep": ("rep-2", Role.SALES_REP, "team-b",
                                                            "rep-2")}
Sums = dict[str, Decimal]


@pytest.fixture(scope="module")
async def rates_history(fresh_settings: Callable[..., Settings]
                        ) -> AsyncIterator[tuple[Running, History]]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    history = known_history()
    # Today's orders too, so the dashboard's current periods hold both currencies.
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    history.orders += [
        Order("rep-1", "team-a", "EUR", "45.67", now, customer="cust-9",
              lines=(("p-3", 1, "45.67", "0"),)),
        Order("rep-2", "team-b", "USD", "12.34", now, customer="cust-4",
              lines=(("p-1", 2, "13.34", "1.00"),)),
        Order("rep-2", "team-b", "EUR", "20.00", now, customer="cust-3",
              lines=(("p-2", 2, "20.00", "0"),))]
    await write(app.mongo, history)
    await app.mongo.db.products.insert_many([
        {"_id": pid, "sku": f"SKU-{pid}", "name": name, "category": category,
         "stock": {"on_hand": 5}} for pid, (name, category) in CATALOG.items()])
    running = Running(app, server, channel, settings)
    await projected(running)
    analytics = pb_grpc.AnalyticsServiceStub(channel)
    for currency, reporting, day, rate in RATES:
        await analytics.SetExchangeRate(pb.SetExchangeRateRequest(exchange_rate=pb.ExchangeRate(
            currency_code=currency, reporting_currency=reporting, effective_date=day,
            rate=rate)), metadata=running.token("admin-1", Role.ADMIN, ""))
    yield running, history
    await channel.close()
    await server.stop(1)
    await app.close()


def stub(running: Running) -> pb_grpc.AnalyticsServiceStub:
    return pb_grpc.AnalyticsServiceStub(running.channel)


def rate_on(currency: str, reporting: str, day: date) -> Decimal | None:
    if currency == reporting:
        return Decimal(1)
    found = [Decimal(r) for c, into, d, r in RATES
             if (c, into) == (currency, reporting) and date.fromisoformat(d) <= day]
    return found[-1] if found else None


def converted(sums: Sums, reporting: str, day: date) -> tuple[Decimal, list[str]]:
    """Each currency at its rate on `day`, rounded before adding, and those without a rate."""
    total, lost = Decimal(0), []
    for currency, amount in sorted(sums.items()):
        rate = rate_on(currency, reporting, day)
        if not amount:
            continue
        if rate is None:
            lost.append(currency)
        else:
            total += (amount * rate).quantize(CENT, ROUND_HALF_UP)
    return total, lost


def got(c: pb.ConvertedAmount, reporting: str) -> tuple[Decimal, list[str]]:
    assert c.amount.currency_code == reporting
    return Decimal(c.amount.amount), list(c.unconverted_currencies)


def add(into: dict[str, Sums], key: str, currency: str, amount: Decimal) -> None:
    sums = into.setdefault(key, {})
    sums[currency] = sums.get(currency, Decimal(0)) + amount


def kept(history: History, first: date, last: date, owner: str | None,
         zone: ZoneInfo = UTC_ZONE) -> list[Order]:
    return [o for o in history.orders if o.confirmed and not o.cancelled
            and first <= o.confirmed.astimezone(zone).date() <= last
            and owner in (None, o.owner)]


def by_customer(history: History, basis: str, first: date, last: date, owner: str | None,
                zone: ZoneInfo = UTC_ZONE) -> dict[str, Sums]:
    out: dict[str, Sums] = {}
    if basis == "BOOKINGS":
        for o in kept(history, first, last, owner, zone):
            add(out, o.customer, o.currency, Decimal(o.total))
        return out
    for i in history.invoices:
        if not i.void and first <= i.day <= last and owner in (None, i.owner):
            add(out, i.customer, i.currency, Decimal(i.amount))
    for n in history.credit_notes:
        if first <= n.day <= last and owner in (None, n.owner):
            add(out, n.customer, n.currency, -Decimal(n.amount))
    return out


def by_product(orders: list[Order]) -> dict[str, Sums]:
    out: dict[str, Sums] = {}
    for o in orders:
        for product, _, gross, discount in o.lines:
            add(out, product, o.currency, Decimal(gross) - Decimal(discount))
    return out


def ranking(subjects: dict[str, Sums], reporting: str, day: date, limit: int
            ) -> tuple[list[tuple[str, Decimal]], list[str]]:
    """The subjects by converted total, most first (ties by id), or none and the currencies
    without a rate when any amount had none."""
    totals = {s: converted(sums, reporting, day) for s, sums in subjects.items()}
    lost = sorted({c for _, missing in totals.values() for c in missing})
    if lost:
        return [], lost
    order = sorted(((s, t) for s, (t, _) in totals.items()), key=lambda kv: (-kv[1], kv[0]))
    return order[:limit], []


def check_ranking(reply: Any, subjects: dict[str, Sums], reporting: str, day: date,
                  limit: int, key: str) -> None:
    entries = list(getattr(reply, key))
    want, lost = ranking(subjects, reporting, day, limit)
    assert list(reply.unconverted_currencies) == lost
    id_of = "customer_id" if key == "customers" else "product_id"
    assert [(getattr(e, id_of), e.rank, got(e.converted, reporting)) for e in entries] == [
        (s, i, (t, [])) for i, (s, t) in enumerate(want, 1)]
    for e in entries:  # each with its amounts in every currency
        amounts = e.amounts if key == "customers" else e.revenue
        assert {a.amount.currency_code: Decimal(a.amount.amount) for a in amounts} == {
            c: v for c, v in subjects[getattr(e, id_of)].items() if v}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_performance_per_rep_and_team_converts_at_the_ranges_last_day(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    reply = await stub(running).GetSalesPerformance(pb.GetSalesPerformanceRequest(
        start_date=first, end_date=last, reporting_currency=reporting),
        metadata=running.token(subject, role, team))
    reps: dict[str, Sums] = {}
    teams: dict[str, Sums] = {}
    for o in kept(history, a, b, owner):
        add(reps, o.owner, o.currency, Decimal(o.total))
        add(teams, o.team, o.currency, Decimal(o.total))
    for rows, want in ((reply.reps, reps), (reply.teams, teams)):
        keys = [r.owner_id or r.team_id for r in rows]
        assert set(want) <= set(keys)
        assert [got(r.converted_revenue, reporting) for r in rows] == [
            converted(want.get(k, {}), reporting, b) for k in keys]
    if reporting == "GBP":
        assert any(r.converted_revenue.unconverted_currencies == ["EUR"] for r in reply.reps)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("basis", ["BOOKINGS", "BILLINGS"])
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_top_customers_rank_across_currencies_by_converted_revenue_when_all_convert(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        basis: str, who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    reply = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date=first, end_date=last, basis=getattr(pb, f"REVENUE_BASIS_{basis}"),
        limit=3, reporting_currency=reporting), metadata=running.token(subject, role, team))
    customers = by_customer(history, basis, a, b, owner)
    check_ranking(reply.converted_ranking, customers, reporting, b, 3, "customers")
    for entry in reply.customers:  # the rankings within a currency, each entry converted
        currency = entry.revenue.amount.currency_code
        assert got(entry.converted, reporting) == converted(
            {currency: customers[entry.customer_id][currency]}, reporting, b)
    if reporting == "GBP":  # EUR has no rate into GBP: no ranking across currencies
        assert list(reply.converted_ranking.customers) == []


async def test_a_billing_before_the_first_rate_is_unconverted_and_unranked(
        rates_history: tuple[Running, History]) -> None:
    running, _ = rates_history
    reply = await stub(running).ListTopCustomers(pb.ListTopCustomersRequest(
        start_date="2026-02-01", end_date="2026-02-28", basis=pb.REVENUE_BASIS_BILLINGS,
        reporting_currency="USD"), metadata=running.token("admin-1", Role.ADMIN, ""))
    # The EUR invoice of 28 February precedes every EUR rate.
    assert [(c.customer_id, c.revenue.amount.amount) for c in reply.customers] == [
        ("cust-3", "250.50")]
    assert got(reply.customers[0].converted, "USD") == (Decimal(0), ["EUR"])
    ranked = reply.converted_ranking
    assert (list(ranked.customers), list(ranked.unconverted_currencies)) == ([], ["EUR"])


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_top_products_convert_each_entry_and_rank_revenue_across_currencies(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    md = running.token(subject, role, team)
    products = by_product(kept(history, a, b, owner))
    by_revenue = await stub(running).ListTopProducts(pb.ListTopProductsRequest(
        start_date=first, end_date=last, ranking=pb.PRODUCT_RANKING_REVENUE, limit=2,
        reporting_currency=reporting), metadata=md)
    check_ranking(by_revenue.converted_ranking, products, reporting, b, 2, "products")
    assert all(p.currency_code == reporting for p in by_revenue.converted_ranking.products)
    for p in by_revenue.products:
        assert got(p.converted, reporting) == converted(
            {p.currency_code: products[p.product_id][p.currency_code]}, reporting, b)
    by_units = await stub(running).ListTopProducts(pb.ListTopProductsRequest(
        start_date=first, end_date=last, reporting_currency=reporting), metadata=md)
    assert not by_units.HasField("converted_ranking")  # units: one ranking already
    assert {p.product_id: got(p.converted, reporting) for p in by_units.products} == {
        p: converted(sums, reporting, b) for p, sums in products.items()}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_product_analytics_converts_each_product_and_category(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    reply = await stub(running).GetProductAnalytics(pb.GetProductAnalyticsRequest(
        start_date=first, end_date=last, reporting_currency=reporting),
        metadata=running.token(subject, role, team))
    products = by_product(kept(history, a, b, owner))
    categories: dict[str, Sums] = {}
    for product, sums in products.items():
        for currency, amount in sums.items():
            add(categories, CATALOG[product][1], currency, amount)
    assert {p.product_id: got(p.converted_revenue, reporting) for p in reply.products} == {
        p.product_id: converted(products.get(p.product_id, {}), reporting, b)
        for p in reply.products}
    assert set(products) <= {p.product_id for p in reply.products}
    assert {c.category: got(c.converted_revenue, reporting) for c in reply.categories} == {
        c: converted(sums, reporting, b) for c, sums in categories.items()}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_customer_analytics_ranks_its_top_customers_across_currencies(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    reply = await stub(running).GetCustomerAnalytics(pb.GetCustomerAnalyticsRequest(
        start_date=first, end_date=last, limit=2, reporting_currency=reporting),
        metadata=running.token(subject, role, team))
    check_ranking(reply.converted_top_customers, by_customer(history, "BOOKINGS", a, b, owner),
                  reporting, b, 2, "customers")


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("reporting", "first", "last"), CASES)
async def test_funnel_values_convert_at_the_cohort_ranges_last_day(
        rates_history: tuple[Running, History], reporting: str, first: str, last: str,
        who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    reply = await stub(running).GetConversionFunnel(pb.GetConversionFunnelRequest(
        start_date=first, end_date=last, reporting_currency=reporting),
        metadata=running.token(subject, role, team))
    steps: dict[str, Sums] = {}
    for q in history.quotes:
        if a <= q.created.date() <= b and owner in (None, q.owner):
            # Each step only after the one before (none of these quotes made an order).
            for step, reached in (("CREATED", True), ("SENT", q.sent),
                                  ("ACCEPTED", q.sent and q.accepted)):
                if reached:
                    add(steps, step, q.currency, Decimal(q.total))
    assert steps
    assert {pb.FunnelStep.Name(s.step)[12:]: got(s.converted_values, reporting)
            for s in reply.stages} == {
        step: converted(steps.get(step, {}), reporting, b)
        for step in ("CREATED", "SENT", "ACCEPTED", "ORDER_CONFIRMED", "INVOICED", "PAID")}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("reporting", ["USD", "GBP"])
async def test_the_dashboard_converts_periods_at_their_last_day_and_now_at_todays_rate(
        rates_history: tuple[Running, History], reporting: str, who: str) -> None:
    running, history = rates_history
    subject, role, team, owner = WHO[who]
    zone = "Asia/Kolkata"
    reply = await stub(running).GetSalesDashboard(pb.GetSalesDashboardRequest(
        time_zone=zone, reporting_currency=reporting),
        metadata=running.token(subject, role, team))
    for r in reply.revenue:
        for first, last, value in ((r.start_date, r.end_date, r.converted_current),
                                   (r.previous_start_date, r.previous_end_date,
                                    r.converted_previous)):
            a, b = date.fromisoformat(first), date.fromisoformat(last)
            [sums] = history.expected("BOOKINGS", ZoneInfo(zone), [(a, b)], owner)
            assert got(value, reporting) == converted(
                {c: amount for c, (amount, _) in sums.items()}, reporting, b), (first, last)
    assert any(Decimal(r.converted_current.amount.amount) for r in reply.revenue)
    today = datetime.now(UTC).date()
    mine = [i for i in history.invoices if not i.void and owner in (None, i.owner)]
    receivables: Sums = {}
    for i in mine:  # the known history's invoices are open, their whole total due, overdue
        receivables[i.currency] = receivables.get(i.currency, Decimal(0)) + Decimal(i.amount)
    quotes = [q for q in history.quotes if owner in (None, q.owner)
              and not (q.accepted or q.rejected or q.expired)]
    sent: Sums = {}
    pipeline: Sums = {}
    for q in quotes:
        pipeline[q.currency] = pipeline.get(q.currency, Decimal(0)) + Decimal(q.total)
        if q.sent:
            sent[q.currency] = sent.get(q.currency, Decimal(0)) + Decimal(q.total)
    c = reply.converted
    assert got(c.receivables_outstanding, reporting) == converted(receivables, reporting, today)
    assert got(c.receivables_overdue, reporting) == converted(receivables, reporting, today)
    assert got(c.open_quotes, reporting) == converted(sent, reporting, today)
    assert got(c.pipeline, reporting) == converted(pipeline, reporting, today)
    month = next(r for r in reply.revenue if r.period == pb.CALENDAR_PERIOD_MONTH)
    a, b = date.fromisoformat(month.start_date), date.fromisoformat(month.end_date)
    check_ranking(c.top_customers, by_customer(history, "BOOKINGS", a, b, owner,
                                               ZoneInfo(zone)), reporting, b, 5, "customers")
    products = by_product(kept(history, a, b, owner, ZoneInfo(zone)))
    assert {p.product_id: got(p.converted, reporting) for p in reply.top_products} == {
        p.product_id: converted(products.get(p.product_id, {}), reporting, b)
        for p in reply.top_products}
    assert reply.top_products


@pytest.mark.parametrize(("call", "request_"), [
    ("GetSalesPerformance", pb.GetSalesPerformanceRequest(start_date="2026-02-01",
                                                          end_date="2026-11-30")),
    ("ListTopCustomers", pb.ListTopCustomersRequest(start_date="2026-02-01",
                                                    end_date="2026-11-30")),
    ("ListTopProducts", pb.ListTopProductsRequest(start_date="2026-02-01",
                                                  end_date="2026-11-30",
                                                  ranking=pb.PRODUCT_RANKING_REVENUE)),
    ("GetProductAnalytics", pb.GetProductAnalyticsRequest(start_date="2026-02-01",
                                                          end_date="2026-11-30")),
    ("GetCustomerAnalytics", pb.GetCustomerAnalyticsRequest(start_date="2026-02-01",
                                                            end_date="2026-11-30")),
    ("GetConversionFunnel", pb.GetConversionFunnelRequest(start_date="2026-02-01",
                                                          end_date="2026-11-30")),
    ("GetSalesDashboard", pb.GetSalesDashboardRequest()),
])
async def test_a_rep_asking_for_another_reps_figures_converts_none_of_theirs_and_bad_codes_fail(
        rates_history: tuple[Running, History], call: str, request_: Any) -> None:
    running, _ = rates_history
    method = getattr(stub(running), call)
    rep = running.token("rep-2", Role.SALES_REP, "team-b")
    plain = await method(request_, metadata=rep)
    assert "converted" not in str(plain)  # nothing converted unless asked
    request_.reporting_currency = "USD"
    own = await method(request_, metadata=rep)  # a cached answer without it is not reused
    assert "converted" in str(own)
    if hasattr(request_, "owner_id"):
        request_.owner_id = "rep-1"
        other = await method(request_, metadata=rep)
        amounts = [Decimal(a) for a in re.findall(r'amount: "([-0-9.]+)"', str(other))]
        assert not any(amounts), (call, amounts)
    request_.reporting_currency = "XYZ"
    failure = await fails(method(request_, metadata=rep), grpc.StatusCode.INVALID_ARGUMENT)
    assert "reporting_currency" in failure.fields

