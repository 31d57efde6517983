"""Analytics messages to domain values and back."""

from __future__ import annotations

from erp.sales.v1 import analytics_service_pb2 as pb

from ...domain.analytics import (
    Amounts,
    Dashboard,
    Period,
    PeriodRevenue,
    RevenueQuery,
    RevenueReport,
)
from ...domain.errors import Violations
from ...domain.exchange import Converted
from ...domain.money import Money, round_to_minor
from ...domain.rollups import Basis
from .common import enum_in, enum_names, enum_out, money_out
from .exchange_rates import converted_out, each_converted

BASES = enum_names(pb.RevenueBasis.DESCRIPTOR, "REVENUE_BASIS_")
PERIODS = enum_names(pb.CalendarPeriod.DESCRIPTOR, "CALENDAR_PERIOD_")


def revenue_query_in(message: pb.GetRevenueRequest) -> RevenueQuery:
    v = Violations()
    period = enum_in(v, "period", message.period, PERIODS, Period)
    basis = enum_in(v, "basis", message.basis, BASES, Basis)
    return RevenueQuery.parse(message.start_date, message.end_date, message.time_zone, period,
                              basis, message.owner_id, message.team_id, v,
                              reporting=message.reporting_currency)


def amounts_out(amounts: Amounts) -> list[pb.CurrencyAmount]:
    out = []
    for currency, tally in sorted(amounts.items()):
        average = (money_out(Money(currency, round_to_minor(tally.amount / tally.count,
                                                            currency)))
                   if tally.count > 0 else None)
        out.append(pb.CurrencyAmount(amount=money_out(Money(currency, tally.amount)),
                                     document_count=tally.count, average_amount=average))
    return out


def _period_out(span: PeriodRevenue, converted: Converted | None) -> pb.PeriodRevenue:
    return pb.PeriodRevenue(start_date=span.first.isoformat(), end_date=span.last.isoformat(),
                            amounts=amounts_out(span.amounts), converted=converted_out(converted))


def revenue_out(report: RevenueReport) -> pb.GetRevenueResponse:
    q = report.query
    converted = each_converted(report.converted, len(report.periods))
    return pb.GetRevenueResponse(
        basis=enum_out(q.basis, BASES), time_zone=q.zone_name,  # type: ignore[arg-type]
        period=enum_out(q.period, PERIODS),  # type: ignore[arg-type]
        periods=[_period_out(s, c) for s, c in zip(report.periods, converted, strict=True)],
        totals=amounts_out(report.totals),
        converted_totals=converted_out(report.converted_totals))


def dashboard_out(d: Dashboard) -> pb.GetSalesDashboardResponse:
    c = d.converted
    pairs = c.revenue if c else [(None, None)] * len(d.revenue)
    return pb.GetSalesDashboardResponse(
        time_zone=d.zone_name, today=d.today.isoformat(),
        revenue=[pb.DashboardRevenue(
            period=enum_out(r.period, PERIODS),  # type: ignore[arg-type]
            start_date=r.current.first.isoformat(), end_date=r.current.last.isoformat(),
            current=amounts_out(r.current.amounts),
            previous_start_date=r.previous.first.isoformat(),
            previous_end_date=r.previous.last.isoformat(),
            previous=amounts_out(r.previous.amounts),
            converted_current=converted_out(now), converted_previous=converted_out(before))
            for r, (now, before) in zip(d.revenue, pairs, strict=True)],
        open_quotes=amounts_out(d.open_quotes),
        receivables_outstanding=amounts_out(d.receivables_outstanding),
        receivables_overdue=amounts_out(d.receivables_overdue),
        pipeline=amounts_out(d.pipeline),
        converted=None if c is None else pb.DashboardConverted(
            open_quotes=converted_out(c.open_quotes),
            receivables_outstanding=converted_out(c.receivables_outstanding),
            receivables_overdue=converted_out(c.receivables_overdue),
            pipeline=converted_out(c.pipeline)))
