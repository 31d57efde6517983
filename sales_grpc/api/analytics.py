"""AnalyticsService servicer: decode, call the use case, encode; every answer through the
service's brief cache (keyed by the method, the request's bytes and the caller's scope)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc

from ..domain.rollups import Basis
from ..services.analytics import AnalyticsService
from .context import caller
from .converters.analytics import revenue_out, revenue_query_in
from .converters.analytics_figures import (
    customers_in,
    customers_out,
    dashboard_view_out,
    funnel_out,
    kpis_out,
    limit_in,
    performance_out,
    products_in,
    products_out,
    query_in,
    ranking_in,
    top_customers_out,
    top_products_out,
    trends_in,
    trends_out,
)
from .converters.analytics_forecast import forecast_in, forecast_out
from .converters.exchange_rates import rate_in, rate_out

Context = grpc.aio.ServicerContext[object, object]
R = TypeVar("R", bound=Message)


class AnalyticsServicer(pb_grpc.AnalyticsServiceServicer):
    def __init__(self, analytics: AnalyticsService) -> None:
        self._analytics = analytics

    async def _cached(self, request: Message, kind: type[R],
                      answer: Callable[[], Awaitable[R]]) -> R:
        async def fresh() -> bytes:
            return (await answer()).SerializeToString(deterministic=True)

        question = [request.DESCRIPTOR.full_name.encode(),
                    request.SerializeToString(deterministic=True)]
        return kind.FromString(await self._analytics.remembered(caller(), question, fresh))

    async def GetRevenue(self, request: pb.GetRevenueRequest, context: Context
                         ) -> pb.GetRevenueResponse:
        query = revenue_query_in(request)

        async def answer() -> pb.GetRevenueResponse:
            return revenue_out(await self._analytics.revenue(caller(), query))
        return await self._cached(request, pb.GetRevenueResponse, answer)

    async def GetSalesDashboard(self, request: pb.GetSalesDashboardRequest, context: Context
                                ) -> pb.GetSalesDashboardResponse:
        async def answer() -> pb.GetSalesDashboardResponse:
            return dashboard_view_out(await self._analytics.dashboard_view(
                caller(), request.time_zone, request.reporting_currency))
        return await self._cached(request, pb.GetSalesDashboardResponse, answer)

    async def GetSalesTrends(self, request: pb.GetSalesTrendsRequest, context: Context
                             ) -> pb.GetSalesTrendsResponse:
        query, window = trends_in(request)

        async def answer() -> pb.GetSalesTrendsResponse:
            return trends_out(await self._analytics.trends(caller(), query, window))
        return await self._cached(request, pb.GetSalesTrendsResponse, answer)

    async def GetSalesPerformance(self, request: pb.GetSalesPerformanceRequest,
                                  context: Context) -> pb.GetSalesPerformanceResponse:
        query = query_in(request, basis=Basis.BOOKINGS)

        async def answer() -> pb.GetSalesPerformanceResponse:
            return performance_out(*await self._analytics.performance(caller(), query))
        return await self._cached(request, pb.GetSalesPerformanceResponse, answer)

    async def ListTopCustomers(self, request: pb.ListTopCustomersRequest, context: Context
                               ) -> pb.ListTopCustomersResponse:
        query, limit = limit_in(request)

        async def answer() -> pb.ListTopCustomersResponse:
            return top_customers_out(query.basis, await self._analytics.top_customers(
                caller(), query, limit))
        return await self._cached(request, pb.ListTopCustomersResponse, answer)

    async def ListTopProducts(self, request: pb.ListTopProductsRequest, context: Context
                              ) -> pb.ListTopProductsResponse:
        query, limit, by_units = ranking_in(request)

        async def answer() -> pb.ListTopProductsResponse:
            return top_products_out(by_units, await self._analytics.top_products(
                caller(), query, limit, by_units))
        return await self._cached(request, pb.ListTopProductsResponse, answer)

    async def GetKpis(self, request: pb.GetKpisRequest, context: Context) -> pb.GetKpisResponse:
        query = query_in(request, basis=Basis.BOOKINGS)

        async def answer() -> pb.GetKpisResponse:
            return kpis_out(await self._analytics.kpis(caller(), query))
        return await self._cached(request, pb.GetKpisResponse, answer)

    async def GetConversionFunnel(self, request: pb.GetConversionFunnelRequest,
                                  context: Context) -> pb.GetConversionFunnelResponse:
        query = query_in(request, basis=Basis.BOOKINGS, customer_id=request.customer_id)

        async def answer() -> pb.GetConversionFunnelResponse:
            return funnel_out(query.zone_name, *await self._analytics.funnel(caller(), query))
        return await self._cached(request, pb.GetConversionFunnelResponse, answer)

    async def GetSalesForecast(self, request: pb.GetSalesForecastRequest, context: Context
                               ) -> pb.GetSalesForecastResponse:
        ask = forecast_in(request)

        async def answer() -> pb.GetSalesForecastResponse:
            return forecast_out(*await self._analytics.forecast(caller(), ask))
        return await self._cached(request, pb.GetSalesForecastResponse, answer)

    async def GetCustomerAnalytics(self, request: pb.GetCustomerAnalyticsRequest,
                                   context: Context) -> pb.GetCustomerAnalyticsResponse:
        query, quiet, limit = customers_in(request)

        async def answer() -> pb.GetCustomerAnalyticsResponse:
            return customers_out(await self._analytics.customers(caller(), query, quiet, limit))
        return await self._cached(request, pb.GetCustomerAnalyticsResponse, answer)

    async def GetProductAnalytics(self, request: pb.GetProductAnalyticsRequest,
                                  context: Context) -> pb.GetProductAnalyticsResponse:
        query, movers = products_in(request)

        async def answer() -> pb.GetProductAnalyticsResponse:
            return products_out(await self._analytics.products(caller(), query, movers))
        return await self._cached(request, pb.GetProductAnalyticsResponse, answer)

    async def SetExchangeRate(self, request: pb.SetExchangeRateRequest, context: Context
                              ) -> pb.SetExchangeRateResponse:
        rate = await self._analytics.set_rate(caller(), rate_in(request, caller()))
        return pb.SetExchangeRateResponse(exchange_rate=rate_out(rate))

    async def ListExchangeRates(self, request: pb.ListExchangeRatesRequest, context: Context
                                ) -> pb.ListExchangeRatesResponse:
        rates, token = await self._analytics.list_rates(
            request.reporting_currency, request.currency_code, request.page_size,
            request.page_token)
        return pb.ListExchangeRatesResponse(exchange_rates=[rate_out(r) for r in rates],
                                            next_page_token=token)

    async def DeleteExchangeRate(self, request: pb.DeleteExchangeRateRequest, context: Context
                                 ) -> pb.DeleteExchangeRateResponse:
        await self._analytics.delete_rate(caller(), request.currency_code,
                                          request.reporting_currency, request.effective_date)
        return pb.DeleteExchangeRateResponse()
