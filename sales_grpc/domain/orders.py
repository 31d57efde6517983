"""Sales orders: a sales document with its lifecycle, stock reservation and credit rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from .access import Principal
from .authorization import check_assignment
from .documents.document import SalesDocument
from .documents.lifecycle import HistoryEntry, StateMachine, Step
from .documents.lines import quantities
from .errors import FailedPrecondition, InvalidArgument, PreconditionViolation
from .tallies import LineTally


class OrderState(str, Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class OrderAction(str, Enum):
    """What can happen to an order; the values are the history's `action` strings."""

    CREATE = "created"
    UPDATE = "updated"
    CONFIRM = "confirmed"
    START_PROCESSING = "processing"
    SHIP = "shipped"
    DELIVER = "delivered"
    CANCEL = "cancelled"
    OVERRIDE_CREDIT = "credit_override"


LIFECYCLE: StateMachine[OrderAction, OrderState] = StateMachine("order", "salesOrders", {
    OrderAction.CONFIRM: Step(frozenset({OrderState.DRAFT}), OrderState.CONFIRMED),
    OrderAction.START_PROCESSING: Step(frozenset({OrderState.CONFIRMED}),
                                       OrderState.PROCESSING),
    OrderAction.SHIP: Step(frozenset({OrderState.PROCESSING}), OrderState.SHIPPED),
    OrderAction.DELIVER: Step(frozenset({OrderState.SHIPPED}), OrderState.DELIVERED),
    OrderAction.CANCEL: Step(frozenset({OrderState.DRAFT, OrderState.CONFIRMED,
                                        OrderState.PROCESSING}), OrderState.CANCELLED),
})
# States in which the order holds reserved stock.
RESERVING = frozenset({OrderState.CONFIRMED, OrderState.PROCESSING})
# States whose grand total counts as the customer's open exposure (until invoiced).
OPEN_EXPOSURE = frozenset({OrderState.CONFIRMED, OrderState.PROCESSING, OrderState.SHIPPED,
                           OrderState.DELIVERED})
# States in which an order can be invoiced.
INVOICEABLE = OPEN_EXPOSURE
OrderHistoryEntry = HistoryEntry[OrderAction, OrderState]


@dataclass
class SalesOrder(SalesDocument[OrderState]):
    cancel_reason: str = ""
    credit_limit_overridden: bool = False
    quote_id: str = ""  # the quote it was made from, if any
    # Invoicing, kept by the invoice service in the invoice's transaction (store/orders.py
    # writes it apart from the order's own fields): per line what invoices claim (drafts
    # included), whether an invoice carries the shipping charge, and the grand totals of the
    # finalized, not void invoices.
    invoiced: list[LineTally] = field(default_factory=list)
    shipping_invoiced: bool = False
    invoiced_amount: Decimal = Decimal(0)

    def machine(self) -> StateMachine[Any, OrderState]:
        return LIFECYCLE

    @property
    def confirm_time(self) -> datetime | None:
        return self.entered.get(OrderState.CONFIRMED)

    @property
    def ship_time(self) -> datetime | None:
        return self.entered.get(OrderState.SHIPPED)

    @property
    def deliver_time(self) -> datetime | None:
        return self.entered.get(OrderState.DELIVERED)

    @property
    def cancel_time(self) -> datetime | None:
        return self.entered.get(OrderState.CANCELLED)

    def reserved_quantities(self) -> dict[str, int]:
        """Units per product, with repeated products summed: one reservation each."""
        return quantities(self.lines)

    @property
    def has_invoices(self) -> bool:
        return any(t.quantity for t in self.invoiced) or self.shipping_invoiced

    def require_no_invoices(self) -> None:
        """An order with invoices (drafts included) cannot be cancelled: its bills would
        stand for goods nobody ordered."""
        if self.has_invoices:
            raise FailedPrecondition(
                f"order {self.number} has invoices; delete its draft invoices and void or "
                "credit its finalized ones first", reason="ORDER_INVOICED",
                violations=[PreconditionViolation("INVOICES", f"salesOrders/{self.id}",
                                                  "the order has invoices")])

    def require_draft(self) -> None:
        if self.state is not OrderState.DRAFT:
            raise FailedPrecondition(
                f"order {self.number} is {self.state.name}; only drafts can be edited",
                reason="ORDER_NOT_DRAFT", metadata={"current_state": self.state.name})


def assignment(principal: Principal, customer_team: str, owner_id: str, team_id: str,
               prefix: str = "sales_order") -> tuple[str, str]:
    """The owner and team of a new sales document. Its team is its customer's, so it stays
    in the view of the team that holds the customer; its owner defaults to the caller, and
    giving it to someone else follows the rules for customers (authorization.py)."""
    if team_id and team_id != customer_team:
        raise InvalidArgument.of(f"{prefix}.team_id", "must be the customer's team "
                                 f"{customer_team[:40]!r}, or empty")
    owner = owner_id or principal.subject
    check_assignment(principal, owner, customer_team)
    return owner, customer_team


def shortage_error(number: str, shortages: list[tuple[str, str, int, int]]
                   ) -> FailedPrecondition:
    """shortages: (product_id, sku, requested, available)."""
    return FailedPrecondition(
        f"not enough stock to confirm {number}: " + ", ".join(
            f"{sku} short by {requested - available}" for _, sku, requested, available
            in shortages),
        reason="INSUFFICIENT_STOCK",
        violations=[PreconditionViolation(
            "INSUFFICIENT_STOCK", f"products/{product_id}",
            f"{sku}: requested {requested}, available {max(available, 0)}, "
            f"missing {requested - max(available, 0)}")
            for product_id, sku, requested, available in shortages])


def credit_error(customer_id: str, customer_code: str, limit: Decimal, exposure: Decimal,
                 amount: Decimal, currency: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"confirming would raise {customer_code}'s open exposure to {exposure + amount} "
        f"{currency}, above the credit limit {limit} {currency}",
        reason="CREDIT_LIMIT_EXCEEDED",
        metadata={"credit_limit": str(limit), "open_exposure": str(exposure),
                  "order_total": str(amount), "currency": currency},
        violations=[PreconditionViolation(
            "CREDIT_LIMIT", f"customers/{customer_id}",
            f"open exposure {exposure} + order {amount} > limit {limit} {currency}")])
