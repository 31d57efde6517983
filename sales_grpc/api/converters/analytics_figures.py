"""Trends, performance, top customers and products, and KPI messages to domain values and
back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration

from erp.sales.v1 import analytics_service_pb2 as pb

from ...domain.analytics import Period, RevenueQuery
from ...domain.errors import Violations
from ...domain.exchange import Converted
from ...domain.funnel import Stage
from ...domain.money import Money, round_to_minor
from ...domain.rollups import Basis, Tally
from ...domain.sales_figures import (
    DEFAULT_LIMIT,
    DEFAULT_WINDOW,
    MAX_LIMIT,
    MAX_WINDOW,
    Kpis,
    Performance,
    Ranking,
    bounded,
    ratio,
)
from ...services.analytics import DashboardView
from ...services.customer_analytics import CustomerReport
from ...services.product_analytics import ProductReport
from ...services.sales_figures import (
    RankedCustomer,
    RankedProduct,
    TopCustomers,
    TopProducts,
    TrendReport,
)
from .analytics import BASES, PERIODS, amounts_out, dashboard_out
from .common import enum_in, enum_names, enum_out, money_out
from .exchange_rates import converted_out, each_converted

RANKINGS = enum_names(pb.ProductRanking.DESCRIPTOR, "PRODUCT_RANKING_")
STEPS = enum_names(pb.FunnelStep.DESCRIPTOR, "FUNNEL_STEP_")


def query_in(message: Any, v: Violations | None = None, basis: Basis | None = None,
             **filters: str) -> RevenueQuery:
    """A range question: the message's dates, zone, owner and team, its reporting currency
    if it has one, and `filters`; one span per year only checks the range (the answers cover
    it whole)."""
    v = v or Violations()
    if basis is None and hasattr(message, "basis"):
        basis = enum_in(v, "basis", message.basis, BASES, Basis)
    if hasattr(message, "reporting_currency"):
        filters.setdefault("reporting", message.reporting_currency)
    return RevenueQuery.parse(message.start_date, message.end_date, message.time_zone,
                              Period.YEAR, basis, message.owner_id, message.team_id, v,
                              **filters)


def trends_in(m: pb.GetSalesTrendsRequest) -> tuple[RevenueQuery, int]:
    v = Violations()
    window = bounded(v, "moving_average_periods", m.moving_average_periods, DEFAULT_WINDOW,
                     MAX_WINDOW)
    period = enum_in(v, "period", m.period, PERIODS, Period)
    basis = enum_in(v, "basis", m.basis, BASES, Basis)
    return RevenueQuery.parse(m.start_date, m.end_date, m.time_zone, period, basis,
                              m.owner_id, m.team_id, v, customer_id=m.customer_id,
                              product_id=m.product_id, category=m.category,
                              reporting=m.reporting_currency), window


def limit_in(m: Any) -> tuple[RevenueQuery, int]:
    v = Violations()
    limit = bounded(v, "limit", m.limit, DEFAULT_LIMIT, MAX_LIMIT)
    filters = {"category": m.category} if hasattr(m, "category") else {}
    return query_in(m, v, **filters), limit


def ranking_in(m: pb.ListTopProductsRequest) -> tuple[RevenueQuery, int, bool]:
    v = Violations()
    ranking = enum_in(v, "ranking", m.ranking, RANKINGS, Ranking) or Ranking.UNITS
    limit = bounded(v, "limit", m.limit, DEFAULT_LIMIT, MAX_LIMIT)
    return query_in(m, v, Basis.BOOKINGS, category=m.category), limit, ranking is Ranking.UNITS


def _money(currency: str, amount: Any) -> Any:
    return money_out(Money(currency, amount))


def trends_out(r: TrendReport) -> pb.GetSalesTrendsResponse:
    q = r.query
    return pb.GetSalesTrendsResponse(
        basis=enum_out(q.basis, BASES), time_zone=q.zone_name,  # type: ignore[arg-type]
        period=enum_out(q.period, PERIODS),  # type: ignore[arg-type]
        moving_average_periods=r.window,
        periods=[pb.TrendPeriod(
            start_date=p.first.isoformat(), end_date=p.last.isoformat(),
            amounts=[pb.TrendAmount(
                revenue=amounts_out({a.currency: a.revenue})[0],
                period_over_period=a.period_over_period, year_over_year=a.year_over_year,
                moving_average=_money(a.currency, round_to_minor(a.moving_average, a.currency)))
                for a in p.amounts], converted=converted_out(c))
            for p, c in zip(r.periods, each_converted(r.converted, len(r.periods)),
                            strict=True)])


def _performance_out(p: Performance) -> pb.Performance:
    q = p.quotes
    return pb.Performance(
        owner_id=p.owner_id, team_id=p.team_id, revenue=amounts_out(p.revenue),
        orders=p.orders, unique_customers=p.unique_customers, quotes_sent=q.get("sent", 0),
        quotes_accepted=q.get("accepted", 0), quotes_rejected=q.get("rejected", 0),
        quotes_expired=q.get("expired", 0), win_rate=p.win_rate,
        discount_rates=[pb.Ratio(currency_code=c, value=r)
                        for c, r in p.discount_rates().items()],
        converted_revenue=converted_out(p.converted))


def performance_out(reps: list[Performance], teams: list[Performance]
                    ) -> pb.GetSalesPerformanceResponse:
    return pb.GetSalesPerformanceResponse(reps=[_performance_out(p) for p in reps],
                                          teams=[_performance_out(p) for p in teams])


def _customer_out(c: RankedCustomer, rank: int, across: bool) -> pb.RankedCustomer:
    amounts = amounts_out(c.revenue)
    return pb.RankedCustomer(customer_id=c.customer_id, rank=rank,
                             revenue=None if across else amounts[0],
                             amounts=amounts if across else [],
                             converted=converted_out(c.converted))


def ranked_customers_out(top: TopCustomers
                         ) -> tuple[list[pb.RankedCustomer], pb.ConvertedCustomerRanking | None]:
    """The rankings within each currency, and the one across currencies if asked for."""
    ranks = [_customer_out(c, i, False) for ranking in top.per_currency.values()
             for i, c in enumerate(ranking, 1)]
    across = top.converted
    return ranks, None if across is None else pb.ConvertedCustomerRanking(
        customers=[_customer_out(c, i, True) for i, c in enumerate(across.entries, 1)],
        unconverted_currencies=list(across.unconverted))


def top_customers_out(basis: Basis, top: TopCustomers) -> pb.ListTopCustomersResponse:
    ranks, across = ranked_customers_out(top)
    return pb.ListTopCustomersResponse(basis=enum_out(basis, BASES),  # type: ignore[arg-type]
                                       customers=ranks, converted_ranking=across)


def _ranked_products_out(products: list[RankedProduct]) -> list[pb.RankedProduct]:
    ranks: dict[str, int] = {}
    out = []
    for p in products:
        ranks[p.currency] = ranks.get(p.currency, 0) + 1
        out.append(pb.RankedProduct(
            product_id=p.product_id, sku=p.label.sku, name=p.label.name,
            category=p.label.category, rank=ranks[p.currency], units=p.units,
            revenue=amounts_out(p.revenue), currency_code=p.currency,
            converted=converted_out(p.converted)))
    return out


def top_products_out(by_units: bool, top: TopProducts) -> pb.ListTopProductsResponse:
    ranking = Ranking.UNITS if by_units else Ranking.REVENUE
    across = top.converted
    return pb.ListTopProductsResponse(
        ranking=enum_out(ranking, RANKINGS),  # type: ignore[arg-type]
        products=_ranked_products_out(top.products),
        converted_ranking=None if across is None else pb.ConvertedProductRanking(
            products=_ranked_products_out(across.entries),
            unconverted_currencies=list(across.unconverted)))


def _one(currency: str, tally: Tally) -> pb.CurrencyAmount:
    return amounts_out({currency: tally})[0]


def kpis_out(k: Kpis) -> pb.GetKpisResponse:
    r = k.rates
    return pb.GetKpisResponse(
        time_zone=k.zone_name, days=k.days,
        figures=[pb.KpiFigures(
            currency_code=f.currency, bookings=_one(f.currency, f.bookings),
            billings=_one(f.currency, f.billings), collections=_one(f.currency, f.collections),
            receivables=_one(f.currency, f.receivables),
            days_sales_outstanding=f.days_sales_outstanding,
            average_days_to_pay=f.average_days_to_pay, discount_rate=f.discount_rate)
            for f in k.figures],
        rates=pb.KpiRates(
            quotes_sent=r.quotes["sent"], quotes_accepted=r.quotes["accepted"],
            quotes_rejected=r.quotes["rejected"], quotes_expired=r.quotes["expired"],
            quote_win_rate=r.win_rate, quote_to_order_conversion=r.conversion,
            orders_kept=r.orders_kept, orders_cancelled=r.orders_cancelled,
            cancellation_rate=r.cancellation_rate),
        open_quotes=amounts_out(k.open_quotes),
        converted=None if k.converted is None else pb.KpiConverted(
            **{name: converted_out(c) for name, c in zip(
                ("bookings", "billings", "collections", "receivables"), k.converted,
                strict=True)}))


def funnel_out(zone_name: str, size: int, stages: list[Stage],
               converted: list[Converted] | None = None) -> pb.GetConversionFunnelResponse:
    out = []
    for i, (stage, value) in enumerate(zip(stages, each_converted(converted, len(stages)),
                                           strict=True)):
        wait = None
        if stage.median_seconds is not None:
            wait = Duration()
            wait.FromTimedelta(timedelta(seconds=stage.median_seconds))
        out.append(pb.FunnelStage(
            step=enum_out(stage.step, STEPS),  # type: ignore[arg-type]
            count=stage.count, values=amounts_out(stage.values),
            rate_from_previous=ratio(stage.count, stages[i - 1].count) if i else "",
            rate_from_created=ratio(stage.count, size), median_time_from_previous=wait,
            converted_values=converted_out(value)))
    return pb.GetConversionFunnelResponse(time_zone=zone_name, cohort_size=size, stages=out)


def products_in(m: pb.GetProductAnalyticsRequest) -> tuple[RevenueQuery, int]:
    v = Violations()
    movers = bounded(v, "movers", m.movers, 5, MAX_LIMIT)
    return query_in(m, v, Basis.BOOKINGS, category=m.category), movers


def products_out(r: ProductReport) -> pb.GetProductAnalyticsResponse:
    return pb.GetProductAnalyticsResponse(
        products=[pb.ProductFigures(
            product_id=f.product_id, sku=f.label.sku, name=f.label.name,
            category=f.label.category, units=f.units, revenue=amounts_out(f.revenue),
            previous_units=f.previous_units, units_change=f.units_change,
            stock_on_hand=f.label.on_hand, stock_turnover=f.turnover,
            converted_revenue=converted_out(f.converted)) for f in r.products],
        categories=[pb.CategoryFigures(
            category=c, units=units, revenue=amounts_out(amounts),
            converted_revenue=converted_out((r.converted_categories or {}).get(c)))
            for c, (units, amounts) in r.categories.items()],
        best_movers=r.best, worst_movers=r.worst,
        previous_start_date=r.previous[0].isoformat(),
        previous_end_date=r.previous[1].isoformat())


def customers_in(m: pb.GetCustomerAnalyticsRequest) -> tuple[RevenueQuery, int, int]:
    v = Violations()
    quiet = bounded(v, "quiet_days", m.quiet_days, 90, 3650)
    limit = bounded(v, "limit", m.limit, 5, MAX_LIMIT)
    period = enum_in(v, "period", m.period, PERIODS, Period)
    return RevenueQuery.parse(m.start_date, m.end_date, m.time_zone, period, Basis.BOOKINGS,
                              m.owner_id, m.team_id, v,
                              reporting=m.reporting_currency), quiet, limit


def customers_out(r: CustomerReport) -> pb.GetCustomerAnalyticsResponse:
    top, across = ranked_customers_out(r.top)
    return pb.GetCustomerAnalyticsResponse(
        periods=[pb.CustomerPeriod(start_date=p.first.isoformat(), end_date=p.last.isoformat(),
                                   new_customers=p.new, returning_customers=p.returning)
                 for p in r.periods],
        customers=r.customers, new_customers=r.new, repeat_customers=r.repeat,
        repeat_rate=r.repeat_rate,
        quiet_customers=[pb.QuietCustomer(customer_id=c, last_order_date=d.isoformat())
                         for c, d in r.quiet],
        top_customers=top, converted_top_customers=across)


def dashboard_view_out(view: DashboardView) -> pb.GetSalesDashboardResponse:
    out = dashboard_out(view.board)
    top, across = ranked_customers_out(view.top_customers)
    out.top_customers.extend(top)
    if across is not None:
        out.converted.top_customers.CopyFrom(across)
    out.top_products.extend(_ranked_products_out(view.top_products.products))
    return out
