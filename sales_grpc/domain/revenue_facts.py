"""What each document fact adds to revenue, one rule for the projector (reading events) and the
rebuild (reading documents), so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from .rollups import Basis, Contribution, Dimension, Tally, day_start

# The facts that change revenue, each named with its document's id: (kind, id).
ORDER_CONFIRMED = "order-confirmed"
ORDER_CANCELLED = "order-cancelled"
INVOICE_FINALIZED = "invoice-finalized"
INVOICE_VOIDED = "invoice-voided"
CREDIT_NOTE_ISSUED = "credit-note-issued"
PAYMENT_RECEIVED = "payment-received"
QUOTE_OUTCOMES = {Basis.QUOTES_SENT: "quote-sent", Basis.QUOTES_ACCEPTED: "quote-accepted",
                  Basis.QUOTES_REJECTED: "quote-rejected", Basis.QUOTES_EXPIRED: "quote-expired"}
FactKey = tuple[str, str]
# Spending a credit balance moves money the customer already had: not a collection.
NOT_COLLECTED = frozenset({"CREDIT_BALANCE"})


@dataclass(frozen=True)
class Owner:
    currency: str
    owner_id: str
    team_id: str
    customer_id: str = ""


@dataclass(frozen=True)
class SoldLine:
    product_id: str
    quantity: int
    gross: Decimal
    discount: Decimal


@dataclass(frozen=True)
class Sale:
    """An order's figures that bookings keep."""

    grand_total: Decimal
    subtotal: Decimal = Decimal(0)
    discount_total: Decimal = Decimal(0)
    lines: tuple[SoldLine, ...] = ()


def _per_customer(c: Contribution, who: Owner) -> tuple[Contribution, ...]:
    """The totals row and, when the customer is known, the customer's row (amount and count
    only)."""
    if not who.customer_id:
        return (c,)
    return (c, replace(c, extra=None).per(Dimension.CUSTOMER, who.customer_id))


def booking(confirm_time: datetime, who: Owner, sale: Sale) -> tuple[Contribution, ...]:
    """An order in bookings: its grand total (with subtotal and discounts) per currency,
    owner and team, per customer, and each product's units and net amount (gross less
    discounts, before tax), one order per product however many lines carry it."""
    total = Contribution(Basis.BOOKINGS, confirm_time, who.currency, who.owner_id,
                         who.team_id, sale.grand_total, 1,
                         extra=Tally(gross=sale.subtotal, discount=sale.discount_total))
    products: dict[str, Tally] = {}
    for line in sale.lines:
        tally = products.setdefault(line.product_id, Tally(count=1))
        tally.amount += line.gross - line.discount
        tally.units += line.quantity
    return (*_per_customer(total, who), *(
        Contribution(Basis.BOOKINGS, confirm_time, who.currency, who.owner_id, who.team_id,
                     t.amount, 1, Dimension.PRODUCT, product_id, Tally(units=t.units))
        for product_id, t in sorted(products.items())))


def cancellation(confirm_time: datetime, who: Owner, sale: Sale) -> tuple[Contribution, ...]:
    """A confirmed order cancelled: its booking taken back at its confirm time, and counted
    among the cancelled there."""
    return (*(c.negated() for c in booking(confirm_time, who, sale)),
            Contribution(Basis.BOOKINGS, confirm_time, who.currency, who.owner_id,
                         who.team_id, Decimal(0), 0, extra=Tally(cancelled=1)))


def billing(issue_date: date, who: Owner, grand_total: Decimal) -> tuple[Contribution, ...]:
    return _per_customer(Contribution(Basis.BILLINGS, day_start(issue_date), who.currency,
                                      who.owner_id, who.team_id, grand_total, 1), who)


def credit(issue_date: date, who: Owner, grand_total: Decimal) -> tuple[Contribution, ...]:
    """A credit note lowers billings on its own issue date; invoices are still counted."""
    return _per_customer(Contribution(Basis.BILLINGS, day_start(issue_date), who.currency,
                                      who.owner_id, who.team_id, -grand_total, 0), who)


def collection(payment_date: date, method: str, who: Owner, amount: Decimal,
               issue_date: date | None = None) -> tuple[Contribution, ...]:
    """A payment on its day, with the days since its invoice's issue date when known."""
    if method in NOT_COLLECTED:
        return ()
    days = (payment_date - issue_date).days if issue_date else 0
    return _per_customer(Contribution(Basis.COLLECTIONS, day_start(payment_date),
                                      who.currency, who.owner_id, who.team_id, amount, 1,
                                      extra=Tally(days=days)), who)


def quote_outcome(basis: Basis, quote_id: str, moment: datetime, who: Owner,
                  grand_total: Decimal) -> Fact:
    """A quote sent, accepted, rejected or expired: one quote and its grand total."""
    return Fact((QUOTE_OUTCOMES[basis], quote_id), (Contribution(
        basis, moment, who.currency, who.owner_id, who.team_id, grand_total, 1),))


@dataclass(frozen=True)
class Fact:
    """What one event tells revenue: the document fact it records and what that adds.

    A cancellation takes the order's booking back from the buckets of its confirm time, which
    the event does not carry: `unbooks` is that cancellation with the cancel time in its
    place, settled by `resolved` once the order's confirm time is read (a cancelled draft has
    none, and never counted)."""

    key: FactKey
    contributions: tuple[Contribution, ...] = ()
    unbooks: tuple[Contribution, ...] | None = None

    def resolved(self, confirm_time: datetime | None) -> tuple[Contribution, ...]:
        if self.unbooks is None:
            return self.contributions
        if confirm_time is None:
            return ()
        return tuple(replace(c, moment=confirm_time) for c in self.unbooks)


def order_cancelled(order_id: str, cancel_time: datetime, who: Owner, sale: Sale) -> Fact:
    return Fact((ORDER_CANCELLED, order_id), unbooks=cancellation(cancel_time, who, sale))


def invoice_voided(invoice_id: str, issue_date: date, who: Owner, grand_total: Decimal
                   ) -> Fact:
    """Only an owing invoice without payments or credits can be voided: its billing goes."""
    return Fact((INVOICE_VOIDED, invoice_id), negated(billing(issue_date, who, grand_total)))


def negated(parts: Iterable[Contribution]) -> tuple[Contribution, ...]:
    return tuple(c.negated() for c in parts)
