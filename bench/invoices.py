"""FinalizeInvoice + RecordPayment throughput and latency against the bare driver doing the
same MongoDB operations, the gapless invoice counter included on both sides.

    .venv/bin/python -m bench.invoices [--units N] [--concurrency 1,8,32] [--duration S]

One invocation, one embedded SecantusDB and Redis. Each timed unit takes one draft invoice
(two lines, billed from a confirmed order), finalizes it and then pays it in full:

* service: FinalizeInvoice then RecordPayment (with a request_id, as a payment client sends
  one) through the real server (a child process by default, LOG_LEVEL WARNING, outbox relay
  running) over a real loopback channel with a real admin token;
* baseline: the same operations straight through PyMongo's AsyncMongoClient, transaction for
  transaction, as sales_grpc/services/invoice_lifecycle.py `_finalizing` and
  sales_grpc/services/receivables.py `record_payment` issue them:
  finalize = one `session.with_transaction`: find the invoice, the customer's receivable
  `$inc` with `account_version` (find_one_and_update), find the order and `$set` its
  invoicing, the gapless counter `$inc` in `counters` (the same counter document the service
  draws from, so the two sides' numbers never collide), the invoice's version-checked
  `$set`, the `finalized` history entry, the InvoiceFinalized outbox event;
  pay = a find of the idempotency key, then one `session.with_transaction`: find the
  invoice, the customer's receivable `$inc`, the payment insert, the invoice's
  version-checked `$set`, two history entries, two outbox events (PaymentReceived,
  InvoicePaid), the idempotency key insert. Documents are shaped like store/invoices.py,
  store/receipts.py, store/history.py and Outbox.add write them.

Setup, before any timing: customers, two products, one confirmed order per customer, and one
draft per order made through CreateInvoiceFromOrder; the other drafts are copies of that one
written straight into the collection (new ids, their `created` history entries, and the
order's invoiced quantities moved to match), which takes seconds where the API would take
minutes. Units in flight use different customers and orders (a pool of 2 x the highest
concurrency), so the only hot document is the counter, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import copy
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
from bson import Decimal128, ObjectId
from pymongo import AsyncMongoClient, ReturnDocument, monitoring
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import events_pb2, money_pb2
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import invoice_service_pb2_grpc as igrpc
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.customers import PaymentTerms
from sales_grpc.domain.invoices import TERM_DAYS
from sales_grpc.domain.numbering import INVOICE, Series
from sales_grpc.store.embedded import start_embedded

from .common import Result, Server, cell, cell_headers, closed_loop, start_child, start_in_process

TARGET = 0.7
NAMES = ("service", "baseline")
STOCK = 10_000_000
ORDER_QUANTITY = 10_000  # per order line; each draft bills one of each line
PRICES = (Decimal("12.50"), Decimal("7.25"))
ACTOR = "bench-admin"
# Every call and every baseline operation gives up after this long (at concurrency 32 a unit
# takes some 10 s), so a stuck database fails the run instead of hanging it.
TIMEOUT = 120.0
TYPE_URL = "type.googleapis.com/erp.sales.v1."
Call = Callable[[int], Awaitable[Any]]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.invoices", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=300,
                        help="timed units (finalize + pay) per cell at most (default 300)")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds per cell at most, warm-up included (default 8)")
    parser.add_argument("--concurrency", default="1,8,32",
                        help="comma-separated in-flight unit counts (default 1,8,32)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="untimed units per cell, at least 2 x concurrency (default 20)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternate service and baseline this many times per concurrency, "
                        "splitting the units and seconds, so a noisy neighbour hits both "
                        "alike (default 2: at concurrency 32 each round ends with some 10 s "
                        "of draining the units in flight)")
    parser.add_argument("--layout", choices=["process", "inprocess"], default="process",
                        help="sales server in a child process (default) or in this process")
    parser.add_argument("--no-request-id", dest="request_id", action="store_false",
                        help="pay without a request_id (no idempotency key on either side)")
    parser.add_argument("--count-commands", action="store_true",
                        help="count MongoDB commands per unit and side (needs --layout "
                        "inprocess, where the server's client is in this process)")
    parser.add_argument("--profile-server", metavar="FILE",
                        help="cProfile the child sales server into FILE (snakeviz/pstats)")
    args = parser.parse_args(argv)
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.levels or min(args.levels) < 1:
        parser.error("--concurrency needs positive integers")
    if args.count_commands and args.layout != "inprocess":
        parser.error("--count-commands needs --layout inprocess")
    return args


def drafts_needed(args: argparse.Namespace) -> int:
    """The most units one side can run: one check, and per level the warm-up and the
    rounds' timed units (a cell that reaches its duration first uses fewer)."""
    rounds = max(1, args.rounds)
    return 1 + sum(max(args.warmup, 2 * level) + rounds * -(-args.units // rounds)
                   for level in args.levels)


# --- setup over the wire, then copies ----------------------------------------------------------


def usd(amount: Decimal | str) -> money_pb2.Money:
    return money_pb2.Money(currency_code="USD", amount=str(amount))


@dataclass
class Slot:
    customer_id: str
    order_id: str
    template_id: str  # a draft made by CreateInvoiceFromOrder


async def seed(channel: grpc.aio.Channel, metadata: Any, slots: int) -> list[Slot]:
    """`slots` customers, each with a confirmed order of two lines and one draft invoice
    billing one unit of each line."""
    customers = cgrpc.CustomerServiceStub(channel)
    products = pgrpc.ProductServiceStub(channel)
    orders = ogrpc.OrderServiceStub(channel)
    invoices = igrpc.InvoiceServiceStub(channel)
    tag = uuid.uuid4().hex[:6]

    async def customer(n: int) -> str:
        reply = await customers.CreateCustomer(cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name="Iris", last_name=f"Bench{n}", email=f"i{tag}{n}@example.com",
            customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=metadata, timeout=TIMEOUT)
        return reply.customer.id

    async def product(n: int) -> str:
        created = (await products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
            sku=f"I-{tag}-{n}", name=f"Billed thing {n}", unit_price=usd(PRICES[n]))),
            metadata=metadata, timeout=TIMEOUT)).product
        await products.AdjustStock(ppb.AdjustStockRequest(
            product_id=created.id, quantity_delta=STOCK,
            reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT), metadata=metadata, timeout=TIMEOUT)
        return created.id

    # The first customer alone: it creates the customer_code counter.
    customer_ids = [await customer(0)]
    customer_ids += await asyncio.gather(*(customer(n) for n in range(1, slots)))
    product_ids = [await product(n) for n in range(len(PRICES))]
    gate = asyncio.Semaphore(4)  # every order reserves the same two products: few at a time

    async def slot(customer_id: str) -> Slot:
        async with gate:
            created = (await orders.CreateSalesOrder(opb.CreateSalesOrderRequest(
                sales_order=opb.SalesOrder(customer_id=customer_id, lines=[
                    dpb.DocumentLine(product_id=p, quantity=ORDER_QUANTITY)
                    for p in product_ids])), metadata=metadata, timeout=TIMEOUT)).sales_order
            await orders.ConfirmSalesOrder(opb.ConfirmSalesOrderRequest(
                id=created.id, etag=created.etag), metadata=metadata, timeout=TIMEOUT)
        draft = (await invoices.CreateInvoiceFromOrder(ipb.CreateInvoiceFromOrderRequest(
            order_id=created.id, lines=[ipb.LineQuantity(line_number=n + 1, quantity=1)
                                        for n in range(len(product_ids))]),
            metadata=metadata, timeout=TIMEOUT)).invoice
        return Slot(customer_id, created.id, draft.id)

    return list(await asyncio.gather(*(slot(c) for c in customer_ids)))


def dec(value: Any) -> Decimal:
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(value)


async def copy_drafts(db: AsyncDatabase[dict[str, Any]], slots: list[Slot], per_slot: int
                      ) -> tuple[collections.deque[str], collections.deque[str]]:
    """`per_slot` drafts per slot and side: the slot's template (for the service) and copies
    of it, each with its `created` history entry; the order's invoicing claims them all, as
    CreateInvoiceFromOrder would have. Returns the service's and the baseline's draft ids,
    slot by slot in turn, so consecutive units use different customers and orders."""
    columns: list[tuple[list[str], list[str]]] = []
    for slot in slots:
        template = await db.invoices.find_one({"_id": ObjectId(slot.template_id)})
        created = await db.document_history.find_one(
            {"document_type": "invoice", "document_id": slot.template_id})
        assert template is not None and created is not None, "the template draft is missing"
        docs, entries, ids = [], [], []
        for _ in range(2 * per_slot - 1):
            doc = copy.deepcopy(template)
            doc["_id"] = ObjectId()
            entry = {**created, "_id": ObjectId(), "document_id": str(doc["_id"])}
            docs.append(doc)
            entries.append(entry)
            ids.append(str(doc["_id"]))
        await db.document_history.insert_many(entries)
        await db.invoices.insert_many(docs)
        order = await db.sales_orders.find_one({"_id": ObjectId(slot.order_id)})
        assert order is not None
        claimed = 2 * per_slot  # the template and its copies
        invoicing = order["invoicing"]
        invoicing["lines"] = [
            {"quantity": t["quantity"] * claimed,
             **{k: Decimal128(dec(t[k]) * claimed) for k in ("gross", "discount", "tax")}}
            for t in invoicing["lines"]]
        await db.sales_orders.update_one({"_id": order["_id"]},
                                         {"$set": {"invoicing": invoicing}})
        columns.append(([slot.template_id, *ids[:per_slot - 1]], ids[per_slot - 1:]))
    service: collections.deque[str] = collections.deque()
    baseline: collections.deque[str] = collections.deque()
    for n in range(per_slot):
        for mine, theirs in columns:
            service.append(mine[n])
            baseline.append(theirs[n])
    return service, baseline


def take(drafts: collections.deque[str]) -> str:
    if not drafts:
        raise RuntimeError("out of draft invoices: raise drafts_needed")
    return drafts.popleft()


# --- the baseline: the same operations, straight through the driver --------------------------


def money(amount: Any, currency: str = "USD") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount=str(dec(amount)))


def facts(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The InvoiceFacts every invoice event carries, from an invoice document."""
    cur = doc["currency"]
    return {"invoice_id": str(doc["_id"]), "number": doc.get("number", ""),
            "order_id": doc.get("order_id", ""), "customer_id": doc["customer_id"],
            "owner_id": doc["owner_id"], "team_id": doc.get("team_id", ""),
            "currency_code": cur, "issue_date": doc.get("issue_date") or "",
            "due_date": doc.get("due_date") or "",
            "grand_total": money(doc["totals"]["grand_total"], cur),
            "amount_paid": money(doc["amount_paid"], cur),
            "amount_credited": money(doc["amount_credited"], cur),
            "amount_due": money(doc["amount_due"], cur)}


def finalized_event(doc: Mapping[str, Any]) -> events_pb2.InvoiceFinalized:
    cur, totals = doc["currency"], doc["totals"]
    return events_pb2.InvoiceFinalized(
        **facts(doc), lines=[events_pb2.OrderEventLine(
            product_id=x["product_id"], sku=x["sku"], quantity=x["quantity"],
            unit_price=money(x["unit_price"], cur), gross_amount=money(x["gross"], cur),
            discount_amount=money(x["discount"], cur), tax_amount=money(x["tax"], cur),
            total_amount=money(x["total"], cur)) for x in doc["lines"]],
        subtotal=money(totals["subtotal"], cur),
        discount_total=money(totals["discount_total"], cur),
        tax_total=money(totals["tax_total"], cur), shipping=money(totals["shipping"], cur))


def outbox_docs(events: list[Any], moment: datetime) -> list[dict[str, Any]]:
    return [{"_id": uuid.uuid4().hex, "type_url": TYPE_URL + type(e).__name__,
             "payload": e.SerializeToString(), "actor": ACTOR, "occur_time": moment,
             "published": False, "seq": i} for i, e in enumerate(events)]


def history_doc(invoice_id: ObjectId, action: str, before: str, after: str,
                moment: datetime, note: str = "") -> dict[str, Any]:
    return {"_id": ObjectId(), "document_type": "invoice", "document_id": str(invoice_id),
            "action": action, "from": before, "to": after, "actor": ACTOR, "time": moment,
            "note": note}


class Baseline:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str,
                 series: Series, drafts: collections.deque[str], request_id: bool) -> None:
        self.client = client
        self.db = client[database]
        self.series = series
        self.drafts = drafts
        self.request_id = request_id
        self.units = self.finalize_attempts = self.pay_attempts = 0

    async def __call__(self, i: int) -> None:
        invoice_id = ObjectId(take(self.drafts))
        due = await self.finalize(invoice_id)
        await self.pay(invoice_id, due)
        self.units += 1

    async def finalize(self, invoice_id: ObjectId) -> Decimal:
        db = self.db
        owed: list[Decimal] = []

        async def work(session: AsyncClientSession) -> None:
            self.finalize_attempts += 1
            moment = datetime.now(UTC)
            doc = await db.invoices.find_one({"_id": invoice_id}, session=session)
            assert doc is not None and doc["state"] == "draft"
            total = doc["totals"]["grand_total"]
            customer = await db.customers.find_one_and_update(
                {"_id": ObjectId(doc["customer_id"])},
                {"$inc": {"account_version": 1, f"stats.outstanding.{doc['currency']}": total}},
                return_document=ReturnDocument.AFTER, session=session)
            assert customer is not None and customer.get("delete_time") is None
            if doc.get("order_id"):
                order = await db.sales_orders.find_one({"_id": ObjectId(doc["order_id"])},
                                                        session=session)
                if order is not None:
                    invoicing = order.get("invoicing") or {}
                    invoicing["amount"] = Decimal128(dec(invoicing.get("amount", 0))
                                                     + dec(total))
                    await db.sales_orders.update_one({"_id": order["_id"]},
                                                     {"$set": {"invoicing": invoicing}},
                                                     session=session)
            counter = await db.counters.find_one_and_update(
                {"_id": self.series.counter_id(moment)}, {"$inc": {"value": 1}}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
            assert counter is not None
            number = self.series.number(int(counter["value"]), moment)
            issued = moment.date()
            terms = PaymentTerms(doc.get("payment_terms", PaymentTerms.NET_30.value))
            version = doc["version"]
            doc.update(number=number, state="open", issue_date=issued.isoformat(),
                       due_date=doc.get("due_date") or (
                           issued + timedelta(days=TERM_DAYS.get(terms, 0))).isoformat(),
                       finalize_time=moment, update_time=moment, update_actor=ACTOR,
                       version=version + 1)
            fields = {k: v for k, v in doc.items() if k != "_id"}
            saved = await db.invoices.update_one({"_id": invoice_id, "version": version},
                                                 {"$set": fields}, session=session)
            assert saved.matched_count == 1
            await db.document_history.insert_many(
                [history_doc(invoice_id, "finalized", "draft", "open", moment, number)],
                ordered=True, session=session)
            await db.outbox.insert_many(outbox_docs([finalized_event(doc)], moment),
                                        session=session)
            owed[:] = [dec(doc["amount_due"])]

        async with self.client.start_session() as session:
            await session.with_transaction(work)
        return owed[0]

    async def pay(self, invoice_id: ObjectId, amount: Decimal) -> None:
        db = self.db
        key = f"payment:{ACTOR}:{uuid.uuid4().hex}" if self.request_id else ""
        if key and await db.idempotency_keys.find_one({"_id": key}) is not None:
            raise AssertionError("a fresh request_id was found")
        payment_id = ObjectId()
        reference = f"bench-{payment_id}"

        async def work(session: AsyncClientSession) -> None:
            self.pay_attempts += 1
            moment = datetime.now(UTC)
            doc = await db.invoices.find_one({"_id": invoice_id}, session=session)
            assert doc is not None and doc["state"] == "open"
            cur = doc["currency"]
            due = dec(doc["amount_due"])
            assert 0 < amount <= due
            customer = await db.customers.find_one_and_update(
                {"_id": ObjectId(doc["customer_id"])},
                {"$inc": {"account_version": 1,
                          f"stats.outstanding.{cur}": Decimal128(-amount)}},
                return_document=ReturnDocument.AFTER, session=session)
            assert customer is not None
            day = moment.date().isoformat()
            await db.payments.insert_one(
                {"_id": payment_id, "invoice_id": str(invoice_id),
                 "invoice_number": doc["number"], "customer_id": doc["customer_id"],
                 "owner_id": doc["owner_id"], "team_id": doc.get("team_id", ""),
                 "currency": cur, "amount": Decimal128(amount), "method": "BANK_TRANSFER",
                 "reference": reference, "payment_date": day, "recorded_by": ACTOR,
                 "create_time": moment}, session=session)
            version = doc["version"]
            paid = dec(doc["amount_paid"]) + amount
            left = due - amount
            doc.update(amount_paid=Decimal128(paid), amount_due=Decimal128(left),
                       update_time=moment, update_actor=ACTOR, version=version + 1)
            if left == 0:
                doc.update(state="paid", paid_time=moment)
            fields = {k: v for k, v in doc.items() if k != "_id"}
            saved = await db.invoices.update_one({"_id": invoice_id, "version": version},
                                                 {"$set": fields}, session=session)
            assert saved.matched_count == 1
            entries = [history_doc(invoice_id, "payment_recorded", "open", "open", moment,
                                   f"{amount} {cur} by BANK_TRANSFER ({reference})")]
            events: list[Any] = [events_pb2.PaymentReceived(
                **facts(doc), payment_id=str(payment_id), amount=money(amount, cur),
                method="BANK_TRANSFER", payment_date=day)]
            if left == 0:
                entries.append(history_doc(invoice_id, "paid", "open", "paid", moment))
                events.append(events_pb2.InvoicePaid(**facts(doc), paid_date=day))
            await db.document_history.insert_many(entries, ordered=True, session=session)
            await db.outbox.insert_many(outbox_docs(events, moment), session=session)
            if key:
                await db.idempotency_keys.insert_one(
                    {"_id": key, "result_id": str(payment_id), "create_time": moment},
                    session=session)

        async with self.client.start_session() as session:
            await session.with_transaction(work)


# --- counting commands (optional) ---------------------------------------------------------------


@dataclass
class CommandCounts(monitoring.CommandListener):
    """Commands started, by side and `name collection`, while that side runs. The sides take
    turns, so whatever runs in this process meanwhile (the server's outbox relay too) is
    charged to the side that caused it."""

    side: str = ""
    counts: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    units: collections.Counter[str] = field(default_factory=collections.Counter)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.side:
            return
        target = event.command.get(event.command_name)
        where = target if isinstance(target, str) and event.command_name not in (
            "commitTransaction", "abortTransaction") else ""
        self.counts[self.side][f"{event.command_name} {where}".strip()] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def report(self) -> None:
        print("MongoDB commands per unit (all cells, warm-up included; relay = the server's "
              "outbox relay)", file=sys.stderr)
        keys = sorted({k for side in NAMES for k in self.counts[side]})
        print(f"  {'command':<36} " + " ".join(f"{n:>9}" for n in NAMES), file=sys.stderr)
        for k in keys:
            per = [self.counts[n][k] / max(1, self.units[n]) for n in NAMES]
            print(f"  {k:<36} " + " ".join(f"{v:9.2f}" for v in per), file=sys.stderr)
        totals = [sum(self.counts[n].values()) / max(1, self.units[n]) for n in NAMES]
        print(f"  {'total':<36} " + " ".join(f"{v:9.2f}" for v in totals), file=sys.stderr)


# --- running ----------------------------------------------------------------------------------


async def start_server(settings: Settings, args: argparse.Namespace) -> Server:
    if args.layout == "inprocess":
        return await start_in_process("sales", settings)
    profile = [sys.executable, "-m", "cProfile", "-o", args.profile_server] \
        if args.profile_server else []
    return await start_child("sales", settings, profile)


async def measure(settings: Settings, args: argparse.Namespace, db_pid: int | None = None
                  ) -> list[list[Result]]:
    counts = CommandCounts() if args.count_commands else None
    if counts is not None:
        monitoring.register(counts)  # before the server's client and ours exist
    server = await start_server(settings, args)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url, tz_aware=True, timeoutMS=int(TIMEOUT * 1000))
    try:
        token = mint_token(settings, ACTOR, Role.ADMIN, "")
        metadata = (("authorization", f"Bearer {token}"),)
        slots = 2 * max(args.levels)
        started = time.perf_counter()
        made = await seed(channel, metadata, slots)
        per_slot = math.ceil(drafts_needed(args) / slots) + 1
        mine, theirs = await copy_drafts(client[settings.database_name], made, per_slot)
        print(f"  set up {slots} customers and orders, {2 * per_slot * slots} drafts in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        invoices = igrpc.InvoiceServiceStub(channel)

        async def service(i: int) -> None:
            invoice = (await invoices.FinalizeInvoice(ipb.FinalizeInvoiceRequest(
                id=take(mine)), metadata=metadata, timeout=TIMEOUT)).invoice
            if invoice.state != ipb.INVOICE_STATE_OPEN:
                raise AssertionError(f"invoice {invoice.id} not finalized")
            paid = await invoices.RecordPayment(ipb.RecordPaymentRequest(
                invoice_id=invoice.id, payment=ipb.Payment(
                    amount=invoice.amount_due, method=ipb.PAYMENT_METHOD_BANK_TRANSFER,
                    reference=f"bench-{i}"),
                request_id=uuid.uuid4().hex if args.request_id else ""),
                metadata=metadata, timeout=TIMEOUT)
            if paid.invoice.state != ipb.INVOICE_STATE_PAID:
                raise AssertionError(f"invoice {invoice.number} not paid")

        baseline = Baseline(client, settings.database_name,
                            settings.number_series()[INVOICE], theirs, args.request_id)
        await service(0)  # fail fast, before any timing, if either side is broken
        await baseline(0)
        pids = {"client": os.getpid()}
        if db_pid is not None:
            pids["db"] = db_pid
        processes = ({**pids, "server": server.pid} if server.pid != os.getpid() else pids,
                     pids)
        calls: tuple[Call, ...] = (service, baseline)
        if counts is not None:
            calls = tuple(counted(counts, name, call) for name, call in zip(NAMES, calls,
                                                                              strict=True))
        rows = []
        for level in args.levels:
            units, f, p = baseline.units, baseline.finalize_attempts, baseline.pay_attempts
            rows.append(await interleaved(calls, processes, level, args))
            done = max(1, baseline.units - units)
            print(f"  measured concurrency {level}; baseline transaction attempts per unit: "
                  f"finalize {(baseline.finalize_attempts - f) / done:.2f}, pay "
                  f"{(baseline.pay_attempts - p) / done:.2f}", file=sys.stderr, flush=True)
        await check_gapless(client[settings.database_name],
                            settings.number_series()[INVOICE])
        if counts is not None:
            counts.side = ""  # pymongo cannot unregister a listener; this one stops counting
            counts.report()
        return rows
    finally:
        await channel.close()
        await client.close()
        try:  # an in-process server waits for its background jobs' database calls
            await asyncio.wait_for(server.stop(), 30)
        except TimeoutError:
            print("  the sales server did not stop within 30 s", file=sys.stderr)


def counted(counts: CommandCounts, name: str, call: Call) -> Call:
    async def run(i: int) -> None:
        counts.side = name
        await call(i)
        counts.units[name] += 1

    return run


async def check_gapless(db: AsyncDatabase[dict[str, Any]], series: Series) -> None:
    """Both sides drew from the one counter: as many numbered invoices as numbers drawn
    (the number's unique index rules out doubles), or what was measured was not gapless."""
    counter = await db.counters.find_one({"_id": series.counter_id(datetime.now(UTC))})
    numbered = await db.invoices.count_documents({"number": {"$exists": True}})
    drawn = int(counter["value"]) if counter else 0
    if drawn != numbered:
        raise AssertionError(f"counter at {drawn} but {numbered} numbered invoices")
    print(f"  gapless: {drawn} numbers drawn, {numbered} numbered invoices", file=sys.stderr,
          flush=True)


async def interleaved(calls: tuple[Call, ...], processes: tuple[dict[str, int], ...],
                      level: int, args: argparse.Namespace) -> list[Result]:
    """Each side `args.rounds` times in turn (warm-up in the first round only); a side's
    result merges its rounds: all latencies over the summed elapsed time and CPU."""
    rounds = max(1, args.rounds)
    merged = [Result(name, level, 0.0, []) for name in NAMES]
    for n in range(rounds):
        for total, call, pids in zip(merged, calls, processes, strict=True):
            part = await closed_loop(total.name, call, level, -(-args.units // rounds),
                                     args.duration / rounds,
                                     max(args.warmup, 2 * level) if n == 0 else 0, pids)
            total.elapsed += part.elapsed
            total.latencies += part.latencies
            for role, used in part.cpu.items():
                total.cpu[role] = total.cpu.get(role, 0.0) + used
    return merged


def ratio(row: list[Result]) -> float:
    service, baseline = row
    return service.throughput / baseline.throughput if baseline.throughput else 0.0


def cpu_ms(result: Result) -> str:
    roles = ("client", "server", "db")
    return " / ".join("-" if role not in result.cpu else
                      f"{result.cpu_us_per_call(role) / 1000:.1f}" for role in roles)


def report(rows: list[list[Result]], args: argparse.Namespace) -> bool:
    layout = "server in a child process" if args.layout == "process" else "server in-process"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Finalize+Pay benchmark, {stamp}, {os.cpu_count()} CPUs, {layout}, "
          f"<= {args.units} units or {args.duration:g} s per cell in {args.rounds} "
          f"alternating rounds, loopback, load average {load:.1f}; req/s = units/s, a unit = "
          "FinalizeInvoice + RecordPayment"
          + (" (with request_id)" if args.request_id else " (no request_id)"))
    print("baseline = the same MongoDB operations through AsyncMongoClient (two transactions "
          "per unit, the gapless counter in the first); ratio = service / baseline")
    names, columns = zip(*(cell_headers(name) for name in NAMES), strict=True)
    print(f"{'':>4} | " + " | ".join(names) + " |")
    print(f"{'conc':>4} | " + " | ".join(columns) + " | ratio  target")
    for row in rows:
        print(f"{row[0].concurrency:>4} | " + " | ".join(cell(r) for r in row)
              + f" | {ratio(row):5.2f}  {TARGET:.2f}")
    print("CPU ms per unit in the timed phase, client / server / db (- = not measured, or the "
          "server is in the client), service vs baseline: "
          + ", ".join(f"c={row[0].concurrency} {cpu_ms(row[0])} vs {cpu_ms(row[1])}"
                      for row in rows))
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
        rows = await measure(settings, args, embedded.mongo.process.pid)
    finally:
        embedded.stop()
    return report(rows, args)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
