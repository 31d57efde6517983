"""A forecast question: the whole calendar periods of history to fit, the periods to forecast,
and what is forecast (revenue in one currency, or units of a product), checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import validation as check
from .analytics import MAX_PERIODS, Period, RevenueQuery, next_period_start, period_start
from .errors import InvalidArgument, Violations
from .money import MoneyError, check_currency
from .rollups import Basis

SEASONS = {Period.DAY: 7, Period.WEEK: 52, Period.MONTH: 12, Period.QUARTER: 4,
           Period.YEAR: 1}
DEFAULT_HISTORY = 36
MAX_HORIZON, MAX_SEASON = 60, 53


@dataclass(frozen=True)
class ForecastAsk:
    """The request as given (validated by `ForecastQuery.of`)."""

    end_date: str
    time_zone: str
    period: Period | None
    basis: Basis | None
    currency: str
    horizon: int
    history_periods: int
    season_length: int
    units: bool
    owner_id: str = ""
    team_id: str = ""
    customer_id: str = ""
    product_id: str = ""


@dataclass(frozen=True)
class ForecastQuery:
    history: RevenueQuery  # its spans are the whole periods fitted
    currency: str
    units: bool
    horizon: int
    season: int
    future: list[tuple[date, date]]

    @classmethod
    def of(cls, ask: ForecastAsk, today: date, v: Violations) -> ForecastQuery:
        period = ask.period or Period.MONTH
        currency = ""
        if not ask.units:
            try:
                currency = check_currency(ask.currency)
            except MoneyError as exc:
                v.add("currency_code", str(exc))
        elif not ask.product_id:
            v.add("product_id", "is required for a forecast of units")
        if ask.units and ask.basis not in (None, Basis.BOOKINGS):
            v.add("basis", "units are forecast from BOOKINGS")
        if not 1 <= ask.horizon <= MAX_HORIZON:
            v.add("horizon", f"must be from 1 to {MAX_HORIZON} periods")
        if not 0 <= ask.history_periods <= MAX_PERIODS:
            v.add("history_periods", f"must be from 0 (meaning {DEFAULT_HISTORY}) to "
                  f"{MAX_PERIODS}")
        if not 0 <= ask.season_length <= MAX_SEASON:
            v.add("season_length", f"must be from 0 (the year's) to {MAX_SEASON}")
        end = check.iso_date(v, "end_date", ask.end_date) or today
        v.raise_if_any()
        last = period_start(end + timedelta(days=1), period) - timedelta(days=1)
        first = last + timedelta(days=1)
        for _ in range(ask.history_periods or DEFAULT_HISTORY):
            first = period_start(first - timedelta(days=1), period)
        history = RevenueQuery.parse(
            first.isoformat(), last.isoformat(), ask.time_zone, period, ask.basis,
            ask.owner_id, ask.team_id, v, customer_id=ask.customer_id,
            product_id=ask.product_id)
        if (history.product_id and history.basis is not Basis.BOOKINGS):
            raise InvalidArgument.of("basis", "a product's forecast is of BOOKINGS")
        future, start = [], last + timedelta(days=1)
        for _ in range(ask.horizon):
            following = next_period_start(start, period)
            future.append((start, following - timedelta(days=1)))
            start = following
        return cls(history, currency, ask.units, ask.horizon,
                   ask.season_length or SEASONS[period], future)
