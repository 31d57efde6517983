"""ReportService servicer: decode, call the use case, encode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from erp.sales.v1 import report_service_pb2 as pb
from erp.sales.v1 import report_service_pb2_grpc as pb_grpc

from ..services.report_exports import ReportExports
from ..services.report_runs import ReportRuns
from .context import caller
from .converters.reports import (
    export_part_out,
    export_request_in,
    run_request_in,
    run_result_out,
    template_out,
)

Context = grpc.aio.ServicerContext[object, object]


class ReportServicer(pb_grpc.ReportServiceServicer):
    def __init__(self, exports: ReportExports, runs: ReportRuns) -> None:
        self._exports = exports
        self._runs = runs

    async def ListReportTemplates(self, request: pb.ListReportTemplatesRequest,
                                  context: Context) -> pb.ListReportTemplatesResponse:
        return pb.ListReportTemplatesResponse(
            templates=[template_out(r) for r in self._runs.built_in()])

    async def RunReport(self, request: pb.RunReportRequest, context: Context
                        ) -> pb.RunReportResponse:
        return run_result_out(await self._runs.run(caller(), run_request_in(request)))

    async def ExportReport(self, request: pb.ExportReportRequest, context: Context
                           ) -> AsyncIterator[pb.ExportReportResponse]:
        # aclosing: a cancelled call closes the export, and with it the database cursor, now
        # rather than whenever the abandoned generator is collected.
        parts = self._exports.export(caller(), export_request_in(request))
        async with contextlib.aclosing(parts):
            async for part in parts:
                yield export_part_out(part)
