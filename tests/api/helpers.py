"""Builders for requests and decoders for rich errors, shared by the API tests."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cpb_grpc
from erp.sales.v1 import money_pb2
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as ppb_grpc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def customers(running: Any) -> cpb_grpc.CustomerServiceStub:
    return cpb_grpc.CustomerServiceStub(running.channel)


def products(running: Any) -> ppb_grpc.ProductServiceStub:
    return ppb_grpc.ProductServiceStub(running.channel)


def money(amount: str, currency: str = "USD") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount=amount)


def customer(**fields: Any) -> cpb.Customer:
    values: dict[str, Any] = {"first_name": "Ann", "last_name": "Lee",
                              "email": "ann@example.com",
                              "customer_type": cpb.CUSTOMER_TYPE_INDIVIDUAL}
    values.update(fields)
    return cpb.Customer(**values)


def product(**fields: Any) -> ppb.Product:
    values: dict[str, Any] = {"sku": unique("SKU"), "name": "Hammer",
                              "unit_price": money("9.99")}
    values.update(fields)
    return ppb.Product(**values)


async def create_customer(running: Any, metadata: Any, **fields: Any) -> cpb.Customer:
    reply = await customers(running).CreateCustomer(
        cpb.CreateCustomerRequest(customer=customer(**fields)), metadata=metadata)
    return reply.customer


async def create_product(running: Any, metadata: Any, **fields: Any) -> ppb.Product:
    reply = await products(running).CreateProduct(
        ppb.CreateProductRequest(product=product(**fields)), metadata=metadata)
    return reply.product


@dataclass
class Failure:
    """A failed call's status code, message and decoded google.rpc.Status details."""

    code: grpc.StatusCode
    message: str
    error: grpc.aio.AioRpcError
    info: error_details_pb2.ErrorInfo | None = None
    bad_request: error_details_pb2.BadRequest | None = None
    precondition: error_details_pb2.PreconditionFailure | None = None
    fields: dict[str, str] = field(default_factory=dict)


def decode(error: grpc.aio.AioRpcError) -> Failure:
    failure = Failure(error.code(), error.details() or "", error)
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        for kind, name in ((error_details_pb2.ErrorInfo, "info"),
                           (error_details_pb2.BadRequest, "bad_request"),
                           (error_details_pb2.PreconditionFailure, "precondition")):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                setattr(failure, name, message)
    if failure.bad_request:
        failure.fields = {v.field: v.description for v in failure.bad_request.field_violations}
    return failure


async def fails(call: Awaitable[Any], code: grpc.StatusCode) -> Failure:
    """Awaits a call that must fail with `code`, and returns the decoded failure."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    failure = decode(raised.value)
    assert failure.code == code, f"{failure.code}: {failure.message}"
    return failure
