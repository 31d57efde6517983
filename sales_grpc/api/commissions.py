"""The commission RPCs of ReportService: decode, call CommissionService, encode. A mixin of
the report servicer, so that the report module stays about reports."""

from __future__ import annotations

import grpc

from erp.sales.v1 import commission_pb2 as pb

from ..services.commissions import CommissionService
from .context import caller
from .converters.commissions import plan_in, plan_out, report_out

Context = grpc.aio.ServicerContext[object, object]


class CommissionRpcs:
    _commissions: CommissionService

    async def CreateCommissionPlan(self, request: pb.CreateCommissionPlanRequest,
                                   context: Context) -> pb.CreateCommissionPlanResponse:
        plan = await self._commissions.create(caller(), plan_in(request.commission_plan),
                                              request.commission_plan.team_id)
        return pb.CreateCommissionPlanResponse(commission_plan=plan_out(plan))

    async def GetCommissionPlan(self, request: pb.GetCommissionPlanRequest, context: Context
                                ) -> pb.GetCommissionPlanResponse:
        plan = await self._commissions.get(caller(), request.id)
        return pb.GetCommissionPlanResponse(commission_plan=plan_out(plan))

    async def ListCommissionPlans(self, request: pb.ListCommissionPlansRequest,
                                  context: Context) -> pb.ListCommissionPlansResponse:
        plans, token = await self._commissions.list_page(caller(), request.page_size,
                                                         request.page_token)
        return pb.ListCommissionPlansResponse(commission_plans=[plan_out(p) for p in plans],
                                              next_page_token=token)

    async def UpdateCommissionPlan(self, request: pb.UpdateCommissionPlanRequest,
                                   context: Context) -> pb.UpdateCommissionPlanResponse:
        mask = list(request.update_mask.paths)
        plan = await self._commissions.update(
            caller(), request.commission_plan.id, mask, plan_in(request.commission_plan, mask),
            request.commission_plan.etag)
        return pb.UpdateCommissionPlanResponse(commission_plan=plan_out(plan))

    async def DeleteCommissionPlan(self, request: pb.DeleteCommissionPlanRequest,
                                   context: Context) -> pb.DeleteCommissionPlanResponse:
        await self._commissions.delete(caller(), request.id, request.etag)
        return pb.DeleteCommissionPlanResponse()

    async def GetCommissionReport(self, request: pb.GetCommissionReportRequest,
                                  context: Context) -> pb.GetCommissionReportResponse:
        report = await self._commissions.report(caller(), request.plan_id, request.start_date,
                                                request.end_date)
        return report_out(report)
