"""Exchange-rate use cases: admins set and delete rates, anyone with read access lists them,
and every analytics answer converts its amounts with them into a reporting currency through
`conversions`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..domain import validation as check
from ..domain.access import Principal
from ..domain.analytics import Amounts, RevenueReport
from ..domain.authorization import Move, authorize
from ..domain.errors import InvalidArgument, NotFound, Violations
from ..domain.exchange import Converted, ExchangeRate, added, convert, rate_pair
from .analytics_ports import Answers, RateStore

MAX_PAGE, DEFAULT_PAGE = 1000, 100


def _configured(rates: RateStore | None) -> RateStore:
    if rates is None:
        raise InvalidArgument.of("reporting_currency", "exchange rates are not configured")
    return rates


async def conversions(rates: RateStore | None, reporting: str,
                      wanted: Sequence[tuple[Amounts, date]]) -> list[Converted] | None:
    """Each of `wanted`'s amounts converted into `reporting` at the rate in effect on its day,
    in order, with one look-up of the rates of every currency and day they need; None without
    a reporting currency. The one way an analytics answer converts."""
    if not reporting:
        return None
    store = _configured(rates)
    if not wanted:
        return []
    days = [day for _, day in wanted]
    currencies = sorted({c for amounts, _ in wanted for c, t in amounts.items() if t.amount})
    book = await store.book(reporting, currencies, min(days), max(days))
    return [convert(amounts, book, day) for amounts, day in wanted]


class ExchangeRateCases:
    _rates: RateStore | None
    _answers: Answers | None

    async def _changed(self) -> None:
        """Cached answers converted with the old rates must not be served."""
        if self._answers is not None:
            await self._answers.bump()

    def _store(self) -> RateStore:
        return _configured(self._rates)

    async def set_rate(self, principal: Principal, rate: ExchangeRate) -> ExchangeRate:
        authorize(principal, Move.MANAGE_EXCHANGE_RATES)
        await self._store().put(rate)
        await self._changed()
        return rate

    async def delete_rate(self, principal: Principal, currency: str, reporting: str,
                          day: str) -> None:
        authorize(principal, Move.MANAGE_EXCHANGE_RATES)
        v = Violations()
        pair = rate_pair(v, currency, reporting)
        when = check.iso_date(v, "effective_date", day, required=True)
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
        periods = await conversions(self._rates, q.reporting,
                                    [(p.amounts, p.last) for p in report.periods])
        if periods is None:
            return report
        return RevenueReport(q, report.periods, report.totals, periods,
                             added(periods, q.reporting))
