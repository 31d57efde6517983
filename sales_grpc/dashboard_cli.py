"""`sales-grpc dashboard`: the sales dashboard at a terminal, in the caller's scope. A client of
the public RPCs (GetSalesDashboard, GetRevenue, GetSalesForecast) like any other: tables of the
figures per currency and converted into `--currency`, a sparkline of monthly bookings and the
forecast with its interval band."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import grpc
from rich.console import Console
from rich.table import Table

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc

from .client_args import caller_token, server_address

BLOCKS = "▁▂▃▄▅▆▇█"
PERIOD_NAMES = {pb.CALENDAR_PERIOD_DAY: "today", pb.CALENDAR_PERIOD_WEEK: "this week",
                pb.CALENDAR_PERIOD_MONTH: "this month", pb.CALENDAR_PERIOD_QUARTER: "this quarter",
                pb.CALENDAR_PERIOD_YEAR: "this year"}


@dataclass
class Figures:
    board: pb.GetSalesDashboardResponse
    months: pb.GetRevenueResponse
    forecast: pb.GetSalesForecastResponse | None
    forecast_problem: str


def sparkline(values: list[Decimal]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    return "".join(BLOCKS[int((v - low) / span * (len(BLOCKS) - 1))] for v in values)


def _amounts(amounts: list[pb.CurrencyAmount]) -> str:
    return "\n".join(f"{a.amount.currency_code} {a.amount.amount} ({a.document_count})"
                     for a in amounts) or "-"


def _converted(c: pb.ConvertedAmount) -> str:
    """A converted figure, and the currencies it could not include (no rate set)."""
    if not c.amount.currency_code:  # not converted (an older server)
        return "-"
    text = f"{c.amount.currency_code} {c.amount.amount}"
    if c.unconverted_currencies:
        text += f"\n(without {', '.join(c.unconverted_currencies)}: no rate)"
    return text


def _amount_of(amounts: list[pb.CurrencyAmount], currency: str) -> Decimal:
    return next((Decimal(a.amount.amount) for a in amounts
                 if a.amount.currency_code == currency), Decimal(0))


def band(low: Decimal, value: Decimal, high: Decimal, lowest: Decimal, highest: Decimal,
         width: int = 30) -> str:
    """The 95% interval as dashes on a common scale, the forecast as a bar."""
    span = (highest - lowest) or Decimal(1)

    def at(x: Decimal) -> int:
        return int((x - lowest) / span * (width - 1))

    cells = [" "] * width
    for i in range(at(low), at(high) + 1):
        cells[i] = "─"
    cells[at(value)] = "┃"
    return "".join(cells)


def render(console: Console, f: Figures, currency: str) -> None:
    b = f.board
    console.print(f"[bold]Sales dashboard[/bold]  {b.today} ({b.time_zone})")
    bookings = Table(title="Bookings: amount (orders), against the period before; and both "
                     f"converted into {currency}")
    for column in ("period", "current", "previous", f"current in {currency}",
                   f"previous in {currency}"):
        bookings.add_column(column)
    for r in b.revenue:
        bookings.add_row(PERIOD_NAMES.get(r.period, str(r.period)), _amounts(list(r.current)),
                         _amounts(list(r.previous)), _converted(r.converted_current),
                         _converted(r.converted_previous))
    console.print(bookings)
    work = Table(title=f"Open work (and in {currency} at today's rate)")
    for column in ("", "open quotes", "pipeline", "receivables", "overdue"):
        work.add_column(column)
    work.add_row("", _amounts(list(b.open_quotes)), _amounts(list(b.pipeline)),
                 _amounts(list(b.receivables_outstanding)), _amounts(list(b.receivables_overdue)))
    now = b.converted
    work.add_row(currency, _converted(now.open_quotes), _converted(now.pipeline),
                 _converted(now.receivables_outstanding), _converted(now.receivables_overdue))
    console.print(work)
    tops = Table(title="This month's top customers and products")
    for column in ("rank", "customer", "bookings", "product", "units"):
        tops.add_column(column)
    customers, products = list(b.top_customers), list(b.top_products)
    for i in range(max(len(customers), len(products))):
        c = customers[i] if i < len(customers) else None
        p = products[i] if i < len(products) else None
        tops.add_row(str(i + 1), c.customer_id if c else "",
                     f"{c.revenue.amount.currency_code} {c.revenue.amount.amount}" if c else "",
                     (p.name or p.product_id) if p else "", str(p.units) if p else "")
    console.print(tops)
    values = [_amount_of(list(m.amounts), currency) for m in f.months.periods]
    console.print(f"Bookings per month in {currency}, {f.months.periods[0].start_date} to "
                  f"{f.months.periods[-1].end_date}: {sparkline(values)}  "
                  f"(last {values[-1] if values else 0})")
    if f.forecast is None:
        console.print(f"Forecast: {f.forecast_problem}")
        return
    fc = f.forecast
    table = Table(title=f"Forecast of {currency} bookings ({fc.method}; backtest MASE "
                  f"{fc.backtest.model_mase:.2f} against {fc.backtest.baseline_mase:.2f} for "
                  f"{fc.backtest.baseline})")
    for column in ("month", "forecast", "80%", "95%", "95% band"):
        table.add_column(column)
    lowest = min(Decimal(x.lower_95) for x in fc.forecast)
    highest = max(Decimal(x.upper_95) for x in fc.forecast)
    for x in fc.forecast:
        table.add_row(x.start_date[:7], x.value, f"{x.lower_80} .. {x.upper_80}",
                      f"{x.lower_95} .. {x.upper_95}",
                      band(Decimal(x.lower_95), Decimal(x.value), Decimal(x.upper_95),
                           lowest, highest))
    console.print(table)


# Deadlines of the calls: a forecast may start the server's fitting processes first.
READ_SECONDS, FORECAST_SECONDS = 30.0, 120.0


async def fetch(channel: grpc.aio.Channel, token: str, time_zone: str, currency: str,
                months: int, horizon: int) -> Figures:
    stub = pb_grpc.AnalyticsServiceStub(channel)
    md = (("authorization", f"Bearer {token}"),)
    board = await stub.GetSalesDashboard(pb.GetSalesDashboardRequest(
        time_zone=time_zone, reporting_currency=currency), metadata=md, timeout=READ_SECONDS)
    today = date.fromisoformat(board.today)  # the server's day in `time_zone`, not ours
    year, month = divmod(today.year * 12 + today.month - 1 - (months - 1), 12)
    revenue = await stub.GetRevenue(pb.GetRevenueRequest(
        start_date=date(year, month + 1, 1).isoformat(), end_date=board.today,
        time_zone=time_zone, period=pb.CALENDAR_PERIOD_MONTH), metadata=md,
        timeout=READ_SECONDS)
    try:
        forecast = await stub.GetSalesForecast(pb.GetSalesForecastRequest(
            time_zone=time_zone, currency_code=currency, horizon=horizon), metadata=md,
            timeout=FORECAST_SECONDS)
        return Figures(board, revenue, forecast, "")
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.FAILED_PRECONDITION,
                              grpc.StatusCode.INVALID_ARGUMENT):
            raise
        return Figures(board, revenue, None, exc.details() or str(exc.code()))


async def show(args: argparse.Namespace, console: Console) -> int:
    token = caller_token(args.token)
    if not token:
        console.print("a token is needed: --token or the TOKEN environment variable")
        return 2
    address = server_address(args.address)
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            figures = await fetch(channel, token, args.time_zone, args.currency, args.months,
                                  args.horizon)
        except grpc.aio.AioRpcError as exc:
            console.print(f"{exc.code().name}: {exc.details()}")
            return 1
    render(console, figures, args.currency)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    return asyncio.run(show(args, Console(file=sys.stdout)))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    board = sub.add_parser("dashboard", help="the sales dashboard of a running server, in the "
                           "caller's scope")
    board.add_argument("--time-zone", default="UTC", help="the IANA zone of today, weeks...")
    board.add_argument("--currency", default="USD", help="the currency of the sparkline and "
                       "the forecast, and the one the figures are also converted into (at the "
                       "rates admins set)")
    board.add_argument("--months", type=int, default=12, help="months in the sparkline")
    board.add_argument("--horizon", type=int, default=6, help="months forecast")
    board.add_argument("--address", default=None, metavar="HOST:PORT",
                       help="the server (default: 127.0.0.1:SERVICE_PORT, else 50051)")
    board.add_argument("--token", default=None,
                       help="a bearer token (default: the TOKEN environment variable)")
    board.set_defaults(run=cmd_dashboard)
