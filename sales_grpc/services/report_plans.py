"""What a report request reads and how: the report (built-in, or a saved template's custom
report), the caller's scope, the parsed filter and days, and the rows shaped for it.
Shared by RunReport and ExportReport, so both read the same rows for the same request.

Most reports stream their rows from one database cursor. Two are computed whole before their
first row: a grouped custom report (its source's rows folded into at most MAX_GROUPS groups)
and the commissions report (a plan's commission report, computed by CommissionService, as a
row per document line). `prepare` computes those up front, so their row count is exact.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol

from ..domain import validation as check
from ..domain.access import Principal, Scope, scope_of
from ..domain.commission_report import CommissionReport, line_rows
from ..domain.errors import InvalidArgument, Violations
from ..domain.listing import Condition, SortKey, parse_filter
from ..domain.report_grouping import Grouper
from ..domain.report_shapes import IDENTITY, Shape
from ..domain.reports import DateRange, Report
from .clock import now
from .report_catalog import PLAN_FILTER, report_named
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


class CommissionReports(Protocol):
    """CommissionService's report: the plan's commission in the caller's scope."""

    async def report(self, principal: Principal, plan_id: str, start: str, end: str
                     ) -> CommissionReport: ...


COMMISSIONS = "commissions"  # the source of the built-in report computed by CommissionService


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
    principal: Principal | None = None
    # The rows, once computed whole (`ReportPlanner.prepare`); None for rows that stream.
    prepared: tuple[Row, ...] | None = None

    @property
    def computed_whole(self) -> bool:
        """Whether the rows are all computed before the first one is given."""
        return self.shape.grouped or self.base.source == COMMISSIONS


def day(raw: str, field_path: str) -> str:
    v = Violations()
    found = check.iso_date(v, field_path, raw)
    v.raise_if_any()
    return found.isoformat() if found else ""


class ReportPlanner:
    def __init__(self, rows: RowSource, resolve: Resolver | None = None,
                 clock: Callable[[], datetime] = now,
                 commissions: CommissionReports | None = None) -> None:
        self._rows = rows
        self._resolve = resolve or _built_in
        self._clock = clock
        self._commissions = commissions

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
        if base.source == COMMISSIONS:
            _commission_plan_id(conditions, dates)
        return ReportPlan(report, base, shape, scope_of(principal), conditions, dates, as_of,
                          as_of_text, principal)

    async def prepare(self, plan: ReportPlan) -> ReportPlan:
        """The plan with its rows computed now if they are computed whole anyway (a grouped
        report, the commissions report), so that `estimate` counts them exactly; a streamed
        report's plan as it is."""
        if plan.prepared is not None or not plan.computed_whole:
            return plan
        return replace(plan, prepared=tuple(await self._computed(plan)))

    async def estimate(self, plan: ReportPlan) -> int:
        """The rows: exact for a prepared plan; else the source's documents matching (their
        lines for a line report), counted by the database without reading them, which the
        rows of some reports (agings, customers per currency) outnumber or fall short of."""
        if plan.prepared is not None:
            return len(plan.prepared)
        return await self._rows.estimate(plan.base, plan.scope, plan.conditions, plan.dates)

    async def rows(self, plan: ReportPlan) -> AsyncGenerator[tuple[Key, Row], None]:
        """The report's rows with their keys: the source's, picked; or, for a report
        computed whole, its rows (a grouped one's groups come after all the source's rows
        are read), keyed by their place."""
        if plan.prepared is None and plan.computed_whole:
            plan = await self.prepare(plan)
        if plan.prepared is not None:
            for index, row in enumerate(plan.prepared):
                yield [index], row
            return
        picks = plan.shape.picks
        source = self._source(plan)
        async with contextlib.aclosing(source):
            async for key, row in source:
                yield key, (row if picks is None else [row[i] for i in picks])

    def _source(self, plan: ReportPlan) -> AsyncGenerator[tuple[Key, Row], None]:
        return self._rows.rows(plan.base, plan.scope, plan.conditions, plan.dates, plan.as_of,
                               plan.shape.db_order)

    async def _computed(self, plan: ReportPlan) -> list[Row]:
        if plan.base.source == COMMISSIONS:
            return await self._commission_rows(plan)
        grouper = Grouper(plan.shape)
        async with contextlib.aclosing(self._source(plan)) as source:
            async for _, row in source:
                grouper.add(row)
        return grouper.rows()

    async def _commission_rows(self, plan: ReportPlan) -> list[Row]:
        """CommissionService's report for the plan and days, in the caller's scope, as a row
        per document line, less the lines the filter's other conditions leave out."""
        if self._commissions is None or plan.principal is None:
            raise InvalidArgument.of("report_id", "the commissions report is not served here")
        plan_id = _commission_plan_id(plan.conditions, plan.dates)
        report = await self._commissions.report(plan.principal, plan_id, plan.dates.start,
                                                plan.dates.end)
        at = {name: i for i, name in enumerate(plan.base.column_names)}
        tests = [(at[c.field], c.operator == "=", c.value) for c in plan.conditions
                 if c.field != PLAN_FILTER]
        return [row for row in line_rows(report)
                if all((row[i] == value) is equal for i, equal, value in tests)]


def _commission_plan_id(conditions: list[Condition], dates: DateRange) -> str:
    """The plan the commissions report's filter names, once; its days must be both given."""
    named = [c.value for c in conditions if c.field == PLAN_FILTER]
    if len(named) != 1:
        raise InvalidArgument.of("filter", 'the commissions report needs the plan, once: '
                                 'plan_id = "ID" (ListCommissionPlans gives the ids)')
    for path, value in (("start_date", dates.start), ("end_date", dates.end)):
        if not value:
            raise InvalidArgument.of(path, "the commissions report needs both start_date and "
                                     "end_date (at most 731 days)")
    return str(named[0])


async def _built_in(principal: Principal, report_id: str) -> Resolved:
    report = report_named(report_id)
    return Resolved(report, report, IDENTITY, [])
