"""Exchange-rate use cases: admins set and delete rates, anyone with read access lists them,
and revenue is converted with them into a reporting currency."""

from __future__ import annotations

from ..domain.access import Principal
from ..domain.analytics import RevenueReport
from ..domain.authorization import Move, authorize
from ..domain.errors import InvalidArgument, NotFound, Violations
from ..domain.exchange import ExchangeRate, added, convert, iso_day, rate_pair
from .analytics_ports import Answers, RateStore

MAX_PAGE, DEFAULT_PAGE = 1000, 100


class ExchangeRateCases:
    _rates: RateStore | None
    _answers: Answers | None

    async def _changed(self) -> None:
        """Cached answers converted with the old rates must not be served."""
        if self._answers is not None:
            await self._answers.bump()

    def _store(self) -> RateStore:
        if self._rates is None:
            raise InvalidArgument.of("reporting_currency", "exchange rates are not configured")
        return self._rates

    async def set_rate(self, principal: Principal, rate: ExchangeRate) -> ExchangeRate:
        authorize(principal, Move.MANAGE_EXCHANGE_RATES)
        await self._store().put(rate)
        await self._changed()
        return rate

    async def delete_rate(self, principal: Principal, currency: str, reporting: str,
                          day: str) -> None:
        authorize(principal, Move.MANAGE_EXCHANGE_RATES)
        v = Violations()
        pair, when = rate_pair(v, currency, reporting), iso_day(v, "effective_date", day)
        v.raise_if_any()
        assert pair and when
        if not await self._store().delete(pair[1], pair[0], when):
            raise NotFound(f"no {currency} to {reporting} rate was set for {day}")
        await self._changed()

    async def list_rates(self, reporting: str, currency: str, size: int, token: str
                         ) -> tuple[list[ExchangeRate], str]:
        if not 0 <= size <= MAX_PAGE:
            raise InvalidArgument.of("page_size", f"must be from 0 (meaning {DEFAULT_PAGE}) "
                                     f"to {MAX_PAGE}")
        return await self._store().page(reporting, currency, size or DEFAULT_PAGE, token)

    async def converted(self, report: RevenueReport) -> RevenueReport:
        """The report with every period converted at the rate of its last day."""
        q = report.query
        if not q.reporting:
            return report
        book = await self._store().book(q.reporting, sorted(report.totals), q.spans[0][1],
                                        q.last)
        periods = [convert(p.amounts, book, p.last) for p in report.periods]
        return RevenueReport(q, report.periods, report.totals, periods,
                             added(periods, q.reporting))
