"""Exact money: a currency and a Decimal amount, rounded to the currency's minor unit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import shown

# ISO 4217 codes the service accepts, with their minor units (decimal places).
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "TRY": 2, "ZAR": 2, "MXN": 2,
    "BRL": 2, "ARS": 2, "CLP": 0, "COP": 2, "PEN": 2, "CNY": 2, "HKD": 2, "SGD": 2, "INR": 2,
    "IDR": 2, "MYR": 2, "PHP": 2, "THB": 2, "VND": 0, "JPY": 0, "KRW": 0, "TWD": 2, "ILS": 2,
    "AED": 2, "SAR": 2, "QAR": 2, "EGP": 2, "NGN": 2, "KES": 2, "MAD": 2, "PKR": 2,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "ISK": 0,
}

_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# Big enough for any real sales document, small enough that sums stay exact in Decimal128.
MAX_ABS_AMOUNT = Decimal("1e15")
MAX_INPUT_PLACES = 6


class MoneyError(ValueError):
    """A currency or amount that cannot be used; the message says why."""


def parse_decimal(text: str, *, max_places: int = MAX_INPUT_PLACES) -> Decimal:
    """Parses a plain decimal string such as "-12.50": no exponent, NaN or infinity."""
    text = text.strip()
    if not _DECIMAL_TEXT.fullmatch(text):
        raise MoneyError(f"{shown(text)} is not a decimal number such as 12.50")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise MoneyError(f"{shown(text)} is not a decimal number") from exc
    if abs(value) >= MAX_ABS_AMOUNT:
        raise MoneyError(f"{shown(text)} is out of range (at most 15 integer digits)")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise MoneyError(f"{shown(text)} has more than {max_places} decimal places")
    return value.copy_abs() if value.is_zero() else value  # "-0" is plain zero


def check_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise MoneyError(f"{shown(code)} is not a supported ISO 4217 currency code")
    return code


@dataclass(frozen=True)
class Money:
    currency: str
    amount: Decimal

    @classmethod
    def parse(cls, currency: str, amount: str) -> Money:
        return cls(check_currency(currency), parse_decimal(amount or "0"))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(currency, Decimal(0))

    def rounded(self) -> Money:
        """Rounds half-up to the currency's minor unit (0.005 USD becomes 0.01)."""
        return Money(self.currency, round_to_minor(self.amount, self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.currency, self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.currency, self.amount - other.amount)

    def is_negative(self) -> bool:
        return self.amount < 0

    def fits_minor_unit(self) -> bool:
        """Whether the amount is a whole number of the currency's minor unit: 1500 JPY or
        12.50 USD, not 1.5 JPY or 12.505 USD. Amounts a customer sees as money (a credit
        limit, a shipping charge) must fit; unit prices may have up to 6 places, since
        sub-cent unit prices (0.005 USD a screw) are legitimate and lines round."""
        return self.amount == round_to_minor(self.amount, self.currency)

    def minor_unit_error(self) -> str:
        places = MINOR_UNITS[self.currency]
        return (f"{self.currency} amounts have at most {places} decimal places; "
                f"{shown(self.amount)} has more")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def round_to_minor(amount: Decimal, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-MINOR_UNITS[currency])
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def at_minor(amount: Decimal, currency: str) -> Decimal:
    """`amount` written to its currency's minor unit at least ("0.00", not the "0" of a
    starting value); an amount finer than that (a unit price of 0.0045) stays as it is,
    never rounded here."""
    minor = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    shown = amount.quantize(minor)
    return shown if shown == amount else amount
