"""The one table from domain errors to gRPC status codes, with google.rpc.Status details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from pymongo.errors import ConnectionFailure, PyMongoError

from ..domain import errors as e

ERROR_DOMAIN = "sales.erp"

STATUS_CODES: dict[type[e.DomainError], grpc.StatusCode] = {
    e.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    e.NotFound: grpc.StatusCode.NOT_FOUND,
    e.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    e.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    e.Aborted: grpc.StatusCode.ABORTED,
    e.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    e.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    e.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status(error: e.DomainError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = STATUS_CODES.get(type(error), grpc.StatusCode.UNKNOWN)
    for kind, mapped in STATUS_CODES.items():
        if isinstance(error, kind):
            code = mapped
            break
    status = status_pb2.Status(code=code.value[0], message=error.message)
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN,
                                       metadata=error.metadata)
    status.details.append(_packed(info))
    if isinstance(error, e.InvalidArgument) and error.violations:
        status.details.append(_packed(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations])))
    if isinstance(error, e.FailedPrecondition) and error.violations:
        status.details.append(_packed(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type=v.type, subject=v.subject, description=v.description)
            for v in error.violations])))
    return code, status


def from_unexpected(exc: BaseException) -> e.DomainError | None:
    """Infrastructure failures the client can retry; anything else stays INTERNAL."""
    if isinstance(exc, ConnectionFailure):
        return e.Unavailable("the database is unreachable; retry later",
                             reason="DATABASE_UNAVAILABLE")
    if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
        return e.Aborted("the write conflicted with a concurrent one; retry",
                         reason="WRITE_CONFLICT")
    return None
