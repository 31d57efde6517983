"""Custom reports: a source's columns picked, or grouped with aggregates, and sorted.

A template names columns of its source's built-in report; `shape_of` checks every name
(INVALID_ARGUMENT naming the field) and gives the report's output columns and a Shape that
turns the source's rows into the report's (report_grouping.py folds grouped ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import Violations
from .listing import SortKey, sort_words
from .reports import Column, ColumnType, Report

AVG_PLACES = 6  # an average's places, rounded half-up (report_grouping.py)
_NUMBERS = frozenset({ColumnType.INTEGER, ColumnType.DECIMAL})
_ORDERED = _NUMBERS | {ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.STRING}


class Aggregate(str, Enum):
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True)
class AggregateSpec:
    function: Aggregate | None
    column: str = ""  # empty for a count of rows


@dataclass(frozen=True)
class TemplateSpec:
    """What a saved template says: the report it makes from its source."""

    source: str
    column_names: tuple[str, ...] = ()
    filter: str = ""
    group_by: tuple[str, ...] = ()
    aggregates: tuple[AggregateSpec, ...] = ()
    order_by: str = ""


@dataclass(frozen=True)
class Shape:
    picks: tuple[int, ...] | None = None  # source columns kept, in order; None for all
    grouped: bool = False
    group_by: tuple[int, ...] = ()
    aggregates: tuple[tuple[Aggregate, int], ...] = ()  # (function, source column or -1)
    order: tuple[tuple[int, bool], ...] = ()  # grouped: (output column, descending)
    db_order: tuple[SortKey, ...] = ()  # not grouped: stored fields the database sorts by


IDENTITY = Shape()


def _order_words(text: str, where: str, v: Violations) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        item = sort_words(part)
        if item is None:
            v.add(where, f"{part!r} is not `column` or `column desc`")
        else:
            keys.append(item)
    return keys


def shape_of(spec: TemplateSpec, base: Report, sortable: dict[str, str], prefix: str
             ) -> tuple[tuple[Column, ...], Shape]:
    """The output columns and shape of `spec` over `base`; every bad name is a violation of
    `prefix`.field (all reported at once)."""
    v = Violations()
    index = {c.name: i for i, c in enumerate(base.columns)}
    cols = base.columns

    def find(name: str, where: str) -> int:
        if name not in index:
            v.add(where, f"unknown column {name!r} of source {base.source!r}")
            return -1
        return index[name]

    picks = tuple(find(n, f"{prefix}.column_names[{i}]")
                  for i, n in enumerate(spec.column_names))
    if len(set(spec.column_names)) < len(spec.column_names):
        v.add(f"{prefix}.column_names", "names a column more than once")
    grouped = bool(spec.group_by or spec.aggregates)
    if grouped and spec.column_names:
        v.add(f"{prefix}.column_names", "must be empty when grouping: a grouped report's "
              "columns are its group_by columns, then its aggregates")
    group = tuple(find(n, f"{prefix}.group_by[{i}]") for i, n in enumerate(spec.group_by))
    out: list[Column] = [cols[i] for i in group if i >= 0]
    aggregates: list[tuple[Aggregate, int]] = []
    for i, a in enumerate(spec.aggregates):
        where = f"{prefix}.aggregates[{i}]"
        if a.function is None:
            v.add(f"{where}.function", "must be COUNT, SUM, AVG, MIN or MAX")
            continue
        at = find(a.column, f"{where}.column") if a.column else -1
        if at < 0 and (a.column or a.function is not Aggregate.COUNT):
            if not a.column:
                v.add(f"{where}.column", f"{a.function.name} needs a column")
            continue
        kind = ColumnType.INTEGER if at < 0 else cols[at].type
        allowed = _NUMBERS if a.function in (Aggregate.SUM, Aggregate.AVG) else _ORDERED
        if a.function is not Aggregate.COUNT and kind not in allowed:
            v.add(f"{where}.column", f"{a.function.name} does not apply to {kind.value} "
                  f"column {a.column!r}")
            continue
        aggregates.append((a.function, at))
        out.append(_aggregate_column(a.function, cols[at] if at >= 0 else None))
    names = [c.name for c in out]
    if len(set(names)) < len(names):
        v.add(f"{prefix}.aggregates", "gives two columns the same name")
    order: list[tuple[int, bool]] = []
    db_order: list[SortKey] = []
    for name, desc in _order_words(spec.order_by, f"{prefix}.order_by", v):
        if grouped and name in names:
            order.append((names.index(name), desc))
        elif not grouped and name in sortable:
            db_order.append(SortKey(sortable[name], desc))
        else:
            choices = names if grouped else sorted(sortable)
            v.add(f"{prefix}.order_by", f"cannot sort by {name!r}; sortable: "
                  f"{', '.join(choices)}")
    v.raise_if_any("the report template is invalid")
    if grouped:
        return tuple(out), Shape(None, True, group, tuple(aggregates), tuple(order))
    kept = picks or None
    return (tuple(cols[i] for i in picks) if kept else cols), Shape(
        kept, db_order=tuple(db_order))


def _aggregate_column(function: Aggregate, column: Column | None) -> Column:
    if column is None:
        return Column("count", ColumnType.INTEGER, "The rows in the group.")
    kind = {Aggregate.COUNT: ColumnType.INTEGER, Aggregate.AVG: ColumnType.DECIMAL}.get(
        function, column.type)
    what = (f"the average, rounded half-up to {AVG_PLACES} places" if function is
            Aggregate.AVG else {Aggregate.COUNT: "the rows with a value",
                                Aggregate.SUM: "the exact sum"}.get(function, function.value))
    return Column(f"{function.value}_{column.name}", kind, f"Of {column.name}: {what}.")
