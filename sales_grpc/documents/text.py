"""Cells of report files as text: one form for CSV, JSON Lines and PDF alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal


def text_of(value: object) -> str:
    """A cell as text: decimals in plain notation, times RFC 3339 in UTC, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
