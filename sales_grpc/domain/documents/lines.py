"""A document's lines: priced against the catalog by the one pricing rule, held to the discount
limit, and summed into totals.

Amounts are Decimals in the document's currency: a line cannot be in another currency than its
document, so the currency is kept once, on the document, where it cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..access import Principal
from ..authorization import Move, authorize
from ..pricing import LineAmounts, Totals, effective_discount, price_line, total

MAX_LINES = 200
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = Decimal("1e9")
RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class DocumentLine:
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

    def effective_discount(self, document_discount: Decimal) -> Decimal:
        return effective_discount(self.list_price, self.unit_price, self.discount_rate,
                                  document_discount)


def reprice(lines: list[DocumentLine], document_discount: Decimal, currency: str
            ) -> list[DocumentLine]:
    return [replace(line, amounts=price_line(line.quantity, line.unit_price, line.discount_rate,
                                             document_discount, line.tax_rate, currency))
            for line in lines]


def totals_of(lines: list[DocumentLine], shipping: Decimal) -> Totals:
    return total([line.amounts for line in lines], shipping)


def quantities(lines: list[DocumentLine]) -> dict[str, int]:
    """Units per product, with repeated products summed."""
    summed: dict[str, int] = {}
    for line in lines:
        summed[line.product_id] = summed.get(line.product_id, 0) + line.quantity
    return summed


def check_discounts(principal: Principal, lines: list[DocumentLine], document_discount: Decimal,
                    limit: Decimal, prefix: str) -> None:
    """Above `limit` off the list price needs a manager or admin. The limit applies to each
    line's effective discount: a price override, the line discount and the document discount
    combined, so no mix of them gives away more than one of them may."""
    for i, line in enumerate(lines):
        rate = line.effective_discount(document_discount)
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
