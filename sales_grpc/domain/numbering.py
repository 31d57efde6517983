"""Number series: what each series is called, how its numbers read, and how they are drawn."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

SALES_ORDER = "sales_order"
CUSTOMER_CODE = "customer_code"
QUOTE = "quote"
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"

FIELDS = frozenset({"year", "seq"})


class Policy(Enum):
    """How numbers are drawn.

    BLOCK: unique across processes and fast; a process takes `block` numbers per round trip,
    outside any transaction, so a failed create or a restart leaves gaps (orders, quotes).
    GAPLESS: drawn inside the caller's transaction, so an aborted transaction gives its number
    back and the committed numbers run without a gap (invoices, credit notes), at the price of
    one counter document that every issuing transaction writes (see store/numbering.py).
    """

    BLOCK = "block"
    GAPLESS = "gapless"


class Reset(Enum):
    YEARLY = "yearly"
    NEVER = "never"


class SeriesError(ValueError):
    """A series definition that cannot give unique numbers: a configuration error."""


class DrawOutsideTransaction(RuntimeError):
    """A gapless number asked for outside a transaction: a programming error, since such a
    number could not be given back if the document it numbers were not written."""


@dataclass(frozen=True)
class Series:
    """A series: a counter per year (or one for ever) and a format such as
    `SO-{year}-{seq:06d}`, where `{seq}` is the counter's value and `{year}` the document's."""

    name: str
    format: str
    policy: Policy
    reset: Reset = Reset.YEARLY
    block: int = 1

    def __post_init__(self) -> None:
        if problem := _problem(self):
            raise SeriesError(f"number series {self.name}: {problem}")

    def counter_id(self, moment: datetime) -> str:
        """The counter's id: `sales_order:2026` per year, `customer_code` for ever (the ids
        drawn under before series existed, so stored counters keep their sequence)."""
        return f"{self.name}:{moment.year}" if self.reset is Reset.YEARLY else self.name

    def number(self, seq: int, moment: datetime) -> str:
        if seq < 1:
            raise ValueError(f"number series {self.name}: sequence must be positive, not {seq}")
        return self.format.format(year=moment.year, seq=seq)


def _problem(series: Series) -> str:
    if series.block < 1:
        return f"the block must be at least 1, not {series.block}"
    if series.policy is Policy.GAPLESS and series.block != 1:
        return "a gapless series draws one number at a time (block 1)"
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(series.format)
                  if name is not None}
    except ValueError as exc:
        return f"format {series.format!r} is malformed ({exc})"
    if unknown := fields - FIELDS:
        shown = ", ".join(f"{{{name}}}" for name in sorted(unknown))
        return f"format {series.format!r} names {shown}; only {{year}} and {{seq}} are known"
    if "seq" not in fields:
        return f"format {series.format!r} must contain {{seq}}"
    if series.reset is Reset.YEARLY and "year" not in fields:
        return (f"format {series.format!r} must contain {{year}}: the sequence restarts each "
                "year, so numbers would repeat")
    try:
        first, second = (series.format.format(year=2026, seq=seq) for seq in (1, 2))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"format {series.format!r} cannot format a number ({exc})"
    if first == second:
        return f"format {series.format!r} gives every number the same text"
    return ""
