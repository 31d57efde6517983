"""A revenue history with known values, written as the services write it (each document with its
outbox events in one transaction), and the sums it must give, computed here independently of
the rollups: by each document's local day in the asked zone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bson import Decimal128, ObjectId
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from erp.sales.v1 import events_pb2 as ev
from erp.sales.v1 import money_pb2
from sales_grpc.store.mongo import Mongo


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


@dataclass(frozen=True)
class Order:
    owner: str
    team: str
    currency: str
    total: str
    confirmed: datetime | None  # None: a draft, cancelled before it was confirmed
    cancelled: datetime | None = None
    customer: str = "cust-1"
    # (product, quantity, gross, discount) per line; the total's remainder is tax.
    lines: tuple[tuple[str, int, str, str], ...] = ()

    @property
    def subtotal(self) -> Decimal:
        return sum((Decimal(x[2]) for x in self.lines), Decimal(0))

    @property
    def discount(self) -> Decimal:
        return sum((Decimal(x[3]) for x in self.lines), Decimal(0))


@dataclass(frozen=True)
class Dated:
    """An invoice (`void`), a credit note or a payment (`method`): an amount on a day."""

    owner: str
    team: str
    currency: str
    amount: str
    day: date
    void: bool = False
    method: str = "BANK_TRANSFER"
    customer: str = "cust-1"
    invoice: int = -1  # a payment's invoice: its index in History.invoices (-1: none)


@dataclass(frozen=True)
class Quote:
    """A quote revision and when it reached each state (None: it did not)."""

    owner: str
    team: str
    currency: str
    total: str
    created: datetime
    sent: datetime | None = None
    accepted: datetime | None = None
    rejected: datetime | None = None
    expired: datetime | None = None
    customer: str = "cust-1"


@dataclass
class History:
    orders: list[Order] = field(default_factory=list)
    invoices: list[Dated] = field(default_factory=list)
    credit_notes: list[Dated] = field(default_factory=list)
    payments: list[Dated] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    def paid_invoices(self) -> list[Dated | None]:
        return [self.invoices[p.invoice] if p.invoice >= 0 else None for p in self.payments]

    def expected(self, basis: str, zone: ZoneInfo, spans: list[tuple[date, date]],
                 owner: str | None = None, team: str | None = None
                 ) -> list[dict[str, tuple[Decimal, int]]]:
        """Per span, per currency: amount and document count."""
        entries: list[tuple[date, str, Decimal, int, str, str]] = []
        if basis == "BOOKINGS":
            entries = [(o.confirmed.astimezone(zone).date(), o.currency, Decimal(o.total), 1,
                        o.owner, o.team) for o in self.orders if o.confirmed and not o.cancelled]
        elif basis == "BILLINGS":
            entries = [(i.day, i.currency, Decimal(i.amount), 1, i.owner, i.team)
                       for i in self.invoices if not i.void]
            entries += [(n.day, n.currency, -Decimal(n.amount), 0, n.owner, n.team)
                        for n in self.credit_notes]
        else:
            entries = [(p.day, p.currency, Decimal(p.amount), 1, p.owner, p.team)
                       for p in self.payments if p.method != "CREDIT_BALANCE"]
        out: list[dict[str, tuple[Decimal, int]]] = []
        for first, last in spans:
            sums: dict[str, tuple[Decimal, int]] = {}
            for day, currency, amount, count, who, which in entries:
                if first <= day <= last and owner in (None, who) and team in (None, which):
                    old = sums.get(currency, (Decimal(0), 0))
                    sums[currency] = (old[0] + amount, old[1] + count)
            out.append(sums)
        return out


def _money(currency: str, amount: str) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount=amount)


def _event(message: Message, moment: datetime) -> dict[str, Any]:
    packed = AnyMessage()
    packed.Pack(message)
    return {"_id": uuid.uuid4().hex, "type_url": packed.type_url, "payload": packed.value,
            "actor": "test", "occur_time": moment, "published": False, "seq": 0}


async def _commit(mongo: Mongo, collection: str, doc: dict[str, Any],
                  events: list[dict[str, Any]]) -> None:
    async def work(session: Any) -> None:
        await mongo.db[collection].insert_one(doc, session=session)
        await mongo.db.outbox.insert_many(events, session=session)

    await mongo.run_transaction(work)


async def write(mongo: Mongo, history: History) -> None:
    issued: dict[int, str] = {}
    for o in history.orders:
        oid = str(ObjectId())
        facts = {"order_id": oid, "owner_id": o.owner, "team_id": o.team,
                 "customer_id": o.customer, "currency_code": o.currency,
                 "grand_total": _money(o.currency, o.total),
                 "subtotal": _money(o.currency, str(o.subtotal)),
                 "discount_total": _money(o.currency, str(o.discount)),
                 "lines": [ev.OrderEventLine(
                     product_id=p, quantity=q, gross_amount=_money(o.currency, g),
                     discount_amount=_money(o.currency, d)) for p, q, g, d in o.lines]}
        events = []
        if o.confirmed:
            events.append(_event(ev.OrderConfirmed(**facts), o.confirmed))
        if o.cancelled:
            events.append(_event(ev.OrderCancelled(**facts), o.cancelled))
        await _commit(mongo, "sales_orders", {
            "_id": ObjectId(oid), "number": f"SO-{oid}", "currency": o.currency,
            "owner_id": o.owner, "team_id": o.team, "customer_id": o.customer,
            "totals": {"grand_total": Decimal128(o.total), "subtotal": Decimal128(o.subtotal),
                       "discount_total": Decimal128(o.discount)},
            "lines": [{"product_id": p, "quantity": q, "gross": Decimal128(g),
                       "discount": Decimal128(d)} for p, q, g, d in o.lines],
            "confirm_time": o.confirmed, "cancel_time": o.cancelled,
            "state": "cancelled" if o.cancelled else "confirmed"}, events)
    for n_invoice, i in enumerate(history.invoices):
        iid = str(ObjectId())
        issued[n_invoice] = iid
        facts = {"invoice_id": iid, "owner_id": i.owner, "team_id": i.team,
                 "customer_id": i.customer,
                 "currency_code": i.currency, "issue_date": i.day.isoformat(),
                 "grand_total": _money(i.currency, i.amount)}
        moment = datetime.combine(i.day, datetime.min.time(), UTC) + timedelta(hours=12)
        events = [_event(ev.InvoiceFinalized(**facts), moment)]
        if i.void:
            events.append(_event(ev.InvoiceVoided(**facts), moment + timedelta(days=1)))
        await _commit(mongo, "invoices", {
            "_id": ObjectId(iid), "number": f"INV-{iid}", "currency": i.currency,
            "owner_id": i.owner, "team_id": i.team, "customer_id": i.customer,
            "totals": {"grand_total": Decimal128(i.amount)}, "issue_date": i.day.isoformat(),
            "due_date": (i.day + timedelta(days=30)).isoformat(),
            "amount_due": Decimal128("0" if i.void else i.amount),
            "state": "void" if i.void else "open"}, events)
    for n in history.credit_notes:
        nid = str(ObjectId())
        await _commit(mongo, "credit_notes", {
            "_id": ObjectId(nid), "number": f"CN-{nid}", "currency": n.currency,
            "owner_id": n.owner, "team_id": n.team, "customer_id": n.customer,
            "totals": {"grand_total": Decimal128(n.amount)},
            "issue_date": n.day.isoformat()}, [_event(ev.CreditNoteIssued(
                credit_note_id=nid, owner_id=n.owner, team_id=n.team, customer_id=n.customer,
                currency_code=n.currency, issue_date=n.day.isoformat(),
                grand_total=_money(n.currency, n.amount)), at(2026, 1, 1))])
    for p, invoice in zip(history.payments, history.paid_invoices(), strict=True):
        invoice_id = issued[p.invoice] if invoice else ""
        pid = str(ObjectId())
        await _commit(mongo, "payments", {
            "_id": ObjectId(pid), "currency": p.currency, "owner_id": p.owner,
            "team_id": p.team, "customer_id": p.customer, "amount": Decimal128(p.amount),
            "method": p.method, "invoice_id": invoice_id,
            "payment_date": p.day.isoformat()}, [_event(ev.PaymentReceived(
                payment_id=pid, owner_id=p.owner, team_id=p.team, currency_code=p.currency,
                customer_id=p.customer, invoice_id=invoice_id,
                issue_date=invoice.day.isoformat() if invoice else "",
                amount=_money(p.currency, p.amount), method=p.method,
                payment_date=p.day.isoformat()), at(2026, 1, 1))])
    await _quotes(mongo, history)


async def _quotes(mongo: Mongo, history: History) -> None:
    for q in history.quotes:
        qid = str(ObjectId())
        facts = {"quote_id": qid, "owner_id": q.owner, "team_id": q.team,
                 "customer_id": q.customer, "currency_code": q.currency,
                 "grand_total": _money(q.currency, q.total)}
        events = [_event(kind(**facts), moment) for kind, moment in (
            (ev.QuoteCreated, q.created), (ev.QuoteSent, q.sent), (ev.QuoteAccepted, q.accepted),
            (ev.QuoteRejected, q.rejected), (ev.QuoteExpired, q.expired)) if moment]
        state = ("expired" if q.expired else "rejected" if q.rejected else
                 "accepted" if q.accepted else "sent" if q.sent else "draft")
        await _commit(mongo, "quotes", {
            "_id": ObjectId(qid), "number": f"QT-{qid}", "revision": 1, "state": state,
            "currency": q.currency, "owner_id": q.owner, "team_id": q.team,
            "customer_id": q.customer, "totals": {"grand_total": Decimal128(q.total)},
            "valid_until": "2999-12-31", "create_time": q.created, "send_time": q.sent,
            "accept_time": q.accepted, "reject_time": q.rejected, "expire_time": q.expired},
            events)


def known_history() -> History:
    """Two reps in two teams, USD and EUR, times a second either side of local midnight in
    New York and Kolkata (+05:30), and across New York's DST changes; four customers, three
    products, and quotes in every outcome."""
    a, b = ("rep-1", "team-a"), ("rep-2", "team-b")
    return History(
        orders=[
            Order(*a, "USD", "100.10", at(2026, 3, 1, 4, 59, 59),  # NY: Feb 28, 23:59:59
                  lines=(("p-1", 2, "90.00", "0"), ("p-2", 1, "10.10", "1.00"))),
            Order(*a, "USD", "200.20", at(2026, 3, 1, 5, 0, 0),  # NY: Mar 1, 00:00
                  customer="cust-2", lines=(("p-1", 4, "200.00", "20.00"),
                                            ("p-1", 1, "30.00", "0"))),
            Order(*b, "EUR", "300.03", at(2026, 3, 1, 18, 29, 59),  # Kolkata: Mar 1, 23:59:59
                  customer="cust-3", lines=(("p-3", 3, "300.03", "0"),)),
            Order(*b, "EUR", "400.04", at(2026, 3, 1, 18, 30, 0),  # Kolkata: Mar 2, 00:00
                  customer="cust-3", lines=(("p-2", 40, "400.04", "40.00"),)),
            Order(*a, "EUR", "55.55", at(2026, 3, 8, 6, 59, 0),  # NY: 01:59 EST
                  lines=(("p-2", 5, "55.55", "5.55"),)),
            Order(*b, "USD", "66.66", at(2026, 3, 8, 7, 0, 0),  # NY: 03:00 EDT, same day
                  customer="cust-4", lines=(("p-3", 1, "66.66", "0"),)),
            Order(*a, "USD", "77.77", at(2026, 11, 1, 5, 30),  # NY: 01:30 EDT
                  customer="cust-2", lines=(("p-2", 7, "77.77", "0"),)),
            Order(*b, "USD", "88.88", at(2026, 11, 1, 6, 30),  # NY: 01:30 EST, same day
                  customer="cust-4", lines=(("p-1", 1, "88.88", "8.88"),)),
            Order(*a, "USD", "999.99", at(2026, 3, 31, 23, 50),  # cancelled in April
                  cancelled=at(2026, 4, 2, 10), lines=(("p-1", 9, "999.99", "0"),)),
            Order(*b, "USD", "123.45", None, cancelled=at(2026, 3, 5),  # a draft cancelled
                  customer="cust-4", lines=(("p-3", 2, "123.45", "0"),)),
        ],
        invoices=[Dated(*a, "USD", "500.00", date(2026, 3, 1)),
                  Dated(*b, "EUR", "250.50", date(2026, 2, 28), customer="cust-3"),
                  Dated(*a, "USD", "75.00", date(2026, 3, 2), void=True)],
        credit_notes=[Dated(*a, "USD", "20.25", date(2026, 4, 1))],
        payments=[Dated(*a, "USD", "300.00", date(2026, 3, 15), invoice=0),
                  Dated(*b, "EUR", "250.50", date(2026, 3, 31), customer="cust-3", invoice=1),
                  Dated(*a, "USD", "20.25", date(2026, 4, 2), method="CREDIT_BALANCE",
                        invoice=0)],
        quotes=[Quote(*a, "USD", "100.00", at(2026, 3, 2), at(2026, 3, 3), at(2026, 3, 5)),
                Quote(*a, "USD", "40.00", at(2026, 3, 2), at(2026, 3, 3),
                      rejected=at(2026, 3, 9)),
                Quote(*a, "EUR", "70.00", at(2026, 3, 2), at(2026, 3, 4),
                      expired=at(2026, 4, 4, 0, 5)),
                Quote(*a, "USD", "10.00", at(2026, 3, 2), at(2026, 3, 4)),  # still open
                Quote(*b, "EUR", "80.00", at(2026, 3, 1, 18, 29), at(2026, 3, 1, 18, 31),
                      at(2026, 3, 2, 9), customer="cust-3"),
                Quote(*b, "EUR", "20.00", at(2026, 3, 6), None, customer="cust-3")],
    )
