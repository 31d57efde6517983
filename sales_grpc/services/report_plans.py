"""What a report request reads and how: the report (built-in, or a saved template's custom
report), the caller's scope, the parsed filter and days, and the rows shaped for it.
Shared by RunReport and ExportReport, so both read the same rows for the same request."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from ..domain import validation as check
from ..domain.access import Principal, Scope, scope_of
from ..domain.errors import InvalidArgument, Violations
from ..domain.listing import Condition, SortKey, parse_filter
from ..domain.report_grouping import Grouper
from ..domain.report_shapes import IDENTITY, Shape
from ..domain.reports import DateRange, Report
from .clock import now
from .report_catalog import report_named
from .report_templates import Resolved

Resolver = Callable[[Principal, str], Awaitable[Resolved]]

Key = list[Any]
Row = list[object]


class RowSource(Protocol):
    open_cursors: int

    async def estimate(self, report: Report, scope: Scope, conditions: list[Condition],
                       dates: DateRange) -> int: ...

    def rows(self, report: Report, scope: Scope, conditions: list[Condition],
             dates: DateRange, as_of: date, order: Sequence[SortKey] = ()
             ) -> AsyncGenerator[tuple[Key, Row], None]: ...


@dataclass(frozen=True)
class ReportRequest:
    report_id: str
    filter: str = ""
    dates: DateRange = DateRange()
    as_of: str = ""


@dataclass(frozen=True)
class ReportPlan:
    report: Report  # what the rows are: its columns are the output's
    base: Report  # the source's built-in report, whose rows the shape turns into these
    shape: Shape
    scope: Scope
    conditions: list[Condition]
    dates: DateRange
    as_of: date
    as_of_text: str  # as the request gave it (empty for today)


def day(raw: str, field_path: str) -> str:
    v = Violations()
    found = check.iso_date(v, field_path, raw)
    v.raise_if_any()
    return found.isoformat() if found else ""


class ReportPlanner:
    def __init__(self, rows: RowSource, resolve: Resolver | None = None,
                 clock: Callable[[], datetime] = now) -> None:
        self._rows = rows
        self._resolve = resolve or _built_in
        self._clock = clock

    @property
    def open_cursors(self) -> int:
        return self._rows.open_cursors

    async def plan(self, principal: Principal, request: ReportRequest) -> ReportPlan:
        resolved = await self._resolve(principal, request.report_id)
        report, base, shape = resolved.report, resolved.base, resolved.shape
        conditions = [*resolved.conditions, *parse_filter(request.filter, base.filters)]
        dates = DateRange(day(request.dates.start, "start_date"),
                          day(request.dates.end, "end_date"))
        if dates.start and dates.end and dates.end < dates.start:
            raise InvalidArgument.of("end_date", "precedes start_date")
        as_of_text = day(request.as_of, "as_of_date")
        as_of = date.fromisoformat(as_of_text) if as_of_text else self._clock().date()
        return ReportPlan(report, base, shape, scope_of(principal), conditions, dates, as_of,
                          as_of_text)

    async def estimate(self, plan: ReportPlan) -> int:
        return await self._rows.estimate(plan.base, plan.scope, plan.conditions, plan.dates)

    async def rows(self, plan: ReportPlan) -> AsyncGenerator[tuple[Key, Row], None]:
        """The report's rows with their keys: the source's, picked, or folded into groups
        (all the source's rows are read before the first group comes)."""
        shape = plan.shape
        source = self._rows.rows(plan.base, plan.scope, plan.conditions, plan.dates,
                                 plan.as_of, shape.db_order)
        async with contextlib.aclosing(source):
            if shape.grouped:
                grouper = Grouper(shape)
                async for _, row in source:
                    grouper.add(row)
                for index, group_row in enumerate(grouper.rows()):
                    yield [index], group_row
                return
            picks = shape.picks
            async for key, row in source:
                yield key, (row if picks is None else [row[i] for i in picks])


async def _built_in(principal: Principal, report_id: str) -> Resolved:
    report = report_named(report_id)
    return Resolved(report, report, IDENTITY, [])
