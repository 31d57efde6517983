"""Product and stock messages to domain values and back."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from erp.sales.v1 import product_service_pb2 as pb

from ...domain.errors import Violations
from ...domain.money import MoneyError, parse_decimal
from ...domain.products import MovementReason, Product, StockMovement
from .common import (
    audit_out,
    enum_in,
    enum_names,
    enum_out,
    money_in,
    money_out,
    only_masked,
    timestamp,
)

REASONS = enum_names(pb.StockMovementReason.DESCRIPTOR, "STOCK_MOVEMENT_REASON_")


def values_in(message: pb.Product, mask: Sequence[str] | None = None) -> dict[str, Any]:
    """The editable fields as domain values; given a mask, bad values outside it are ignored."""
    v = Violations()
    values: dict[str, Any] = {
        "sku": message.sku, "name": message.name, "description": message.description,
        "category": message.category, "unit_of_measure": message.unit_of_measure or "each",
        "reorder_level": message.reorder_level,
        "active": message.active if message.HasField("active") else None,
        "unit_price": (money_in(v, "product.unit_price", message.unit_price)
                       if message.HasField("unit_price") else None),
        "cost": money_in(v, "product.cost", message.cost) if message.HasField("cost") else None,
        "tax_rate": None,
    }
    if message.HasField("tax_rate"):
        try:
            values["tax_rate"] = parse_decimal(message.tax_rate)
        except MoneyError as exc:
            v.add("product.tax_rate", str(exc))
    only_masked(v, "product", mask)
    v.raise_if_any()
    return values


def reason_in(v: Violations, number: int) -> MovementReason | None:
    return enum_in(v, "reason", number, REASONS, MovementReason)


def product_out(p: Product, default_tax_rate: Decimal) -> pb.Product:
    message = pb.Product(
        id=p.id, sku=p.sku, name=p.name, description=p.description, category=p.category,
        unit_price=money_out(p.unit_price), cost=money_out(p.cost),
        effective_tax_rate=str(p.effective_tax_rate(default_tax_rate)),
        unit_of_measure=p.unit_of_measure,
        stock=pb.StockLevel(on_hand=p.stock.on_hand, reserved=p.stock.reserved,
                            available=p.stock.available),
        reorder_level=p.reorder_level, active=p.active, audit=audit_out(p.audit), etag=p.etag,
        delete_time=timestamp(p.delete_time),
    )
    if p.tax_rate is not None:
        message.tax_rate = str(p.tax_rate)
    return message


def movement_out(m: StockMovement) -> pb.StockMovement:
    return pb.StockMovement(
        id=m.id, product_id=m.product_id, quantity_delta=m.quantity_delta,
        reason=enum_out(m.reason, REASONS),  # type: ignore[arg-type]
        note=m.note, on_hand_after=m.on_hand_after, actor=m.actor,
        create_time=timestamp(m.create_time))
