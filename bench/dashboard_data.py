"""A sales history loaded fast for bench.dashboard: orders, invoices and quotes built as the
domain builds them and written by the stores' own `to_doc`, inserted in bulk, then the rollups
made by the service's own rebuild (`sales-grpc analytics rebuild`), so they are the real ones.

A larger history is a longer one: both sizes hold the same orders in the two years before now
(all a dashboard reads: this year and the last), and the larger one as many a year again in
the years before, so they differ only in history the dashboard should not pay for. Six reps in
three teams, 500 customers, 40 products, USD and EUR; 5% of orders cancelled; orders older than
ten days delivered and invoiced a week after confirming (paid after 60 days, else open, some of
those overdue). Open work does not grow with the history: 200 SENT quotes valid for a month,
in both sizes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import AsyncMongoClient

from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.documents.document import SalesDocument
from sales_grpc.domain.documents.lines import DocumentLine, totals_of
from sales_grpc.domain.invoices import Invoice, InvoiceState
from sales_grpc.domain.orders import OrderState, SalesOrder
from sales_grpc.domain.pricing import price_line
from sales_grpc.domain.quotes import Quote, QuoteState
from sales_grpc.domain.records import Audit
from sales_grpc.store import invoices as invoice_store
from sales_grpc.store import orders as order_store
from sales_grpc.store import quotes as quote_store

REPS = tuple((f"rep-{n}", f"team-{'abc'[(n - 1) // 2]}") for n in range(1, 7))
CURRENCIES = ("USD", "EUR")
CUSTOMERS = 500
PRODUCTS = 40
SPAN = timedelta(days=730)
OPEN_QUOTES = 200
TAX = Decimal("0.08")
BATCH = 5000
D = TypeVar("D", bound=SalesDocument[Any])


@dataclass(frozen=True)
class Loaded:
    orders: int
    invoices: int
    quotes: int
    rollups: int


def _lines(rng: random.Random, currency: str) -> list[DocumentLine]:
    lines = []
    for n in rng.sample(range(PRODUCTS), 2):
        price = Decimal(rng.randrange(800, 25000)) / 100
        quantity = rng.randrange(1, 6)
        discount = Decimal("0.05") if rng.random() < 0.2 else Decimal(0)
        lines.append(DocumentLine(
            f"prod-{n:03d}", f"SKU-{n:03d}", f"Product {n}", quantity, price, False, discount,
            TAX, price_line(quantity, price, discount, Decimal(0), TAX, currency), price))
    return lines


def _document(kind: type[D], rng: random.Random, moment: datetime, number: str, state: Any,
              **extra: Any) -> D:
    customer = rng.randrange(CUSTOMERS)
    owner, team = REPS[customer % len(REPS)]  # a customer belongs to one rep
    currency = CURRENCIES[customer % 7 == 0]  # one customer in seven buys in EUR
    lines = _lines(rng, currency)
    return kind(id=str(ObjectId()), number=number, customer_id=f"cust-{customer:04d}",
                currency=currency, lines=lines, discount_rate=Decimal(0),
                shipping=Decimal(0), totals=totals_of(lines, Decimal(0)), owner_id=owner,
                team_id=team, audit=Audit.new(owner, moment), state=state, **extra)


def orders_and_invoices(count: int, recent: int, now: datetime, seed: int
                        ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """`count` order documents, each with its invoice's document when it has one: the first
    `recent` confirmed over SPAN before `now` (the same ones for the same seed, whatever
    `count`), the rest as densely in the years before."""
    rng = random.Random(seed)
    older = SPAN * (count / recent - 1)
    for n in range(count):
        confirmed = now - (SPAN * rng.random() if n < recent else SPAN + older * rng.random())
        cancelled = rng.random() < 0.05
        delivered = not cancelled and now - confirmed > timedelta(days=10)
        state = (OrderState.CANCELLED if cancelled else OrderState.DELIVERED if delivered
                 else OrderState.CONFIRMED)
        order = _document(SalesOrder, rng, confirmed, f"SO-B-{n:07d}", state, entered={
            OrderState.CONFIRMED: confirmed,
            **({OrderState.CANCELLED: min(now, confirmed + timedelta(hours=20))}
               if cancelled else {}),
            **({OrderState.DELIVERED: confirmed + timedelta(days=6)} if delivered else {})})
        yield order_store.to_doc(order), _invoice(order, n, now) if delivered else None


def _invoice(order: SalesOrder, n: int, now: datetime) -> dict[str, Any]:
    assert order.confirm_time is not None
    issued = order.confirm_time + timedelta(days=7)
    paid = now - issued > timedelta(days=60)
    state = InvoiceState.PAID if paid else InvoiceState.OPEN
    invoice = Invoice(
        id=str(ObjectId()), number=f"INV-B-{n:07d}", customer_id=order.customer_id,
        currency=order.currency, lines=order.lines, discount_rate=Decimal(0),
        shipping=Decimal(0), totals=order.totals, owner_id=order.owner_id,
        team_id=order.team_id, audit=Audit.new(order.owner_id, issued), state=state,
        entered={InvoiceState.OPEN: issued,
                 **({InvoiceState.PAID: issued + timedelta(days=25)} if paid else {})},
        order_id=order.id, order_number=order.number, source_lines=[1, 2],
        issue_date=issued.date(), due_date=issued.date() + timedelta(days=30),
        amount_paid=order.totals.grand_total if paid else Decimal(0))
    return invoice_store.to_doc(invoice)


def open_quotes(now: datetime, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed + 1)
    until = now.date() + timedelta(days=30)
    return [quote_store.to_doc(_document(
        Quote, rng, now - timedelta(days=3), f"Q-B-{n:06d}", QuoteState.SENT,
        entered={QuoteState.SENT: now - timedelta(days=3)}, valid_until=until))
        for n in range(OPEN_QUOTES)]


async def load(settings: Settings, count: int, recent: int, now: datetime | None = None,
               seed: int = 11) -> Loaded:
    """Loads the history into `settings.database_name`, a new database, and rebuilds its
    rollups. The indexes come first (the server's own `ensure_indexes` on empty collections):
    SecantusDB inserts several times faster into a collection without secondary indexes, but
    building them afterwards over 100,000 orders failed with an internal error."""
    now = now or datetime.now(UTC)
    app = await build(settings)  # indexes on the empty collections
    await app.close()
    raw: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url)
    try:
        db = raw[settings.database_name]
        invoices = 0
        batch: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for pair in orders_and_invoices(count, min(recent, count), now, seed):
            batch.append(pair)
            if len(batch) == BATCH:
                invoices += await _insert(db, batch)
        invoices += await _insert(db, batch)
        quotes = open_quotes(now, seed)
        await db.quotes.insert_many(quotes, ordered=False)
    finally:
        await raw.close()
    app = await build(settings)
    try:
        rebuilt = await app.analytics.maintenance.rebuild()
    finally:
        await app.close()
    return Loaded(count, invoices, len(quotes), rebuilt.rollups)


async def _insert(db: Any, batch: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
    invoices = [invoice for _, invoice in batch if invoice is not None]
    if batch:
        await db.sales_orders.insert_many([order for order, _ in batch], ordered=False)
    if invoices:
        await db.invoices.insert_many(invoices, ordered=False)
    batch.clear()
    return len(invoices)
