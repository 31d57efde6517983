"""AnalyticsService servicer: decode, call the use case, encode."""

from __future__ import annotations

import grpc

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc

from ..domain.rollups import Basis
from ..services.analytics import AnalyticsService
from .context import caller
from .converters.analytics import dashboard_out, revenue_out, revenue_query_in
from .converters.analytics_figures import (
    funnel_out,
    kpis_out,
    limit_in,
    performance_out,
    query_in,
    ranking_in,
    top_customers_out,
    top_products_out,
    trends_in,
    trends_out,
)
from .converters.analytics_forecast import forecast_in, forecast_out

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

    async def GetSalesTrends(self, request: pb.GetSalesTrendsRequest, context: Context
                             ) -> pb.GetSalesTrendsResponse:
        query, window = trends_in(request)
        return trends_out(await self._analytics.trends(caller(), query, window))

    async def GetSalesPerformance(self, request: pb.GetSalesPerformanceRequest,
                                  context: Context) -> pb.GetSalesPerformanceResponse:
        query = query_in(request, basis=Basis.BOOKINGS)
        return performance_out(*await self._analytics.performance(caller(), query))

    async def ListTopCustomers(self, request: pb.ListTopCustomersRequest, context: Context
                               ) -> pb.ListTopCustomersResponse:
        query, limit = limit_in(request)
        return top_customers_out(query.basis,
                                 await self._analytics.top_customers(caller(), query, limit))

    async def ListTopProducts(self, request: pb.ListTopProductsRequest, context: Context
                              ) -> pb.ListTopProductsResponse:
        query, limit, by_units = ranking_in(request)
        return top_products_out(by_units, await self._analytics.top_products(
            caller(), query, limit, by_units))

    async def GetKpis(self, request: pb.GetKpisRequest, context: Context) -> pb.GetKpisResponse:
        return kpis_out(await self._analytics.kpis(caller(), query_in(request,
                                                                       basis=Basis.BOOKINGS)))

    async def GetConversionFunnel(self, request: pb.GetConversionFunnelRequest,
                                  context: Context) -> pb.GetConversionFunnelResponse:
        query = query_in(request, basis=Basis.BOOKINGS, customer_id=request.customer_id)
        size, stages = await self._analytics.funnel(caller(), query)
        return funnel_out(query.zone_name, size, stages)

    async def GetSalesForecast(self, request: pb.GetSalesForecastRequest, context: Context
                               ) -> pb.GetSalesForecastResponse:
        return forecast_out(*await self._analytics.forecast(caller(), forecast_in(request)))
