"""GetSalesForecast over the wire on a synthetic history (a trend, a yearly season and a
little noise, in USD, next to a EUR history that must not leak in): the history fitted equals
the documents' monthly sums, Holt-Winters beats seasonal-naive in the backtest, its 95%
interval covers most held-out months, too little history is FAILED_PRECONDITION and bad
input INVALID_ARGUMENT."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from datetime import date
from decimal import Decimal

import grpc
import pytest

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..conftest import Running
from .analytics_fixtures import History, Order, at, write
from .helpers import fails
from .test_analytics import projected

MONTHS = 36  # January 2022 .. December 2024


def synthetic(month: int) -> Decimal:
    """1000 + 20 a month, +-150 over the year, and a deterministic wobble of a few units."""
    season = 150 * math.sin(2 * math.pi * (month % 12) / 12)
    wobble = ((month * 7919) % 13) - 6
    return Decimal(f"{1000 + 20 * month + season + wobble:.2f}")


def month_start(month: int) -> date:
    year, index = divmod(month, 12)
    return date(2022 + year, index + 1, 1)


@pytest.fixture(scope="module")
async def forecast_server(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Running]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    orders = []
    for m in range(MONTHS):
        day = month_start(m)
        # Two orders a month: the month's figure split at a second past local midnight.
        half = (synthetic(m) / 2).quantize(Decimal("0.01"))
        orders.append(Order("rep-1", "team-a", "USD", str(half),
                            at(day.year, day.month, 1, 0, 0, 1)))
        orders.append(Order("rep-2", "team-b", "USD", str(synthetic(m) - half),
                            at(day.year, day.month, 15, 12)))
        orders.append(Order("rep-1", "team-a", "EUR", "5.00", at(day.year, day.month, 2)))
    await write(app.mongo, History(orders=orders))
    running = Running(app, server, channel, settings)
    await projected(running, 60)
    # The first fit starts the forecaster's worker processes (numpy, statsmodels): on a busy
    # machine that outlasts the server's default deadline, so it is made here with a longer one.
    await pb_grpc.AnalyticsServiceStub(channel).GetSalesForecast(
        ask(), metadata=running.token("admin-1", Role.ADMIN, ""), timeout=300)
    yield running
    await channel.close()
    await server.stop(1)
    await app.close()


def ask(**fields: object) -> pb.GetSalesForecastRequest:
    values: dict[str, object] = {"currency_code": "USD", "horizon": 6,
                                 "history_periods": MONTHS, "end_date": "2024-12-31"}
    return pb.GetSalesForecastRequest(**{**values, **fields})  # type: ignore[arg-type]


async def test_the_history_is_the_documents_and_holt_winters_beats_seasonal_naive(
        forecast_server: Running) -> None:
    analytics = pb_grpc.AnalyticsServiceStub(forecast_server.channel)
    reply = await analytics.GetSalesForecast(
        ask(), metadata=forecast_server.token("admin-1", Role.ADMIN, ""))
    assert [Decimal(v.value) for v in reply.history] == [synthetic(m) for m in range(MONTHS)]
    assert reply.history[0].start_date == "2022-01-01"
    assert reply.method == "HOLT_WINTERS" and reply.season_length == 12
    assert [v.start_date for v in reply.forecast] == [f"2025-0{i}-01" for i in range(1, 7)]
    for v in reply.forecast:
        bounds = [Decimal(x) for x in (v.lower_95, v.lower_80, v.value, v.upper_80,
                                       v.upper_95)]
        assert bounds == sorted(bounds)
    b = reply.backtest
    assert b.baseline == "SEASONAL_NAIVE" and b.beats_baseline
    assert b.model_mase < b.baseline_mase and b.HasField("model_smape")


async def test_periods_before_the_first_sale_are_not_history(
        forecast_server: Running) -> None:
    analytics = pb_grpc.AnalyticsServiceStub(forecast_server.channel)
    # 48 periods asked for, the first sale in the 13th: the year before it is left out.
    reply = await analytics.GetSalesForecast(
        ask(history_periods=MONTHS + 12), metadata=forecast_server.token("admin-1", Role.ADMIN, ""))
    assert reply.history[0].start_date == "2022-01-01"
    assert [Decimal(v.value) for v in reply.history] == [synthetic(m) for m in range(MONTHS)]
    assert reply.method == "HOLT_WINTERS" and reply.backtest.beats_baseline


async def test_the_95_percent_interval_covers_most_held_out_months(
        forecast_server: Running) -> None:
    analytics = pb_grpc.AnalyticsServiceStub(forecast_server.channel)
    reply = await analytics.GetSalesForecast(
        ask(end_date="2023-12-31", history_periods=24, horizon=12),
        metadata=forecast_server.token("admin-1", Role.ADMIN, ""))
    actual = [synthetic(m) for m in range(24, 36)]
    covered = sum(Decimal(v.lower_95) <= a <= Decimal(v.upper_95)
                  for v, a in zip(reply.forecast, actual, strict=True))
    assert covered >= 10, covered


async def test_a_rep_forecasts_their_own_history_and_too_little_is_failed_precondition(
        forecast_server: Running) -> None:
    analytics = pb_grpc.AnalyticsServiceStub(forecast_server.channel)
    rep = forecast_server.token("rep-2", Role.SALES_REP, "team-b")
    own = await analytics.GetSalesForecast(ask(), metadata=rep)
    assert [Decimal(v.value) for v in own.history] == [
        synthetic(m) - (synthetic(m) / 2).quantize(Decimal("0.01")) for m in range(MONTHS)]
    # rep-1's figures are outside rep-2's scope: no sales, so no history at all.
    none = await fails(analytics.GetSalesForecast(ask(owner_id="rep-1"), metadata=rep),
                       grpc.StatusCode.FAILED_PRECONDITION)
    assert none.info.reason == "HISTORY_TOO_SHORT" and none.info.metadata["points"] == "0"
    short = await fails(analytics.GetSalesForecast(ask(history_periods=5), metadata=rep),
                        grpc.StatusCode.FAILED_PRECONDITION)
    assert short.info.reason == "HISTORY_TOO_SHORT"


@pytest.mark.parametrize(("fields", "path"), [
    ({"horizon": 0}, "horizon"), ({"horizon": 61}, "horizon"),
    ({"currency_code": ""}, "currency_code"), ({"currency_code": "XYZ"}, "currency_code"),
    ({"measure": pb.FORECAST_MEASURE_UNITS}, "product_id"),
    ({"history_periods": 1001}, "history_periods"), ({"season_length": 54}, "season_length"),
    ({"time_zone": "Nowhere/Land"}, "time_zone"), ({"end_date": "2025-02-30"}, "end_date"),
])
async def test_bad_input_is_invalid_argument_naming_the_field(
        forecast_server: Running, fields: dict[str, object], path: str) -> None:
    analytics = pb_grpc.AnalyticsServiceStub(forecast_server.channel)
    failure = await fails(analytics.GetSalesForecast(
        ask(**fields), metadata=forecast_server.token("admin-1", Role.ADMIN, "")),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert path in failure.fields, failure.fields
