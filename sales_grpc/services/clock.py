"""The current time, at the millisecond precision MongoDB keeps, so reads equal writes."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
