"""Domain events that order changes emit; written to the outbox in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StockQuantity:
    product_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderConfirmed:
    order_id: str
    number: str
    customer_id: str
    grand_total: str
    currency: str
    credit_limit_overridden: bool = False


@dataclass(frozen=True)
class OrderCancelled:
    order_id: str
    number: str
    reason: str


@dataclass(frozen=True)
class OrderShipped:
    order_id: str
    number: str


@dataclass(frozen=True)
class OrderDelivered:
    order_id: str
    number: str


@dataclass(frozen=True)
class StockReserved:
    order_id: str
    quantities: list[StockQuantity] = field(default_factory=list)


@dataclass(frozen=True)
class StockReleased:
    order_id: str
    quantities: list[StockQuantity] = field(default_factory=list)


DomainEvent = (OrderConfirmed | OrderCancelled | OrderShipped | OrderDelivered | StockReserved
               | StockReleased)
