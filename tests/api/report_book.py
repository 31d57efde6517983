"""A small book of business for the report tests, made through the RPCs: two reps of team-a
and one of team-b, their customers, products, orders, quotes, invoices (with lines), payments
and a credit note, on a server and database of their own."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from erp.sales.v1 import quote_service_pb2 as qpb
from erp.sales.v1 import quote_service_pb2_grpc as qgrpc
from sales_grpc.domain.access import Role

from .invoice_fixtures import Billing
from .order_fixtures import line
from .report_fixtures import Reporting

CLERK = ["sales:read", "sales:create", "sales:update", "sales:delete", "sales:catalog",
         "sales:stock", "sales:billing"]


def D(money: Any) -> Decimal:
    return Decimal(money.amount or "0")


@dataclass
class Book:
    admin: Any
    rep1: Any
    rep2: Any
    rep3: Any
    manager_b: Any
    orders: list[Any]
    quotes: list[Any]
    invoices: list[Any]
    credit_notes: list[Any]
    payments: list[Decimal]
    customers: list[str]
    products: list[str]


async def make_book(reporting: Reporting) -> Book:
    admin = reporting.token("admin-1", Role.ADMIN, "")
    reps = [reporting.token(f"rep-{n}", Role.SALES_REP, team, CLERK)
            for n, team in ((1, "team-a"), (2, "team-a"), (3, "team-b"))]
    shops = [Billing(reporting.channel, md) for md in reps]
    quotes = qgrpc.QuoteServiceStub(reporting.channel)
    orders, made_quotes, invoices, notes, products, customers = [], [], [], [], [], []
    for shop, specs in ((shops[0], [("12.34", 3, "0.2"), ("0.99", 7, "0")]),
                        (shops[1], [("1000.01", 1, "0.07"), ("5.55", 2, "0.1")]),
                        (shops[2], [("3.00", 4, "0"), ("7.25", 1, "0.2")])):
        customer = await shop.customer()
        customers.append(customer.id)
        made = [await shop.product(price=p, stock=q + 5, tax_rate=t) for p, q, t in specs]
        products += [p.id for p in made]
        lines = [line(p.id, q) for p, (_, q, _) in zip(made, specs, strict=True)]
        order = await shop.confirm((await shop.order(customer.id, *lines)).id)
        orders.append(order)
        invoice = await shop.finalize((await shop.invoice_order(order.id)).id)
        invoices.append(invoice)
        made_quotes.append((await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
            customer_id=customer.id, lines=lines[:1])), metadata=shop.md)).quote)
    manager_a = reporting.token("manager-a", Role.SALES_MANAGER, "team-a")
    paid = [Decimal("10.00"), Decimal("7.50")]
    await shops[0].pay(invoices[0].id, str(paid[0]), md=manager_a)
    await shops[1].pay(invoices[1].id, str(paid[1]), md=manager_a)
    notes.append((await shops[1].credit(invoices[1].id, (2, 1), md=manager_a)).credit_note)
    invoices = [await shops[0].get(i.id, md=admin) for i in invoices]
    return Book(admin, *reps, reporting.token("manager-b", Role.SALES_MANAGER, "team-b"),
                orders, made_quotes, invoices, notes, paid, customers, products)
