"""Turns a document's requested lines into lines priced against the current catalog: the same
for orders, quotes and invoices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..domain.documents import lines as rules
from ..domain.documents.lines import DocumentLine
from ..domain.errors import Violations
from ..domain.money import Money, MoneyError, parse_decimal
from ..domain.pricing import LineAmounts
from ..domain.products import Product
from ..domain.validation import OBJECT_ID
from .ports import ProductRecords


@dataclass(frozen=True)
class LineInput:
    product_id: str
    quantity: int
    unit_price: Money | None = None
    discount_rate: str = ""


def parse_rate(v: Violations, path: str, text: str) -> Decimal:
    """A fraction between 0 and 1 such as "0.10"; empty means 0."""
    if not text:
        return Decimal(0)
    try:
        rate = parse_decimal(text, max_places=6)
    except MoneyError as exc:
        v.add(path, str(exc))
        return Decimal(0)
    if not Decimal(0) <= rate <= Decimal(1):
        v.add(path, "must be a fraction between 0 and 1, such as 0.10 for 10%")
    return rate


async def load_catalog(products: ProductRecords, inputs: list[LineInput]
                       ) -> dict[str, Product]:
    """The products the lines name, in one round trip (none for an oversized order)."""
    if len(inputs) > rules.MAX_LINES:
        return {}
    return await products.get_many(
        [item.product_id for item in inputs if OBJECT_ID.fullmatch(item.product_id)])


def build_lines(v: Violations, inputs: list[LineInput], currency: str,
                catalog: dict[str, Product], default_tax_rate: Decimal,
                prefix: str) -> list[DocumentLine]:
    if not inputs:
        v.add(prefix, "at least one line is required")
    if len(inputs) > rules.MAX_LINES:
        v.add(prefix, f"at most {rules.MAX_LINES} lines are allowed (got {len(inputs)})")
        return []
    lines: list[DocumentLine] = []
    for i, item in enumerate(inputs):
        path = f"{prefix}[{i}]"
        if not 1 <= item.quantity <= rules.MAX_QUANTITY:
            v.add(f"{path}.quantity", f"must be between 1 and {rules.MAX_QUANTITY}")
        discount = parse_rate(v, f"{path}.discount_rate", item.discount_rate)
        if not OBJECT_ID.fullmatch(item.product_id):
            v.add(f"{path}.product_id", "is not a valid product id")
            continue
        product = catalog.get(item.product_id)
        if product is None:
            v.add(f"{path}.product_id", f"product {item.product_id} does not exist")
            continue
        if not product.sellable:
            v.add(f"{path}.product_id", f"product {product.sku} is "
                  f"{'deleted' if product.is_deleted else 'inactive'} and cannot be sold")
            continue
        # The list price must be in the order's currency: it is what discounts (and so the
        # discount limit) are measured against, and the catalog has one price per product.
        if product.unit_price.currency != currency:
            v.add(f"{path}.product_id", f"{product.sku} is listed in "
                  f"{product.unit_price.currency}, the document is in {currency}")
            continue
        price = item.unit_price or product.unit_price
        if price.currency != currency:
            v.add(f"{path}.unit_price.currency_code", f"must be the document's currency {currency}")
            continue
        if not Decimal(0) <= price.amount < rules.MAX_UNIT_PRICE:
            v.add(f"{path}.unit_price.amount", "must be between 0 and 1000000000")
            continue
        lines.append(DocumentLine(product.id, product.sku, product.name, item.quantity,
                               price.amount, item.unit_price is not None, discount,
                               product.effective_tax_rate(default_tax_rate),
                               LineAmounts(Decimal(0), Decimal(0), Decimal(0)),
                               product.unit_price.amount))
    return lines
