"""Customer analytics: new and returning customers per period, the repeat rate, customers
gone quiet and the top customers; from the customer rollups of the range, and each active
customer's first booking read from the finest customer rows by an index, so the cost follows
the customers in the range, not the history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from ..domain.access import Principal, scope_of
from ..domain.analytics import RevenueQuery, local_midnight
from ..domain.rollups import Basis, Bucket, Dimension
from ..domain.sales_figures import ratio
from .sales_figures import SalesFigures, TopCustomers


@dataclass(frozen=True)
class CustomerPeriod:
    first: date
    last: date
    new: int
    returning: int


@dataclass(frozen=True)
class CustomerReport:
    query: RevenueQuery
    periods: list[CustomerPeriod]
    customers: int
    new: int
    repeat: int
    quiet: list[tuple[str, date]]  # customer, last order day (local), oldest first
    top: TopCustomers

    @property
    def repeat_rate(self) -> str:
        return ratio(self.repeat, self.customers)


class CustomerAnalytics(SalesFigures):
    async def customers(self, principal: Principal, query: RevenueQuery, quiet_days: int,
                        limit: int) -> CustomerReport:
        # The top customers read the range's rollups on the asked basis, in parallel with
        # the activity read from the booking rollups.
        (periods, customers, new, repeat, quiet), top = await asyncio.gather(
            self._activity(principal, query, quiet_days, limit),
            self.top_customers(principal, query, limit))
        return CustomerReport(query, periods, customers, new, repeat, quiet, top)

    async def _activity(self, principal: Principal, query: RevenueQuery, quiet_days: int,
                        limit: int
                        ) -> tuple[list[CustomerPeriod], int, int, int, list[tuple[str, date]]]:
        scope = scope_of(principal)
        counts: dict[Bucket, dict[str, int]] = {}
        async for key, tally in self._rollups.rows(
                Basis.BOOKINGS, [b for c in query.covers for b in c], scope, query.narrow,
                Dimension.CUSTOMER):
            per = counts.setdefault(Bucket(key.level, key.start), {})
            per[key.subject] = per.get(key.subject, 0) + tally.count
        spans: list[dict[str, int]] = []
        for cover in query.covers:
            total: dict[str, int] = {}
            for bucket in cover:
                for customer, n in counts.get(bucket, {}).items():
                    total[customer] = total.get(customer, 0) + n
            spans.append({c: n for c, n in total.items() if n > 0})
        orders: dict[str, int] = {}
        for span in spans:
            for customer, n in span.items():
                orders[customer] = orders.get(customer, 0) + n
        active = sorted(orders)
        start = local_midnight(query.first, query.zone)
        end = local_midnight(query.last + timedelta(days=1), query.zone)
        firsts, lasts = await asyncio.gather(
            self._rollups.order_times(scope, query.narrow, active, None, None, False),
            self._rollups.order_times(scope, query.narrow, active, start, end, True))
        periods = []
        for (first, last), span in zip(query.spans, spans, strict=True):
            begins = local_midnight(first, query.zone)
            new = sum(1 for c in span if firsts.get(c, begins) >= begins)
            periods.append(CustomerPeriod(first, last, new, len(span) - new))
        cutoff = end - timedelta(days=quiet_days)
        quiet = sorted(((c, t) for c, t in lasts.items() if t < cutoff),
                       key=lambda item: (item[1], item[0]))
        return (periods, len(active), sum(1 for c in active if firsts.get(c, start) >= start),
                sum(1 for n in orders.values() if n >= 2),
                [(c, t.astimezone(query.zone).date()) for c, t in quiet[:limit]])
