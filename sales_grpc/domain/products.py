"""Products and their stock: catalog rules and the stock-movement ledger's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from . import validation as check
from .errors import FailedPrecondition, PreconditionViolation, Violations
from .money import Money
from .records import Audit, Versioned

_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_STOCK_DELTA = 10**9


class MovementReason(str, Enum):
    RECEIPT = "receipt"
    CORRECTION = "correction"
    WRITE_OFF = "write_off"
    CUSTOMER_RETURN = "customer_return"
    SHIPMENT = "shipment"


@dataclass(frozen=True)
class Stock:
    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class Product(Versioned):
    id: str
    sku: str
    name: str
    unit_price: Money
    audit: Audit
    description: str = ""
    category: str = ""
    cost: Money | None = None
    tax_rate: Decimal | None = None
    unit_of_measure: str = "each"
    stock: Stock = Stock()
    reorder_level: int = 0
    active: bool = True
    delete_time: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.delete_time is not None

    def effective_tax_rate(self, default: Decimal) -> Decimal:
        """0% is a real rate; only an unset rate falls back to the default."""
        return default if self.tax_rate is None else self.tax_rate

    @property
    def sellable(self) -> bool:
        return self.active and not self.is_deleted


@dataclass(frozen=True)
class StockMovement:
    id: str
    product_id: str
    quantity_delta: int
    reason: MovementReason
    note: str
    on_hand_after: int
    actor: str
    create_time: datetime


EDITABLE = frozenset({
    "sku", "name", "description", "category", "unit_price", "cost", "tax_rate",
    "unit_of_measure", "reorder_level", "active",
})


def validate(v: Violations, values: dict[str, Any], prefix: str = "product") -> None:
    if "sku" in values and not _SKU.fullmatch(values["sku"] or ""):
        v.add(f"{prefix}.sku", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with "
              "a letter or digit")
    if "name" in values:
        check.text(v, f"{prefix}.name", values["name"], required=True, max_len=200)
    if "description" in values:
        check.text(v, f"{prefix}.description", values["description"], required=False, max_len=5000)
    if "category" in values:
        check.text(v, f"{prefix}.category", values["category"], required=False, max_len=100)
    if "unit_of_measure" in values:
        check.text(v, f"{prefix}.unit_of_measure", values["unit_of_measure"], required=True,
                   max_len=20)
    if "unit_price" in values:
        price = values["unit_price"]
        if price is None:
            v.add(f"{prefix}.unit_price", "is required")
        elif price.is_negative():
            v.add(f"{prefix}.unit_price.amount", "must not be negative")
    cost = values.get("cost")
    if cost is not None and cost.is_negative():
        v.add(f"{prefix}.cost.amount", "must not be negative")
    rate = values.get("tax_rate")
    if rate is not None and not Decimal(0) <= rate <= Decimal(1):
        v.add(f"{prefix}.tax_rate", "must be a fraction between 0 and 1, such as 0.15")
    if "reorder_level" in values and not 0 <= values["reorder_level"] <= MAX_STOCK_DELTA:
        v.add(f"{prefix}.reorder_level", "must be between 0 and 1000000000")


def _check_cost_currency(v: Violations, product: Product, prefix: str = "product") -> None:
    if product.cost is not None and product.cost.currency != product.unit_price.currency:
        v.add(f"{prefix}.cost.currency_code", "must be the unit price's currency "
              f"({product.unit_price.currency})")


def new_product(values: dict[str, Any], *, id: str, actor: str, now: datetime) -> Product:
    values = {k: v for k, v in values.items() if k in EDITABLE}
    values.setdefault("sku", "")
    values.setdefault("name", "")
    values.setdefault("unit_price", None)
    if values.get("active") is None:
        values["active"] = True
    v = Violations()
    validate(v, values)
    v.raise_if_any()
    product = Product(id=id, audit=Audit.new(actor, now), **values)
    _check_cost_currency(v, product)
    v.raise_if_any()
    return product


def apply_update(product: Product, changes: dict[str, Any], *, actor: str,
                 now: datetime) -> Product:
    if product.is_deleted:
        raise FailedPrecondition(f"product {product.sku} is deleted", reason="PRODUCT_DELETED")
    v = Violations()
    validate(v, changes)
    v.raise_if_any()
    updated = replace(product, **changes)
    _check_cost_currency(v, updated)
    v.raise_if_any()
    updated.audit = product.audit.touched(actor, now)
    updated.version = product.version + 1
    return updated


def check_mask(paths: list[str]) -> list[str]:
    return check.update_mask(paths, EDITABLE, kind="product",
                             with_subfields=frozenset({"unit_price", "cost"}),
                             hints={"stock": "stock changes through AdjustStock"})


def check_deletable(product: Product) -> None:
    if product.is_deleted:
        raise FailedPrecondition(f"product {product.sku} is already deleted",
                                 reason="PRODUCT_DELETED")
    if product.stock.reserved:
        raise FailedPrecondition(
            f"product {product.sku} has {product.stock.reserved} units reserved by open orders",
            reason="STOCK_RESERVED",
            violations=[PreconditionViolation("STOCK_RESERVED", f"products/{product.id}",
                                              f"{product.stock.reserved} units reserved")],
        )


def check_adjustment(delta: int, reason: MovementReason | None, note: str) -> MovementReason:
    v = Violations()
    if delta == 0:
        v.add("quantity_delta", "must not be zero")
    elif abs(delta) > MAX_STOCK_DELTA:
        v.add("quantity_delta", f"must be at most {MAX_STOCK_DELTA} in size")
    if reason is None:
        v.add("reason", "is required (RECEIPT, CORRECTION, WRITE_OFF or CUSTOMER_RETURN)")
    elif reason is MovementReason.SHIPMENT:
        v.add("reason", "SHIPMENT movements are written by the order service only")
    elif reason in (MovementReason.RECEIPT, MovementReason.CUSTOMER_RETURN) and delta < 0:
        v.add("quantity_delta", f"must be positive for {reason.name}")
    elif reason is MovementReason.WRITE_OFF and delta > 0:
        v.add("quantity_delta", "must be negative for WRITE_OFF")
    check.text(v, "note", note, required=False, max_len=500)
    v.raise_if_any()
    assert reason is not None
    return reason


def short_stock_error(product: Product, delta: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"cannot take {-delta} units off {product.sku}: {product.stock.on_hand} on hand, "
        f"{product.stock.reserved} reserved",
        reason="INSUFFICIENT_STOCK",
        violations=[PreconditionViolation(
            "INSUFFICIENT_STOCK", f"products/{product.id}",
            f"on hand would fall below the {product.stock.reserved} reserved units")],
    )

