"""Forecaster: fits forecasts in a pool of worker processes, off the event loop.

A fit is numpy and statsmodels work of a tenth of a second to a few seconds (the backtest
refits the model at each origin), much of it holding the GIL: on the loop, or in a thread,
it would stall every other call of the server. So, like the PDF renderer, it runs in worker
processes (process_pool.py) started on the first forecast: a server that forecasts nothing
starts no processes and never imports statsmodels.
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.forecast import ForecastResult, check_request, forecast
from ..process_pool import ProcessPool, lower_priority

_WARM_UP = [Decimal(v) for v in (1, 3, 2, 4, 3, 5, 4, 6, 5, 7)]


def _start_worker() -> None:
    """At the lowest priority (process_pool.py says why), then fits once, so importing
    statsmodels is not charged to a caller's forecast."""
    lower_priority()
    forecast(_WARM_UP, 1, 1)


class Forecaster:
    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"forecast workers={workers} must be at least 1")
        self._pool = ProcessPool(workers, _start_worker, "forecaster", "FORECASTER_RESTARTED")

    async def forecast(self, history: list[Decimal], season_length: int, horizon: int,
                       currency: str = "") -> ForecastResult:
        """See domain.forecast.forecast. Bad input and too little history are answered here,
        without a trip to a worker."""
        check_request(history, season_length, horizon, currency)
        return await self._pool.run(forecast, list(history), season_length, horizon, currency)

    async def close(self) -> None:
        await self._pool.close()
