"""Order pricing: exact line amounts rounded per line, totals as sums of rounded lines.

Rounding is half-up to the currency's minor unit, applied to each line amount; totals are
sums of rounded line amounts, so a document's lines always add up to its totals to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import Violations
from .money import MAX_ABS_AMOUNT, round_to_minor


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.gross - self.discount + self.tax


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping: Decimal

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal - self.discount_total + self.tax_total + self.shipping


def price_line(quantity: int, unit_price: Decimal, line_discount: Decimal,
               order_discount: Decimal, tax_rate: Decimal, currency: str) -> LineAmounts:
    gross = round_to_minor(quantity * unit_price, currency)
    own = round_to_minor(gross * line_discount, currency)
    share = round_to_minor((gross - own) * order_discount, currency)
    tax = round_to_minor((gross - own - share) * tax_rate, currency)
    return LineAmounts(gross, own + share, tax)


def effective_discount(list_price: Decimal, unit_price: Decimal, line_discount: Decimal,
                       order_discount: Decimal) -> Decimal:
    """The share of the list price the customer does not pay, before tax: a price below list,
    the line's discount and the order's discount combined (0.2 and 0.2 make 0.36). Exact;
    a price above list is a markup, which is no discount rather than a negative one."""
    if list_price <= 0:
        return Decimal(0)  # nothing listed to discount from
    paid = unit_price / list_price * (1 - line_discount) * (1 - order_discount)
    return max(Decimal(0), 1 - paid)


def total(lines: list[LineAmounts], shipping: Decimal) -> Totals:
    return Totals(
        subtotal=sum((line.gross for line in lines), Decimal(0)),
        discount_total=sum((line.discount for line in lines), Decimal(0)),
        tax_total=sum((line.tax for line in lines), Decimal(0)),
        shipping=shipping,
    )


def check_within_cap(lines: list[LineAmounts], totals: Totals, prefix: str = "sales_order"
                     ) -> None:
    """Every line amount and every total stays below MAX_ABS_AMOUNT, the cap on amounts a
    client may send: a computed amount past it (a million units at a near-billion price, or
    shipping on top of a total just under it) is one no client could send back."""
    cap = MAX_ABS_AMOUNT
    v = Violations()
    for i, line in enumerate(lines):
        largest = max(line.gross, line.discount, line.tax, line.total)
        if largest >= cap:
            v.add(f"{prefix}.lines[{i}]", f"the line's amount would be {largest}, which "
                  f"exceeds the cap: amounts must stay below {cap:f}")
    for name, amount in (("subtotal", totals.subtotal), ("discount total", totals.discount_total),
                         ("tax total", totals.tax_total)):
        if amount >= cap:
            v.add(f"{prefix}.lines", f"the order's {name} would be {amount}, which exceeds "
                  f"the cap: amounts must stay below {cap:f}")
    if totals.grand_total >= cap and not v.items:
        pushed = totals.shipping > 0 and totals.grand_total - totals.shipping < cap
        v.add(f"{prefix}.shipping_charge" if pushed else prefix,
              f"the grand total would be {totals.grand_total}, which exceeds the cap: "
              f"amounts must stay below {cap:f}")
    v.raise_if_any("the order's amounts would exceed the cap")
