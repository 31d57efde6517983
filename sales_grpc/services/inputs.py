"""Inputs several use cases check alike: mail recipients and the reason for a move."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import validation as check
from ..domain.errors import Violations

MAX_RECIPIENTS = 10


def recipients(to: Sequence[str]) -> tuple[str, ...]:
    """At most MAX_RECIPIENTS valid addresses (INVALID_ARGUMENT on `to[i]` otherwise)."""
    v = Violations()
    if len(to) > MAX_RECIPIENTS:
        v.add("to", f"at most {MAX_RECIPIENTS} addresses")
    for i, address in enumerate(to[:MAX_RECIPIENTS]):
        check.email(v, f"to[{i}]", address)
    v.raise_if_any()
    return tuple(to)


def reason_text(reason: str, path: str = "reason") -> str:
    """A required reason of 1 to 500 characters, stripped."""
    v = Violations()
    check.text(v, path, reason, required=True, max_len=500)
    v.raise_if_any()
    return reason.strip()
