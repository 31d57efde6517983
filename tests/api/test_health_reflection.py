"""Health checking and server reflection: public, and naming the sales services."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2
from grpc import StatusCode
from grpc.aio import AioRpcError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from erp.sales.v1 import annotations_pb2

SALES_SERVICES = {"erp.sales.v1.CustomerService", "erp.sales.v1.ProductService"}


@pytest.mark.parametrize("service", ["", "erp.sales.v1.CustomerService",
                                     "erp.sales.v1.ProductService", "liveness"])
async def test_health_reports_serving_without_a_token(running, service):
    stub = health_pb2_grpc.HealthStub(running.channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_of_an_unknown_service_is_not_found(running):
    stub = health_pb2_grpc.HealthStub(running.channel)
    with pytest.raises(AioRpcError) as raised:
        await stub.Check(health_pb2.HealthCheckRequest(service="erp.sales.v1.NoSuchService"))
    assert raised.value.code() == StatusCode.NOT_FOUND


async def _reflect(running, request: reflection_pb2.ServerReflectionRequest
                   ) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    call = stub.ServerReflectionInfo()
    await call.write(request)
    await call.done_writing()
    replies = [reply async for reply in call]
    assert len(replies) == 1
    return replies[0]


async def test_reflection_lists_the_sales_services_and_health(running):
    reply = await _reflect(running, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in reply.list_services_response.service}
    assert SALES_SERVICES <= names
    assert "grpc.health.v1.Health" in names


async def test_reflection_describes_a_service_with_its_methods_and_permissions(running):
    reply = await _reflect(running, reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="erp.sales.v1.CustomerService"))
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in reply.file_descriptor_response.file_descriptor_proto]
    [service] = [s for f in files for s in f.service if s.name == "CustomerService"]
    methods = {m.name: m for m in service.method}
    assert {"CreateCustomer", "GetCustomer", "ListCustomers", "UpdateCustomer",
            "DeleteCustomer", "SearchCustomers"} <= set(methods)
    options = methods["DeleteCustomer"].options
    assert options.Extensions[annotations_pb2.required_permission] == "sales:delete"


async def test_reflection_of_an_unknown_symbol_is_an_error_response(running):
    reply = await _reflect(running, reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="erp.sales.v1.Nothing"))
    assert reply.HasField("error_response")
