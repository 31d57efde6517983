"""Receivables aging: what customers owe, by currency, in buckets of days past due. Amounts of
different currencies are never added together, and the buckets always add up to the total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# The upper bound (days past due, inclusive) of each bucket after "current"; the last is open.
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
_LIMITS = (0, 30, 60, 90)


def bucket_of(due_date: date, as_of: date) -> int:
    """0 for not yet due (due on or after `as_of`), then 1-30, 31-60, 61-90, over 90 days."""
    late = (as_of - due_date).days
    for index, limit in enumerate(_LIMITS):
        if late <= limit:
            return index
    return len(_LIMITS)


@dataclass(frozen=True)
class Receivable:
    """One owed invoice as the aging reads it."""

    customer_id: str
    currency: str
    due_date: date
    amount_due: Decimal


@dataclass
class Buckets:
    currency: str
    amounts: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * len(BUCKETS))
    invoice_count: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal(0))

    def add(self, receivable: Receivable, as_of: date) -> None:
        self.amounts[bucket_of(receivable.due_date, as_of)] += receivable.amount_due
        self.invoice_count += 1


@dataclass
class Aging:
    as_of: date
    # customer id -> currency -> buckets
    customers: dict[str, dict[str, Buckets]] = field(default_factory=dict)
    totals: dict[str, Buckets] = field(default_factory=dict)


def age(receivables: Iterable[Receivable], as_of: date) -> Aging:
    aging = Aging(as_of)
    for r in receivables:
        if r.amount_due == 0:
            continue
        per_customer = aging.customers.setdefault(r.customer_id, {})
        per_customer.setdefault(r.currency, Buckets(r.currency)).add(r, as_of)
        aging.totals.setdefault(r.currency, Buckets(r.currency)).add(r, as_of)
    return aging
