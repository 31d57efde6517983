"""Figures derived from rollup tallies: growth and other ratios as exact decimals, moving
averages, rankings, per-rep performance and KPIs. Pure: the service layer reads the tallies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from .analytics import Amounts
from .errors import Violations
from .exchange import Converted
from .rollups import Tally

RATIO_PLACES = Decimal("0.000001")
DAYS_PLACES = Decimal("0.1")
DEFAULT_WINDOW, MAX_WINDOW = 3, 52
DEFAULT_LIMIT, MAX_LIMIT = 10, 100


def ratio(part: Decimal | int, whole: Decimal | int, places: Decimal = RATIO_PLACES) -> str:
    """part / whole rounded half-even, as text without exponent; empty when whole is 0."""
    if whole == 0:
        return ""
    value = (Decimal(part) / Decimal(whole)).quantize(places, ROUND_HALF_EVEN)
    return format(value.normalize() if value else Decimal(0), "f")


def growth(current: Decimal, base: Decimal) -> str:
    return ratio(current - base, base)


def year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class TrendAmount:
    currency: str
    revenue: Tally
    period_over_period: str
    year_over_year: str
    moving_average: Decimal


@dataclass(frozen=True)
class TrendPeriod:
    first: date
    last: date
    amounts: list[TrendAmount]


def trend(spans: list[tuple[date, date]], amounts: list[Amounts], before: list[Amounts],
          year_ago: list[Amounts], window: int) -> list[TrendPeriod]:
    """Each span's amounts with growth against the one before it (the first against the
    last of `before`), against `year_ago`, and the mean over the last `window` spans,
    `before` included."""
    series = [*before, *amounts]
    out = []
    for i, ((first, last), now, old) in enumerate(zip(spans, amounts, year_ago, strict=True)):
        at = len(before) + i
        previous = series[at - 1] if at > 0 else {}
        frame = series[max(0, at - window + 1):at + 1]
        currencies = sorted(set(now) | set(previous) | set(old)
                            | {c for a in frame for c in a})
        out.append(TrendPeriod(first, last, [TrendAmount(
            c, now.get(c, Tally()),
            growth(_amount(now, c), _amount(previous, c)),
            growth(_amount(now, c), _amount(old, c)),
            sum((_amount(a, c) for a in frame), Decimal(0)) / window) for c in currencies]))
    return out


def _amount(amounts: Amounts, currency: str) -> Decimal:
    tally = amounts.get(currency)
    return tally.amount if tally else Decimal(0)


@dataclass
class Performance:
    owner_id: str = ""
    team_id: str = ""
    revenue: Amounts = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)  # orders kept per customer
    quotes: dict[str, int] = field(default_factory=dict)  # per outcome: sent, accepted...
    converted: Converted | None = None  # the revenue, with a reporting currency

    @property
    def orders(self) -> int:
        return sum(t.count for t in self.revenue.values())

    @property
    def unique_customers(self) -> int:
        return sum(1 for count in self.customers.values() if count > 0)

    @property
    def win_rate(self) -> str:
        q = self.quotes
        decided = q.get("accepted", 0) + q.get("rejected", 0) + q.get("expired", 0)
        return ratio(q.get("accepted", 0), decided)

    def discount_rates(self) -> dict[str, str]:
        return {c: ratio(t.discount, t.gross) for c, t in sorted(self.revenue.items())}


def ranked(totals: dict[str, Tally], limit: int, key: str = "amount"
           ) -> list[tuple[str, Tally]]:
    """The `limit` subjects with the most `key` (ties by subject id), leaving out those with
    nothing left (a cancelled order's customer)."""
    kept = [(subject, t) for subject, t in totals.items() if t.amount or t.count or t.units]
    kept.sort(key=lambda item: (-getattr(item[1], key), item[0]))
    return kept[:limit]


def ranked_converted(subjects: dict[str, Amounts], converted: list[Converted], limit: int
                     ) -> tuple[list[tuple[str, Converted]], tuple[str, ...]]:
    """The `limit` subjects with the most converted revenue across currencies (ties by subject
    id, those with nothing left out), and the currencies that had no rate. A ranking of partial
    sums would put a subject whose revenue did not convert below where it belongs, so with any
    such currency there is no ranking, only the currencies named."""
    missing = tuple(sorted({c for x in converted for c in x.unconverted}))
    if missing:
        return [], missing
    kept = [(subject, c) for (subject, amounts), c in zip(subjects.items(), converted,
                                                           strict=True)
            if any(t.amount or t.count or t.units for t in amounts.values())]
    kept.sort(key=lambda item: (-item[1].amount, item[0]))
    return kept[:limit], ()


def per_currency(rows: Iterable[tuple[str, str, Tally]]) -> dict[str, dict[str, Tally]]:
    """(currency, subject, tally) rows summed per currency and subject."""
    out: dict[str, dict[str, Tally]] = {}
    for currency, subject, tally in rows:
        out.setdefault(currency, {}).setdefault(subject, Tally()).merge(tally)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class KpiFigures:
    currency: str
    bookings: Tally
    billings: Tally
    collections: Tally
    receivables: Tally
    days: int

    @property
    def days_sales_outstanding(self) -> str:
        if self.billings.amount <= 0:
            return ""
        return ratio(self.receivables.amount * self.days, self.billings.amount, DAYS_PLACES)

    @property
    def average_days_to_pay(self) -> str:
        return ratio(self.collections.days, self.collections.count, DAYS_PLACES)

    @property
    def discount_rate(self) -> str:
        return ratio(self.bookings.discount, self.bookings.gross)


@dataclass(frozen=True)
class KpiRates:
    quotes: dict[str, int]
    orders_kept: int
    orders_cancelled: int

    @property
    def win_rate(self) -> str:
        q = self.quotes
        return ratio(q["accepted"], q["accepted"] + q["rejected"] + q["expired"])

    @property
    def conversion(self) -> str:
        return ratio(self.quotes["accepted"], self.quotes["sent"])

    @property
    def cancellation_rate(self) -> str:
        return ratio(self.orders_cancelled, self.orders_kept + self.orders_cancelled)


@dataclass(frozen=True)
class Kpis:
    zone_name: str
    days: int
    figures: list[KpiFigures]
    rates: KpiRates
    open_quotes: Amounts
    # bookings, billings, collections, receivables in a reporting currency, if asked
    converted: tuple[Converted, Converted, Converted, Converted] | None = None


class Ranking(str, Enum):
    UNITS = "units"
    REVENUE = "revenue"


def bounded(v: Violations, path: str, value: int, default: int, most: int) -> int:
    if not 0 <= value <= most:
        v.add(path, f"must be between 0 (meaning {default}) and {most}")
    return value or default
