"""Analytics use cases beyond revenue: trends, performance per rep and team, top customers and
products, and KPIs. Each reads the rollups of the buckets that tile its range, so its cost
follows the range and the answer, not the history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from ..domain.access import Principal, scope_of
from ..domain.analytics import (
    Amounts,
    RevenueQuery,
    period_start,
    summed,
)
from ..domain.errors import InvalidArgument
from ..domain.exchange import Converted
from ..domain.rollups import Basis, Bucket, Dimension, RollupKey, Tally
from ..domain.sales_figures import (
    DEFAULT_WINDOW,
    KpiFigures,
    KpiRates,
    Kpis,
    Performance,
    TrendPeriod,
    per_currency,
    ranked,
    ranked_converted,
    trend,
    year_before,
)
from .analytics_ports import OpenWorkReader, ProductLabel, RateStore, Rollups
from .exchange_rates import conversions

T = TypeVar("T")
QUOTE_BASES = {Basis.QUOTES_SENT: "sent", Basis.QUOTES_ACCEPTED: "accepted",
               Basis.QUOTES_REJECTED: "rejected", Basis.QUOTES_EXPIRED: "expired"}


@dataclass(frozen=True)
class TrendReport:
    query: RevenueQuery
    window: int
    periods: list[TrendPeriod]
    converted: list[Converted] | None = None  # per period, with a reporting currency


@dataclass(frozen=True)
class RankedCustomer:
    customer_id: str
    revenue: Amounts  # the ranking's currency's, or every currency's on a converted ranking
    converted: Converted | None = None  # `revenue`, with a reporting currency


@dataclass(frozen=True)
class RankedProduct:
    product_id: str
    label: ProductLabel
    units: int
    revenue: Amounts
    currency: str  # the ranking's, on a revenue ranking (the reporting one across currencies)
    converted: Converted | None = None  # `revenue`, with a reporting currency


@dataclass(frozen=True)
class ConvertedRanking(Generic[T]):
    """A ranking across currencies by converted revenue: empty when some currency had no
    rate (`unconverted` names them)."""

    entries: list[T]
    unconverted: tuple[str, ...]


@dataclass(frozen=True)
class TopCustomers:
    per_currency: dict[str, list[RankedCustomer]]
    converted: ConvertedRanking[RankedCustomer] | None = None  # with a reporting currency


@dataclass(frozen=True)
class TopProducts:
    products: list[RankedProduct]
    # on a revenue ranking with a reporting currency
    converted: ConvertedRanking[RankedProduct] | None = None


def _by_subject(totals: dict[str, dict[str, Tally]]) -> dict[str, Amounts]:
    """Per currency and subject, turned into per subject and currency (subjects in order)."""
    out: dict[str, Amounts] = {}
    for currency, subjects in totals.items():
        for subject, tally in subjects.items():
            out.setdefault(subject, {})[currency] = tally
    return dict(sorted(out.items()))


class SalesFigures:
    _rollups: Rollups
    _open: OpenWorkReader
    _clock: Callable[[], datetime]
    _rates: RateStore | None

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
        return await per_bucket(self._rollups.rows(query.basis, buckets, scope_of(principal),
                                                   query.narrow, dimension, subjects))

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
        return TrendReport(query, window, spans, await conversions(
            self._rates, query.reporting,
            [({a.currency: a.revenue for a in p.amounts}, p.last) for p in spans]))

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

        # The rollup reads at once, folded in a fixed order afterwards.
        revenue, customers, *quotes = await asyncio.gather(
            _listed(self._rollups.rows(Basis.BOOKINGS, cover, scope, query.narrow)),
            _listed(self._rollups.rows(Basis.BOOKINGS, cover, scope, query.narrow,
                                       Dimension.CUSTOMER)),
            *(_listed(self._rollups.rows(basis, cover, scope, query.narrow))
              for basis in QUOTE_BASES))
        for key, tally in revenue:
            for row in both(key.owner_id, key.team_id):
                row.revenue.setdefault(key.currency, Tally()).merge(tally)
        for key, tally in customers:
            for row in both(key.owner_id, key.team_id):
                row.customers[key.subject] = row.customers.get(key.subject, 0) + tally.count
        for outcome, rollup in zip(QUOTE_BASES.values(), quotes, strict=True):
            for key, tally in rollup:
                for row in both(key.owner_id, key.team_id):
                    row.quotes[outcome] = row.quotes.get(outcome, 0) + tally.count
        rows = (_kept(reps), _kept(teams))
        every = [*rows[0], *rows[1]]
        converted = await conversions(self._rates, query.reporting,
                                      [(r.revenue, query.last) for r in every])
        for row, c in zip(every, converted or [], strict=converted is not None):
            row.converted = c
        return rows

    async def top_customers(self, principal: Principal, query: RevenueQuery, limit: int
                            ) -> TopCustomers:
        rows = [(key.currency, key.subject, tally) async for key, tally in self._rollups.rows(
            query.basis, self._whole(query, query.basis), scope_of(principal), query.narrow,
            Dimension.CUSTOMER)]
        totals = per_currency(rows)
        ranks = {currency: [RankedCustomer(customer, {currency: tally})
                            for customer, tally in ranked(subjects, limit)]
                 for currency, subjects in totals.items()}
        if not query.reporting:
            return TopCustomers(ranks)
        customers = _by_subject(totals)
        entries = [e for ranking in ranks.values() for e in ranking]
        converted = await conversions(self._rates, query.reporting, [
            (a, query.last) for a in [*(e.revenue for e in entries), *customers.values()]])
        assert converted is not None
        order, missing = ranked_converted(customers, converted[len(entries):], limit)
        at = iter(converted)
        return TopCustomers(
            {currency: [replace(e, converted=next(at)) for e in ranking]
             for currency, ranking in ranks.items()},
            ConvertedRanking([RankedCustomer(c, summed([customers[c]]), total)
                              for c, total in order], missing))

    async def top_products(self, principal: Principal, query: RevenueQuery, limit: int,
                           by_units: bool) -> TopProducts:
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
        shown = [(c, p, {c: revenue[p][c]} if c else summed([revenue[p]])) for c, p in order]
        # With a reporting currency, each entry's revenue converted and, on a revenue ranking,
        # every product's for the ranking across currencies.
        across = dict(sorted(revenue.items())) if query.reporting and not by_units else {}
        converted = await conversions(self._rates, query.reporting, [
            (a, query.last) for a in [*(a for _, _, a in shown), *across.values()]])
        each = converted[:len(shown)] if converted else [None] * len(shown)
        across_order, missing = ranked_converted(across, (converted or [])[len(shown):], limit)
        labels = await self._open.product_labels(
            sorted({p for _, p in order} | {p for p, _ in across_order}))

        def product(p: str, currency: str, amounts: Amounts, c: Converted | None
                    ) -> RankedProduct:
            return RankedProduct(p, labels.get(p, ProductLabel()), units[p].units, amounts,
                                 currency, c)

        ranking = [product(p, c, a, x) for (c, p, a), x in zip(shown, each, strict=True)]
        if not across:
            return TopProducts(ranking)
        return TopProducts(ranking, ConvertedRanking(
            [product(p, query.reporting, summed([revenue[p]]), c) for p, c in across_order],
            missing))

    async def kpis(self, principal: Principal, query: RevenueQuery) -> Kpis:
        scope = scope_of(principal)
        bases = (Basis.BOOKINGS, Basis.BILLINGS, Basis.COLLECTIONS, *QUOTE_BASES)
        today = self._clock().date()
        # Every read at once: the rollups of each basis, the receivables and the open quotes.
        rollups, (receivables, _), open_quotes = await asyncio.gather(
            asyncio.gather(*(_listed(self._rollups.rows(basis, self._whole(query, basis),
                                                        scope, query.narrow))
                             for basis in bases)),
            self._open.receivables(scope, today, query.narrow),
            self._open.open_quotes(scope, today, query.narrow))
        sums: dict[Basis, Amounts] = {
            basis: summed([{key.currency: tally} for key, tally in rows], every_measure=True)
            for basis, rows in zip(bases, rollups, strict=True)}
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
        converted = await conversions(self._rates, query.reporting, [
            (sums[Basis.BOOKINGS], query.last), (sums[Basis.BILLINGS], query.last),
            (sums[Basis.COLLECTIONS], query.last), (receivables, today)])
        return Kpis(query.zone_name, days, figures, rates, open_quotes,
                    None if converted is None else (
                        converted[0], converted[1], converted[2], converted[3]))


async def per_bucket(rows: AsyncIterator[tuple[RollupKey, Tally]]) -> dict[Bucket, Amounts]:
    """Rollup rows added up per bucket and currency."""
    found: dict[Bucket, Amounts] = {}
    async for key, tally in rows:
        found.setdefault(Bucket(key.level, key.start), {}).setdefault(
            key.currency, Tally()).merge(tally)
    return found


async def _listed(rows: AsyncIterator[T]) -> list[T]:
    return [row async for row in rows]


def _kept(rows: dict[str, Performance]) -> list[Performance]:
    return [row for _, row in sorted(rows.items())
            if any(t.amount or t.count for t in row.revenue.values()) or any(row.quotes.values())]

