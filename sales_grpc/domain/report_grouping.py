"""Grouped custom reports: rows folded into groups with exact aggregates, in memory bounded by
the groups (at most MAX_GROUPS), not by the rows. Sums are Decimal sums; an average is the
exact sum divided once and rounded half-up to AVG_PLACES places."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

from .errors import FailedPrecondition, PreconditionViolation
from .report_shapes import AVG_PLACES, Aggregate, Shape

MAX_GROUPS = 10_000


@dataclass
class _Acc:
    count: int = 0
    values: list[object] = field(default_factory=list)  # per aggregate: its running figure
    seen: list[int] = field(default_factory=list)


class Grouper:
    """Rows folded into at most MAX_GROUPS groups: memory bounded by the groups, not rows."""

    def __init__(self, shape: Shape) -> None:
        self._shape = shape
        self._groups: dict[tuple[object, ...], _Acc] = {}

    def add(self, row: Sequence[object]) -> None:
        key = tuple(row[i] for i in self._shape.group_by)
        acc = self._groups.get(key)
        if acc is None:
            if len(self._groups) >= MAX_GROUPS:
                raise FailedPrecondition(
                    f"the report has more than {MAX_GROUPS} groups; group by fewer columns "
                    "or filter", violations=[PreconditionViolation(
                        "TOO_MANY_GROUPS", "group_by", f"at most {MAX_GROUPS} groups")],
                    reason="TOO_MANY_GROUPS")
            n = len(self._shape.aggregates)
            acc = self._groups[key] = _Acc(0, [None] * n, [0] * n)
        acc.count += 1
        for i, (function, at) in enumerate(self._shape.aggregates):
            value = row[at] if at >= 0 else True
            if value is None:
                continue
            acc.seen[i] += 1
            now = acc.values[i]
            if function in (Aggregate.SUM, Aggregate.AVG):
                acc.values[i] = value if now is None else now + value  # type: ignore[operator]
            elif function is Aggregate.MIN and (now is None or value < now):  # type: ignore[operator]
                acc.values[i] = value
            elif function is Aggregate.MAX and (now is None or value > now):  # type: ignore[operator]
                acc.values[i] = value

    def rows(self) -> list[list[object]]:
        out = [[*key, *(_result(f, acc, i) for i, (f, _) in enumerate(self._shape.aggregates))]
               for key, acc in self._groups.items()]
        if not self._groups and not self._shape.group_by:  # a grand total of no rows
            out = [[_result(f, _Acc(0, [None] * len(self._shape.aggregates),
                                    [0] * len(self._shape.aggregates)), i)
                    for i, (f, _) in enumerate(self._shape.aggregates)]]
        order = self._shape.order or tuple((i, False) for i in range(len(self._shape.group_by)))
        for at, desc in reversed(order):  # stable sorts, last key first
            out.sort(key=_nulls_first(at), reverse=desc)
        return out


def _nulls_first(at: int) -> Callable[[list[object]], tuple[bool, object]]:
    def key(row: list[object]) -> tuple[bool, object]:
        return row[at] is not None, row[at]

    return key


def _result(function: Aggregate, acc: _Acc, i: int) -> object:
    if function is Aggregate.COUNT:
        return acc.seen[i]
    value = acc.values[i]
    if function is not Aggregate.AVG or value is None:
        return value
    with localcontext() as ctx:
        ctx.prec = 80  # exact for any sum below 10^60: the quotient is then rounded once
        mean = Decimal(value) / acc.seen[i]  # type: ignore[arg-type]
        return mean.quantize(Decimal(1).scaleb(-AVG_PLACES), rounding=ROUND_HALF_UP)
