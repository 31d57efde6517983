"""Analytics use cases beyond revenue: trends, performance per rep and team, top customers and
products, and KPIs. Each reads the rollups of the buckets that tile its range, so its cost
follows the range and the answer, not the history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain.access import Principal, scope_of
from ..domain.analytics import (
    Amounts,
    RevenueQuery,
    period_start,
    summed,
)
from ..domain.errors import InvalidArgument
from ..domain.exchange import Converted, RateBook, convert
from ..domain.rollups import Basis, Bucket, Dimension, Tally
from ..domain.sales_figures import (
    DEFAULT_WINDOW,
    KpiFigures,
    KpiRates,
    Kpis,
    Performance,
    TrendPeriod,
    per_currency,
    ranked,
    trend,
    year_before,
)
from .analytics_ports import OpenWorkReader, ProductLabel, RateStore, Rollups

QUOTE_BASES = {Basis.QUOTES_SENT: "sent", Basis.QUOTES_ACCEPTED: "accepted",
               Basis.QUOTES_REJECTED: "rejected", Basis.QUOTES_EXPIRED: "expired"}


@dataclass(frozen=True)
class TrendReport:
    query: RevenueQuery
    window: int
    periods: list[TrendPeriod]
    converted: list[Converted | None] | None = None  # per period, with a reporting currency


@dataclass(frozen=True)
class RankedProduct:
    product_id: str
    label: ProductLabel
    units: int
    revenue: Amounts
    currency: str  # the ranking's, on a revenue ranking


class SalesFigures:
    _rollups: Rollups
    _open: OpenWorkReader
    _clock: Callable[[], datetime]
    _rates: RateStore | None

    async def _book(self, reporting: str, currencies: list[str], first: date, last: date
                    ) -> RateBook:
        if self._rates is None:
            raise InvalidArgument.of("reporting_currency", "exchange rates are not configured")
        return await self._rates.book(reporting, currencies, first, last)

    async def _by_bucket(self, principal: Principal, query: RevenueQuery,
                         buckets: list[Bucket]) -> dict[Bucket, Amounts]:
        """Tallies per bucket and currency, of the totals or of the customer or products the
        query names."""
        dimension, subjects = Dimension.TOTAL, None
        if query.product_id or query.category:
            dimension = Dimension.PRODUCT
            subjects = ([query.product_id] if query.product_id else
                        await self._open.products_in(query.category))
            if query.product_id and query.category:
                subjects = [p for p in await self._open.products_in(query.category)
                            if p == query.product_id]
        elif query.customer_id:
            dimension, subjects = Dimension.CUSTOMER, [query.customer_id]
        found: dict[Bucket, Amounts] = {}
        async for key, tally in self._rollups.rows(query.basis, buckets, scope_of(principal),
                                                   query.narrow, dimension, subjects):
            found.setdefault(Bucket(key.level, key.start), {}).setdefault(
                key.currency, Tally()).merge(tally)
        return found

    async def trends(self, principal: Principal, query: RevenueQuery, window: int
                     ) -> TrendReport:
        if (query.product_id or query.category) and query.basis is not Basis.BOOKINGS:
            raise InvalidArgument.of("basis", "a product or category trend is of BOOKINGS "
                                     "(order lines) only")
        window = window or DEFAULT_WINDOW
        # Whole periods before the first one, even when the range cuts the first.
        before: list[tuple[date, date]] = []
        start = period_start(query.first, query.period)
        for _ in range(max(window - 1, 1)):
            first = period_start(start - timedelta(days=1), query.period)
            before.insert(0, (first, start - timedelta(days=1)))
            start = first
        year_ago = [(year_before(a), year_before(b)) for a, b in query.spans]
        extra = {span: query.cover_of(*span) for span in [*before, *year_ago]}
        covers = dict(zip(query.spans, query.covers, strict=True)) | extra
        found = await self._by_bucket(principal, query, [b for c in covers.values() for b in c])

        def amounts(spans: list[tuple[date, date]]) -> list[Amounts]:
            return [summed([found[b] for b in covers[s] if b in found]) for s in spans]

        spans = trend(query.spans, amounts(query.spans), amounts(before), amounts(year_ago),
                      window)
        if not query.reporting:
            return TrendReport(query, window, spans)
        book = await self._book(query.reporting, sorted({a.currency for p in spans
                                                          for a in p.amounts}),
                                query.spans[0][1], query.last)
        return TrendReport(query, window, spans, [convert(
            {a.currency: a.revenue for a in p.amounts if a.revenue.amount or a.revenue.count},
            book, p.last) for p in spans])

    def _whole(self, query: RevenueQuery, basis: Basis) -> list[Bucket]:
        return query.cover_of(query.first, query.last, basis)

    async def performance(self, principal: Principal, query: RevenueQuery
                          ) -> tuple[list[Performance], list[Performance]]:
        scope, cover = scope_of(principal), self._whole(query, Basis.BOOKINGS)
        reps: dict[str, Performance] = {}
        teams: dict[str, Performance] = {}

        def both(owner: str, team: str) -> tuple[Performance, Performance]:
            return (reps.setdefault(owner, Performance(owner_id=owner)),
                    teams.setdefault(team, Performance(team_id=team)))

        async for key, tally in self._rollups.rows(Basis.BOOKINGS, cover, scope, query.narrow):
            for row in both(key.owner_id, key.team_id):
                row.revenue.setdefault(key.currency, Tally()).merge(tally)
        async for key, tally in self._rollups.rows(Basis.BOOKINGS, cover, scope, query.narrow,
                                                   Dimension.CUSTOMER):
            for row in both(key.owner_id, key.team_id):
                row.customers[key.subject] = row.customers.get(key.subject, 0) + tally.count
        for basis, outcome in QUOTE_BASES.items():
            async for key, tally in self._rollups.rows(basis, cover, scope, query.narrow):
                for row in both(key.owner_id, key.team_id):
                    row.quotes[outcome] = row.quotes.get(outcome, 0) + tally.count
        return _kept(reps), _kept(teams)

    async def top_customers(self, principal: Principal, query: RevenueQuery, limit: int
                            ) -> dict[str, list[tuple[str, Tally]]]:
        rows = [(key.currency, key.subject, tally) async for key, tally in self._rollups.rows(
            query.basis, self._whole(query, query.basis), scope_of(principal), query.narrow,
            Dimension.CUSTOMER)]
        return {currency: ranked(totals, limit)
                for currency, totals in per_currency(rows).items()}

    async def top_products(self, principal: Principal, query: RevenueQuery, limit: int,
                           by_units: bool) -> list[RankedProduct]:
        subjects = await self._open.products_in(query.category) if query.category else None
        units: dict[str, Tally] = {}
        revenue: dict[str, Amounts] = {}
        async for key, tally in self._rollups.rows(
                Basis.BOOKINGS, self._whole(query, Basis.BOOKINGS), scope_of(principal),
                query.narrow, Dimension.PRODUCT, subjects):
            units.setdefault(key.subject, Tally()).merge(tally)
            revenue.setdefault(key.subject, {}).setdefault(key.currency, Tally()).merge(tally)
        if by_units:
            order = [("", product) for product, _ in ranked(units, limit, "units")]
        else:
            rows = [(c, p, t) for p, amounts in revenue.items() for c, t in amounts.items()]
            order = [(c, p) for c, totals in per_currency(rows).items()
                     for p, _ in ranked(totals, limit)]
        labels = await self._open.product_labels(sorted({p for _, p in order}))
        return [RankedProduct(p, labels.get(p, ProductLabel()), units[p].units,
                              {c: revenue[p][c]} if c else summed([revenue[p]]), c)
                for c, p in order]

    async def kpis(self, principal: Principal, query: RevenueQuery) -> Kpis:
        scope = scope_of(principal)
        sums: dict[Basis, Amounts] = {}
        for basis in (Basis.BOOKINGS, Basis.BILLINGS, Basis.COLLECTIONS, *QUOTE_BASES):
            sums[basis] = summed([{key.currency: tally} async for key, tally in
                                  self._rollups.rows(basis, self._whole(query, basis), scope,
                                                     query.narrow)], every_measure=True)
        today = self._clock().date()
        receivables, _ = await self._open.receivables(scope, today, query.narrow)
        days = (query.last - query.first).days + 1
        currencies = sorted({c for basis in (Basis.BOOKINGS, Basis.BILLINGS, Basis.COLLECTIONS)
                             for c in sums[basis]} | set(receivables))
        zero = Tally()
        figures = [KpiFigures(c, sums[Basis.BOOKINGS].get(c, zero),
                              sums[Basis.BILLINGS].get(c, zero),
                              sums[Basis.COLLECTIONS].get(c, zero), receivables.get(c, zero),
                              days) for c in currencies]
        bookings = sums[Basis.BOOKINGS].values()
        rates = KpiRates({outcome: sum(t.count for t in sums[basis].values())
                          for basis, outcome in QUOTE_BASES.items()},
                         sum(t.count for t in bookings), sum(t.cancelled for t in bookings))
        converted = None
        if query.reporting:
            book = await self._book(query.reporting, currencies, min(query.last, today),
                                    max(query.last, today))
            converted = (convert(sums[Basis.BOOKINGS], book, query.last),
                         convert(sums[Basis.BILLINGS], book, query.last),
                         convert(sums[Basis.COLLECTIONS], book, query.last),
                         convert(receivables, book, today))
        return Kpis(query.zone_name, days, figures, rates,
                    await self._open.open_quotes(scope, today, query.narrow), converted)


def _kept(rows: dict[str, Performance]) -> list[Performance]:
    return [row for _, row in sorted(rows.items())
            if any(t.amount or t.count for t in row.revenue.values()) or any(row.quotes.values())]

