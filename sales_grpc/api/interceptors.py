"""One server interceptor for every call: request id and logging, JWT auth, error mapping.

It wraps the handler's behaviour rather than chaining three interceptors, because each
aio interceptor layer costs a coroutine hop per call; the three concerns stay separate
functions. Unary and server-streaming handlers are wrapped alike (a streaming behaviour is
an async generator, so it is iterated, not awaited).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from erp.sales.v1 import annotations_pb2

from ..domain.errors import DomainError, PermissionDenied
from . import context
from .auth import Authenticator
from .errors import from_unexpected, to_status

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
    def __init__(self, authenticator: Authenticator, permissions: dict[str, str]) -> None:
        self._auth = authenticator
        self._permissions = permissions

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
        # Fail closed: a sales method the contract gives no permission is not callable.
        permission = self._permissions.get(method) or "sales:__unknown__"
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method, permission),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, method, permission),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler  # the contract has no client-streaming RPCs

    def _unary(self, behaviour: Any, method: str, permission: str) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> Any:
            started = _begin(ctx)
            code = grpc.StatusCode.OK
            try:
                await self._admit(ctx, permission)
                return await behaviour(request, ctx)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is mapped in one place
                code, message, trailing = _failure(exc, method)
                await ctx.abort(code, message, trailing_metadata=trailing)
            finally:
                _log(method, code, started)

        return call

    def _stream(self, behaviour: Any, method: str, permission: str) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started = _begin(ctx)
            code = grpc.StatusCode.OK
            try:
                await self._admit(ctx, permission)
                async for response in behaviour(request, ctx):
                    yield response
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001 - raised mid-stream too
                code, message, trailing = _failure(exc, method)
                await ctx.abort(code, message, trailing_metadata=trailing)
            finally:
                _log(method, code, started)

        return call

    async def _admit(self, ctx: grpc.aio.ServicerContext, permission: str) -> None:
        header = _metadata(ctx, "authorization")
        principal = await self._auth.authenticate(header)
        if not principal.can(permission):
            raise PermissionDenied(f"this call needs the {permission} permission",
                                   reason="MISSING_PERMISSION",
                                   metadata={"permission": permission})
        context.principal.set(principal)


def _metadata(ctx: grpc.aio.ServicerContext, key: str) -> str | None:
    for name, value in ctx.invocation_metadata() or ():
        if name == key:
            return value if isinstance(value, str) else value.decode()
    return None


def _begin(ctx: grpc.aio.ServicerContext) -> float:
    incoming = _metadata(ctx, "x-request-id") or ""
    rid = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
    context.request_id.set(rid)
    context.principal.set(None)
    ctx.set_trailing_metadata((("x-request-id", rid),))
    return time.perf_counter()


def _failure(exc: Exception, method: str) -> tuple[grpc.StatusCode, str, Any]:
    """The status to abort with; an unexpected error's text stays in the log, not the reply."""
    error = exc if isinstance(exc, DomainError) else from_unexpected(exc)
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
    log.info("rpc method=%s code=%s ms=%.1f request_id=%s sub=%s", method, code.name,
             (time.perf_counter() - started) * 1000, context.request_id.get(),
             principal.subject if principal else "-")
