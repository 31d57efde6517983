"""AnalyticsService servicer: decode, call the use case, encode."""

from __future__ import annotations

import grpc

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc

from ..services.analytics import AnalyticsService
from .context import caller
from .converters.analytics import dashboard_out, revenue_out, revenue_query_in

Context = grpc.aio.ServicerContext[object, object]


class AnalyticsServicer(pb_grpc.AnalyticsServiceServicer):
    def __init__(self, analytics: AnalyticsService) -> None:
        self._analytics = analytics

    async def GetRevenue(self, request: pb.GetRevenueRequest, context: Context
                         ) -> pb.GetRevenueResponse:
        report = await self._analytics.revenue(caller(), revenue_query_in(request))
        return revenue_out(report)

    async def GetSalesDashboard(self, request: pb.GetSalesDashboardRequest, context: Context
                                ) -> pb.GetSalesDashboardResponse:
        return dashboard_out(await self._analytics.dashboard(caller(), request.time_zone))
