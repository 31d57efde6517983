"""The current time, at the millisecond precision MongoDB keeps, so reads equal writes.

`moved_to` is for seeding and tests only: it back-dates the use cases run inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_offset: ContextVar[timedelta] = ContextVar("clock_offset", default=timedelta(0))


def now() -> datetime:
    t = datetime.now(UTC) + _offset.get()
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


@contextmanager
def moved_to(moment: datetime) -> Iterator[None]:
    """Within the block, now() reads as if the clock had been set to `moment` and kept running
    from there. The offset lives in a context variable: it holds for this task and the tasks
    it starts meanwhile, and never for the server's other calls or its jobs."""
    if moment.tzinfo is None:
        raise ValueError("moved_to needs an aware datetime")
    token = _offset.set(moment - datetime.now(UTC))
    try:
        yield
    finally:
        _offset.reset(token)
