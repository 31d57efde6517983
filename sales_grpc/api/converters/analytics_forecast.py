"""GetSalesForecast messages to domain values and back."""

from __future__ import annotations

from decimal import Decimal

from erp.sales.v1 import analytics_service_pb2 as pb

from ...domain.analytics import Period
from ...domain.errors import Violations
from ...domain.forecast import ForecastResult
from ...domain.forecast_query import ForecastAsk, ForecastQuery
from ...domain.money import round_to_minor
from ...domain.rollups import Basis
from .analytics import BASES, PERIODS
from .common import enum_in, enum_names, enum_out

MEASURES = enum_names(pb.ForecastMeasure.DESCRIPTOR, "FORECAST_MEASURE_")


def forecast_in(m: pb.GetSalesForecastRequest) -> ForecastAsk:
    v = Violations()
    period = enum_in(v, "period", m.period, PERIODS, Period)
    basis = enum_in(v, "basis", m.basis, BASES, Basis)
    if m.measure not in MEASURES and m.measure:
        v.add("measure", f"{m.measure} is not a known value")
    v.raise_if_any()
    return ForecastAsk(m.end_date, m.time_zone, period, basis, m.currency_code, m.horizon,
                       m.history_periods, m.season_length,
                       m.measure == pb.FORECAST_MEASURE_UNITS, m.owner_id, m.team_id,
                       m.customer_id, m.product_id)


def forecast_out(q: ForecastQuery, history: list[Decimal], r: ForecastResult
                 ) -> pb.GetSalesForecastResponse:
    def shown(value: Decimal) -> str:
        return str(round_to_minor(value, q.currency) if q.currency else value)

    b = r.backtest
    return pb.GetSalesForecastResponse(
        method=r.method, currency_code=q.currency, time_zone=q.history.zone_name,
        measure=pb.FORECAST_MEASURE_UNITS if q.units else pb.FORECAST_MEASURE_REVENUE,
        period=enum_out(q.history.period, PERIODS),  # type: ignore[arg-type]
        season_length=q.season,
        history=[pb.ForecastValue(start_date=a.isoformat(), end_date=z.isoformat(),
                                  value=shown(value))
                 for (a, z), value in zip(q.history.spans[len(q.history.spans) - len(history):],
                                          history, strict=True)],
        forecast=[pb.ForecastValue(
            start_date=a.isoformat(), end_date=z.isoformat(), value=str(p.value),
            lower_80=str(p.lower80), upper_80=str(p.upper80), lower_95=str(p.lower95),
            upper_95=str(p.upper95)) for (a, z), p in zip(q.future, r.points, strict=True)],
        backtest=pb.ForecastBacktest(
            origins=b.origins, baseline=b.baseline, model_smape=b.model_smape,
            model_mase=b.model_mase, baseline_smape=b.naive_smape,
            baseline_mase=b.naive_mase, beats_baseline=bool(b.beats_naive)))
