"""Exchange rates an admin keeps, and amounts converted with them into a reporting currency:
each currency at the rate in effect on a figure's day (a period's last day, today for a figure
as of now), rounded before adding; a currency without a rate is left out and named, never
guessed."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import validation as check
from .errors import Violations, shown
from .money import MINOR_UNITS, MoneyError, check_currency, parse_decimal, round_to_minor
from .rollups import Tally

RATE_PLACES = 12


@dataclass(frozen=True)
class ExchangeRate:
    currency: str
    reporting: str
    day: date
    rate: Decimal
    actor: str = ""

    @classmethod
    def parse(cls, currency: str, reporting: str, day: str, rate: str, actor: str
              ) -> ExchangeRate:
        v = Violations()
        pair = rate_pair(v, currency, reporting)
        when = check.iso_date(v, "effective_date", day, required=True)
        value = None
        try:
            value = parse_decimal(rate, max_places=RATE_PLACES)
            if value <= 0:
                v.add("rate", "must be positive")
        except MoneyError as exc:
            v.add("rate", str(exc))
        v.raise_if_any()
        assert pair and when and value is not None
        return cls(*pair, when, value, actor)


def rate_pair(v: Violations, currency: str, reporting: str) -> tuple[str, str] | None:
    found = []
    for path, code in (("currency_code", currency), ("reporting_currency", reporting)):
        try:
            found.append(check_currency(code))
        except MoneyError as exc:
            v.add(path, str(exc))
    if len(found) == 2 and currency == reporting:
        v.add("reporting_currency", "must differ from currency_code")
        return None
    return (found[0], found[1]) if len(found) == 2 else None


@dataclass
class RateBook:
    """The rates of pairs into one reporting currency, by day, for looking up the one in
    effect on a day."""

    reporting: str
    days: dict[str, list[date]] = field(default_factory=dict)
    rates: dict[str, list[Decimal]] = field(default_factory=dict)

    def add(self, rate: ExchangeRate) -> None:
        days = self.days.setdefault(rate.currency, [])
        at = bisect.bisect_left(days, rate.day)
        days.insert(at, rate.day)
        self.rates.setdefault(rate.currency, []).insert(at, rate.rate)

    def on(self, currency: str, day: date) -> Decimal | None:
        if currency == self.reporting:
            return Decimal(1)
        at = bisect.bisect_right(self.days.get(currency, []), day)
        return self.rates[currency][at - 1] if at else None


def check_reporting(v: Violations, code: str) -> None:
    """An optional reporting currency: empty, or one the service knows."""
    if code and code not in MINOR_UNITS:
        v.add("reporting_currency", f"{shown(code)} is not a supported ISO 4217 currency code")


@dataclass(frozen=True)
class Converted:
    currency: str  # the reporting currency
    amount: Decimal
    unconverted: tuple[str, ...]  # currencies with an amount but no rate, by code


def convert(amounts: dict[str, Tally], book: RateBook, day: date) -> Converted:
    """The amounts at the rates in effect on `day`, each rounded before adding; a currency
    without a rate is named, never guessed (one whose amount is zero needs none)."""
    total, missing = Decimal(0), []
    for currency, tally in sorted(amounts.items()):
        if not tally.amount:
            continue
        rate = book.on(currency, day)
        if rate is None:
            missing.append(currency)
        else:
            total += round_to_minor(tally.amount * rate, book.reporting)
    return Converted(book.reporting, round_to_minor(total, book.reporting), tuple(missing))


def added(parts: list[Converted], reporting: str) -> Converted:
    return Converted(reporting,
                     round_to_minor(sum((p.amount for p in parts), Decimal(0)), reporting),
                     tuple(sorted({c for p in parts for c in p.unconverted})))
