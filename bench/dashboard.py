"""GetSalesDashboard over a small and a large history in the same run (latency, and the large
against the small), and its uncached throughput against the bare MongoDB reads it makes.

    .venv/bin/python -m bench.dashboard [--sizes 1000,10000] [--concurrency 1,8]
                                        [--duration S] [--rounds R] [--time-zone ZONE]

One embedded SecantusDB and Redis; each size is a database of its own (bench.dashboard_data
loads it: documents shaped by the stores' `to_doc`, rollups by the service's rebuild) served
by its own sales server in a child process with the analytics answer cache off, so every call
computes the dashboard. Calls are an admin's (the widest scope: every rollup row).

* GetSalesDashboard: the real server over a real loopback channel, a real admin token;
* bare reads: what `AnalyticsService.dashboard` reads, issued through PyMongo's
  AsyncMongoClient from this process and drained: one rollups find per bucket level for the
  buckets tiling the ten periods (`store/rollups.py`), the OPEN and UNCOLLECTIBLE invoices,
  the SENT quotes still valid and the pipeline's quotes (`store/open_work.py`), the month's
  customer and product rollups and the product labels of the top five (the dashboard's top
  customers and products), same filters and projections, issued at once as the service
  issues them. The buckets are worked out once, before timing; the service works them out,
  and ranks and converts, on every call.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from pymongo import AsyncMongoClient

from erp.sales.v1 import analytics_service_pb2 as apb
from erp.sales.v1 import analytics_service_pb2_grpc as agrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.analytics import (
    Period,
    days_cover,
    next_period_start,
    period_start,
    zone_of,
)
from sales_grpc.domain.invoices import OWING
from sales_grpc.domain.quotes import QuoteState
from sales_grpc.domain.rollups import Basis, Bucket
from sales_grpc.services.analytics import DASHBOARD_PERIODS
from sales_grpc.store import rollups as rollup_store
from sales_grpc.store.embedded import start_embedded
from sales_grpc.store.rollups import COLLECTION

from . import dashboard_data
from .common import ChildServer, Result, cell, cell_headers, closed_loop, settings_env

SIZE_TARGET = 1.5  # the large history's latency over the small's, at most
RATIO_TARGET = 0.7  # GetSalesDashboard throughput over the bare reads', at least
NAMES = ("GetSalesDashboard", "bare reads")
Call = Callable[[int], Awaitable[Any]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000",
                        help="orders in each database, small first (default 1000,10000; the "
                        "issue's 10000,100000 loads for about half an hour on 2 CPUs)")
    parser.add_argument("--concurrency", default="1,8",
                        help="calls in flight; latencies compare at the first (default 1,8)")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="seconds per cell at most, warm-up included (default 6)")
    parser.add_argument("--requests", type=int, default=3000,
                        help="timed calls per cell at most (default 3000)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="untimed calls per cell before its first round (default 20)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the cells this many times (default 3)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep SecantusDB's data on disk in this new directory (default: "
                        "in memory, which holds 10,000 orders but failed with an internal "
                        "error while loading 100,000)")
    parser.add_argument("--time-zone", default="America/New_York",
                        help="the dashboard's zone (default America/New_York: its periods "
                        "need hour buckets at their edges, as most zones' do)")
    args = parser.parse_args(argv)
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if len(args.size_list) != 2 or min(args.size_list) < 1 or min(args.levels or [0]) < 1:
        parser.error("--sizes needs two positive counts and --concurrency positive integers")
    if zone_of(args.time_zone) is None:
        parser.error(f"--time-zone {args.time_zone} is not an IANA zone")
    return args


# --- the baseline: the dashboard's reads through the driver ---------------------------------


class DashboardReads:
    """The finds `AnalyticsService.dashboard` makes for an admin, bare."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str, zone_name: str,
                 now: datetime) -> None:
        db = client[database]
        self.rollups, self.quotes, self.invoices = db[COLLECTION], db.quotes, db.invoices
        self.products = db.products
        zone = zone_of(zone_name)
        assert zone is not None
        today = now.astimezone(zone).date()
        buckets: set[Bucket] = set()
        for period in DASHBOARD_PERIODS:
            first = period_start(today, period)
            before = period_start(first - timedelta(days=1), period)
            last = next_period_start(first, period) - timedelta(days=1)
            for start, end in ((first, last), (before, first - timedelta(days=1))):
                buckets.update(days_cover(start, end, Basis.BOOKINGS, zone))
        self.by_level = _by_level(buckets)
        month = period_start(today, Period.MONTH)
        self.month = _by_level(days_cover(month, next_period_start(month, Period.MONTH)
                                          - timedelta(days=1), Basis.BOOKINGS, zone))
        self.utc_today = now.date().isoformat()

    async def _rollups(self, by_level: dict[str, list[datetime]], dimension: Any
                       ) -> list[str]:
        subjects = []
        for level, starts in by_level.items():
            async for doc in self.rollups.find({"basis": Basis.BOOKINGS.value, "level": level,
                                                "start": {"$in": starts},
                                                "dimension": dimension}):
                subjects.append(doc.get("subject", ""))
        return subjects

    async def __call__(self, i: int) -> None:
        # Issued at once, as the service issues them: the periods' rollups, the open work,
        # and the month's top customers and products (the labels after the products).
        await asyncio.gather(
            # The store's own totals clause, so the baseline follows it if it changes.
            self._rollups(self.by_level, rollup_store._TOTALS["dimension"]),
            self._drain(self.invoices.find(
                {"state": {"$in": [s.value for s in OWING]}},
                projection={"currency": 1, "amount_due": 1, "state": 1, "due_date": 1})),
            self._drain(self.quotes.find(self._sent, projection=_MONEY)),
            self._drain(self.quotes.find(
                {"$or": [{"state": QuoteState.DRAFT.value}, self._sent]}, projection=_MONEY)),
            self._rollups(self.month, "customer"),
            self._top_products())

    @property
    def _sent(self) -> dict[str, Any]:
        return {"state": QuoteState.SENT.value, "valid_until": {"$gte": self.utc_today}}

    @staticmethod
    async def _drain(cursor: Any) -> None:
        async for _ in cursor:
            pass

    async def _top_products(self) -> None:
        products = await self._rollups(self.month, "product")
        await self._drain(self.products.find(
            {"_id": {"$in": sorted(set(products))[:5]}},
            projection={"sku": 1, "name": 1, "category": 1, "stock.on_hand": 1}))


_MONEY = {"currency": 1, "totals.grand_total": 1}


def _by_level(buckets: Iterable[Bucket]) -> dict[str, list[datetime]]:
    by_level: dict[str, list[datetime]] = {}
    for b in buckets:
        by_level.setdefault(b.level.value, []).append(b.start)
    for starts in by_level.values():
        starts.sort()
    return by_level


# --- a sales server without the analytics cache ---------------------------------------------


async def _serve_uncached() -> None:
    """Serves like `python -m bench.common serve sales`, with no analytics answer cache: the
    service then computes every answer, as it does when Redis cannot give its version."""
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    app = await build(settings)
    app.analytics.service._answers = None  # noqa: SLF001 (a bench-only switch)
    server = SalesServer(app)
    print(f"LISTENING {await server.start('127.0.0.1:0')}", flush=True)
    await asyncio.to_thread(sys.stdin.buffer.read)  # returns when the parent closes the pipe
    await server.stop(0.5)
    await app.close()


async def start_uncached(settings: Settings) -> ChildServer:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.dashboard", "serve",
        env={**os.environ, **settings_env(settings)}, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if not line.startswith(b"LISTENING "):
        await process.wait()
        raise RuntimeError(f"the dashboard server exited ({process.returncode})")
    return ChildServer(int(line.split()[1]), process)


# --- running ----------------------------------------------------------------------------------


class Sized:
    """One history size: its database, server, channel and the two callers."""

    def __init__(self, orders: int, settings: Settings) -> None:
        self.orders, self.settings = orders, settings
        self.loaded: dashboard_data.Loaded | None = None
        self.load_seconds = 0.0
        self.server: ChildServer | None = None
        self.channel: grpc.aio.Channel | None = None
        self.calls: tuple[Call, ...] = ()

    async def load(self, now: datetime, recent: int) -> None:
        started = time.perf_counter()
        self.loaded = await dashboard_data.load(self.settings, self.orders, recent, now)
        self.load_seconds = time.perf_counter() - started
        print(f"  loaded {self.orders} orders in {self.load_seconds:.0f} s", file=sys.stderr,
              flush=True)

    async def serve(self, client: AsyncMongoClient[dict[str, Any]], zone: str,
                    now: datetime) -> None:
        self.server = await start_uncached(self.settings)
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.server.port}")
        stub = agrpc.AnalyticsServiceStub(self.channel)
        token = mint_token(self.settings, "bench-admin", Role.ADMIN, "")
        metadata = (("authorization", f"Bearer {token}"),)
        request = apb.GetSalesDashboardRequest(time_zone=zone)

        async def service(i: int) -> None:
            await stub.GetSalesDashboard(request, metadata=metadata)

        self.calls = (service, DashboardReads(client, self.settings.database_name, zone, now))

    async def stop(self) -> None:
        if self.channel is not None:
            await self.channel.close()
        if self.server is not None:
            await self.server.stop()


async def measure(sizes: list[Sized], args: argparse.Namespace
                  ) -> dict[tuple[int, int], list[Result]]:
    """Per (orders, concurrency): the service's and the baseline's results, each merged from
    `args.rounds` slices taken in turn with every other cell's."""
    cells = {(s.orders, level): [Result(name, level, 0.0, []) for name in NAMES]
             for s in sizes for level in args.levels}
    rounds = max(1, args.rounds)
    for n in range(rounds):
        for level in args.levels:
            for s in sizes:
                for total, call in zip(cells[(s.orders, level)], s.calls, strict=True):
                    part = await closed_loop(total.name, call, level,
                                             -(-args.requests // rounds),
                                             args.duration / rounds,
                                             args.warmup if n == 0 else 0)
                    total.elapsed += part.elapsed
                    total.latencies += part.latencies
    return cells


def _ratio(row: list[Result]) -> float:
    service, bare = row
    return service.throughput / bare.throughput if bare.throughput else 0.0


def report(sizes: list[Sized], cells: dict[tuple[int, int], list[Result]],
           args: argparse.Namespace, loads: tuple[float, float]) -> bool:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Dashboard benchmark, {stamp}, {os.cpu_count()} CPUs, servers in child processes "
          f"with the analytics cache off, time zone {args.time_zone}, <= {args.requests} calls "
          f"or {args.duration:g} s per cell in {args.rounds} alternating rounds, loopback; "
          f"load average {loads[0]:.1f} before, {loads[1]:.1f} after")
    for s in sizes:
        assert s.loaded is not None
        print(f"loaded {s.orders} orders: {s.loaded.invoices} invoices, {s.loaded.quotes} open "
              f"quotes, {s.loaded.rollups} rollups, in {s.load_seconds:.0f} s")
    names, columns = zip(*(cell_headers(name) for name in NAMES), strict=True)
    print(f"{'':>7} {'':>4} | " + " | ".join(names) + " |")
    print(f"{'orders':>7} {'conc':>4} | " + " | ".join(columns) + " | ratio  target")
    for (orders, level), row in cells.items():
        print(f"{orders:>7} {level:>4} | " + " | ".join(cell(r) for r in row)
              + f" | {_ratio(row):5.2f}  {RATIO_TARGET:.2f}")
    small, large = (s.orders for s in sizes)
    first = args.levels[0]
    growth = {q: cells[(large, first)][0].ms(q) / cells[(small, first)][0].ms(q)
              for q in (50, 99)}
    size_ok = max(growth.values()) <= SIZE_TARGET
    print(f"{'PASS' if size_ok else 'BELOW TARGET'}: size: GetSalesDashboard at {large} / at "
          f"{small} orders, concurrency {first}: p50 {growth[50]:.2f}x, p99 {growth[99]:.2f}x "
          f"(target <= {SIZE_TARGET:.1f}x)")
    worst_key = min(cells, key=lambda k: _ratio(cells[k]))
    worst = _ratio(cells[worst_key])
    ratio_ok = worst >= RATIO_TARGET
    print(f"{'PASS' if ratio_ok else 'BELOW TARGET'}: throughput: lowest ratio "
          f"GetSalesDashboard / bare reads = {worst:.2f} at {worst_key[0]} orders, concurrency "
          f"{worst_key[1]} (target >= {RATIO_TARGET:.2f})")
    print("baselines: the size line compares the service with itself on the small history; "
          "the ratio compares it with the bare reads of the same database through "
          "AsyncMongoClient (the rollup finds per bucket level, owed invoices, open quotes, "
          "pipeline, the month's customer and product rollups, product labels)", flush=True)
    return size_ok and ratio_ok


async def run(args: argparse.Namespace, embedded_urls: tuple[str, str] | None = None) -> bool:
    """Loads both sizes, measures and reports; on `embedded_urls` (MongoDB, Redis) if given,
    else on a throwaway SecantusDB and Redis of its own."""
    embedded = None if embedded_urls else await asyncio.to_thread(start_embedded,
                                                                  args.data_dir)
    if embedded is not None:
        embedded_urls = (embedded.mongodb_url, embedded.redis_url)
    assert embedded_urls is not None
    mongodb_url, redis_url = embedded_urls
    tag = uuid.uuid4().hex[:6]
    sizes = [Sized(n, Settings(mongodb_url=mongodb_url, redis_url=redis_url,
                               database_name=f"bench_dash_{n}_{tag}",
                               secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING"))
             for n in args.size_list]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    now = datetime.now(UTC)
    try:
        for s in sizes:  # one at a time: both load the same SecantusDB
            await s.load(now, args.size_list[0])
        await asyncio.gather(*(s.serve(client, args.time_zone, now) for s in sizes))
        before = os.getloadavg()[0]
        cells = await measure(sizes, args)
        return report(sizes, cells, args, (before, os.getloadavg()[0]))
    finally:
        for s in sizes:
            await s.stop()
        await client.close()
        if embedded is not None:
            embedded.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    if (argv if argv is not None else sys.argv[1:])[:1] == ["serve"]:
        asyncio.run(_serve_uncached())
        return
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
