"""Forecaster: fits forecasts in a pool of worker processes, off the event loop.

A fit is numpy and statsmodels work of a tenth of a second to a few seconds (the backtest
refits the model at each origin), much of it holding the GIL: on the loop, or in a thread,
it would stall every other call of the server. So, like the PDF renderer
(documents/renderer.py), it runs in spawned worker processes at the lowest CPU priority,
started on the first forecast: a server that forecasts nothing starts no processes and never
imports statsmodels.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal

from ..domain.errors import Unavailable
from ..domain.forecast import ForecastResult, check_request, forecast

WORKER_NICENESS = 19
_WARM_UP = [Decimal(v) for v in (1, 3, 2, 4, 3, 5, 4, 6, 5, 7)]


def _start_worker() -> None:
    """Leaves the server's CPU group and priority (documents/renderer.py says why both), then
    fits once, so importing statsmodels is not charged to a caller's forecast."""
    try:
        os.setsid()
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(WORKER_NICENESS))
    except (OSError, AttributeError):  # no autogroup, or not POSIX
        pass
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # pragma: no cover - a platform without nice: fit at normal priority
        pass
    forecast(_WARM_UP, 1, 1)


class Forecaster:
    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"forecast workers={workers} must be at least 1")
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker)
        return self._pool

    async def forecast(self, history: list[Decimal], season_length: int, horizon: int,
                       currency: str = "") -> ForecastResult:
        """See domain.forecast.forecast. Bad input and too little history are answered here,
        without a trip to a worker."""
        check_request(history, season_length, horizon, currency)
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, forecast, list(history), season_length, horizon, currency)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start afresh on the next call.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise Unavailable("the forecaster restarted; retry the call",
                              reason="FORECASTER_RESTARTED") from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # waits for fits in progress, in a thread: not on the loop
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
