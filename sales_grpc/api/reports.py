"""ReportService servicer: decode, call the use case, encode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from erp.sales.v1 import report_service_pb2 as pb
from erp.sales.v1 import report_service_pb2_grpc as pb_grpc

from ..domain.report_templates import SavedTemplate
from ..domain.reports import Report
from ..observability.metrics import EXPORT_STREAMS_OPEN
from ..services.commissions import CommissionService
from ..services.report_exports import ReportExports
from ..services.report_runs import ReportRuns
from ..services.report_templates import TemplateService
from .commissions import CommissionRpcs
from .context import caller
from .converters.report_templates import saved_out, template_in
from .converters.reports import (
    export_part_out,
    export_request_in,
    run_request_in,
    run_result_out,
    template_out,
)

Context = grpc.aio.ServicerContext[object, object]


def _out(template: Report | SavedTemplate) -> pb.ReportTemplate:
    return saved_out(template) if isinstance(template, SavedTemplate) else template_out(template)


class ReportServicer(CommissionRpcs, pb_grpc.ReportServiceServicer):
    def __init__(self, exports: ReportExports, runs: ReportRuns,
                 templates: TemplateService, commissions: CommissionService) -> None:
        self._exports = exports
        self._runs = runs
        self._templates = templates
        self._commissions = commissions

    async def ListReportTemplates(self, request: pb.ListReportTemplatesRequest,
                                  context: Context) -> pb.ListReportTemplatesResponse:
        saved = await self._templates.saved(caller())
        return pb.ListReportTemplatesResponse(
            templates=[*(template_out(r) for r in self._runs.built_in()),
                       *(saved_out(t) for t in saved)])

    async def GetReportTemplate(self, request: pb.GetReportTemplateRequest, context: Context
                                ) -> pb.GetReportTemplateResponse:
        found = await self._templates.describe(caller(), request.id)
        return pb.GetReportTemplateResponse(report_template=_out(found))

    async def CreateReportTemplate(self, request: pb.CreateReportTemplateRequest,
                                   context: Context) -> pb.CreateReportTemplateResponse:
        saved = await self._templates.create(caller(), template_in(request.report_template),
                                             request.request_id)
        return pb.CreateReportTemplateResponse(report_template=saved_out(saved))

    async def UpdateReportTemplate(self, request: pb.UpdateReportTemplateRequest,
                                   context: Context) -> pb.UpdateReportTemplateResponse:
        given = request.report_template
        saved = await self._templates.update(caller(), given.id, list(request.update_mask.paths),
                                             template_in(given), given.etag)
        return pb.UpdateReportTemplateResponse(report_template=saved_out(saved))

    async def DeleteReportTemplate(self, request: pb.DeleteReportTemplateRequest,
                                   context: Context) -> pb.DeleteReportTemplateResponse:
        await self._templates.delete(caller(), request.id, request.etag)
        return pb.DeleteReportTemplateResponse()

    async def RunReport(self, request: pb.RunReportRequest, context: Context
                        ) -> pb.RunReportResponse:
        return run_result_out(await self._runs.run(caller(), run_request_in(request)))

    async def ExportReport(self, request: pb.ExportReportRequest, context: Context
                           ) -> AsyncIterator[pb.ExportReportResponse]:
        # aclosing: a cancelled call closes the export, and with it the database cursor, now
        # rather than whenever the abandoned generator is collected.
        parts = self._exports.export(caller(), export_request_in(request))
        with EXPORT_STREAMS_OPEN.track_inprogress():
            async with contextlib.aclosing(parts):
                async for part in parts:
                    yield export_part_out(part)
