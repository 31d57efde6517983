"""`sales-grpc dashboard` against a real server: the caller's dashboard as tables, a sparkline
of monthly bookings ending with this month's, and the forecast with its band (or why there is
none); a rep's screen holds none of another rep's customers."""

from __future__ import annotations

import argparse
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from rich.console import Console

from erp.sales.v1 import analytics_service_pb2 as pb
from sales_grpc import dashboard_cli
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.cli import parser
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..conftest import Running
from .analytics_fixtures import Order, known_history, write
from .test_analytics import projected


@pytest.fixture(scope="module")
async def board_server(fresh_settings: Callable[..., Settings]
                       ) -> AsyncIterator[tuple[Running, str]]:
    settings = fresh_settings(analytics_poll_seconds=0.2)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    history = known_history()
    now = datetime.now(UTC).replace(microsecond=0)
    history.orders.append(Order("rep-1", "team-a", "USD", "123.40", now, customer="cust-9"))
    await write(app.mongo, history)
    running = Running(app, server, channel, settings)
    await projected(running)
    yield running, f"127.0.0.1:{port}"
    await channel.close()
    await server.stop(1)
    await app.close()


async def screen(running: Running, address: str, subject: str, role: Role, team: str) -> str:
    args = parser().parse_args(["dashboard", "--address", address, "--token",
                                mint_token(running.settings, subject, role, team)])
    assert args.run is dashboard_cli.cmd_dashboard
    out = io.StringIO()
    assert await dashboard_cli.show(args, Console(file=out, width=160)) == 0
    return out.getvalue()


async def test_the_dashboard_shows_the_figures_a_sparkline_and_the_forecast_or_why_not(
        board_server: tuple[Running, str]) -> None:
    running, address = board_server
    text = await screen(running, address, "admin-1", Role.ADMIN, "")
    assert "Sales dashboard" in text and "this month" in text and "Open work" in text
    assert "USD 123.40 (1)" in text  # today's order, in today's and every longer period
    now = datetime.now(UTC)
    month = sum((Decimal(o.total) for o in known_history().orders
                 if o.currency == "USD" and o.confirmed and not o.cancelled
                 and (o.confirmed.year, o.confirmed.month) == (now.year, now.month)),
                Decimal("123.40"))
    assert f"(last {month})" in text and "cust-9" in text
    assert "Forecast" in text
    # Converted into --currency: today's USD order at 1 (no rates are set for the others).
    assert "current in USD" in text
    assert any(line.count("USD 123.40") == 2 for line in text.splitlines())


async def test_a_reps_screen_holds_none_of_another_reps_customers(
        board_server: tuple[Running, str]) -> None:
    running, address = board_server
    text = await screen(running, address, "rep-2", Role.SALES_REP, "team-b")
    assert "cust-9" not in text and "123.40" not in text


def test_the_forecast_is_drawn_as_a_band_around_its_value() -> None:
    board = pb.GetSalesDashboardResponse(time_zone="UTC", today="2026-11-27")
    months = pb.GetRevenueResponse(periods=[pb.PeriodRevenue(
        start_date="2026-11-01", end_date="2026-11-27")])
    forecast = pb.GetSalesForecastResponse(
        method="HOLT_WINTERS", backtest=pb.ForecastBacktest(
            baseline="SEASONAL_NAIVE", model_mase=0.25, baseline_mase=1.0),
        forecast=[pb.ForecastValue(start_date="2026-12-01", value="100.00", lower_80="90.00",
                                   upper_80="110.00", lower_95="80.00", upper_95="120.00")])
    out = io.StringIO()
    dashboard_cli.render(Console(file=out, width=160),
                         dashboard_cli.Figures(board, months, forecast, ""), "USD")
    text = out.getvalue()
    assert "HOLT_WINTERS" in text and "0.25 against 1.00" in text and "2026-12" in text
    assert "─" in text and "┃" in text
    assert dashboard_cli.sparkline([1, 2, 3, 2]) == "▁▄█▄"  # type: ignore[list-item]


def test_the_dashboard_command_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    out = io.StringIO()
    import asyncio
    code = asyncio.run(dashboard_cli.show(argparse.Namespace(
        token=None, address="127.0.0.1:1"), Console(file=out)))
    assert code == 2 and "token" in out.getvalue()
