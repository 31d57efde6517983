"""Amounts, rates, quantities and dates as printed documents show them: pure functions.

One style for every reader: digits grouped by commas, a point before the currency's minor
unit (JPY none, USD two, KWD three), ISO dates. The currency code is shown, not a symbol: "$"
alone would not say whether dollars are American, Canadian or Australian.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ..domain.money import MINOR_UNITS

MAX_UNIT_PRICE_PLACES = 6


def places(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def amount(value: Decimal, currency: str, *, exact: bool = False) -> str:
    """`1234.5` USD is "1,234.50", JPY "1,235", KWD "1,234.500". With `exact`, places past the
    minor unit that the value has are kept (a unit price of 0.0045 USD stays "0.0045")."""
    shown = places(currency)
    if exact:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int):
            shown = max(shown, min(-exponent, MAX_UNIT_PRICE_PLACES))
    rounded = value.quantize(Decimal(1).scaleb(-shown), rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = abs(rounded)  # never "-0.00"
    return f"{rounded:,.{shown}f}"


def money(value: Decimal, currency: str) -> str:
    """The amount with its currency code: "USD 1,234.50", "USD -5.00", "JPY 1,235"."""
    return f"{currency} {amount(value, currency)}"


def rate(value: Decimal) -> str:
    """A fraction as a percentage without trailing zeros: 0.15 is "15%", 0.075 "7.5%"."""
    percent = (value * 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{percent:f}%"


def quantity(value: int) -> str:
    return f"{value:,}"


def day(value: date) -> str:
    return value.isoformat()
