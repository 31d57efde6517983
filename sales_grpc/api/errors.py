"""The one table from domain errors to gRPC status codes, with google.rpc.Status details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from pymongo.errors import ConnectionFailure, PyMongoError

from ..domain import errors as e

ERROR_DOMAIN = "sales.erp"
# Caps on what a status carries, whatever a domain error holds. A client's default limit on
# received metadata is 16 KiB (soft 8 KiB), and the message and details travel in the
# trailers: past it the client sees RESOURCE_EXHAUSTED instead of the real error. Domain code
# quotes input through errors.shown(); these are the safety net for anything it missed.
MAX_MESSAGE = 1024
MAX_FIELD = 256
MAX_DESCRIPTION = 512
MAX_METADATA_VALUE = 256
DETAILS_BUDGET = 3000  # characters of violations per status; the first always goes

STATUS_CODES: dict[type[e.DomainError], grpc.StatusCode] = {
    e.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    e.NotFound: grpc.StatusCode.NOT_FOUND,
    e.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    e.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    e.Aborted: grpc.StatusCode.ABORTED,
    e.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    e.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    e.Unavailable: grpc.StatusCode.UNAVAILABLE,
    e.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    e.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fitting(texts: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The leading violations whose texts fit DETAILS_BUDGET (a list of 200 short products
    keeps its first few dozen; the message says what the error is about)."""
    kept: list[tuple[str, ...]] = []
    used = 0
    for item in texts:
        used += sum(map(len, item))
        if kept and used > DETAILS_BUDGET:
            break
        kept.append(item)
    return kept


def to_status(error: e.DomainError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = STATUS_CODES.get(type(error), grpc.StatusCode.UNKNOWN)
    for kind, mapped in STATUS_CODES.items():
        if isinstance(error, kind):
            code = mapped
            break
    status = status_pb2.Status(code=code.value[0], message=_cut(error.message, MAX_MESSAGE))
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata={
        _cut(k, 64): _cut(v, MAX_METADATA_VALUE) for k, v in error.metadata.items()})
    status.details.append(_packed(info))
    if isinstance(error, e.InvalidArgument) and error.violations:
        fields = _fitting([(_cut(v.field, MAX_FIELD), _cut(v.description, MAX_DESCRIPTION))
                           for v in error.violations])
        status.details.append(_packed(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in fields])))
    if isinstance(error, e.FailedPrecondition) and error.violations:
        items = _fitting([(_cut(v.type, MAX_FIELD), _cut(v.subject, MAX_FIELD),
                           _cut(v.description, MAX_DESCRIPTION)) for v in error.violations])
        status.details.append(_packed(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type=kind, subject=subject, description=description)
            for kind, subject, description in items])))
    if isinstance(error, e.ResourceExhausted) and error.retry_after > 0:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(round(error.retry_after * 1e9))
        status.details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
    return code, status


def from_unexpected(exc: BaseException, expired: bool = False) -> e.DomainError | None:
    """Infrastructure failures the client can retry; anything else stays INTERNAL.
    `expired`: the call's deadline has passed, so a database timeout is that deadline's."""
    if expired and isinstance(exc, PyMongoError) and exc.timeout:
        return e.DeadlineExceeded("the deadline passed before the database answered",
                                  reason="DEADLINE_EXCEEDED")
    if isinstance(exc, ConnectionFailure):
        return e.Unavailable("the database is unreachable; retry later",
                             reason="DATABASE_UNAVAILABLE")
    if isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError"):
        return e.Aborted("the write conflicted with a concurrent one; retry",
                         reason="WRITE_CONFLICT")
    return None
