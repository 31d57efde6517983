"""The conversion funnel of a quote cohort (read from the cohort's documents) and forecasts
(history from the rollups, fitted by the forecaster off the event loop)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ..domain.access import Principal, scope_of
from ..domain.analytics import RevenueQuery, local_midnight, zone_of
from ..domain.errors import Unavailable, Violations
from ..domain.exchange import Converted
from ..domain.forecast import ForecastResult
from ..domain.forecast_query import ForecastAsk, ForecastQuery
from ..domain.funnel import Stage, funnel
from .analytics_ports import ForecastPort, FunnelReader
from .exchange_rates import conversions
from .sales_figures import SalesFigures


class FunnelAndForecast(SalesFigures):
    _cohorts: FunnelReader | None
    _forecaster: ForecastPort | None

    async def forecast(self, principal: Principal, ask: ForecastAsk
                       ) -> tuple[ForecastQuery, list[Decimal], ForecastResult]:
        """The history's values per whole period from the first with sales, read from the
        rollups, and the forecast fitted to them off the event loop."""
        if self._forecaster is None:
            raise Unavailable("forecasts are not configured")
        zone = zone_of(ask.time_zone)
        today = self._clock().astimezone(zone).date() if zone else self._clock().date()
        fq = ForecastQuery.of(ask, today, Violations())
        q = fq.history
        found = await self._by_bucket(principal, q, [b for c in q.covers for b in c])
        values = []
        for buckets in q.covers:
            parts = [found[b] for b in buckets if b in found]
            if fq.units:
                values.append(Decimal(sum(t.units for a in parts for t in a.values())))
            else:
                values.append(sum((a[fq.currency].amount for a in parts if fq.currency in a),
                                  Decimal(0)))
        # Periods before the first sale in scope are not history: as zeros they would read as
        # a business that grew out of nothing, a trend and season the model would then fit.
        first_sale = next((i for i, v in enumerate(values) if v != 0), len(values))
        values = values[first_sale:]
        result = await self._forecaster.forecast(values, fq.season, fq.horizon, fq.currency)
        return fq, values, result

    async def funnel(self, principal: Principal, query: RevenueQuery
                     ) -> tuple[int, list[Stage], list[Converted] | None]:
        """The funnel of the quotes first created in the range (read from the cohort's
        documents, not from rollups: its cost follows the cohort's size), and with a reporting
        currency each step's values converted at the rate of the range's last day."""
        if self._cohorts is None:
            raise Unavailable("the conversion funnel is not configured")
        journeys = await self._cohorts.cohort(
            scope_of(principal), {**query.narrow, "customer_id": query.customer_id},
            local_midnight(query.first, query.zone),
            local_midnight(query.last + timedelta(days=1), query.zone))
        stages = funnel(journeys)
        return len(journeys), stages, await conversions(
            self._rates, query.reporting, [(s.values, query.last) for s in stages])
