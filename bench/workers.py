"""GetCustomer and Create+Confirm throughput with `sales-grpc serve --workers 1` and
`--workers 2`, in one run.

    .venv/bin/python -m bench.workers [--concurrency 1,8,32] [--duration S] [--rounds R]
        [--connections 32]

One embedded SecantusDB and Redis. Two servers run side by side on the same database, each a
real `python -m sales_grpc serve --workers N` child process (N = 1 and 2) on its own port,
configured from the environment like the service (LOG_LEVEL=WARNING). The load generator
(this process) opens `--connections` channels to each server, every one with a TCP connection
of its own, and callers take them in turn, call by call: with two workers the kernel has spread
those connections over both (SO_REUSEPORT hashes each new connection), as it would spread the
connections of many client processes. The spread is printed.

Per concurrency level and bench, the two servers take turns `--rounds` times, so that a busy
neighbour slows both alike. GetCustomer reads `--customers` customers created beforehand;
Create+Confirm creates and confirms an order of two lines, in-flight orders on different
customers and products (as bench.create_confirm does).

On a machine with 2 CPUs the load generator, SecantusDB and Redis compete with the workers
for the same two cores: a second worker can add at most what the others leave idle, so the
ratio here is a floor, not what a dedicated machine with more cores gives.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import free_port, start_embedded

from . import create_confirm, get_customer
from .common import Result, cell, cell_headers, closed_loop, merged, settings_env

WORKERS = (1, 2)
BENCHES = ("GetCustomer", "Create+Confirm")
Call = Callable[[int], Awaitable[Any]]
CPU_NOTE = ("the load generator, SecantusDB and Redis share the machine's CPUs with the "
            "workers: on 2 CPUs a second worker only gets what they leave idle")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="1,8,32",
                        help="comma-separated in-flight call counts (default 1,8,32)")
    parser.add_argument("--duration", type=float, default=4.0,
                        help="timed seconds per cell at most, GetCustomer; Create+Confirm "
                        "gets twice as long (default 4)")
    parser.add_argument("--requests", type=int, default=5000,
                        help="timed GetCustomer calls per cell at most (default 5000)")
    parser.add_argument("--orders", type=int, default=1000,
                        help="timed orders per Create+Confirm cell at most (default 1000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns the two servers take per cell (default 3)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="untimed calls before each cell's first round (default 100)")
    parser.add_argument("--customers", type=int, default=200,
                        help="customers GetCustomer reads (default 200)")
    parser.add_argument("--connections", type=int, default=32,
                        help="client connections to each server (default 32)")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.levels or min(args.levels) < 1 or args.rounds < 1 or args.connections < 1:
        parser.error("--concurrency, --rounds and --connections need positive integers")
    return args


# --- servers ------------------------------------------------------------------------------


def listeners(port: int) -> set[str]:
    """Socket inodes listening on `port` (Linux /proc): one per worker that serves."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def established(port: int) -> set[str]:
    """Inodes of the server side of the connections established to `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def sockets_of(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@dataclass
class Served:
    workers: int
    port: int
    process: subprocess.Popen[bytes]

    @property
    def pids(self) -> list[int]:
        """The processes that serve: the workers, or the one server."""
        return children(self.process.pid) if self.workers > 1 else [self.process.pid]

    def spread(self) -> list[int]:
        """Established connections each worker holds, most first."""
        mine = established(self.port)
        return sorted((len(sockets_of(pid) & mine) for pid in self.pids), reverse=True)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def spawn(settings: Settings, workers: int, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings), "SERVICE_HOST": "127.0.0.1",
           "SERVICE_PORT": str(port), "LOG_LEVEL": "WARNING", "WORKERS": "1"}
    with open(log, "ab") as stderr:
        return subprocess.Popen([sys.executable, "-m", "sales_grpc", "serve", "--workers",
                                 str(workers)], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def serve(settings: Settings, workers: int, log: Path) -> Served:
    """`python -m sales_grpc serve --workers N`, once its N processes listen and it answers
    health checks with SERVING."""
    port = free_port()
    process = spawn(settings, workers, port, log)
    served = Served(workers, port, process)
    deadline = time.monotonic() + 180
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"serve --workers {workers} exited with "
                                   f"{process.returncode}:\n{tail(log)}")
            if len(listeners(port)) == workers:
                with contextlib.suppress(grpc.aio.AioRpcError):
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return served
            await asyncio.sleep(0.2)
    served.stop()
    raise RuntimeError(f"serve --workers {workers} did not serve in time")


# --- load ---------------------------------------------------------------------------------


@dataclass
class Target:
    """One server as the load generator sees it: its channels and the two benches' calls."""

    served: Served
    channels: list[grpc.aio.Channel]
    calls: dict[str, Call]


async def target(served: Served, settings: Settings, args: argparse.Namespace,
                 seeded: dict[str, Any]) -> Target:
    # A local subchannel pool per channel: else gRPC shares one connection among channels to
    # one address with the same arguments.
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{served.port}",
                                          options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(args.connections)]
    await asyncio.gather(*(asyncio.wait_for(c.channel_ready(), 30) for c in channels))
    customers = [cgrpc.CustomerServiceStub(c) for c in channels]
    orders = [ogrpc.OrderServiceStub(c) for c in channels]
    reads = [cpb.GetCustomerRequest(id=i) for i in seeded["read_ids"]]
    reader, admin = seeded["reader"], seeded["admin"]
    pairs = seeded["pairs"]
    n, c = len(reads), len(channels)

    async def get(i: int) -> Any:
        return await customers[i % c].GetCustomer(reads[i % n], metadata=reader)

    async def order(i: int) -> None:
        k, stub = i % pairs, orders[i % c]
        created = (await stub.CreateSalesOrder(opb.CreateSalesOrderRequest(
            sales_order=opb.SalesOrder(customer_id=seeded["customer_ids"][k], lines=[
                dpb.DocumentLine(product_id=p, quantity=q) for p, q in zip(
                    seeded["product_ids"][k], create_confirm.QUANTITIES, strict=True)])),
            metadata=admin)).sales_order
        confirmed = (await stub.ConfirmSalesOrder(opb.ConfirmSalesOrderRequest(
            id=created.id, etag=created.etag), metadata=admin)).sales_order
        if confirmed.state != opb.SALES_ORDER_STATE_CONFIRMED:
            raise AssertionError(f"order {created.number} not confirmed")

    for check in (get, order):  # fail fast, before any timing, on every connection
        await asyncio.gather(*(check(i) for i in range(c)))
    return Target(served, channels, {"GetCustomer": get, "Create+Confirm": order})


async def seed(channel: grpc.aio.Channel, settings: Settings, args: argparse.Namespace
               ) -> dict[str, Any]:
    reader = (("authorization",
               f"Bearer {mint_token(settings, 'bench-rep', Role.SALES_REP, 'bench-team')}"),)
    manager = (("authorization", "Bearer " + mint_token(
        settings, "bench-manager", Role.SALES_MANAGER, "bench-team")),)
    admin = (("authorization", f"Bearer {mint_token(settings, 'bench-admin', Role.ADMIN)}"),)
    read_ids = await get_customer.seed(cgrpc.CustomerServiceStub(channel), manager,
                                       args.customers)
    # Each server's in-flight orders on customers and products of their own: pools of 2 x
    # the highest concurrency per server, so neither measures write conflicts.
    pairs = 2 * max(args.levels)
    pools = []
    for _ in WORKERS:  # one pool at a time: its seeding runs 2 x pairs calls at once
        customer_ids, product_ids, _ = await create_confirm.seed(channel, admin, pairs)
        pools.append((customer_ids, product_ids))
    return {"reader": reader, "admin": admin, "read_ids": read_ids, "pairs": pairs,
            "pools": pools}


def cpu_roles(served: Served, db_pid: int) -> dict[str, int]:
    roles = {"client": os.getpid(), "db": db_pid}
    roles.update({f"worker{i}": pid for i, pid in enumerate(served.pids)})
    return roles


async def measure(settings: Settings, args: argparse.Namespace, db_pid: int, logs: Path
                  ) -> tuple[dict[str, list[list[Result]]], list[list[int]]]:
    """Per bench, one row per level: [1 worker, 2 workers]; and each server's spread."""
    servers = [await serve(settings, n, logs / f"serve-{n}.log") for n in WORKERS]
    targets: list[Target] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{servers[0].port}") as channel:
            seeded = await seed(channel, settings, args)
        for served, (customer_ids, product_ids) in zip(servers, seeded["pools"], strict=True):
            targets.append(await target(served, settings, args, {
                **seeded, "customer_ids": customer_ids, "product_ids": product_ids}))
        spreads = [t.served.spread() for t in targets]
        rows: dict[str, list[list[Result]]] = {name: [] for name in BENCHES}
        for level in args.levels:
            for name in BENCHES:
                requests, duration = (args.requests, args.duration) if name == "GetCustomer" \
                    else (args.orders, 2 * args.duration)
                slices: list[list[Result]] = [[] for _ in targets]
                for round in range(args.rounds):
                    order = targets if round % 2 == 0 else targets[::-1]
                    for t in order:
                        warmup = max(args.warmup, 10 * level) if round == 0 else 2 * level
                        if name == "Create+Confirm":
                            warmup = max(2 * level, args.warmup // 10) if round == 0 else 0
                        mine = slices[targets.index(t)]
                        mine.append(await closed_loop(
                            name, t.calls[name], level, -(-requests // args.rounds),
                            duration / args.rounds, warmup, cpu_roles(t.served, db_pid)))
                rows[name].append([merged(s) for s in slices])
                print(f"  measured {name} at concurrency {level}", file=sys.stderr, flush=True)
        return rows, spreads
    finally:
        for t in targets:
            for channel in t.channels:
                await channel.close()
        for served in servers:
            code = served.stop()
            if code != 0:
                print(f"  serve --workers {served.workers} exited with {code}",
                      file=sys.stderr)


def server_us(result: Result) -> float:
    """Server CPU microseconds per call, summed over the workers."""
    used = sum(v for role, v in result.cpu.items() if role.startswith("worker"))
    return used / len(result.latencies) * 1e6 if result.latencies else float("nan")


def ratio(row: list[Result]) -> float:
    one, two = row
    return two.throughput / one.throughput if one.throughput else float("nan")


def report(rows: dict[str, list[list[Result]]], spreads: list[list[int]],
           args: argparse.Namespace) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    print(f"Workers benchmark, {stamp}, {os.cpu_count()} CPUs, `serve --workers 1` and "
          f"`--workers 2` side by side in child processes, {args.rounds} alternating rounds "
          f"per cell; 1-min load average {args.load_before:.1f} before, {load[0]:.1f} after "
          f"(5-min {load[1]:.1f})")
    print(f"{args.connections} client connections per server; connections each worker "
          f"holds: " + "; ".join(f"{n} worker{'s' if n > 1 else ''}: "
                                 f"{'/'.join(map(str, s))}"
                                 for n, s in zip(WORKERS, spreads, strict=True)))
    print(f"NOTE: {CPU_NOTE}.")
    for name in BENCHES:
        unit = "req/s = orders/s, an order = create + confirm" if name != "GetCustomer" \
            else "req/s = calls/s"
        print(f"\n{name} ({unit})")
        heads, columns = zip(*(cell_headers(f"{n} worker{'s' if n > 1 else ''}")
                               for n in WORKERS), strict=True)
        print(f"{'':>4} | " + " | ".join(heads) + " |")
        print(f"{'conc':>4} | " + " | ".join(columns) + " | 2w/1w | server CPU us/call 1w/2w")
        for row in rows[name]:
            print(f"{row[0].concurrency:>4} | " + " | ".join(cell(r) for r in row)
                  + f" | {ratio(row):5.2f} | {server_us(row[0]):6.0f} / {server_us(row[1]):.0f}")
    best = {name: max(ratio(row) for row in rows[name]) for name in BENCHES}
    print("\nbest ratio 2 workers / 1 worker: " + ", ".join(
        f"{name} {value:.2f}" for name, value in best.items()), flush=True)


async def run(args: argparse.Namespace) -> None:
    args.load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    embedded = await asyncio.to_thread(start_embedded, None)
    try:
        settings = Settings(mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
                            database_name=f"bench_{uuid.uuid4().hex[:8]}",
                            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        with tempfile.TemporaryDirectory(prefix="bench-workers-") as logs:
            rows, spreads = await measure(settings, args, embedded.mongo.process.pid,
                                          Path(logs))
    finally:
        embedded.stop()
    report(rows, spreads, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
