"""PDF rendering: how long a document takes, what the RPC delivers against fpdf2 alone, and
whether renders slow the server's other calls.

    .venv/bin/python -m bench.pdf [--renders N] [--duration S] [--rounds R] [--rpc-lines L]

One embedded SecantusDB and Redis, one sales server in a child process (PDF_WORKERS from the
environment, default 2), this process as the client. Three parts:

* render: `render_pdf` of a 20-line and a 200-line document in this process, `--renders`
  times each (Unicode names, wrapping descriptions): the cost of one render on this machine.
* throughput: RenderSalesOrderPdf of one `--rpc-lines`-line order at concurrency 1 and 8,
  against rendering the same document (the view built from the same order, checked to give
  the same bytes) in this process with fpdf2 alone, whose callers take turns on one core.
  ratio = RPC throughput / in-process throughput; the target is 0.80.
* isolation: GetCustomer from one caller alone, then beside `--renderers` (8) callers
  looping RenderSalesOrderPdf from another process, in `--rounds` alternating slices;
  ratio = p99 beside / p99 alone; the target is at most 2.0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import grpc

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import money_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.documents.pdf import render_pdf
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.documents.view import DocumentView, LineView, PartyBlock, TotalsView
from sales_grpc.services.document_views import order_view, seller_block
from sales_grpc.store.embedded import start_embedded

from .common import Result, cell, cell_headers, closed_loop, merged, start_child

THROUGHPUT_TARGET = 0.8
ISOLATION_TARGET = 2.0
LEVELS = (1, 8)
NAMES = ("Zoë Ørsted", "Müller-Łukasz", "Ñandú", "Σωκράτης", "Дмитрий")
Metadata = tuple[tuple[str, str], ...]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pdf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=20,
                        help="in-process renders of each size (default 20)")
    parser.add_argument("--duration", type=float, default=6.0,
                        help="timed seconds per throughput cell and per isolation side "
                        "(default 6)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="slices each cell is split into, alternating (default 3)")
    parser.add_argument("--rpc-lines", type=int, default=20,
                        help="lines of the order RenderSalesOrderPdf renders (default 20)")
    parser.add_argument("--renderers", type=int, default=8,
                        help="callers looping RenderSalesOrderPdf beside GetCustomer "
                        "(default 8)")
    return parser.parse_args(argv)


def sample_view(lines: int) -> DocumentView:
    rows = tuple(LineView(f"SKU-{i:05d}", f"{NAMES[i % 5]} bench item {i}" +
                          " with a description long enough to wrap" * (i % 3),
                          i + 1, Decimal("12.345"), Decimal("1.50") if i % 4 == 0 else
                          Decimal(0), Decimal("0.15"), Decimal("14.20")) for i in range(lines))
    return DocumentView(
        "Order confirmation", "SO-2026-000123", date(2026, 3, 14),
        datetime(2026, 3, 14, 9, 30, tzinfo=UTC), "EUR",
        PartyBlock("Ñandú Trading Ltd.", ("1 Harbour Road", "Bristol BS1 4DJ"), "GB123"),
        PartyBlock("Zoë Ørsted ApS", ("Attn: Müller-Łukasz", "Σταδίου 10", "Москва")),
        rows, TotalsView(Decimal("1234.5"), Decimal(10), Decimal("180.12"), Decimal(25),
                         Decimal("1429.62")), notes="Спасибо!", terms="Net 30 days.")


@dataclass
class Measured:
    render_ms: dict[int, list[float]]
    pdf_bytes: dict[int, int]
    throughput: list[tuple[Result, Result]]  # (RPC, in-process) per level
    idle: Result
    beside: Result
    rpc_bytes: int


def time_renders(count: int) -> tuple[dict[int, list[float]], dict[int, int]]:
    times: dict[int, list[float]] = {}
    sizes: dict[int, int] = {}
    for lines in (20, 200):
        view = sample_view(lines)
        sizes[lines] = len(render_pdf(view))  # warm: imports, first font parse
        times[lines] = []
        for _ in range(count):
            started = time.perf_counter()
            render_pdf(view)
            times[lines].append((time.perf_counter() - started) * 1000)
    return times, sizes


async def seed(channel: grpc.aio.Channel, manager: Metadata, rep: Metadata, lines: int
               ) -> tuple[str, str]:
    """A customer with a Unicode name and an order of `lines` lines; their ids."""
    customer = (await cgrpc.CustomerServiceStub(channel).CreateCustomer(
        cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name="Zoë", last_name="Ørsted", company_name="Müller-Łukasz GmbH",
            customer_type=cpb.CUSTOMER_TYPE_BUSINESS, email="zoe@example.com",
            owner_id="bench-rep")), metadata=manager)).customer
    product = (await pgrpc.ProductServiceStub(channel).CreateProduct(ppb.CreateProductRequest(
        product=ppb.Product(sku=f"B-{uuid.uuid4().hex[:8]}", name="Ñandú bench widget, "
                            "galvanised, with a name long enough to wrap in its column",
                            unit_price=money_pb2.Money(currency_code="USD", amount="19.99"))),
        metadata=manager)).product
    order = (await ogrpc.OrderServiceStub(channel).CreateSalesOrder(opb.CreateSalesOrderRequest(
        sales_order=opb.SalesOrder(customer_id=customer.id, lines=[
            dpb.DocumentLine(product_id=product.id, quantity=n + 1) for n in range(lines)])),
        metadata=rep)).sales_order
    return customer.id, order.id


async def stream_pdf(stub: ogrpc.OrderServiceStub, request: opb.RenderSalesOrderPdfRequest,
                     metadata: Metadata) -> bytes:
    parts = [m.chunk.data async for m in stub.RenderSalesOrderPdf(request, metadata=metadata)]
    return b"".join(parts)


async def local_view(settings: Settings, order_id: str) -> DocumentView:
    """The order's view built in this process from the same database: the same document."""
    app = await build(replace(settings, pdf_workers=1))
    try:
        order = await app.orders.get(Principal("bench", Role.ADMIN), order_id)
        customer = await app.customers.get(Principal("bench", Role.ADMIN), order.customer_id)
        return order_view(order, customer, seller_block(settings))
    finally:
        await app.close()


def children(pid: int) -> list[int]:
    """The processes `pid` started (the server's render workers); none without /proc."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found += [int(child) for child in listed.read().split()]
    except OSError:
        pass
    return found


async def measure(settings: Settings, args: argparse.Namespace, db_pid: int = 0
                  ) -> Measured:
    render_ms, sizes = time_renders(args.renders)
    server = await start_child("sales", settings)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        def token(sub: str, role: Role) -> Metadata:
            return (("authorization", f"Bearer {mint_token(settings, sub, role, 'bench')}"),)

        rep = token("bench-rep", Role.SALES_REP)
        customer_id, order_id = await seed(channel, token("bench-mgr", Role.SALES_MANAGER),
                                           rep, args.rpc_lines)
        orders, customers = ogrpc.OrderServiceStub(channel), cgrpc.CustomerServiceStub(channel)
        request = opb.RenderSalesOrderPdfRequest(id=order_id)
        get = cpb.GetCustomerRequest(id=customer_id)
        view = await local_view(settings, order_id)
        streamed = await stream_pdf(orders, request, rep)
        assert streamed == render_pdf(view), "the RPC rendered another document than ours"
        # Every worker started (they start on demand) before any clock, so the set is known.
        await asyncio.gather(*(stream_pdf(orders, request, rep) for _ in range(8)))

        async def rpc(i: int) -> Any:
            return await stream_pdf(orders, request, rep)

        async def in_process(i: int) -> Any:
            return render_pdf(view)  # on this loop, on purpose: fpdf2 alone, nothing else

        async def get_customer(i: int) -> Any:
            return await customers.GetCustomer(get, metadata=rep)

        slice_seconds = args.duration / args.rounds
        roles = {"client": os.getpid(), "server": server.pid, "db": db_pid,
                 **{f"worker {pid}": pid for pid in children(server.pid)}}
        throughput = []
        for level in LEVELS:
            cells: tuple[list[Result], list[Result]] = ([], [])
            for _ in range(args.rounds):
                for mine, name, call in zip(cells, ("RPC", "in-process"), (rpc, in_process),
                                            strict=True):
                    mine.append(await closed_loop(name, call, level, 10**9, slice_seconds,
                                                  level, roles))
            throughput.append((merged(cells[0]), merged(cells[1])))
            print(f"  measured throughput at concurrency {level}", file=sys.stderr, flush=True)

        idle: list[Result] = []
        beside: list[Result] = []
        for _ in range(args.rounds):
            idle.append(await closed_loop("alone", get_customer, 1, 10**9, slice_seconds, 20,
                                          roles))
            async with render_load(server.port, rep, order_id, args.renderers):
                beside.append(await closed_loop("beside renders", get_customer, 1, 10**9,
                                                slice_seconds, 5, roles))
        print("  measured isolation", file=sys.stderr, flush=True)
        return Measured(render_ms, sizes, throughput, merged(idle), merged(beside),
                        len(streamed))
    finally:
        await channel.close()
        await server.stop()


@contextlib.asynccontextmanager
async def render_load(port: int, metadata: Metadata, order_id: str, callers: int
                      ) -> AsyncIterator[None]:
    """`callers` RenderSalesOrderPdf loops in a process of their own (as other clients would
    be), from when every caller has a PDF until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.pdf", "load", str(port), metadata[0][1], order_id,
        str(callers), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 120)
        assert ready.startswith(b"LOADED"), ready
        yield
    finally:
        process.stdin.close()  # the cue to stop
        await asyncio.wait_for(process.wait(), 60)


async def _load(port: int, authorization: str, order_id: str, callers: int) -> None:
    metadata = (("authorization", authorization),)
    request = opb.RenderSalesOrderPdfRequest(id=order_id)
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = ogrpc.OrderServiceStub(channel)

        async def caller(first: asyncio.Event) -> None:
            while True:
                await stream_pdf(stub, request, metadata)
                first.set()
                if stop.is_set():
                    return

        started = [asyncio.Event() for _ in range(callers)]
        tasks = [asyncio.create_task(caller(e)) for e in started]
        await asyncio.gather(*(e.wait() for e in started))
        print("LOADED", flush=True)
        await asyncio.to_thread(sys.stdin.buffer.read)  # until the parent closes the pipe
        stop.set()
        await asyncio.gather(*tasks)


def report(m: Measured, args: argparse.Namespace) -> bool:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"PDF benchmark, {stamp}, {os.cpu_count()} CPUs, server in a child process with "
          f"PDF_WORKERS={os.environ.get('PDF_WORKERS', '2')}; 1-min load average "
          f"{args.load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print("render in-process (render_pdf)   | median ms | mean ms | PDF bytes")
    for lines, times in m.render_ms.items():
        print(f"{lines:>4} lines, {len(times):>3} renders      | {statistics.median(times):9.1f} "
              f"| {statistics.fmean(times):7.1f} | {m.pdf_bytes[lines]:>9}")
    names, columns = zip(cell_headers("RenderSalesOrderPdf"), cell_headers("fpdf2 in-process"),
                         strict=True)
    print(f"throughput, {args.rpc_lines}-line order ({m.rpc_bytes} bytes)")
    print(f"{'':>4} | " + " | ".join(names) + " |")
    print(f"{'conc':>4} | " + " | ".join(columns) + " | ratio  target")
    for rpc, local in m.throughput:
        print(f"{rpc.concurrency:>4} | {cell(rpc)} | {cell(local)} | "
              f"{throughput_ratio(rpc, local):5.2f}  {THROUGHPUT_TARGET:.2f}")
    print("CPU ms per render (client / server / its workers / db; - = not measured): "
          + ", ".join(f"concurrency {rpc.concurrency}: {cpu_ms(rpc)}"
                      for rpc, _ in m.throughput))
    print(f"isolation: GetCustomer, 1 caller | {cell_headers('')[1]} | CPU s, all calls "
          "(client / server / workers / db)")
    for result in (m.idle, m.beside):
        label = "alone" if result is m.idle else f"beside {args.renderers} renders"
        print(f"{label:<32} | {cell(result)} | "
              + " / ".join(f"{cpu_of(result, role):.1f}" for role in ROLES))
    isolation = isolation_ratio(m)
    print(f"GetCustomer p99 beside renders / alone = {isolation:.2f} (target at most "
          f"{ISOLATION_TARGET:.1f})")
    worst = min(throughput_ratio(r, local) for r, local in m.throughput)
    passed = worst >= THROUGHPUT_TARGET and isolation <= ISOLATION_TARGET
    print(f"{'PASS' if passed else 'BELOW TARGET'}: lowest throughput ratio {worst:.2f} "
          f"(target {THROUGHPUT_TARGET:.2f}), p99 ratio {isolation:.2f} "
          f"(target {ISOLATION_TARGET:.1f})", flush=True)
    return passed


ROLES = ("client", "server", "workers", "db")


def cpu_of(result: Result, role: str) -> float:
    """CPU seconds of a role in the timed phase; "workers" sums the server's children."""
    if role == "workers":
        return sum(used for name, used in result.cpu.items() if name.startswith("worker "))
    return result.cpu.get(role, float("nan"))


def cpu_ms(result: Result) -> str:
    shown = []
    for role in ROLES:
        per_call = cpu_of(result, role) / len(result.latencies) * 1000
        shown.append("-" if per_call != per_call else f"{per_call:.0f}")  # NaN: unknown
    return " / ".join(shown)


def throughput_ratio(rpc: Result, local: Result) -> float:
    return rpc.throughput / local.throughput if local.throughput else float("nan")


def isolation_ratio(m: Measured) -> float:
    return m.beside.ms(99) / m.idle.ms(99)


async def run(args: argparse.Namespace) -> bool:
    args.load_before = os.getloadavg()[0]
    embedded = await asyncio.to_thread(start_embedded, None)
    try:
        # From the environment like the child server (COMPANY_*, PDF_WORKERS), so the view
        # built here is the document the server renders.
        settings = Settings.from_env(
            mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
            database_name=f"bench_{uuid.uuid4().hex[:8]}",
            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        measured = await measure(settings, args, embedded.mongo.process.pid)
    finally:
        embedded.stop()
    return report(measured, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:  # the child that render_load starts
        port, authorization, order_id, callers = argv[1:5]
        asyncio.run(_load(int(port), authorization, order_id, int(callers)))
        return
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
