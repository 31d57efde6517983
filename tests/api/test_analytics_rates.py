"""Exchange rates over the wire: an admin sets, lists and deletes them, nobody else may;
revenue in a reporting currency converts each period at the rate of its last day, rounds
before adding, and names the currencies it could not convert; bad rates are INVALID_ARGUMENT."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
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
from .analytics_fixtures import History, known_history, write
from .helpers import fails
from .test_analytics import projected

RATES = [("EUR", "2026-03-01", "1.10"), ("EUR", "2026-03-15", "1.2"),
         ("EUR", "2026-04-30", "1.05")]


@pytest.fixture(scope="module")
async def rates_server(fresh_settings: Callable[..., Settings]
                       ) -> AsyncIterator[tuple[Running, History]]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    history = known_history()
    await write(app.mongo, history)
    running = Running(app, server, channel, settings)
    await projected(running)
    analytics = pb_grpc.AnalyticsServiceStub(channel)
    for currency, day, rate in RATES:
        await analytics.SetExchangeRate(pb.SetExchangeRateRequest(exchange_rate=pb.ExchangeRate(
            currency_code=currency, reporting_currency="USD", effective_date=day, rate=rate)),
            metadata=running.token("admin-1", Role.ADMIN, ""))
    yield running, history
    await channel.close()
    await server.stop(1)
    await app.close()


def rate_on(currency: str, day: date) -> Decimal | None:
    if currency == "USD":
        return Decimal(1)
    found = [Decimal(r) for c, d, r in RATES if c == currency and date.fromisoformat(d) <= day]
    return found[-1] if found else None


@pytest.mark.parametrize("basis", ["BOOKINGS", "BILLINGS"])
async def test_revenue_in_a_reporting_currency_converts_each_month_at_its_last_days_rate(
        rates_server: tuple[Running, History], basis: str) -> None:
    running, history = rates_server
    zone = "America/New_York"
    reply = await pb_grpc.AnalyticsServiceStub(running.channel).GetRevenue(pb.GetRevenueRequest(
        start_date="2026-02-01", end_date="2026-05-31", time_zone=zone,
        basis=getattr(pb, f"REVENUE_BASIS_{basis}"), reporting_currency="USD"),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    spans = periods(date(2026, 2, 1), date(2026, 5, 31), Period.MONTH)
    assert spans is not None
    total, missing = Decimal(0), set()
    for (first, last), sums, got in zip(spans, history.expected(basis, ZoneInfo(zone), spans),
                                        reply.periods, strict=True):
        want, lost = Decimal(0), []
        for currency, (amount, _) in sorted(sums.items()):
            rate = rate_on(currency, last)
            if rate is None:
                lost.append(currency)
            else:
                want += (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert (Decimal(got.converted.amount.amount), list(got.converted.unconverted_currencies)
                ) == (want, lost), (first, last)
        assert got.converted.amount.currency_code == "USD"
        total += want
        missing |= set(lost)
    assert Decimal(reply.converted_totals.amount.amount) == total
    assert list(reply.converted_totals.unconverted_currencies) == sorted(missing)
    if basis == "BILLINGS":  # February's EUR invoice precedes every rate
        assert missing == {"EUR"}


async def test_only_an_admin_manages_rates_and_the_list_pages_through_them(
        rates_server: tuple[Running, History]) -> None:
    running, _ = rates_server
    analytics = pb_grpc.AnalyticsServiceStub(running.channel)
    manager = running.token("manager-a", Role.SALES_MANAGER, "team-a")
    refused = await fails(analytics.SetExchangeRate(pb.SetExchangeRateRequest(
        exchange_rate=pb.ExchangeRate(currency_code="EUR", reporting_currency="USD",
                                      effective_date="2026-01-01", rate="1")),
        metadata=manager), grpc.StatusCode.PERMISSION_DENIED)
    assert refused.info.reason == "EXCHANGE_RATES_NOT_ALLOWED"
    seen, token = [], ""
    while True:
        page = await analytics.ListExchangeRates(pb.ListExchangeRatesRequest(
            reporting_currency="USD", page_size=2, page_token=token), metadata=manager)
        seen += [(r.currency_code, r.effective_date, r.rate, r.update_actor)
                 for r in page.exchange_rates]
        token = page.next_page_token
        if not token:
            break
    assert seen == [(c, d, str(Decimal(r)), "admin-1") for c, d, r in RATES]
    admin = running.token("admin-1", Role.ADMIN, "")
    gone = pb.DeleteExchangeRateRequest(currency_code="EUR", reporting_currency="USD",
                                        effective_date="2026-04-30")
    await fails(analytics.DeleteExchangeRate(gone, metadata=manager),
                grpc.StatusCode.PERMISSION_DENIED)
    await analytics.DeleteExchangeRate(gone, metadata=admin)
    await fails(analytics.DeleteExchangeRate(gone, metadata=admin), grpc.StatusCode.NOT_FOUND)
    await analytics.SetExchangeRate(pb.SetExchangeRateRequest(exchange_rate=pb.ExchangeRate(
        currency_code="EUR", reporting_currency="USD", effective_date="2026-04-30",
        rate="1.05")), metadata=admin)


@pytest.mark.parametrize(("rate", "path"), [
    (pb.ExchangeRate(currency_code="EUR", reporting_currency="USD", effective_date="2026-01-01",
                     rate="0"), "rate"),
    (pb.ExchangeRate(currency_code="EUR", reporting_currency="USD", effective_date="2026-01-01",
                     rate="1e3"), "rate"),
    (pb.ExchangeRate(currency_code="USD", reporting_currency="USD", effective_date="2026-01-01",
                     rate="1"), "reporting_currency"),
    (pb.ExchangeRate(currency_code="XYZ", reporting_currency="USD", effective_date="2026-01-01",
                     rate="1"), "currency_code"),
    (pb.ExchangeRate(currency_code="EUR", reporting_currency="USD", effective_date="1/1/2026",
                     rate="1"), "effective_date"),
])
async def test_bad_rates_are_invalid_argument_naming_the_field(
        rates_server: tuple[Running, History], rate: pb.ExchangeRate, path: str) -> None:
    running, _ = rates_server
    failure = await fails(pb_grpc.AnalyticsServiceStub(running.channel).SetExchangeRate(
        pb.SetExchangeRateRequest(exchange_rate=rate),
        metadata=running.token("admin-1", Role.ADMIN, "")), grpc.StatusCode.INVALID_ARGUMENT)
    assert path in failure.fields, failure.fields


async def test_an_unknown_reporting_currency_is_invalid_argument(
        rates_server: tuple[Running, History]) -> None:
    running, _ = rates_server
    failure = await fails(pb_grpc.AnalyticsServiceStub(running.channel).GetRevenue(
        pb.GetRevenueRequest(start_date="2026-02-01", end_date="2026-02-02",
                             reporting_currency="ABC"),
        metadata=running.token("admin-1", Role.ADMIN, "")), grpc.StatusCode.INVALID_ARGUMENT)
    assert "reporting_currency" in failure.fields


async def test_a_trend_in_a_reporting_currency_converts_as_revenue_does(
        rates_server: tuple[Running, History]) -> None:
    running, _ = rates_server
    analytics = pb_grpc.AnalyticsServiceStub(running.channel)
    admin = running.token("admin-1", Role.ADMIN, "")
    span = {"start_date": "2026-02-01", "end_date": "2026-05-31", "time_zone": "Asia/Kolkata",
            "reporting_currency": "USD"}
    trend = await analytics.GetSalesTrends(pb.GetSalesTrendsRequest(**span), metadata=admin)
    revenue = await analytics.GetRevenue(pb.GetRevenueRequest(**span), metadata=admin)
    assert [p.converted for p in trend.periods] == [p.converted for p in revenue.periods]
    assert any(Decimal(p.converted.amount.amount) for p in trend.periods)
    plain = await analytics.GetSalesTrends(pb.GetSalesTrendsRequest(
        start_date="2026-02-01", end_date="2026-05-31"), metadata=admin)
    assert not any(p.HasField("converted") for p in plain.periods)


async def test_kpis_in_a_reporting_currency_convert_each_figure(
        rates_server: tuple[Running, History]) -> None:
    running, _ = rates_server
    reply = await pb_grpc.AnalyticsServiceStub(running.channel).GetKpis(pb.GetKpisRequest(
        start_date="2026-02-01", end_date="2026-11-30", reporting_currency="USD"),
        metadata=running.token("admin-1", Role.ADMIN, ""))
    by_currency = {f.currency_code: f for f in reply.figures}
    eur_rate = Decimal("1.05")  # the last rate: in effect on 30 November and today

    def expected(name: str) -> Decimal:
        usd = Decimal(getattr(by_currency["USD"], name).amount.amount)
        eur = Decimal(getattr(by_currency["EUR"], name).amount.amount)
        return usd + (eur * eur_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)

    for name in ("bookings", "billings", "collections", "receivables"):
        got = getattr(reply.converted, name)
        assert (Decimal(got.amount.amount), list(got.unconverted_currencies)) == (
            expected(name), []), name
