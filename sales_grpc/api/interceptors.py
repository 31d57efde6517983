"""One server interceptor for every call: request id and logging, an expired deadline, JWT
auth, the concurrency limit of expensive methods (api/limits.py), error mapping.

It wraps the handler's behaviour rather than chaining three interceptors, because each
aio interceptor layer costs a coroutine hop per call; the three concerns stay separate
functions. Unary and server-streaming handlers are wrapped alike (a streaming behaviour is
an async generator, so it is iterated, not awaited).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from erp.sales.v1 import annotations_pb2

from ..domain.errors import DomainError, PermissionDenied
from . import context
from .auth import Authenticator
from .errors import from_unexpected, to_status
from .limits import Limit

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


class EdgeInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, permissions: dict[str, str],
                 limits: Mapping[str, Limit] | None = None,
                 call_scope: Callable[[float | None], AbstractContextManager[Any]] = nullcontext
                 ) -> None:
        self._auth = authenticator
        self._permissions = permissions
        self._limits = dict(limits or {})
        # Entered around each call with what is left of its deadline: it bounds the call's
        # database work by it (store/mongo.py call_scope).
        self._call_scope = call_scope
        # Wrapped handlers, built once per method: the server hands out the same registered
        # handler for every call, and rebuilding the wrapper per call costs measurable time.
        self._wrapped: dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails],
                               Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        method = details.method
        if handler is None or not method.startswith("/" + SALES_PACKAGE):
            return handler  # health, reflection: public, unwrapped
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = (handler, self._wrap(handler, method))
            self._wrapped[method] = cached
        return cached[1]

    def _wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str
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
            try:
                if _expired(ctx):
                    code = grpc.StatusCode.DEADLINE_EXCEEDED
                    await ctx.abort(code, EXPIRED)
                await self._admit(authorization, permission)
                async with _place(limit, ctx):
                    with self._call_scope(ctx.time_remaining()):
                        return await behaviour(request, ctx)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is mapped in one place
                code, message, trailing = _failure(exc, method, _expired(ctx))
                await ctx.abort(code, message, trailing_metadata=trailing)
            finally:
                _log(method, code, started)

        return call

    def _stream(self, behaviour: Any, method: str, permission: str, limit: Limit | None
                ) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, authorization = _begin(ctx)
            code = grpc.StatusCode.OK
            try:
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
