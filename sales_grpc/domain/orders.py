"""Sales orders: lines, the lifecycle state machine, and the rules for changing them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from .access import Principal
from .authorization import Move, authorize, check_assignment
from .errors import FailedPrecondition, InvalidArgument, PreconditionViolation
from .pricing import LineAmounts, Totals, effective_discount, price_line, total
from .records import Audit, Versioned

MAX_LINES = 200
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = Decimal("1e9")


class OrderState(str, Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The lifecycle: each action, the states it may start from, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[OrderState], OrderState]] = {
    "confirmed": (frozenset({OrderState.DRAFT}), OrderState.CONFIRMED),
    "processing": (frozenset({OrderState.CONFIRMED}), OrderState.PROCESSING),
    "shipped": (frozenset({OrderState.PROCESSING}), OrderState.SHIPPED),
    "delivered": (frozenset({OrderState.SHIPPED}), OrderState.DELIVERED),
    "cancelled": (frozenset({OrderState.DRAFT, OrderState.CONFIRMED, OrderState.PROCESSING}),
                  OrderState.CANCELLED),
}
# States in which the order holds reserved stock.
RESERVING = frozenset({OrderState.CONFIRMED, OrderState.PROCESSING})
# States whose grand total counts as the customer's open exposure (until invoiced).
OPEN_EXPOSURE = frozenset({OrderState.CONFIRMED, OrderState.PROCESSING, OrderState.SHIPPED,
                           OrderState.DELIVERED})


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    sku: str
    product_name: str
    quantity: int
    unit_price: Decimal
    price_given: bool
    discount_rate: Decimal
    tax_rate: Decimal
    amounts: LineAmounts
    # The catalog price when the line was priced: what discounts are measured against.
    list_price: Decimal

    def effective_discount(self, order_discount: Decimal) -> Decimal:
        return effective_discount(self.list_price, self.unit_price, self.discount_rate,
                                  order_discount)


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    from_state: OrderState | None
    to_state: OrderState
    actor: str
    time: datetime
    note: str = ""


@dataclass
class SalesOrder(Versioned):
    id: str
    number: str
    customer_id: str
    currency: str
    lines: list[OrderLine]
    discount_rate: Decimal
    shipping: Decimal
    totals: Totals
    owner_id: str
    team_id: str
    audit: Audit
    state: OrderState = OrderState.DRAFT
    notes: str = ""
    confirm_time: datetime | None = None
    ship_time: datetime | None = None
    deliver_time: datetime | None = None
    cancel_time: datetime | None = None
    cancel_reason: str = ""
    credit_limit_overridden: bool = False
    history: list[HistoryEntry] = field(default_factory=list)

    def reserved_quantities(self) -> dict[str, int]:
        """Units per product, with repeated products summed: one reservation each."""
        quantities: dict[str, int] = {}
        for line in self.lines:
            quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
        return quantities

    def transition(self, action: str, principal: Principal, now: datetime, note: str = ""
                   ) -> None:
        allowed, target = TRANSITIONS[action]
        if self.state not in allowed:
            names = " or ".join(sorted(s.name for s in allowed))
            raise FailedPrecondition(
                f"order {self.number} is {self.state.name}; only a {names} order can be "
                f"{action}", reason="INVALID_STATE_TRANSITION",
                metadata={"current_state": self.state.name, "action": action},
                violations=[PreconditionViolation("STATE", f"salesOrders/{self.id}",
                                                  f"current state is {self.state.name}")])
        self.history.append(HistoryEntry(action, self.state, target, principal.subject, now, note))
        self.state = target
        setattr_time = {"confirmed": "confirm_time", "shipped": "ship_time",
                        "delivered": "deliver_time", "cancelled": "cancel_time"}.get(action)
        if setattr_time:
            setattr(self, setattr_time, now)
        self.touch(principal, now)

    def touch(self, principal: Principal, now: datetime) -> None:
        self.audit = self.audit.touched(principal.subject, now)
        self.version += 1

    def require_draft(self) -> None:
        if self.state is not OrderState.DRAFT:
            raise FailedPrecondition(
                f"order {self.number} is {self.state.name}; only drafts can be edited",
                reason="ORDER_NOT_DRAFT", metadata={"current_state": self.state.name})


def reprice(lines: list[OrderLine], order_discount: Decimal, currency: str
            ) -> list[OrderLine]:
    return [
        OrderLine(line.product_id, line.sku, line.product_name, line.quantity, line.unit_price,
                  line.price_given, line.discount_rate, line.tax_rate,
                  price_line(line.quantity, line.unit_price, line.discount_rate,
                             order_discount, line.tax_rate, currency), line.list_price)
        for line in lines
    ]


def totals_of(lines: list[OrderLine], shipping: Decimal) -> Totals:
    return total([line.amounts for line in lines], shipping)


def assignment(principal: Principal, customer_team: str, owner_id: str, team_id: str
               ) -> tuple[str, str]:
    """The owner and team of a new order. Its team is its customer's, so the order stays in
    the view of the team that holds the customer; its owner defaults to the caller, and
    giving it to someone else follows the rules for customers (authorization.py)."""
    if team_id and team_id != customer_team:
        raise InvalidArgument.of("sales_order.team_id", "must be the customer's team "
                                 f"{customer_team[:40]!r}, or empty")
    owner = owner_id or principal.subject
    check_assignment(principal, owner, customer_team)
    return owner, customer_team


def check_discounts(principal: Principal, lines: list[OrderLine], order_discount: Decimal,
                    limit: Decimal, prefix: str = "sales_order") -> None:
    """Above `limit` off the list price needs a manager or admin. The limit applies to each
    line's effective discount: a price override, the line discount and the order discount
    combined, so no mix of them gives away more than one of them may."""
    for i, line in enumerate(lines):
        rate = line.effective_discount(order_discount)
        if rate > limit:
            field_path = f"{prefix}.lines[{i}]"
            authorize(principal, Move.DISCOUNT_ABOVE_LIMIT,
                      detail=f"{field_path} ({line.sku[:40]}) is {percent(rate)} off its list "
                      f"price {line.list_price}, above the {percent(limit)} limit",
                      metadata={"limit": str(limit), "field": field_path,
                                "requested": rate_text(rate)})


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01')).normalize():f}%"


def rate_text(rate: Decimal) -> str:
    """A rate for people and clients: at most 6 places, no trailing zeros ("0.36")."""
    return f"{rate.quantize(RATE_PLACES).normalize():f}"


RATE_PLACES = Decimal("0.000001")


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


def credit_error(customer_code: str, limit: Decimal, exposure: Decimal, amount: Decimal,
                 currency: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"confirming would raise {customer_code}'s open exposure to {exposure + amount} "
        f"{currency}, above the credit limit {limit} {currency}",
        reason="CREDIT_LIMIT_EXCEEDED",
        metadata={"credit_limit": str(limit), "open_exposure": str(exposure),
                  "order_total": str(amount), "currency": currency},
        violations=[PreconditionViolation(
            "CREDIT_LIMIT", f"customers/{customer_code}",
            f"open exposure {exposure} + order {amount} > limit {limit} {currency}")])
