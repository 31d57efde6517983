"""Product analytics: units and net revenue per product and category, the change against the
range before, movers, and stock turnover; from the product rollups of the two ranges, so the
cost follows the products sold, not the history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..domain.access import Principal, scope_of
from ..domain.analytics import Amounts, RevenueQuery, summed
from ..domain.exchange import Converted
from ..domain.rollups import Basis, Bucket, Dimension, Tally
from ..domain.sales_figures import ratio
from .analytics_ports import OpenWorkReader, ProductLabel, RateStore, Rollups
from .exchange_rates import conversions


@dataclass
class ProductFigure:
    product_id: str
    label: ProductLabel = field(default_factory=ProductLabel)
    units: int = 0
    revenue: Amounts = field(default_factory=dict)
    previous_units: int = 0
    converted: Converted | None = None  # the revenue, with a reporting currency

    @property
    def change(self) -> int:
        return self.units - self.previous_units

    @property
    def units_change(self) -> str:
        return ratio(self.change, self.previous_units)

    @property
    def turnover(self) -> str:
        on_hand = self.label.on_hand
        return ratio(self.units, on_hand) if on_hand and on_hand > 0 else ""


@dataclass(frozen=True)
class ProductReport:
    products: list[ProductFigure]
    categories: dict[str, tuple[int, Amounts]]
    best: list[str]
    worst: list[str]
    previous: tuple[date, date]
    # each category's revenue, with a reporting currency
    converted_categories: dict[str, Converted] | None = None


class ProductAnalytics:
    _rollups: Rollups
    _open: OpenWorkReader
    _rates: RateStore | None

    async def _units(self, principal: Principal, query: RevenueQuery, cover: list[Bucket],
                     subjects: list[str] | None, into: dict[str, ProductFigure],
                     current: bool) -> None:
        async for key, tally in self._rollups.rows(Basis.BOOKINGS, cover, scope_of(principal),
                                                   query.narrow, Dimension.PRODUCT, subjects):
            figure = into.setdefault(key.subject, ProductFigure(key.subject))
            if current:
                figure.units += tally.units
                figure.revenue.setdefault(key.currency, Tally()).merge(tally)
            else:
                figure.previous_units += tally.units

    async def products(self, principal: Principal, query: RevenueQuery, movers: int
                       ) -> ProductReport:
        days = (query.last - query.first).days + 1
        previous = (query.first - timedelta(days=days), query.first - timedelta(days=1))
        subjects = await self._open.products_in(query.category) if query.category else None
        found: dict[str, ProductFigure] = {}
        await self._units(principal, query, query.cover_of(query.first, query.last),
                          subjects, found, True)
        await self._units(principal, query, query.cover_of(*previous), subjects, found, False)
        kept = [f for f in found.values() if f.units or f.previous_units
                or any(t.amount or t.count for t in f.revenue.values())]
        labels = await self._open.product_labels(sorted(f.product_id for f in kept))
        categories: dict[str, tuple[int, Amounts]] = {}
        for f in kept:
            f.label = labels.get(f.product_id, ProductLabel())
            units, amounts = categories.get(f.label.category, (0, {}))
            categories[f.label.category] = (units + f.units, summed([amounts, f.revenue]))
        kept.sort(key=lambda f: (-f.units, f.product_id))
        converted = await conversions(self._rates, query.reporting, [
            (a, query.last) for a in [*(f.revenue for f in kept),
                                      *(amounts for _, amounts in categories.values())]])
        by_category = None
        if converted is not None:
            for f, c in zip(kept, converted, strict=False):
                f.converted = c
            by_category = dict(zip(categories, converted[len(kept):], strict=True))
        best = sorted((f for f in kept if f.change > 0), key=lambda f: (-f.change, f.product_id))
        worst = sorted((f for f in kept if f.change < 0), key=lambda f: (f.change, f.product_id))
        return ProductReport(kept, dict(sorted(categories.items())),
                             [f.product_id for f in best[:movers]],
                             [f.product_id for f in worst[:movers]], previous,
                             None if by_category is None else dict(sorted(by_category.items())))
