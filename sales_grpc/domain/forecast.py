"""Revenue forecasts by exponential smoothing, with prediction intervals and a backtest that
says whether the model beats the seasonal-naive forecast on the same history.

The history and the forecasts are exact Decimals; in between, the models work in binary
floats, since a forecast is a statistical estimate and not money: only the rounding at the end
follows the currency's rules.

Methods, by how much history there is (n points, a season of m periods):
- HOLT_WINTERS: ETS(A,A,A), additive errors, trend and season, when n >= 2m (m >= 2); the
  backtest refits it from a season and a half of history on (see _ets).
- DAMPED_TREND: ETS(A,Ad,N), Holt's damped trend without a season, when n is shorter.
- SEASONAL_NAIVE: each period repeats the one a season before; when at least one season and a
  point are known but not two seasons, it competes with DAMPED_TREND in the backtest and the
  one with the smaller error is used.
Prediction intervals of the ETS models are statsmodels' closed-form ones (ETSModel's
get_prediction, exact for additive-error models); those of SEASONAL_NAIVE are residual-based:
the spread of its in-sample errors, growing with each season ahead, under a normal law.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

import numpy as np

from .errors import FailedPrecondition, Violations
from .money import MINOR_UNITS, round_to_minor

HOLT_WINTERS = "HOLT_WINTERS"
DAMPED_TREND = "DAMPED_TREND"
SEASONAL_NAIVE = "SEASONAL_NAIVE"
NAIVE = "NAIVE"
MIN_POINTS = 8
MAX_HORIZON = 60
MAX_SEASON = 53
MAX_HISTORY = 1200
BACKTEST_ORIGINS = 6
LEVELS = (80, 95)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class ForecastPoint:
    index: int  # periods after the last one of the history: 1 is the next period
    value: Decimal
    lower80: Decimal
    upper80: Decimal
    lower95: Decimal
    upper95: Decimal


@dataclass(frozen=True)
class Backtest:
    """One-step-ahead errors at each of the last `origins` periods, forecast by a fit on the
    history before it, of the model and of the `baseline`: SEASONAL_NAIVE, or NAIVE (the
    previous period) when the history before the first origin is shorter than a season.
    sMAPE is in percent (0 to 200); MASE divides the mean absolute error by the baseline's
    over the whole history (below 1: better than that). None where undefined: no origins, or
    a history that never changes."""

    origins: int
    baseline: str
    model_smape: float | None
    model_mase: float | None
    naive_smape: float | None
    naive_mase: float | None

    @property
    def beats_naive(self) -> bool | None:
        if self.model_mase is None or self.naive_mase is None:
            return None
        return self.model_mase < self.naive_mase


@dataclass(frozen=True)
class ForecastResult:
    method: str
    points: list[ForecastPoint]
    backtest: Backtest


def check_request(history: Sequence[Decimal], season_length: int, horizon: int,
                  currency: str = "") -> None:
    """Raises InvalidArgument for bad input, then FailedPrecondition for too little history."""
    problems = Violations()
    if not 1 <= season_length <= MAX_SEASON:
        problems.add("season_length", f"must be from 1 to {MAX_SEASON} periods")
    if not 1 <= horizon <= MAX_HORIZON:
        problems.add("horizon", f"must be from 1 to {MAX_HORIZON} periods")
    elif len(history) >= MIN_POINTS and horizon > 2 * len(history):
        problems.add("horizon", f"must be at most twice the history ({2 * len(history)} "
                                "periods): further out a forecast says nothing")
    if len(history) > MAX_HISTORY:
        problems.add("history", f"has {len(history)} periods; at most {MAX_HISTORY}")
    if not all(isinstance(v, Decimal) and v.is_finite() for v in history):
        problems.add("history", "every value must be a finite decimal number")
    if currency and currency not in MINOR_UNITS:
        problems.add("currency", "is not a supported ISO 4217 currency code")
    problems.raise_if_any("the forecast request has invalid fields")
    if len(history) < MIN_POINTS:
        raise FailedPrecondition(
            f"a forecast needs at least {MIN_POINTS} periods of history, and "
            f"{2 * season_length} for a seasonal one; there are {len(history)}",
            reason="HISTORY_TOO_SHORT",
            metadata={"points": str(len(history)), "points_needed": str(MIN_POINTS),
                      "points_for_seasonal": str(2 * season_length)})


def forecast(history: Sequence[Decimal], season_length: int, horizon: int,
             currency: str = "") -> ForecastResult:
    """The next `horizon` periods after `history`, rounded to `currency`'s minor unit (or to
    hundredths without one). CPU-bound: tenths of a second to seconds."""
    check_request(history, season_length, horizon, currency)
    y, m = np.array([float(v) for v in history]), season_length
    candidates = _candidates(len(y), m)
    first = max(len(y) - BACKTEST_ORIGINS, *(_min_train(c, m) for c in candidates))
    origins = range(first, len(y))
    predicted = {c: np.array([_predict(c, y[:t], m, 1)[0][0] for t in origins])
                 for c in candidates}
    method = min(candidates, key=lambda c: float(np.sum(np.abs(predicted[c] - y[first:]))))
    lag = m if m >= 2 and first >= m else 1
    naive = np.array([y[t - lag] for t in origins])
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    backtest = Backtest(len(origins), SEASONAL_NAIVE if lag > 1 else NAIVE,
                        _smape(y[first:], predicted[method]),
                        _mase(y[first:], predicted[method], scale),
                        _smape(y[first:], naive), _mase(y[first:], naive, scale))
    mean, bands = _predict(method, y, m, horizon)
    if not (np.all(np.isfinite(mean)) and all(np.all(np.isfinite(b)) for b in bands)):
        raise FailedPrecondition("the model could not be fitted to this history",
                                 reason="FORECAST_NOT_FITTED", metadata={"method": method})
    money = [[_rounded(v, currency) for v in column] for column in (mean, *bands)]
    points = [ForecastPoint(i + 1, *(column[i] for column in money)) for i in range(horizon)]
    return ForecastResult(method, points, backtest)


def _candidates(n: int, m: int) -> list[str]:
    if m >= 2 and n >= 2 * m:
        return [HOLT_WINTERS]
    if m >= 2 and n > max(m + 1, MIN_POINTS):
        return [DAMPED_TREND, SEASONAL_NAIVE]
    return [DAMPED_TREND]


def _min_train(method: str, m: int) -> int:
    """The shortest history the backtest fits `method` to: Holt-Winters from a season and a
    half (see _ets), so two seasons of history leave origins to test it at."""
    return {HOLT_WINTERS: max(m + (m + 1) // 2, MIN_POINTS),
            SEASONAL_NAIVE: m + 1}.get(method, MIN_POINTS)


def _predict(method: str, y: np.ndarray, m: int, h: int
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The mean forecast h periods ahead, and the bounds of the 80% and 95% intervals."""
    if method == SEASONAL_NAIVE:
        mean = np.array([y[len(y) - m + (i % m)] for i in range(h)])
        sigma = float(np.sqrt(np.mean((y[m:] - y[:-m]) ** 2)))
        spread = sigma * np.sqrt(np.arange(h) // m + 1)
        z = [NormalDist().inv_cdf(0.5 + level / 200) for level in LEVELS]
        return mean, [mean - z[0] * spread, mean + z[0] * spread,
                      mean - z[1] * spread, mean + z[1] * spread]
    prediction = _ets(method, y, m).get_prediction(start=len(y), end=len(y) + h - 1)
    frames = [prediction.summary_frame(alpha=1 - level / 100) for level in LEVELS]
    return (frames[0]["mean"].to_numpy(),
            [frame[column].to_numpy() for frame in frames for column in ("pi_lower", "pi_upper")])


def _ets(method: str, y: np.ndarray, m: int):  # type: ignore[no-untyped-def]
    # Imported here: statsmodels takes a second or two to import, and only the processes that
    # fit (the forecaster's workers) need it.
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = method == HOLT_WINTERS
    # The heuristic start fits in a tenth of the time of estimating every initial state, and
    # gave the better intervals here; statsmodels computes it from 10 points and two seasons.
    # Shorter, a Holt-Winters model (only ever a backtest's, at an earlier origin) starts
    # from a regression of the history on a line and the season, and a damped trend
    # estimates its start.
    start: dict[str, object] = {"initialization_method": "heuristic"}
    if seasonal and len(y) < max(2 * m, 10):
        level, trend, season = _regression_start(y, m)
        start = {"initialization_method": "known", "initial_level": level,
                 "initial_trend": trend, "initial_seasonal": season}
    elif len(y) < 10:
        start = {"initialization_method": "estimated"}
    model = ETSModel(
        pd.Series(y), error="add", trend="add", damped_trend=not seasonal,
        seasonal="add" if seasonal else None, seasonal_periods=m if seasonal else None,
        **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on short or flat series
        return model.fit(disp=False)


def _regression_start(y: np.ndarray, m: int) -> tuple[float, float, np.ndarray]:
    """The level before the first point, the trend, and the season (first point's first),
    from least squares of y on time and a dummy per season."""
    t = np.arange(len(y))
    columns = np.column_stack([t, *((t % m == j).astype(float) for j in range(m))])
    coefficients = np.linalg.lstsq(columns, y, rcond=None)[0]
    trend, intercepts = float(coefficients[0]), coefficients[1:]
    level = float(np.mean(intercepts))
    return level - trend, trend, intercepts - level


def _smape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    if len(actual) == 0:
        return None
    total = np.abs(actual) + np.abs(predicted)
    terms = np.divide(200 * np.abs(actual - predicted), total, out=np.zeros_like(total),
                      where=total > 0)
    return float(np.mean(terms))


def _mase(actual: np.ndarray, predicted: np.ndarray, scale: float) -> float | None:
    if len(actual) == 0 or not scale > 0 or not math.isfinite(scale):
        return None
    return float(np.mean(np.abs(actual - predicted))) / scale


def _rounded(value: float, currency: str) -> Decimal:
    exact = Decimal(repr(float(value)))
    rounded = round_to_minor(exact, currency) if currency else exact.quantize(_CENT, ROUND_HALF_UP)
    return abs(rounded) if rounded.is_zero() else rounded  # no "-0.00"
