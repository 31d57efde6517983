"""Customers: the fields, their rules, and the changes a caller may make."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from . import validation as check
from .access import Principal
from .authorization import Move, authorize, check_assignment
from .errors import FailedPrecondition, Violations
from .money import Money
from .records import Address, Audit, Versioned


class CustomerType(str, Enum):
    INDIVIDUAL = "individual"
    BUSINESS = "business"
    GOVERNMENT = "government"


class CustomerStatus(str, Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    PROSPECT = "prospect"


class PaymentTerms(str, Enum):
    NET_15 = "NET_15"
    NET_30 = "NET_30"
    NET_45 = "NET_45"
    NET_60 = "NET_60"
    NET_90 = "NET_90"
    COD = "COD"
    PREPAID = "PREPAID"
    IMMEDIATE = "IMMEDIATE"


@dataclass(frozen=True)
class SalesStats:
    order_count: int = 0
    # One grand total per currency the customer ordered in (see by_currency): amounts in
    # different currencies are never converted or added together.
    total_spent: tuple[Money, ...] = ()
    last_order_time: datetime | None = None
    # What the customer owes on open and uncollectible invoices, and their credit balance
    # (credit notes beyond what was due), one Money per currency each.
    outstanding: tuple[Money, ...] = ()
    credit_balance: tuple[Money, ...] = ()

    def owed(self, currency: str) -> Decimal:
        return next((m.amount for m in self.outstanding if m.currency == currency), Decimal(0))

    def balance(self, currency: str) -> Decimal:
        return next((m.amount for m in self.credit_balance if m.currency == currency),
                    Decimal(0))

    def recorded(self, count: int, amount: Money, when: datetime | None) -> SalesStats:
        """After an order starts counting (1 and its grand total) or stops (-1 and minus it):
        the amount goes to its own currency's total. store/customers.py makes the same change
        in the database with one update."""
        latest = max((t for t in (self.last_order_time, when) if t is not None), default=None)
        return SalesStats(self.order_count + count, by_currency([*self.total_spent, amount]),
                          latest, self.outstanding, self.credit_balance)


def by_currency(amounts: Iterable[Money]) -> tuple[Money, ...]:
    """The amounts summed per currency, sorted by currency code: one Money each."""
    sums: dict[str, Decimal] = {}
    for money in amounts:
        sums[money.currency] = sums.get(money.currency, Decimal(0)) + money.amount
    return tuple(Money(currency, sums[currency]) for currency in sorted(sums))


@dataclass
class Customer(Versioned):
    id: str
    customer_code: str
    first_name: str
    last_name: str
    customer_type: CustomerType
    email: str
    owner_id: str
    team_id: str
    audit: Audit
    company_name: str = ""
    phone: str = ""
    billing_address: Address | None = None
    shipping_address: Address | None = None
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    credit_limit: Money | None = None
    tax_id: str = ""
    notes: str = ""
    status: CustomerStatus = CustomerStatus.ACTIVE
    stats: SalesStats = field(default_factory=SalesStats)
    delete_time: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.delete_time is not None


# The fields a caller may set, on create and through an update mask.
EDITABLE = frozenset({
    "first_name", "last_name", "company_name", "customer_type", "email", "phone",
    "billing_address", "shipping_address", "payment_terms", "credit_limit", "tax_id", "notes",
    "status", "owner_id", "team_id",
})
# Sub-paths of message fields that an update mask may name; they replace the whole field.
MASK_ALIASES = {
    "billing_address": "billing_address", "shipping_address": "shipping_address",
    "credit_limit": "credit_limit",
}


def validate(v: Violations, values: dict[str, Any], prefix: str = "customer") -> None:
    """Checks the given fields; on create every required field is present in `values`."""
    for name, max_len in (("first_name", 100), ("last_name", 100)):
        if name in values:
            check.text(v, f"{prefix}.{name}", values[name], required=True, max_len=max_len)
    for name, max_len in (("company_name", 200), ("tax_id", 50), ("notes", 2000)):
        if name in values:
            check.text(v, f"{prefix}.{name}", values[name], required=False, max_len=max_len)
    if "email" in values:
        check.email(v, f"{prefix}.email", values["email"])
    if "phone" in values:
        check.phone(v, f"{prefix}.phone", values["phone"])
    for name in ("billing_address", "shipping_address"):
        if name in values:
            check.address(v, f"{prefix}.{name}", values[name])
    if "customer_type" in values and values["customer_type"] is None:
        v.add(f"{prefix}.customer_type", "is required (INDIVIDUAL, BUSINESS or GOVERNMENT)")
    for name in ("status", "payment_terms"):
        if name in values and values[name] is None:
            v.add(f"{prefix}.{name}", "must not be UNSPECIFIED")
    limit = values.get("credit_limit")
    if limit is not None and limit.is_negative():
        v.add(f"{prefix}.credit_limit.amount", "must not be negative")
    elif limit is not None and not limit.fits_minor_unit():
        v.add(f"{prefix}.credit_limit.amount", limit.minor_unit_error())
    if "owner_id" in values:  # every customer has an owner; a blank one is nobody's
        check.text(v, f"{prefix}.owner_id", values["owner_id"], required=True, max_len=100)
    if "team_id" in values:
        check.text(v, f"{prefix}.team_id", values["team_id"], required=False, max_len=100)


def _require_company(v: Violations, kind: CustomerType | None, company: str, prefix: str) -> None:
    if kind in (CustomerType.BUSINESS, CustomerType.GOVERNMENT) and check.blank(company):
        v.add(f"{prefix}.company_name", "is required for business and government customers")


def check_credit_moves(principal: Principal, before: Customer | None, after: Customer) -> None:
    """Credit terms and suspensions are decisions for a manager or admin (authorization.py);
    `before` is None on create, where the defaults need no one's decision."""
    if after.credit_limit != (before.credit_limit if before else None):
        authorize(principal, Move.SET_CREDIT_LIMIT, detail="credit_limit")
    if after.payment_terms is not (before.payment_terms if before else PaymentTerms.NET_30):
        authorize(principal, Move.SET_PAYMENT_TERMS, detail="payment_terms")
    was_suspended = before is not None and before.status is CustomerStatus.SUSPENDED
    if after.status is CustomerStatus.SUSPENDED and not was_suspended:
        authorize(principal, Move.SUSPEND_CUSTOMER, detail="status")
    if was_suspended and after.status is not CustomerStatus.SUSPENDED:
        authorize(principal, Move.LIFT_SUSPENSION, detail="status")


def new_customer(values: dict[str, Any], *, id: str, code: str, principal: Principal,
                 now: datetime) -> Customer:
    values = dict(values)
    values.setdefault("status", CustomerStatus.ACTIVE)
    values.setdefault("payment_terms", PaymentTerms.NET_30)
    values["owner_id"] = values.get("owner_id") or principal.subject
    values["team_id"] = values.get("team_id") or principal.team_id
    v = Violations()
    for required in ("first_name", "last_name", "email"):
        values.setdefault(required, "")
    values.setdefault("customer_type", None)
    validate(v, values)
    _require_company(v, values["customer_type"], values.get("company_name", ""), "customer")
    v.raise_if_any()
    check_assignment(principal, values["owner_id"], values["team_id"])
    customer = Customer(id=id, customer_code=code, audit=Audit.new(principal.subject, now),
                        **values)
    check_credit_moves(principal, None, customer)
    return customer


def apply_update(customer: Customer, changes: dict[str, Any], *, principal: Principal,
                 now: datetime) -> Customer:
    if customer.is_deleted:
        raise FailedPrecondition(f"customer {customer.customer_code} is deleted",
                                 reason="CUSTOMER_DELETED")
    v = Violations()
    validate(v, changes)
    updated = replace(customer, **changes)
    _require_company(v, updated.customer_type, updated.company_name, "customer")
    v.raise_if_any()
    if "owner_id" in changes or "team_id" in changes:
        check_assignment(principal, updated.owner_id, updated.team_id)
    check_credit_moves(principal, customer, updated)
    updated.audit = customer.audit.touched(principal.subject, now)
    updated.version = customer.version + 1
    return updated


def check_orderable(customer: Customer | None, customer_id: str, doing: str) -> None:
    """Deleted (archived) and suspended customers get no new orders, and their drafts cannot
    be confirmed; `doing` names what was refused, for the message."""
    if customer is not None and not customer.is_deleted and \
            customer.status is not CustomerStatus.SUSPENDED:
        return
    state = "suspended" if customer is not None and not customer.is_deleted else "deleted"
    raise FailedPrecondition(f"{doing}: the customer is {state}",
                             reason="CUSTOMER_NOT_ORDERABLE", metadata={"customer_id": customer_id})


def check_mask(paths: list[str]) -> list[str]:
    return check.update_mask(paths, EDITABLE, kind="customer",
                             with_subfields=frozenset(MASK_ALIASES))
