"""Worker processes for CPU-bound work (PDF renders, forecast fits), off the event loop.

A render or a fit holds the GIL for a tenth of a second to seconds: on the loop, or in a
thread, it would stall every other call of the server. In another process it costs the server
nothing but pickling the input and receiving the result. The pool starts on its first job (a
server that never renders or forecasts starts no processes), its workers are spawned, not
forked (a fork of a process running gRPC's threads is unsafe), and they run at the lowest CPU
priority, so when jobs and calls compete for the cores the calls win.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .domain.errors import Unavailable

R = TypeVar("R")
WORKER_NICENESS = 19


def lower_priority() -> None:
    """Called first in a worker. Where Linux shares the CPU between sessions first
    (autogroup, on in many kernels and VMs, this one included), nice only ranks processes
    within their session: busy workers made the server's whole session busy, and its calls
    then waited behind other sessions' work (GetCustomer's p99 beside 8 renders went from 1.4x
    to 3.6x alone; bench/pdf.py). In a session of their own at the lowest priority the
    workers yield to the server either way. Without autogroup (a container's cgroup) the
    session changes nothing, and nice still ranks them below the server. A worker outside the
    terminal's process group also misses a Ctrl-C meant for the server, which closes the pool
    itself when it stops."""
    try:
        os.setsid()
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(WORKER_NICENESS))
    except (OSError, AttributeError):  # no autogroup, or not POSIX
        pass
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # pragma: no cover - a platform without nice: normal priority
        pass


class ProcessPool:
    """`workers` spawned processes, each started by `initializer` (which should call
    lower_priority first); a pool whose worker died is replaced on the next job."""

    def __init__(self, workers: int, initializer: Callable[[], None], what: str, reason: str
                 ) -> None:
        self._workers = workers
        self._initializer = initializer
        # What a job in flight when a worker died is told: UNAVAILABLE, retry.
        self._restarted = (f"the {what} restarted; retry the call", reason)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer)
        return self._pool

    async def run(self, job: Callable[..., R], *args: Any) -> R:
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start afresh on the next job.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            message, reason = self._restarted
            raise Unavailable(message, reason=reason) from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # waits for jobs in progress, in a thread: not on the loop
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
