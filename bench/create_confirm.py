"""CreateSalesOrder + ConfirmSalesOrder throughput and latency against the bare driver doing
the same MongoDB writes.

    .venv/bin/python -m bench.create_confirm [--orders N] [--concurrency 1,8,32] [--duration S]

One invocation, one embedded SecantusDB and Redis. Each timed unit is one order of two lines on
two products with ample stock:

* service: CreateSalesOrder then ConfirmSalesOrder through the real server (a child process
  by default, LOG_LEVEL WARNING) over a real loopback channel with a real admin token;
* baseline: the same writes straight through PyMongo's AsyncMongoClient: the order's
  `created` history entry and the order document, inserted in that order without a
  transaction (as the service does without a request_id), then one `session.with_transaction`:
  find the order, the two conditional $inc stock reservations in one bulk write
  (as the service does), the customer stats and account update, the order $set with a version
  check, the `confirmed` history entry, and an outbox insert_many of two events serialized as
  the service's outbox stores them, with documents shaped like store/orders.py `to_doc`.

In-flight orders use disjoint customers and products (pools of 2 x the highest concurrency),
so neither side measures write-conflict retries on one hot document.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import grpc
from bson import Decimal128, ObjectId
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import events_pb2, money_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import start_embedded

from .common import Result, Server, cell, cell_headers, closed_loop, start_child, start_in_process

TARGET = 0.7
NAMES = ("service", "baseline")
STOCK = 10_000_000
PRICES = (Decimal("12.50"), Decimal("7.25"))
QUANTITIES = (2, 3)
TAX = Decimal("0.15")
Call = Callable[[int], Awaitable[Any]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.create_confirm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000,
                        help="timed orders per cell at most (default 1000)")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds per cell at most, warm-up included (default 8)")
    parser.add_argument("--concurrency", default="1,8,32",
                        help="comma-separated in-flight order counts (default 1,8,32)")
    parser.add_argument("--warmup", type=int, default=50,
                        help="untimed orders per cell, at least 2 x concurrency (default 50)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate service and baseline this many times per concurrency, "
                        "splitting the orders and seconds, so a noisy neighbour hits both "
                        "alike (default 3)")
    parser.add_argument("--layout", choices=["process", "inprocess"], default="process",
                        help="sales server in a child process (default) or in this process")
    parser.add_argument("--profile-server", metavar="FILE",
                        help="cProfile the child sales server into FILE (snakeviz/pstats)")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.levels or min(args.levels) < 1:
        parser.error("--concurrency needs positive integers")
    return args


# --- seeding over the wire --------------------------------------------------------------------


def usd(amount: Decimal | str) -> money_pb2.Money:
    return money_pb2.Money(currency_code="USD", amount=str(amount))


async def seed(channel: grpc.aio.Channel, metadata: Any, pairs: int
               ) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """`pairs` customers (no credit limit) and `pairs` product pairs with ample stock.
    Returns the customer ids, the product id pairs and their SKU pairs."""
    customers = cgrpc.CustomerServiceStub(channel)
    products = pgrpc.ProductServiceStub(channel)
    tag = uuid.uuid4().hex[:6]

    async def customer(n: int) -> str:
        reply = await customers.CreateCustomer(cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name="Olga", last_name=f"Bench{n}", email=f"o{tag}{n}@example.com",
            customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=metadata)
        return reply.customer.id

    async def product(n: int) -> tuple[str, str]:
        sku = f"B-{tag}-{n:04d}"
        created = (await products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=sku, name=f"Bench thing {n}", unit_price=usd(PRICES[n % 2]))),
            metadata=metadata)).product
        await products.AdjustStock(ppb.AdjustStockRequest(
            product_id=created.id, quantity_delta=STOCK,
            reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT), metadata=metadata)
        return created.id, sku

    # The first customer alone: it creates the customer_code counter, and concurrent upserts
    # of a counter that does not exist yet may race.
    customer_ids = [await customer(0)]
    customer_ids += await asyncio.gather(*(customer(n) for n in range(1, pairs)))
    made = await asyncio.gather(*(product(n) for n in range(2 * pairs)))
    ids = [(made[2 * k][0], made[2 * k + 1][0]) for k in range(pairs)]
    skus = [(made[2 * k][1], made[2 * k + 1][1]) for k in range(pairs)]
    return customer_ids, ids, skus


# --- the baseline: the same writes, straight through the driver ------------------------------


def D(value: Decimal) -> Decimal128:
    return Decimal128(value)


def order_doc(number: str, customer_id: str, products: tuple[str, str], skus: tuple[str, str],
              moment: datetime) -> dict[str, Any]:
    """A draft order shaped like store/orders.py to_doc, with two priced lines."""
    lines = []
    subtotal = tax_total = Decimal(0)
    for product_id, sku, price, quantity in zip(products, skus, PRICES, QUANTITIES,
                                                strict=True):
        gross = price * quantity
        tax = (gross * TAX).quantize(Decimal("0.01"))
        subtotal += gross
        tax_total += tax
        lines.append({"product_id": product_id, "sku": sku, "product_name": "Bench thing",
                      "quantity": quantity, "unit_price": D(price), "price_given": False,
                      "discount_rate": D(Decimal(0)), "tax_rate": D(TAX), "gross": D(gross),
                      "discount": D(Decimal("0.00")), "tax": D(tax), "total": D(gross + tax)})
    return {
        "_id": ObjectId(), "number": number, "customer_id": customer_id, "state": "draft",
        "currency": "USD", "lines": lines, "discount_rate": D(Decimal(0)),
        "shipping": D(Decimal("0.00")),
        "totals": {"subtotal": D(subtotal), "discount_total": D(Decimal("0.00")),
                   "tax_total": D(tax_total), "shipping": D(Decimal("0.00")),
                   "grand_total": D(subtotal + tax_total)},
        "notes": "", "owner_id": "bench-admin", "team_id": "", "create_time": moment,
        "create_actor": "bench-admin", "update_time": moment, "update_actor": "bench-admin",
        "version": 1, "confirm_time": None, "ship_time": None, "deliver_time": None,
        "cancel_time": None, "cancel_reason": "", "credit_limit_overridden": False,
        "invoiced": False,
    }


def history_doc(order_id: ObjectId, action: str, before: str | None, after: str,
                moment: datetime) -> dict[str, Any]:
    """An entry of the document_history collection, as store/history.py writes it."""
    return {"_id": ObjectId(), "document_type": "sales_order", "document_id": str(order_id),
            "action": action, "from": before, "to": after, "actor": "bench-admin",
            "time": moment, "note": ""}


TYPE_URL = "type.googleapis.com/erp.sales.v1."


def event_payloads(order_id: str, order: dict[str, Any]) -> list[tuple[str, bytes]]:
    """OrderConfirmed and StockReserved serialized, as the service's outbox stores them."""
    def money(amount: Any) -> money_pb2.Money:
        return money_pb2.Money(currency_code="USD", amount=str(amount))

    totals = order["totals"]
    confirmed = events_pb2.OrderConfirmed(
        order_id=order_id, number=order["number"], customer_id=order["customer_id"],
        owner_id=order["owner_id"], team_id=order["team_id"], currency_code="USD",
        lines=[events_pb2.OrderEventLine(
            product_id=line["product_id"], sku=line["sku"], quantity=line["quantity"],
            unit_price=money(line["unit_price"]), gross_amount=money(line["gross"]),
            discount_amount=money(line["discount"]), tax_amount=money(line["tax"]),
            total_amount=money(line["total"])) for line in order["lines"]],
        **{name: money(totals[name]) for name in ("subtotal", "discount_total", "tax_total",
                                                  "shipping", "grand_total")})
    reserved = events_pb2.StockReserved(order_id=order_id, quantities=[
        events_pb2.StockQuantity(product_id=line["product_id"], sku=line["sku"],
                                 quantity=line["quantity"]) for line in order["lines"]])
    return [("OrderConfirmed", confirmed.SerializeToString()),
            ("StockReserved", reserved.SerializeToString())]


class Baseline:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str,
                 customers: list[str], products: list[tuple[str, str]],
                 skus: list[tuple[str, str]]) -> None:
        db = client[database]
        self.client = client
        self.orders, self.products = db.sales_orders, db.products
        self.customers, self.outbox = db.customers, db.outbox
        self.history = db.document_history
        self.customer_ids, self.product_ids, self.skus = customers, products, skus
        self.numbers = itertools.count(1)
        self.tag = uuid.uuid4().hex[:6]
        self.orders_done = self.attempts = 0  # transaction attempts > orders: conflict retries

    async def __call__(self, i: int) -> None:
        k = i % len(self.customer_ids)
        moment = datetime.now(UTC)
        doc = order_doc(f"BASE-{self.tag}-{next(self.numbers):07d}", self.customer_ids[k],
                        self.product_ids[k], self.skus[k], moment)
        order_id = doc["_id"]
        await self.history.insert_many([history_doc(order_id, "created", None, "draft", moment)])
        await self.orders.insert_one(doc)

        async def work(session: AsyncClientSession) -> None:
            self.attempts += 1
            order = await self.orders.find_one({"_id": order_id}, session=session)
            assert order is not None
            reserved = await self.products.bulk_write([
                UpdateOne({"_id": ObjectId(line["product_id"]),
                           "stock.available": {"$gte": line["quantity"]}},
                          {"$inc": {"stock.reserved": line["quantity"],
                                    "stock.available": -line["quantity"]}})
                for line in order["lines"]], ordered=False, session=session)
            assert reserved.modified_count == len(order["lines"]), "baseline ran out of stock"
            confirmed = datetime.now(UTC)
            await self.customers.update_one(
                {"_id": ObjectId(order["customer_id"])},
                {"$inc": {"stats.order_count": 1,
                          "stats.spent.USD": order["totals"]["grand_total"],
                          "account_version": 1},
                 "$max": {"stats.last_order_time": confirmed}}, session=session)
            version = order["version"]
            order.update(state="confirmed", version=version + 1, confirm_time=confirmed,
                         update_time=confirmed)
            fields = {k: v for k, v in order.items() if k != "_id"}
            result = await self.orders.update_one({"_id": order_id, "version": version},
                                                  {"$set": fields}, session=session)
            assert result.matched_count == 1
            await self.history.insert_many(
                [history_doc(order_id, "confirmed", "draft", "confirmed", confirmed)],
                session=session)
            await self.outbox.insert_many([
                {"_id": uuid.uuid4().hex, "type_url": TYPE_URL + name, "payload": payload,
                 "actor": "bench-admin", "occur_time": confirmed, "published": False, "seq": i}
                for i, (name, payload) in enumerate(event_payloads(str(order_id), order))
            ], session=session)

        async with self.client.start_session() as session:
            await session.with_transaction(work)
        self.orders_done += 1


# --- running ----------------------------------------------------------------------------------


async def start_server(settings: Settings, args: argparse.Namespace) -> Server:
    if args.layout == "inprocess":
        return await start_in_process("sales", settings)
    profile = [sys.executable, "-m", "cProfile", "-o", args.profile_server] \
        if args.profile_server else []
    return await start_child("sales", settings, profile)


async def measure(settings: Settings, args: argparse.Namespace) -> list[list[Result]]:
    server = await start_server(settings, args)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url,
                                                                tz_aware=True)
    try:
        token = mint_token(settings, "bench-admin", Role.ADMIN, "")
        metadata = (("authorization", f"Bearer {token}"),)
        pairs = 2 * max(args.levels)
        customer_ids, product_ids, skus = await seed(channel, metadata, pairs)
        orders = ogrpc.OrderServiceStub(channel)

        async def service(i: int) -> None:
            k = i % pairs
            created = (await orders.CreateSalesOrder(opb.CreateSalesOrderRequest(
                sales_order=opb.SalesOrder(customer_id=customer_ids[k], lines=[
                    dpb.DocumentLine(product_id=p, quantity=q)
                    for p, q in zip(product_ids[k], QUANTITIES, strict=True)])),
                metadata=metadata)).sales_order
            confirmed = (await orders.ConfirmSalesOrder(opb.ConfirmSalesOrderRequest(
                id=created.id, etag=created.etag), metadata=metadata)).sales_order
            if confirmed.state != opb.SALES_ORDER_STATE_CONFIRMED:
                raise AssertionError(f"order {created.number} not confirmed")

        baseline = Baseline(client, settings.database_name, customer_ids, product_ids, skus)
        await service(0)  # fail fast, before any timing, if either side is broken
        await baseline(0)
        calls: tuple[Call, ...] = (service, baseline)
        rows = []
        for level in args.levels:
            orders_done, attempts = baseline.orders_done, baseline.attempts
            rows.append(await interleaved(calls, level, args))
            tries = (baseline.attempts - attempts) / max(1, baseline.orders_done - orders_done)
            print(f"  measured concurrency {level}; baseline transaction attempts per order "
                  f"{tries:.2f}", file=sys.stderr, flush=True)
        return rows
    finally:
        await channel.close()
        await client.close()
        await server.stop()


async def interleaved(calls: tuple[Call, ...], level: int, args: argparse.Namespace
                      ) -> list[Result]:
    """Each side `args.rounds` times in turn (warm-up in the first round only); a side's
    result merges its rounds: all latencies over the summed elapsed time."""
    rounds = max(1, args.rounds)
    merged = [Result(name, level, 0.0, []) for name in NAMES]
    for n in range(rounds):
        for total, call in zip(merged, calls, strict=True):
            part = await closed_loop(total.name, call, level, -(-args.orders // rounds),
                                     args.duration / rounds,
                                     max(args.warmup, 2 * level) if n == 0 else 0)
            total.elapsed += part.elapsed
            total.latencies += part.latencies
    return merged


def ratio(row: list[Result]) -> float:
    service, baseline = row
    return service.throughput / baseline.throughput if baseline.throughput else 0.0


def report(rows: list[list[Result]], args: argparse.Namespace) -> bool:
    layout = "server in a child process" if args.layout == "process" else "server in-process"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"Create+Confirm benchmark, {stamp}, {os.cpu_count()} CPUs, {layout}, "
          f"<= {args.orders} orders or {args.duration:g} s per cell in {args.rounds} "
          "alternating rounds, loopback; req/s = orders/s, an order = create + confirm")
    names, columns = zip(*(cell_headers(name) for name in NAMES), strict=True)
    print(f"{'':>4} | " + " | ".join(names) + " |")
    print(f"{'conc':>4} | " + " | ".join(columns) + " | ratio  target")
    for row in rows:
        print(f"{row[0].concurrency:>4} | " + " | ".join(cell(r) for r in row)
              + f" | {ratio(row):5.2f}  {TARGET:.2f}")
    worst = min(rows, key=ratio)
    passed = ratio(worst) >= TARGET
    print(f"{'PASS' if passed else 'BELOW TARGET'}: lowest ratio service / baseline = "
          f"{ratio(worst):.2f} at concurrency {worst[0].concurrency} "
          f"(target {TARGET:.2f})", flush=True)
    return passed


async def run(args: argparse.Namespace) -> bool:
    embedded = await asyncio.to_thread(start_embedded, None)
    try:
        settings = Settings(mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
                            database_name=f"bench_{uuid.uuid4().hex[:8]}",
                            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        rows = await measure(settings, args)
    finally:
        embedded.stop()
    return report(rows, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
