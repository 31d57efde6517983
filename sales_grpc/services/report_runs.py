"""Running a report for its typed rows at once: for results small enough to show."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from ..domain.access import Principal
from ..domain.errors import FailedPrecondition, PreconditionViolation
from ..domain.reports import Report
from .report_catalog import BUILT_IN
from .report_plans import ReportPlanner, ReportRequest, Row

MAX_RUN_ROWS = 1000


@dataclass(frozen=True)
class ReportResult:
    report: Report
    rows: list[Row]
    as_of: date


def too_large(limit: int, instead: str, reason: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the report has more than {limit} rows; use {instead} instead",
        violations=[PreconditionViolation(reason, "report_id", f"at most {limit} rows; "
                                          f"use {instead}")], reason=reason)


class ReportRuns:
    def __init__(self, planner: ReportPlanner) -> None:
        self._planner = planner

    @staticmethod
    def built_in() -> list[Report]:
        return list(BUILT_IN.values())

    async def run(self, principal: Principal, request: ReportRequest) -> ReportResult:
        """The rows, all of them, or FAILED_PRECONDITION (REPORT_TOO_LARGE) past
        MAX_RUN_ROWS: the read stops at the first row over."""
        plan = await self._planner.plan(principal, request)
        rows: list[Row] = []
        async with contextlib.aclosing(self._planner.rows(plan)) as source:
            async for _, row in source:
                if len(rows) == MAX_RUN_ROWS:
                    raise too_large(MAX_RUN_ROWS, "ExportReport", "REPORT_TOO_LARGE")
                rows.append(row)
        return ReportResult(plan.report, rows, plan.as_of)
