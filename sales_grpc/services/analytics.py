"""Analytics use cases: revenue per calendar period and the dashboard, read from the rollups
(each period answered by the aligned buckets that tile it) in the caller's scope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..domain.access import Principal, scope_of
from ..domain.analytics import (
    Amounts,
    Dashboard,
    DashboardConverted,
    DashboardRevenue,
    Period,
    PeriodRevenue,
    RevenueQuery,
    RevenueReport,
    days_cover,
    next_period_start,
    period_start,
    summed,
    zone_of,
)
from ..domain.errors import Violations, shown
from ..domain.exchange import check_reporting
from ..domain.rollups import Basis, Bucket
from .analytics_ports import (
    Answers,
    ForecastPort,
    FunnelReader,
    OpenWorkReader,
    RateStore,
    Rollups,
)
from .clock import now as system_now
from .customer_analytics import CustomerAnalytics
from .exchange_rates import ExchangeRateCases, conversions
from .funnel_forecast import FunnelAndForecast
from .product_analytics import ProductAnalytics
from .sales_figures import TopCustomers, TopProducts, per_bucket

TOP = 5
DASHBOARD_PERIODS = (Period.DAY, Period.WEEK, Period.MONTH, Period.QUARTER, Period.YEAR)


def _sum(found: dict[Bucket, Amounts], buckets: list[Bucket]) -> Amounts:
    return summed([found[b] for b in buckets if b in found])


class AnalyticsService(CustomerAnalytics, FunnelAndForecast, ProductAnalytics,
                       ExchangeRateCases):
    def __init__(self, rollups: Rollups, open_work: OpenWorkReader,
                 clock: Callable[[], datetime] = system_now,
                 cohorts: FunnelReader | None = None,
                 forecaster: ForecastPort | None = None,
                 answers: Answers | None = None, rates: RateStore | None = None) -> None:
        self._rollups = rollups
        self._open = open_work
        self._clock = clock
        self._cohorts = cohorts
        self._forecaster = forecaster
        self._answers = answers
        self._rates = rates

    async def remembered(self, principal: Principal, question: list[bytes],
                         answer: Callable[[], Awaitable[bytes]]) -> bytes:
        """A recent answer to the same question in the same scope, on the same UTC day and
        rollups version, or `answer()` remembered for the next caller."""
        version = None if self._answers is None else await self._answers.version()
        if self._answers is None or version is None:
            return await answer()
        scope = scope_of(principal)
        key = [*question, repr((scope.owner_id, scope.team_id)).encode(),
               self._clock().date().isoformat().encode(), version.encode()]
        found = await self._answers.get(key)
        if found is not None:
            return found
        fresh = await answer()
        await self._answers.put(key, fresh)
        return fresh

    async def revenue(self, principal: Principal, query: RevenueQuery) -> RevenueReport:
        covers = query.covers
        found = await per_bucket(self._rollups.rows(
            query.basis, [b for c in covers for b in c], scope_of(principal), query.narrow))
        spans = [PeriodRevenue(first, last, _sum(found, buckets))
                 for (first, last), buckets in zip(query.spans, covers, strict=True)]
        return await self.converted(RevenueReport(query, spans,
                                                  summed([s.amounts for s in spans])))

    async def dashboard(self, principal: Principal, time_zone: str, reporting: str = "",
                        moment: datetime | None = None) -> Dashboard:
        zone = _dashboard_zone(time_zone, reporting)
        moment = moment or self._clock()
        today = moment.astimezone(zone).date()
        pairs = []
        for period in DASHBOARD_PERIODS:
            first = period_start(today, period)
            before = period_start(first - timedelta(days=1), period)
            pairs.append((period, (first, _last_day(first, period)),
                          (before, first - timedelta(days=1))))
        covers = {span: days_cover(span[0], span[1], Basis.BOOKINGS, zone)
                  for _, current, previous in pairs for span in (current, previous)}
        scope = scope_of(principal)
        utc_today = moment.date()
        # Every read at once: the rollups of the ten periods and the open work as of today.
        found, (outstanding, overdue), quotes, pipeline = await asyncio.gather(
            per_bucket(self._rollups.rows(Basis.BOOKINGS, [b for c in covers.values() for b in c],
                                          scope, {})),
            self._open.receivables(scope, utc_today), self._open.open_quotes(scope, utc_today),
            self._open.pipeline(scope, utc_today))
        revenue = [DashboardRevenue(
            period, PeriodRevenue(*current, _sum(found, covers[current])),
            PeriodRevenue(*previous, _sum(found, covers[previous])))
            for period, current, previous in pairs]
        # Each period at the rate of its last day, the figures as of now at today's.
        converted = await conversions(self._rates, reporting, [
            *((p.amounts, p.last) for r in revenue for p in (r.current, r.previous)),
            *((amounts, utc_today) for amounts in (quotes, outstanding, overdue, pipeline))])
        board = None
        if converted is not None:
            spans, now = converted[:len(revenue) * 2], converted[len(revenue) * 2:]
            board = DashboardConverted(list(zip(spans[::2], spans[1::2], strict=True)), *now)
        return Dashboard(time_zone or "UTC", today, revenue, quotes, outstanding, overdue,
                         pipeline, board)

    async def dashboard_view(self, principal: Principal, time_zone: str, reporting: str = ""
                             ) -> DashboardView:
        """The dashboard and the month's top 5 customers and products."""
        moment, zone = self._clock(), _dashboard_zone(time_zone, reporting)
        first = period_start(moment.astimezone(zone).date(), Period.MONTH)
        query = RevenueQuery.parse(first.isoformat(), _last_day(first, Period.MONTH).isoformat(),
                                   time_zone, Period.MONTH, Basis.BOOKINGS, "", "",
                                   reporting=reporting)
        board, customers, products = await asyncio.gather(
            self.dashboard(principal, time_zone, reporting, moment),
            self.top_customers(principal, query, TOP),
            self.top_products(principal, query, TOP, True))
        return DashboardView(board, customers, products)


def _dashboard_zone(time_zone: str, reporting: str) -> ZoneInfo:
    """The dashboard's zone, after checking it and the reporting currency (INVALID_ARGUMENT
    naming every bad field)."""
    v = Violations()
    zone = zone_of(time_zone)
    if zone is None:
        v.add("time_zone", f"{shown(time_zone)} is not an IANA time zone such as "
              "America/New_York")
    check_reporting(v, reporting)
    v.raise_if_any()
    assert zone is not None
    return zone


@dataclass(frozen=True)
class DashboardView:
    board: Dashboard
    top_customers: TopCustomers
    top_products: TopProducts


def _last_day(first: date, period: Period) -> date:
    return next_period_start(first, period) - timedelta(days=1)
