"""Concurrency limits on the expensive methods (every List*, Search* and Export*), so that
one kind of call cannot take the whole server from the others.

Past its limit a call waits briefly for a place, in arrival order, then is refused with
RESOURCE_EXHAUSTED and a RetryInfo. A short wait rather than an immediate refusal: most lists
take milliseconds, so a burst of them (a screen that opens several, a team starting its day)
passes through; while slow ones hold every place, a caller still learns within
LIST_WAIT_SECONDS (and never after its own deadline) that it should come back later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from ..domain.errors import ResourceExhausted

EXPENSIVE_PREFIXES = ("List", "Search", "Export")
RETRY_AFTER_SECONDS = 1.0


def expensive_methods(service_names: Iterable[str]) -> list[str]:
    """`/package.Service/Method` of every expensive method the contract declares."""
    pool = descriptor_pool.Default()
    return [f"/{name}/{method.name}" for name in service_names
            for method in pool.FindServiceByName(name).methods
            if method.name.startswith(EXPENSIVE_PREFIXES)]


class Limit:
    """At most `size` calls of one method in progress at once."""

    def __init__(self, method: str, size: int, wait: float) -> None:
        self.method = method
        self.size = size
        self._wait = wait
        self._places = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def held(self, ctx: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
        """A place for the call's duration, or ResourceExhausted when none frees up in time."""
        await self._enter(ctx.time_remaining())
        try:
            yield
        finally:
            self._places.release()

    async def _enter(self, remaining: float | None) -> None:
        if not self._places.locked():
            await self._places.acquire()  # a free place: taken without suspending
            return
        wait = self._wait if remaining is None else min(self._wait, remaining)
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._places.acquire()
                return
        name = self.method.rsplit("/", 1)[-1]
        raise ResourceExhausted(
            f"{name} already has {self.size} calls in progress, its limit; retry shortly",
            reason="CONCURRENCY_LIMIT", metadata={"method": self.method, "limit": str(self.size)},
            retry_after=RETRY_AFTER_SECONDS)


def method_limits(service_names: Iterable[str], size: int, wait: float) -> dict[str, Limit]:
    """One Limit per expensive method, each with `size` places of its own."""
    return {method: Limit(method, size, wait) for method in expensive_methods(service_names)}


class CallsInProgress:
    """The server-wide cap on sales calls in progress in this process: past `size`, a call is
    refused at once (no wait: a server this busy would only queue it behind the others), so
    an overloaded server answers RESOURCE_EXHAUSTED in microseconds instead of letting calls
    pile up without bound until every one of them misses its deadline. Health and reflection
    never pass through it (the interceptor leaves them unwrapped), so probes keep answering.

    A plain counter: every call runs on this process's one event loop thread."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0

    def enter(self) -> None:
        """Takes a place, or raises ResourceExhausted; the caller must `leave` once entered."""
        if self.count >= self.size:
            raise ResourceExhausted(
                f"the server has {self.size} calls in progress, its limit; retry shortly",
                reason="SERVER_OVERLOADED", metadata={"limit": str(self.size)},
                retry_after=RETRY_AFTER_SECONDS)
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
