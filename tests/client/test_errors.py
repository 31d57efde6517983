"""Decoding a failed call's google.rpc.Status details into the client's exceptions, from the
trailers the server's own error mapping (sales_grpc/api/errors.py) produces."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from sales_grpc.api.errors import to_status
from sales_grpc.client import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    SalesError,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from sales_grpc.client.errors import ERRORS, status_details
from sales_grpc.domain import errors as e


def rpc_error(code: grpc.StatusCode, message: str, *trailers: tuple[str, str | bytes]
              ) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers),
                                message)


def as_server_sends(error: e.DomainError) -> grpc.aio.AioRpcError:
    code, status = to_status(error)
    return rpc_error(code, status.message, ("x-request-id", "rid-7"),
                     ("grpc-status-details-bin", status.SerializeToString()))


def test_field_violations_and_error_info_of_an_invalid_argument():
    error = from_rpc_error(as_server_sends(e.InvalidArgument("bad", violations=[
        e.FieldViolation("lines[0].quantity", "must be positive"),
        e.FieldViolation("lines[0].quantity", "must be whole"),
        e.FieldViolation("customer_id", "is required")])))
    assert type(error) is InvalidArgument
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and error.details() == "bad"
    assert error.reason == "INVALID_ARGUMENT" and error.domain == "sales.erp"
    assert [(v.field, v.description) for v in error.field_violations] == [
        ("lines[0].quantity", "must be positive"), ("lines[0].quantity", "must be whole"),
        ("customer_id", "is required")]
    assert error.fields == {"lines[0].quantity": "must be positive; must be whole",
                            "customer_id": "is required"}
    assert error.request_id == "rid-7"
    assert str(error) == ("INVALID_ARGUMENT: bad [INVALID_ARGUMENT] (lines[0].quantity: must "
                          "be positive; lines[0].quantity: must be whole; customer_id: is "
                          "required) request id rid-7")


@pytest.mark.parametrize(("domain_error", "kind"), [
    (e.NotFound("no order", reason="ORDER_NOT_FOUND", metadata={"id": "o1"}), NotFound),
    (e.AlreadyExists("taken", reason="SKU_TAKEN"), AlreadyExists),
    (e.PermissionDenied("no", reason="BILLING_NOT_ALLOWED"), PermissionDenied),
    (e.Unauthenticated("expired", reason="TOKEN_EXPIRED"), Unauthenticated),
    (e.Unavailable("db down", reason="DATABASE_UNAVAILABLE"), Unavailable),
])
def test_each_status_code_has_its_exception_with_reason_and_metadata(domain_error, kind):
    error = from_rpc_error(as_server_sends(domain_error))
    assert type(error) is kind and isinstance(error, SalesError)
    assert isinstance(error, grpc.aio.AioRpcError) and isinstance(error, grpc.RpcError)
    assert error.reason == domain_error.reason
    assert error.metadata == domain_error.metadata


def test_precondition_violations_and_retry_info():
    short = from_rpc_error(as_server_sends(e.FailedPrecondition(
        "short", reason="INSUFFICIENT_STOCK",
        violations=[e.PreconditionViolation("STOCK", "SKU-1", "short by 1")])))
    assert isinstance(short, FailedPrecondition)
    assert [(v.type, v.subject, v.description) for v in short.precondition_violations] == [
        ("STOCK", "SKU-1", "short by 1")]
    busy = from_rpc_error(as_server_sends(e.ResourceExhausted(
        "busy", reason="CONCURRENCY_LIMIT", retry_after=0.25)))
    assert isinstance(busy, ResourceExhausted) and busy.retry_after == 0.25


def test_resource_info_is_decoded_when_a_status_carries_one():
    status = status_pb2.Status(code=grpc.StatusCode.NOT_FOUND.value[0], message="gone")
    status.details.add().Pack(error_details_pb2.ResourceInfo(
        resource_type="erp.sales.v1.Customer", resource_name="customers/c1", owner="rep-1"))
    delay = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2))
    status.details.add().Pack(delay)
    error = from_rpc_error(rpc_error(grpc.StatusCode.NOT_FOUND, "gone",
                                     ("grpc-status-details-bin", status.SerializeToString())))
    assert error.resource is not None
    assert (error.resource.resource_type, error.resource.resource_name) == (
        "erp.sales.v1.Customer", "customers/c1")
    assert error.retry_after == 2.0


def test_a_status_without_details_or_with_garbage_still_gives_its_exception():
    plain = from_rpc_error(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
    assert plain.code() is grpc.StatusCode.DEADLINE_EXCEEDED and plain.reason == ""
    assert plain.field_violations == () and plain.request_id is None
    garbage = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "x",
                                       ("grpc-status-details-bin", b"\xff\xff not a status")))
    assert isinstance(garbage, InvalidArgument) and garbage.field_violations == ()
    assert status_details(None) is None


def test_a_code_without_a_subclass_is_a_plain_sales_error():
    error = from_rpc_error(rpc_error(grpc.StatusCode.UNIMPLEMENTED, "no such method"))
    assert type(error) is SalesError and error.code() is grpc.StatusCode.UNIMPLEMENTED
    assert from_rpc_error(error) is error
    assert all(kind.status_code is code for code, kind in ERRORS.items())
