"""One server interceptor for every call: request id and logging, the server-wide cap on calls
in progress and the per-method limit of expensive methods (api/limits.py), an expired
deadline and the default one of a unary call that came without any, JWT auth, error mapping.

It wraps the handler's behaviour rather than chaining three interceptors, because each
aio interceptor layer costs a coroutine hop per call; the three concerns stay separate
functions. Unary and server-streaming handlers are wrapped alike (a streaming behaviour is
an async generator, so it is iterated, not awaited).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from erp.sales.v1 import annotations_pb2

from ..domain.errors import DeadlineExceeded, DomainError, PermissionDenied
from . import context
from .auth import Authenticator
from .errors import from_unexpected, to_status
from .limits import CallsInProgress, Limit
from .wrapping import HandlerWrapper

log = logging.getLogger("sales_grpc.calls")
SALES_PACKAGE = "erp.sales.v1."


def required_permissions(service_names: list[str]) -> dict[str, str]:
    """Maps `/pkg.Service/Method` to the permission the contract's method option names."""
    pool = descriptor_pool.Default()
    table: dict[str, str] = {}
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            option = method.GetOptions().Extensions[annotations_pb2.required_permission]
            table[f"/{name}/{method.name}"] = option
    return table


class EdgeInterceptor(HandlerWrapper):
    def __init__(self, authenticator: Authenticator, permissions: dict[str, str],
                 limits: Mapping[str, Limit] | None = None,
                 call_scope: Callable[[float | None], AbstractContextManager[Any]] = nullcontext,
                 calls: CallsInProgress | None = None, default_deadline: float | None = None
                 ) -> None:
        self._auth = authenticator
        self._permissions = permissions
        self._limits = dict(limits or {})
        self._calls = calls or CallsInProgress(2**31)
        # The deadline of a unary call that comes without one: such a call must not hold its
        # place (and the database) for ever. Streams run as long as their client reads.
        self._default_deadline = default_deadline
        # Entered around each call with what is left of its deadline: it bounds the call's
        # database work by it (store/mongo.py call_scope).
        self._call_scope = call_scope
        super().__init__()

    def takes(self, method: str) -> bool:
        return method.startswith("/" + SALES_PACKAGE)  # not health, reflection: public

    def wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str
             ) -> grpc.RpcMethodHandler[Any, Any]:
        # Fail closed: a sales method the contract gives no permission is not callable.
        permission = self._permissions.get(method) or "sales:__unknown__"
        limit = self._limits.get(method)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, permission, limit),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method, permission, limit),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler  # the contract has no client-streaming RPCs

    def _unary(self, behaviour: Any, method: str, permission: str, limit: Limit | None) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> Any:
            started, authorization = _begin(ctx)
            code = grpc.StatusCode.OK
            entered = False
            own = _OwnDeadline(ctx, self._default_deadline)
            try:
                self._calls.enter()  # first: an overloaded server refuses before any work
                entered = True
                if _expired(ctx):
                    code = grpc.StatusCode.DEADLINE_EXCEEDED
                    await ctx.abort(code, EXPIRED)
                await self._admit(authorization, permission)
                async with _place(limit, ctx):
                    with self._call_scope(own.remaining()):
                        async with own.timeout():
                            return await behaviour(request, ctx)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is mapped in one place
                code, message, trailing = _failure(own.error(exc), method,
                                                   _expired(ctx) or own.passed())
                await ctx.abort(code, message, trailing_metadata=trailing)
            finally:
                if entered:
                    self._calls.leave()
                _log(method, code, started)

        return call

    def _stream(self, behaviour: Any, method: str, permission: str, limit: Limit | None
                ) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, authorization = _begin(ctx)
            code = grpc.StatusCode.OK
            entered = False
            try:
                self._calls.enter()
                entered = True
                if _expired(ctx):
                    code = grpc.StatusCode.DEADLINE_EXCEEDED
                    await ctx.abort(code, EXPIRED)
                await self._admit(authorization, permission)
                async with _place(limit, ctx):
                    with self._call_scope(ctx.time_remaining()):
                        async for response in behaviour(request, ctx):
                            yield response
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - raised mid-stream too
                code, message, trailing = _failure(exc, method, _expired(ctx))
                await ctx.abort(code, message, trailing_metadata=trailing)
            finally:
                if entered:
                    self._calls.leave()
                _log(method, code, started)

        return call

    async def _admit(self, authorization: str | None, permission: str) -> None:
        principal = await self._auth.authenticate(authorization)
        if not principal.can(permission):
            raise PermissionDenied(f"this call needs the {permission} permission",
                                   reason="MISSING_PERMISSION",
                                   metadata={"permission": permission})
        context.principal.set(principal)


EXPIRED = "the deadline had passed when the call reached the server; it was not started"


def _expired(ctx: grpc.aio.ServicerContext) -> bool:
    """Whether the caller gave up before we began: work for it would be wasted, and under
    load it is exactly the work that delays everyone else."""
    remaining = ctx.time_remaining()
    return remaining is not None and remaining <= 0


class _OwnDeadline:
    """The server's default deadline of a unary call that came without one, counted from its
    arrival: the call is cancelled when it passes (as gRPC cancels one whose own deadline
    passes) and answers DEADLINE_EXCEEDED. Inert when the caller set a deadline."""

    __slots__ = ("_at", "_ctx", "_scope")

    def __init__(self, ctx: grpc.aio.ServicerContext, default: float | None) -> None:
        self._ctx = ctx
        self._scope: asyncio.Timeout | None = None
        self._at = None if default is None or ctx.time_remaining() is not None \
            else asyncio.get_running_loop().time() + default

    def remaining(self) -> float | None:
        """What is left of the call's deadline, the caller's own if it set one."""
        if self._at is None:
            return self._ctx.time_remaining()
        return self._at - asyncio.get_running_loop().time()

    def timeout(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if self._at is None:
            return contextlib.nullcontext()
        self._scope = asyncio.timeout_at(self._at)
        return self._scope

    def passed(self) -> bool:
        return self._at is not None and asyncio.get_running_loop().time() >= self._at

    def error(self, exc: Exception) -> Exception:
        """The DeadlineExceeded to answer when `exc` is this deadline's own timeout."""
        if self._scope is not None and self._scope.expired() and isinstance(exc, TimeoutError):
            return DeadlineExceeded(
                "the call came without a deadline and ran past the server's default one; "
                "set a deadline on the call", reason="DEFAULT_DEADLINE_EXCEEDED")
        return exc


def _place(limit: Limit | None, ctx: grpc.aio.ServicerContext
           ) -> contextlib.AbstractAsyncContextManager[None]:
    return contextlib.nullcontext() if limit is None else limit.held(ctx)


def _begin(ctx: grpc.aio.ServicerContext) -> tuple[float, str | None]:
    """Starts a call's clock and request id; returns the authorization header, read in the
    same single pass over the metadata."""
    incoming = authorization = None
    for name, value in ctx.invocation_metadata() or ():
        if name == "authorization":
            authorization = value if isinstance(value, str) else value.decode()
        elif name == "x-request-id":
            incoming = value if isinstance(value, str) else value.decode()
    rid = incoming[:64] if incoming and incoming.isprintable() else uuid.uuid4().hex
    context.request_id.set(rid)
    context.principal.set(None)
    ctx.set_trailing_metadata((("x-request-id", rid),))
    return time.perf_counter(), authorization


def _failure(exc: Exception, method: str, expired: bool = False
             ) -> tuple[grpc.StatusCode, str, Any]:
    """The status to abort with; an unexpected error's text stays in the log, not the reply."""
    error = exc if isinstance(exc, DomainError) else from_unexpected(exc, expired)
    rid = context.request_id.get()
    if error is None:
        log.error("unexpected error in %s request_id=%s", method, rid, exc_info=exc)
        return (grpc.StatusCode.INTERNAL, f"internal error; request id {rid}",
                (("x-request-id", rid),))
    code, status = to_status(error)
    return code, status.message, (("x-request-id", rid),
                                  ("grpc-status-details-bin", status.SerializeToString()))


def _log(method: str, code: grpc.StatusCode, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    principal = context.principal.get()
    ms = (time.perf_counter() - started) * 1000
    # The request id is in every record already (the log format's [request_id]); `rpc` gives
    # the JSON format its fields (observability/logs.py).
    log.info("rpc method=%s code=%s ms=%.1f sub=%s", method, code.name, ms,
             principal.subject if principal else "-",
             extra={"rpc": {"method": method, "status": code.name,
                            "duration_ms": round(ms, 1)}})
