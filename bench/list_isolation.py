"""Cheap calls beside expensive lists: GetProduct latency while slow ListSalesOrders run, with
the per-method concurrency limit off (very large) and on, measured in one run.

    .venv/bin/python -m bench.list_isolation [--orders 180] [--lines 200] [--slow 30]
        [--cheap 4] [--duration 8] [--rounds 2] [--limit N]

One embedded SecantusDB and Redis; two sales servers in child processes on the same database,
one with LIST_CONCURRENCY_LIMIT=1000000 ("off"), one with --limit ("on", by default the
setting's default). The seed is `--lines` products and one order of `--lines` lines created
through the API, cloned `--orders` - 1 times straight into the collection (new id, number and
create time), so every order has the service's own shape.

Per server, in `--rounds` slices alternating between the servers:
* idle: `--cheap` callers each sending GetProduct as soon as their last one returns;
* loaded: the same while `--slow` callers loop ListSalesOrders, half as a sales rep who owns
  no orders (the reported case), half as an admin asking for page_size 500. A refused list
  (RESOURCE_EXHAUSTED) waits its RetryInfo delay before the caller's next, as a gRPC client's
  retry policy would. After a loaded slice the database is left to drain before the next.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from bson import ObjectId
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pymongo import AsyncMongoClient

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import money_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import start_embedded

from .common import Result, cell, cell_headers, closed_loop, merged, percentile, start_child

OFF = 1_000_000
Metadata = tuple[tuple[str, str], ...]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.list_isolation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=180, help="orders (default 180)")
    parser.add_argument("--lines", type=int, default=200, help="lines per order (default 200)")
    parser.add_argument("--slow", type=int, default=30,
                        help="concurrent ListSalesOrders callers (default 30)")
    parser.add_argument("--cheap", type=int, default=4,
                        help="concurrent GetProduct callers (default 4)")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds per slice (default 8)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="slices per cell, alternating between the two servers (default 2)")
    parser.add_argument("--limit", type=int, default=Settings().list_concurrency_limit,
                        help="LIST_CONCURRENCY_LIMIT of the 'on' server (default: the "
                        "setting's default)")
    parser.add_argument("--settle", type=float, default=120.0,
                        help="most seconds to let the database drain after a loaded slice")
    return parser.parse_args(argv)


@dataclass
class Lists:
    """What the slow callers got during one loaded slice."""

    elapsed: float = 0.0
    done: list[float] = field(default_factory=list)
    refused: int = 0

    def add(self, other: Lists) -> Lists:
        return Lists(self.elapsed + other.elapsed, self.done + other.done,
                     self.refused + other.refused)


@dataclass
class Side:
    name: str
    limit: int
    idle: list[Result] = field(default_factory=list)
    loaded: list[Result] = field(default_factory=list)
    lists: Lists = field(default_factory=Lists)


def usd(amount: str) -> money_pb2.Money:
    return money_pb2.Money(currency_code="USD", amount=amount)


async def seed(channel: grpc.aio.Channel, metadata: Metadata, settings: Settings,
               args: argparse.Namespace) -> list[str]:
    """The products (their ids returned) and the orders, as the module docstring says."""
    products = pgrpc.ProductServiceStub(channel)
    tag = uuid.uuid4().hex[:6]
    customer = (await cgrpc.CustomerServiceStub(channel).CreateCustomer(
        cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name="Lia", last_name="Bench", email=f"lia{tag}@example.com",
            customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=metadata)).customer
    ids: list[str] = []
    for start in range(0, args.lines, 16):
        ids += [r.product.id for r in await asyncio.gather(*(products.CreateProduct(
            ppb.CreateProductRequest(product=ppb.Product(
                sku=f"L-{tag}-{n:04d}", name=f"Bench part {n}", unit_price=usd("4.75"))),
            metadata=metadata) for n in range(start, min(args.lines, start + 16))))]
    order = (await ogrpc.OrderServiceStub(channel).CreateSalesOrder(
        opb.CreateSalesOrderRequest(sales_order=opb.SalesOrder(
            customer_id=customer.id, lines=[dpb.DocumentLine(product_id=p, quantity=3)
                                            for p in ids])), metadata=metadata)).sales_order
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url,
                                                                tz_aware=True)
    try:
        collection = client[settings.database_name]["sales_orders"]
        original = await collection.find_one({"_id": ObjectId(order.id)})
        assert original is not None
        start_time = datetime.now(UTC)
        copies = [{**original, "_id": ObjectId(), "number": f"{order.number}-C{i:05d}",
                   "create_time": start_time + timedelta(milliseconds=i)}
                  for i in range(1, args.orders)]
        for first in range(0, len(copies), 20):
            await collection.insert_many(copies[first:first + 20])
    finally:
        await client.close()
    return ids


def retry_delay(error: grpc.aio.AioRpcError) -> float:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    return 1.0


async def slow_callers(orders: ogrpc.OrderServiceStub, rep: Metadata, admin: Metadata,
                       count: int, stop: asyncio.Event) -> Lists:
    got = Lists()
    started = time.perf_counter()

    async def caller(i: int) -> None:
        metadata, request = ((rep, opb.ListSalesOrdersRequest()) if i % 2 == 0 else
                             (admin, opb.ListSalesOrdersRequest(page_size=500)))
        while not stop.is_set():
            began = time.perf_counter()
            try:
                await orders.ListSalesOrders(request, metadata=metadata)
                got.done.append(time.perf_counter() - began)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                got.refused += 1
                try:
                    await asyncio.wait_for(stop.wait(), retry_delay(error))
                except TimeoutError:
                    pass

    tasks = [asyncio.create_task(caller(i)) for i in range(count)]
    await stop.wait()
    got.elapsed = time.perf_counter() - started
    for task in tasks:
        task.cancel()  # a list still running is abandoned; settle() waits out its work
    await asyncio.gather(*tasks, return_exceptions=True)
    return got


async def settle(call: Any, idle_p50: float, limit: float) -> None:
    """Until ten GetProduct in a row each take under 3 x the idle median (or `limit` seconds):
    lists abandoned by the last slice may still be running in the server and the database."""
    bound = max(3 * idle_p50, 0.005)
    deadline = time.perf_counter() + limit
    quick = 0
    while quick < 10 and time.perf_counter() < deadline:
        began = time.perf_counter()
        await call(quick)
        quick = quick + 1 if time.perf_counter() - began < bound else 0


async def measure(settings: Settings, args: argparse.Namespace) -> list[Side]:
    sides = [Side("off", OFF), Side("on", args.limit)]
    servers = [await start_child("sales", dataclasses.replace(
        settings, list_concurrency_limit=side.limit)) for side in sides]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{s.port}") for s in servers]
    try:
        admin = (("authorization",
                  f"Bearer {mint_token(settings, 'bench-admin', Role.ADMIN, '')}"),)
        rep = (("authorization",
                f"Bearer {mint_token(settings, 'bench-rep-none', Role.SALES_REP, 'bench')}"),)
        product_ids = await seed(channels[0], admin, settings, args)
        requests = [ppb.GetProductRequest(id=i) for i in product_ids]
        print(f"  seeded {args.orders} orders of {args.lines} lines", file=sys.stderr,
              flush=True)
        for _ in range(args.rounds):
            for side, server, channel in zip(sides, servers, channels, strict=True):
                catalog = pgrpc.ProductServiceStub(channel)

                async def get_product(i: int, catalog: Any = catalog) -> Any:
                    return await catalog.GetProduct(requests[i % len(requests)],
                                                    metadata=admin)

                processes = {"server": server.pid}
                side.idle.append(await closed_loop(
                    "GetProduct", get_product, args.cheap, 10**9, args.duration, 20, processes))
                stop = asyncio.Event()
                lists = asyncio.create_task(slow_callers(
                    ogrpc.OrderServiceStub(channel), rep, admin, args.slow, stop))
                await asyncio.sleep(min(1.0, args.duration / 4))  # the lists get going
                side.loaded.append(await closed_loop(
                    "GetProduct", get_product, args.cheap, 10**9, args.duration, 0, processes))
                stop.set()
                side.lists = side.lists.add(await lists)
                await settle(get_product, side.idle[-1].ms(50) / 1000, args.settle)
                print(f"  measured limit {side.name}", file=sys.stderr, flush=True)
        return sides
    finally:
        for channel in channels:
            await channel.close()
        for server in servers:
            await server.stop()


def ratio(sides: list[Side]) -> float:
    off, on = (merged(side.loaded).ms(99) for side in sides)
    return off / on if on else float("nan")


def report(sides: list[Side], args: argparse.Namespace) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"List isolation benchmark, {stamp}, {os.cpu_count()} CPUs, servers in child "
          f"processes, {args.orders} orders x {args.lines} lines, {args.slow} ListSalesOrders "
          f"callers (half a rep who owns no orders, half an admin with page_size 500), "
          f"{args.cheap} GetProduct callers, {args.rounds} x {args.duration:g} s per cell; "
          f"1-min load average {args.load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"limit off = LIST_CONCURRENCY_LIMIT {OFF}")
    name, columns = cell_headers("GetProduct")
    print(f"{'limit':<17} | {name} | {'ListSalesOrders':^34} |")
    print(f"{'':<17} | {columns} | {'ok/s':>6} {'refused/s':>9} {'p50 ms':>8} {'p99 ms':>8} |")
    for side in sides:
        label = "off" if side.limit == OFF else f"on ({side.limit})"
        print(f"{label + ', idle':<17} | {cell(merged(side.idle))} | {'':>34} |")
        lists = side.lists
        done = sorted(lists.done)
        per_s = (len(done) / lists.elapsed, lists.refused / lists.elapsed) \
            if lists.elapsed else (0.0, 0.0)
        print(f"{label + ', lists':<17} | {cell(merged(side.loaded))} | {per_s[0]:6.1f} "
              f"{per_s[1]:9.1f} {percentile(done, 50) * 1000:8.0f} "
              f"{percentile(done, 99) * 1000:8.0f} |")
    off, on = (merged(side.loaded).ms(99) for side in sides)
    print(f"GetProduct p99 while lists run: limit off {off:.1f} ms, on {on:.1f} ms; "
          f"ratio off/on {ratio(sides):.1f}", flush=True)


async def run(args: argparse.Namespace) -> None:
    args.load_before = os.getloadavg()[0]
    embedded = await asyncio.to_thread(start_embedded, None)
    try:
        settings = Settings(mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
                            database_name=f"bench_{uuid.uuid4().hex[:8]}",
                            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        sides = await measure(settings, args)
    finally:
        embedded.stop()
    report(sides, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
