"""Revenue questions in a caller's calendar: periods of a time zone, checked input, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import validation as check
from .errors import InvalidArgument, Violations, shown
from .exchange import Converted, check_reporting
from .rollups import Basis, Bucket, NotAligned, Tally, cover, day_start, levels_of

# A range may hold at most this many periods (days over ten years is about 3650): an answer
# must stay small, and so must the rollup reads behind it.
MAX_PERIODS = 1000
MAX_ID = 100
_EARLIEST, _LATEST = date(1970, 1, 1), date(9998, 12, 31)


class Period(str, Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def period_start(day: date, period: Period) -> date:
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    if period is Period.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_period_start(day: date, period: Period) -> date:
    start = period_start(day, period)
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(days=7)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return date(year, month + 1, 1)


def periods(first: date, last: date, period: Period, limit: int = MAX_PERIODS
            ) -> list[tuple[date, date]] | None:
    """The periods of [first, last], each cut to the range, as (first day, last day); None
    when there are more than `limit`."""
    out: list[tuple[date, date]] = []
    day = first
    while day <= last:
        if len(out) == limit:
            return None
        end = min(next_period_start(day, period) - timedelta(days=1), last)
        out.append((day, end))
        day = end + timedelta(days=1)
    return out


def zone_of(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a normalized key
        return None


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """When `day` begins in `zone`, in UTC. A midnight that a DST change skips begins the
    day at the change (PEP 495: the offset before it); a repeated one, at its first time."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def days_cover(first: date, last: date, basis: Basis, zone: ZoneInfo) -> list[Bucket]:
    """The buckets holding the basis's revenue of the days first..last in `zone`."""
    if basis is Basis.BOOKINGS:
        start, end = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    else:
        start, end = day_start(first), day_start(last + timedelta(days=1))
    return cover(start, end, levels_of(basis))


@dataclass(frozen=True)
class RevenueQuery:
    first: date
    last: date
    zone_name: str
    zone: ZoneInfo
    period: Period
    basis: Basis
    owner_id: str = ""
    team_id: str = ""
    spans: list[tuple[date, date]] = field(default_factory=list)
    # The buckets of each span, in order.
    covers: list[list[Bucket]] = field(default_factory=list)
    customer_id: str = ""
    product_id: str = ""
    category: str = ""
    reporting: str = ""  # a currency to convert into, if any

    @classmethod
    def parse(cls, start_date: str, end_date: str, time_zone: str, period: Period | None,
              basis: Basis | None, owner_id: str, team_id: str,
              violations: Violations | None = None, customer_id: str = "",
              product_id: str = "", category: str = "", reporting: str = ""
              ) -> RevenueQuery:
        """Checks everything, reporting every bad field at once (INVALID_ARGUMENT)."""
        v = violations or Violations()
        first = _day(v, "start_date", start_date)
        last = _day(v, "end_date", end_date)
        zone = zone_of(time_zone)
        if zone is None:
            v.add("time_zone", f"{shown(time_zone)} is not an IANA time zone such as "
                  "America/New_York")
        for path, value in (("owner_id", owner_id), ("team_id", team_id),
                            ("customer_id", customer_id), ("product_id", product_id),
                            ("category", category)):
            if len(value) > MAX_ID:
                v.add(path, f"must be at most {MAX_ID} characters")
        check_reporting(v, reporting)
        period, basis = period or Period.MONTH, basis or Basis.BOOKINGS
        spans: list[tuple[date, date]] | None = []
        if first and last:
            if last < first:
                v.add("end_date", f"{last} is before start_date {first}")
            else:
                spans = periods(first, last, period)
                if spans is None:
                    v.add("period", f"{first}..{last} has more than {MAX_PERIODS} periods of a "
                          f"{period.value}; choose a longer period or a shorter range")
        v.raise_if_any()
        assert first and last and zone and spans is not None
        try:
            covers = [days_cover(a, b, basis, zone) for a, b in spans]
        except NotAligned:
            raise _unaligned(time_zone, first, last) from None
        return cls(first, last, time_zone or "UTC", zone, period, basis, owner_id, team_id,
                   spans, covers, customer_id, product_id, category, reporting)

    @property
    def narrow(self) -> dict[str, str]:
        return {"owner_id": self.owner_id, "team_id": self.team_id}

    def cover_of(self, first: date, last: date, basis: Basis | None = None) -> list[Bucket]:
        """The buckets of another span in this query's zone (InvalidArgument where the zone's
        offset is not a whole quarter hour)."""
        try:
            return days_cover(first, last, basis or self.basis, self.zone)
        except NotAligned:
            raise _unaligned(self.zone_name, first, last) from None


def _unaligned(zone_name: str, first: date, last: date) -> InvalidArgument:
    return InvalidArgument.of(
        "time_zone", f"{shown(zone_name)} has an offset in {first}..{last} that is not a "
        "whole quarter hour; revenue cannot be split there exactly")


def _day(v: Violations, path: str, text: str) -> date | None:
    day = check.iso_date(v, path, text, required=True)
    if day is not None and not _EARLIEST <= day <= _LATEST:
        v.add(path, f"must be between {_EARLIEST} and {_LATEST}")
        return None
    return day


Amounts = dict[str, Tally]  # by currency


@dataclass(frozen=True)
class PeriodRevenue:
    first: date
    last: date
    amounts: Amounts


@dataclass(frozen=True)
class RevenueReport:
    query: RevenueQuery
    periods: list[PeriodRevenue]
    totals: Amounts
    converted: list[Converted] | None = None  # per period, with a reporting currency
    converted_totals: Converted | None = None


@dataclass(frozen=True)
class DashboardRevenue:
    period: Period
    current: PeriodRevenue
    previous: PeriodRevenue


@dataclass(frozen=True)
class DashboardConverted:
    """The dashboard in a reporting currency: each period's bookings at the rate of its last
    day, the figures as of now at today's."""

    revenue: list[tuple[Converted, Converted]]  # current, previous; per DashboardRevenue
    open_quotes: Converted
    receivables_outstanding: Converted
    receivables_overdue: Converted
    pipeline: Converted


@dataclass(frozen=True)
class Dashboard:
    zone_name: str
    today: date
    revenue: list[DashboardRevenue]
    open_quotes: Amounts
    receivables_outstanding: Amounts
    receivables_overdue: Amounts
    pipeline: Amounts = field(default_factory=dict)
    converted: DashboardConverted | None = None  # with a reporting currency


def summed(parts: list[Amounts], every_measure: bool = False) -> Amounts:
    """The parts added per currency; currencies with no amount and no document left out
    (or, with `every_measure`, only those where every measure is zero)."""
    total: Amounts = {}
    for amounts in parts:
        for currency, tally in amounts.items():
            total.setdefault(currency, Tally()).merge(tally)
    return {c: t for c, t in sorted(total.items())
            if not (t.is_zero if every_measure else t.amount == 0 and t.count == 0)}
