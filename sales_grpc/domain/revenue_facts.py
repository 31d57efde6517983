"""What each document fact adds to revenue, one rule for the projector (reading events) and the
rebuild (reading documents), so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from .rollups import Basis, Contribution, day_start

# The facts that change revenue, each named with its document's id: (kind, id).
ORDER_CONFIRMED = "order-confirmed"
ORDER_CANCELLED = "order-cancelled"
INVOICE_FINALIZED = "invoice-finalized"
INVOICE_VOIDED = "invoice-voided"
CREDIT_NOTE_ISSUED = "credit-note-issued"
PAYMENT_RECEIVED = "payment-received"
FactKey = tuple[str, str]
# Spending a credit balance moves money the customer already had: not a collection.
NOT_COLLECTED = frozenset({"CREDIT_BALANCE"})


@dataclass(frozen=True)
class Owner:
    currency: str
    owner_id: str
    team_id: str


def booking(confirm_time: datetime, who: Owner, grand_total: Decimal) -> Contribution:
    return Contribution(Basis.BOOKINGS, confirm_time, who.currency, who.owner_id, who.team_id,
                        grand_total, 1)


def billing(issue_date: date, who: Owner, grand_total: Decimal) -> Contribution:
    return Contribution(Basis.BILLINGS, day_start(issue_date), who.currency, who.owner_id,
                        who.team_id, grand_total, 1)


def credit(issue_date: date, who: Owner, grand_total: Decimal) -> Contribution:
    """A credit note lowers billings on its own issue date; invoices are still counted."""
    return Contribution(Basis.BILLINGS, day_start(issue_date), who.currency, who.owner_id,
                        who.team_id, -grand_total, 0)


def collection(payment_date: date, method: str, who: Owner, amount: Decimal
               ) -> Contribution | None:
    if method in NOT_COLLECTED:
        return None
    return Contribution(Basis.COLLECTIONS, day_start(payment_date), who.currency,
                        who.owner_id, who.team_id, amount, 1)


@dataclass(frozen=True)
class Fact:
    """What one event tells revenue: the document fact it records and what that adds.

    A cancellation takes the order's booking back from the bucket of its confirm time, which
    the event does not carry: `unbooks` is that booking with the cancel time in its place,
    settled by `resolved` once the order's confirm time is read (a cancelled draft has none,
    and never counted)."""

    key: FactKey
    contributions: tuple[Contribution, ...] = ()
    unbooks: Contribution | None = None

    def resolved(self, confirm_time: datetime | None) -> tuple[Contribution, ...]:
        if self.unbooks is None:
            return self.contributions
        if confirm_time is None:
            return ()
        return (replace(self.unbooks, moment=confirm_time).negated(),)


def invoice_voided(invoice_id: str, issue_date: date, who: Owner, grand_total: Decimal
                   ) -> Fact:
    """Only an owing invoice without payments or credits can be voided: its billing goes."""
    return Fact((INVOICE_VOIDED, invoice_id), (billing(issue_date, who, grand_total).negated(),))
