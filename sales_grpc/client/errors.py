"""Failed calls as Python exceptions, with the google.rpc error details the server sends.

Every failed call of a `SalesClient` raises a `SalesError`, or the subclass for its status
code (`InvalidArgument`, `NotFound`, ...). It is a `grpc.aio.AioRpcError` too, so code that
catches that keeps working, and `code()`, `details()` and `trailing_metadata()` answer as
before. What the server put in the status details is decoded into attributes:

- `reason`, `domain`, `metadata` from `google.rpc.ErrorInfo` (every error of the service
  carries one; `reason` is the stable, machine-readable part: `CUSTOMER_NOT_FOUND`,
  `INSUFFICIENT_STOCK`, `CONCURRENCY_LIMIT`, ...);
- `field_violations` from `google.rpc.BadRequest` (INVALID_ARGUMENT: which field, and why);
- `precondition_violations` from `google.rpc.PreconditionFailure` (FAILED_PRECONDITION);
- `retry_after` (seconds) from `google.rpc.RetryInfo` (RESOURCE_EXHAUSTED under load);
- `resource` from `google.rpc.ResourceInfo`, when present;
- `request_id`: the server's `x-request-id` for the call, which its logs carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
REQUEST_ID_KEY = "x-request-id"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: `field` is its path (`customer.email`,
    `lines[2].quantity`), `description` says what is wrong with it."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """What stops the call: `type` (such as `STOCK`), `subject` (such as a SKU), and why."""

    type: str
    subject: str
    description: str


@dataclass(frozen=True)
class ResourceInfo:
    resource_type: str
    resource_name: str
    owner: str
    description: str


class SalesError(grpc.aio.AioRpcError):
    """A call to the sales service failed. `code()` is its status code, `message` the
    server's message; the other attributes are decoded from the status details."""

    status_code: ClassVar[grpc.StatusCode | None] = None

    def __init__(self, code: grpc.StatusCode, message: str, *, reason: str = "",
                 domain: str = "", metadata: Mapping[str, str] | None = None,
                 field_violations: Sequence[FieldViolation] = (),
                 precondition_violations: Sequence[PreconditionViolation] = (),
                 retry_after: float | None = None, resource: ResourceInfo | None = None,
                 request_id: str | None = None,
                 initial_metadata: grpc.aio.Metadata | None = None,
                 trailing_metadata: grpc.aio.Metadata | None = None,
                 debug_error_string: str | None = None) -> None:
        super().__init__(code, initial_metadata or grpc.aio.Metadata(),
                         trailing_metadata or grpc.aio.Metadata(), message, debug_error_string)
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: Mapping[str, str] = dict(metadata or {})
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)
        self.precondition_violations: tuple[PreconditionViolation, ...] = tuple(
            precondition_violations)
        self.retry_after = retry_after
        self.resource = resource
        self.request_id = request_id

    @property
    def fields(self) -> dict[str, str]:
        """The field violations by field path (two for one field joined by "; ")."""
        found: dict[str, str] = {}
        for violation in self.field_violations:
            found[violation.field] = (f"{found[violation.field]}; {violation.description}"
                                      if violation.field in found else violation.description)
        return found

    def __str__(self) -> str:
        text = f"{self.code().name}: {self.message}"
        if self.reason:
            text += f" [{self.reason}]"
        if self.field_violations:
            text += " (" + "; ".join(f"{v.field}: {v.description}"
                                     for v in self.field_violations) + ")"
        if self.request_id:
            text += f" request id {self.request_id}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class InvalidArgument(SalesError):
    """The request is malformed or a value is out of range; see `field_violations`."""
    status_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(SalesError):
    """No such record, or it is outside the caller's scope (not told apart on purpose)."""
    status_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(SalesError):
    status_code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(SalesError):
    """The record is not in a state that allows the call (a confirmed order, short stock);
    see `reason` and `precondition_violations`. Retrying unchanged will not help."""
    status_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(SalesError):
    """A concurrent change won: a stale etag (read again, then retry) or a write conflict
    (`reason` WRITE_CONFLICT: retry as is)."""
    status_code = grpc.StatusCode.ABORTED


class PermissionDenied(SalesError):
    status_code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(SalesError):
    """The token is missing, expired or not accepted."""
    status_code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(SalesError):
    """The server is at a limit; try again after `retry_after` seconds when it is set."""
    status_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(SalesError):
    """The service (or its database) could not be reached, after the client's own retries
    for the calls it may repeat."""
    status_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(SalesError):
    """The call's deadline passed. A create may still have happened: repeat it with the
    same `request_id` to get its result without creating it twice."""
    status_code = grpc.StatusCode.DEADLINE_EXCEEDED


class Internal(SalesError):
    """A bug or an unexpected failure on the server; its logs have the `request_id`."""
    status_code = grpc.StatusCode.INTERNAL


ERRORS: Mapping[grpc.StatusCode, type[SalesError]] = {
    kind.status_code: kind for kind in (
        InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, Aborted, PermissionDenied,
        Unauthenticated, ResourceExhausted, Unavailable, DeadlineExceeded, Internal)
    if kind.status_code is not None}


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def status_details(trailing_metadata: grpc.aio.Metadata | None) -> status_pb2.Status | None:
    """The google.rpc.Status a call's trailers carry, if any (and if it parses)."""
    for key, value in trailing_metadata or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def from_status(code: grpc.StatusCode, message: str, status: status_pb2.Status | None, *,
                request_id: str | None = None, initial_metadata: grpc.aio.Metadata | None = None,
                trailing_metadata: grpc.aio.Metadata | None = None,
                debug_error_string: str | None = None) -> SalesError:
    """The exception for a status code, message and google.rpc.Status: details of a kind it
    does not know are skipped."""
    reason = domain = ""
    metadata: dict[str, str] = {}
    fields: list[FieldViolation] = []
    preconditions: list[PreconditionViolation] = []
    retry_after: float | None = None
    resource: ResourceInfo | None = None
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        failure = error_details_pb2.PreconditionFailure()
        retry = error_details_pb2.RetryInfo()
        found = error_details_pb2.ResourceInfo()
        # Unpack is True only for a detail of the message's own type.
        if detail.Unpack(info):
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Unpack(bad):
            fields += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Unpack(failure):
            preconditions += [PreconditionViolation(v.type, v.subject, v.description)
                              for v in failure.violations]
        elif detail.Unpack(retry):
            retry_after = retry.retry_delay.ToNanoseconds() / 1e9
        elif detail.Unpack(found):
            resource = ResourceInfo(found.resource_type, found.resource_name, found.owner,
                                    found.description)
    kind = ERRORS.get(code, SalesError)
    return kind(code, message, reason=reason, domain=domain, metadata=metadata,
                field_violations=fields, precondition_violations=preconditions,
                retry_after=retry_after, resource=resource, request_id=request_id,
                initial_metadata=initial_metadata, trailing_metadata=trailing_metadata,
                debug_error_string=debug_error_string)


def from_rpc_error(error: grpc.aio.AioRpcError) -> SalesError:
    """The `SalesError` for a failed call of any grpc.aio channel (the client's interceptor
    does this for its own calls; this is for code that calls the stubs on a channel of its
    own)."""
    if isinstance(error, SalesError):
        return error
    trailing = error.trailing_metadata()
    found = trailing.get(REQUEST_ID_KEY) if trailing is not None else None
    request_id = None if found is None else _text(found)
    return from_status(error.code(), error.details() or "", status_details(trailing),
                       request_id=request_id, initial_metadata=error.initial_metadata(),
                       trailing_metadata=trailing,
                       debug_error_string=error.debug_error_string())
