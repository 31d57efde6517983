"""GetCustomer throughput and latency against a bare gRPC echo and a bare driver find_one.

    .venv/bin/python -m bench.get_customer [--requests N] [--concurrency 1,8,32] [--duration S]

All three run in one invocation on the same embedded SecantusDB and Redis, so the ratio
GetCustomer / min(echo, find_one) compares like with like on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from bson import ObjectId
from pymongo import AsyncMongoClient

from erp.sales.v1 import address_pb2, money_pb2
from erp.sales.v1 import customer_service_pb2 as pb
from erp.sales.v1 import customer_service_pb2_grpc as pb_grpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import start_embedded

from .common import (
    CELL_WIDTH,
    ECHO_METHOD,
    Result,
    Server,
    cell,
    cell_headers,
    closed_loop,
    merged,
    start_child,
    start_in_process,
)

TARGET = 0.8
NAMES = ("GetCustomer", "echo", "find_one")
Call = Callable[[int], Awaitable[Any]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.get_customer", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000,
                        help="timed requests per cell at most (default 5000)")
    parser.add_argument("--duration", type=float, default=4.0,
                        help="timed seconds per cell at most (default 4)")
    parser.add_argument("--concurrency", default="1,8,32",
                        help="comma-separated in-flight request counts (default 1,8,32)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="slices each cell is split into, interleaved with the other "
                        "two cells (default 3)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls per cell")
    parser.add_argument("--customers", type=int, default=200, help="customers to read from")
    parser.add_argument("--layout", choices=["process", "inprocess"], default="process",
                        help="servers in a child process (default) or in the client's process")
    parser.add_argument("--profile-server", metavar="FILE",
                        help="profile the sales server into FILE: cProfile stats for *.prof, "
                        "else py-spy (*.svg flamegraph, *.json speedscope, other raw stacks)")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def customer(n: int) -> pb.Customer:
    """A business customer with every optional part filled, so the converters do real work."""
    address = address_pb2.PostalAddress(
        address_lines=[f"{n} Main Street", "Floor 2"], locality="Springfield",
        administrative_area="IL", postal_code="62701", region_code="US")
    return pb.Customer(
        first_name="Ada", last_name=f"Bench{n}", company_name=f"Bench Co {n}",
        customer_type=pb.CUSTOMER_TYPE_BUSINESS, email=f"ada{n}@example.com",
        phone="+15555550100", billing_address=address, shipping_address=address,
        credit_limit=money_pb2.Money(currency_code="USD", amount="25000.00"),
        tax_id=f"TAX-{n:05d}", notes="created by bench.get_customer", owner_id="bench-rep")


async def seed(stub: pb_grpc.CustomerServiceStub, metadata: Any, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 16):
        replies = await asyncio.gather(*(
            stub.CreateCustomer(pb.CreateCustomerRequest(customer=customer(n)),
                                metadata=metadata)
            for n in range(start, min(count, start + 16))))
        ids += [r.customer.id for r in replies]
    return ids


def profiler(out: str) -> list[str]:
    """cProfile for a `.prof` file; otherwise py-spy sampling only while the GIL is held, so
    the profile shows the sales server's work and not its idle wait between cells."""
    if out.endswith(".prof"):
        return [sys.executable, "-m", "cProfile", "-o", out]
    spy = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy, or use a .prof")
    kind = {".svg": "flamegraph", ".json": "speedscope"}.get(os.path.splitext(out)[1], "raw")
    return [spy, "record", "--gil", "--native", "--rate", "250", "--format", kind, "-o", out, "--",
            sys.executable]


async def start(kind: str, settings: Settings, args: argparse.Namespace) -> Server:
    if args.layout == "inprocess":
        return await start_in_process(kind, settings)
    profile = args.profile_server if kind == "sales" else None
    return await start_child(kind, settings, profiler(profile) if profile else [])


async def measure(settings: Settings, args: argparse.Namespace, db_pid: int
                  ) -> list[list[Result]]:
    servers = [await start("sales", settings, args), await start("echo", settings, args)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{s.port}") for s in servers]
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url,
                                                               tz_aware=True)
    try:
        stub = pb_grpc.CustomerServiceStub(channels[0])
        token = mint_token(settings, "bench-rep", Role.SALES_REP, "bench-team")
        metadata = (("authorization", f"Bearer {token}"),)
        # A manager of the rep's team seeds them: credit limits are a manager's to set.
        manager = mint_token(settings, "bench-manager", Role.SALES_MANAGER, "bench-team")
        ids = await seed(stub, (("authorization", f"Bearer {manager}"),), args.customers)
        requests = [pb.GetCustomerRequest(id=i) for i in ids]
        payloads = [r.SerializeToString() for r in requests]
        keys = [{"_id": ObjectId(i)} for i in ids]
        echo_call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channels[1].unary_unary(
            ECHO_METHOD)
        collection = mongo[settings.database_name]["customers"]
        n = len(ids)

        async def get_customer(i: int) -> Any:
            return await stub.GetCustomer(requests[i % n], metadata=metadata)

        async def echo(i: int) -> Any:
            return await echo_call(payloads[i % n])

        async def find_one(i: int) -> Any:
            return await collection.find_one(keys[i % n])

        reply = await get_customer(1)
        assert reply.customer.id == ids[1 % n], "GetCustomer returned the wrong customer"
        assert await echo(1) == payloads[1 % n], "the echo server changed the payload"
        assert (await find_one(1))["_id"] == keys[1 % n]["_id"], "find_one missed"
        client = os.getpid()
        calls: list[tuple[str, Call, dict[str, int]]] = [
            ("GetCustomer", get_customer, {"client": client, "server": servers[0].pid,
                                           "db": db_pid}),
            ("echo", echo, {"client": client, "server": servers[1].pid}),
            ("find_one", find_one, {"client": client, "db": db_pid}),
        ]
        rows = []
        for level in args.levels:
            slices: list[list[Result]] = [[] for _ in calls]
            for round in range(args.rounds):  # interleaved, so drift hits all three alike
                warmup = max(args.warmup, 10 * level) if round == 0 else 2 * level
                for mine, (name, call, processes) in zip(slices, calls, strict=True):
                    mine.append(await closed_loop(
                        name, call, level, -(-args.requests // args.rounds),
                        args.duration / args.rounds, warmup, processes))
            rows.append([merged(s) for s in slices])
            print(f"  measured concurrency {level}", file=sys.stderr, flush=True)
        return rows
    finally:
        for channel in channels:
            await channel.close()
        await mongo.close()
        for server in servers:
            await server.stop()


def ratio(row: list[Result]) -> float:
    gc, echo, find_one = row
    return gc.throughput / min(echo.throughput, find_one.throughput)


def report(rows: list[list[Result]], args: argparse.Namespace) -> bool:
    layout = "servers in a child process" if args.layout == "process" else "servers in-process"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"GetCustomer benchmark, {stamp}, {os.cpu_count()} CPUs, {layout}, "
          f"<= {args.requests} requests or {args.duration:g} s per cell in {args.rounds} "
          f"interleaved rounds, loopback; 1-min load average {args.load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    names, columns = zip(*(cell_headers(name) for name in NAMES), strict=True)
    print(f"{'':>4} | " + " | ".join(names) + " |")
    print(f"{'conc':>4} | " + " | ".join(columns) + " | ratio  target")
    for row in rows:
        print(f"{row[0].concurrency:>4} | " + " | ".join(cell(r) for r in row)
              + f" | {ratio(row):5.2f}  {TARGET:.2f}")
    report_cpu(rows, args)
    worst = min(rows, key=ratio)
    passed = ratio(worst) >= TARGET
    print(f"{'PASS' if passed else 'BELOW TARGET'}: lowest ratio GetCustomer / min(echo, "
          f"find_one) = {ratio(worst):.2f} at concurrency {worst[0].concurrency} "
          f"(target {TARGET:.2f})", flush=True)
    return passed


def report_cpu(rows: list[list[Result]], args: argparse.Namespace) -> None:
    roles = ("client", "server", "db") if args.layout == "process" else ("client", "db")
    print(f"CPU microseconds per call, timed phase only ({' / '.join(roles)}; "
          "db = secantusd; - = not involved)")
    print(f"{'conc':>4} | " + " | ".join(f"{name:^{CELL_WIDTH}}" for name in NAMES) + " |")
    for row in rows:
        print(f"{row[0].concurrency:>4} | " + " | ".join(
            f"{' / '.join(_us(r, role) for role in roles):^{CELL_WIDTH}}" for r in row) + " |")


def _us(result: Result, role: str) -> str:
    us = result.cpu_us_per_call(role)
    return "-" if us != us else f"{us:.0f}"  # NaN: the process took no part


async def run(args: argparse.Namespace) -> bool:
    args.load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    embedded = await asyncio.to_thread(start_embedded, None)
    try:
        settings = Settings(mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
                            database_name=f"bench_{uuid.uuid4().hex[:8]}",
                            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        rows = await measure(settings, args, embedded.mongo.process.pid)
    finally:
        embedded.stop()
    return report(rows, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
