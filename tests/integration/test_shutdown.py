"""Graceful shutdown: health watchers hear NOT_SERVING, and a call in flight still finishes."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Role


async def test_stopping_turns_health_not_serving_and_drains_the_call_in_flight(fresh_settings):
    settings = fresh_settings()
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    metadata = (("authorization", f"Bearer {mint_token(settings, 'a', Role.ADMIN)}"),)
    release = asyncio.Event()
    real_list = app.customers.list_page

    async def slow_list(*args, **kwargs):  # holds a call in flight until the test lets go
        await release.wait()
        return await real_list(*args, **kwargs)

    app.customers.list_page = slow_list  # type: ignore[method-assign]
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="erp.sales.v1.CustomerService"))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        in_flight = asyncio.ensure_future(cgrpc.CustomerServiceStub(channel).ListCustomers(
            cpb.ListCustomersRequest(), metadata=metadata))
        await asyncio.sleep(0.2)
        stopping = asyncio.ensure_future(server.stop(10))
        update = await asyncio.wait_for(watch.read(), 5)
        assert update.status == health_pb2.HealthCheckResponse.NOT_SERVING
        release.set()
        response = await asyncio.wait_for(in_flight, 10)
        assert list(response.customers) == []
        await stopping
    finally:
        release.set()
        await channel.close()
        await app.close()
