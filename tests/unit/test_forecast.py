"""Revenue forecasts: the method chosen for the history at hand, intervals that hold the
actual figures, a backtest that says whether the model beats seasonal-naive, and fits that run
in worker processes while the event loop goes on."""

from __future__ import annotations

import asyncio
import math
import random
from decimal import Decimal

import pytest

from sales_grpc.domain.errors import FailedPrecondition, InvalidArgument
from sales_grpc.domain.forecast import (
    DAMPED_TREND,
    HOLT_WINTERS,
    NAIVE,
    SEASONAL_NAIVE,
    ForecastResult,
    forecast,
)
from sales_grpc.services.forecasting import Forecaster


def monthly_revenue(months: int, *, trend: float = 150.0, season: float = 2000.0,
                    noise: float = 300.0, seed: int = 42) -> list[Decimal]:
    """Revenue per month: a level of 10,000 growing by `trend` a month, a yearly wave of
    `season` either way, and normal noise; to the cent."""
    rng = random.Random(seed)
    wave = [season * math.sin(2 * math.pi * t / 12) for t in range(months)]
    return [Decimal(f"{10_000 + trend * t + wave[t] + rng.gauss(0, noise):.2f}")
            for t in range(months)]


SERIES = monthly_revenue(48)
HISTORY, HELD_OUT = SERIES[:36], SERIES[36:]


@pytest.fixture(scope="module")
def three_years() -> ForecastResult:
    return forecast(HISTORY, 12, 12, "USD")


def test_three_seasons_of_history_are_forecast_by_holt_winters(three_years: ForecastResult):
    assert three_years.method == HOLT_WINTERS
    assert [p.index for p in three_years.points] == list(range(1, 13))


def test_holt_winters_beats_seasonal_naive_in_the_backtest(three_years: ForecastResult):
    backtest = three_years.backtest
    assert (backtest.origins, backtest.baseline) == (6, SEASONAL_NAIVE)
    assert backtest.model_mase is not None and backtest.naive_mase is not None
    assert backtest.model_mase < backtest.naive_mase
    assert backtest.model_smape is not None and backtest.naive_smape is not None
    assert backtest.model_smape < backtest.naive_smape
    assert backtest.beats_naive


def test_the_95_percent_interval_holds_most_of_the_held_out_months(three_years: ForecastResult):
    inside = sum(p.lower95 <= actual <= p.upper95
                 for p, actual in zip(three_years.points, HELD_OUT, strict=True))
    assert inside >= 10, f"only {inside} of 12 held-out months inside the 95% interval"


def test_two_seasons_of_history_are_backtested_at_six_earlier_origins_too():
    result = forecast(SERIES[:24], 12, 12, "USD")
    assert result.method == HOLT_WINTERS
    assert result.backtest.origins == 6
    assert result.backtest.beats_naive
    inside = sum(p.lower95 <= actual <= p.upper95
                 for p, actual in zip(result.points, SERIES[24:36], strict=True))
    assert inside >= 10


def test_the_80_percent_interval_lies_inside_the_95_percent_one(three_years: ForecastResult):
    for p in three_years.points:
        assert p.lower95 <= p.lower80 < p.value < p.upper80 <= p.upper95


def test_the_forecast_follows_the_trend_and_the_season(three_years: ForecastResult):
    values = [p.value for p in three_years.points]
    assert values[3] > values[9] + 2500  # the wave's top (April) against its bottom (October)
    assert sum(values) > sum(HISTORY[-12:]) + 12 * 1000  # a year on, about 1,800 a month more


def test_forecasts_are_rounded_to_the_currencys_minor_unit(three_years: ForecastResult):
    assert all(p.value.as_tuple().exponent == -2 for p in three_years.points)
    in_yen = forecast(HISTORY, 12, 2, "JPY")
    assert all(p.value == p.value.to_integral_value() for p in in_yen.points)
    assert abs(in_yen.points[0].value - three_years.points[0].value) <= 1
    without = forecast(HISTORY, 12, 2)
    assert without.points[0].value == three_years.points[0].value


def test_a_history_shorter_than_a_season_uses_the_damped_trend():
    result = forecast(monthly_revenue(10), 12, 3, "EUR")
    assert result.method == DAMPED_TREND
    assert len(result.points) == 3
    assert result.backtest.baseline == NAIVE  # no season known before the first origin
    assert result.backtest.origins == 2


def test_a_short_history_with_a_strong_season_repeats_the_last_season():
    history = monthly_revenue(20, trend=0, noise=50)
    result = forecast(history, 12, 4)
    assert result.method == SEASONAL_NAIVE
    assert [p.value for p in result.points] == history[8:12]
    assert result.backtest.model_mase == result.backtest.naive_mase


def test_a_history_without_a_season_uses_the_damped_trend_and_beats_the_last_value():
    result = forecast(monthly_revenue(24, season=0, trend=400, noise=100), 1, 6)
    assert result.method == DAMPED_TREND
    assert result.backtest.baseline == NAIVE
    assert result.backtest.beats_naive


def test_five_months_of_history_are_too_short_to_forecast():
    with pytest.raises(FailedPrecondition) as caught:
        forecast(monthly_revenue(5), 12, 3)
    assert caught.value.reason == "HISTORY_TOO_SHORT"
    assert caught.value.metadata == {"points": "5", "points_needed": "8",
                                     "points_for_seasonal": "24"}


@pytest.mark.parametrize(("horizon", "months"), [(0, 36), (-1, 36), (61, 48), (25, 12)])
def test_a_horizon_of_zero_or_too_far_out_is_an_invalid_argument(horizon: int, months: int):
    with pytest.raises(InvalidArgument) as caught:
        forecast(monthly_revenue(months), 12, horizon)
    assert [v.field for v in caught.value.violations] == ["horizon"]


@pytest.mark.parametrize(("season_length", "history", "currency", "field"), [
    (0, monthly_revenue(12), "", "season_length"),
    (54, monthly_revenue(12), "", "season_length"),
    (12, monthly_revenue(12), "XXX", "currency"),
    (12, [*monthly_revenue(11), Decimal("NaN")], "", "history"),
])
def test_a_bad_season_currency_or_value_is_an_invalid_argument(
        season_length: int, history: list[Decimal], currency: str, field: str):
    with pytest.raises(InvalidArgument) as caught:
        forecast(history, season_length, 3, currency)
    assert [v.field for v in caught.value.violations] == [field]


async def test_a_forecast_fitted_in_a_worker_equals_one_here_and_the_loop_runs_meanwhile(
        three_years: ForecastResult):
    forecaster = Forecaster(workers=1)
    try:
        await forecaster.forecast(monthly_revenue(10), 1, 1)  # start the worker first
        ticks = 0
        fitting = asyncio.ensure_future(forecaster.forecast(HISTORY, 12, 12, "USD"))
        while not fitting.done():
            ticks += 1
            await asyncio.sleep(0.002)
        assert await fitting == three_years
        assert ticks >= 5, "the loop stood still while the forecast was fitted"
    finally:
        await forecaster.close()


async def test_the_forecaster_refuses_too_little_history_like_the_model():
    forecaster = Forecaster(workers=1)
    try:
        with pytest.raises(FailedPrecondition, match="at least 8 periods"):
            await forecaster.forecast(monthly_revenue(5), 12, 3)
    finally:
        await forecaster.close()
