"""The interceptor that measures and traces every call: the call counter, latency histogram
and calls in flight per method and status code (observability/metrics.py), and a server span
that continues the caller's `traceparent` (observability/tracing.py).

It sits outside the EdgeInterceptor, so calls the edge refuses (no token, no permission, a
full server) are counted and traced too, and the edge's access-log line is written inside the
span, with its trace id. A call's status is read from its context when it ends (`ctx.code()`,
set by every abort), CANCELLED or DEADLINE_EXCEEDED when the call was cancelled, UNKNOWN when
an exception escaped. Streaming calls are measured to their last message and their status.

`call_interceptors` gives no interceptor at all when neither metrics nor tracing is on, so
switched off it costs nothing; each on, it is one layer for both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from ..api import context as call_context
from ..api.wrapping import HandlerWrapper
from . import metrics, tracing

OK = grpc.StatusCode.OK
# Server spans get an error status for these codes only; the others are the caller's mistake
# (OpenTelemetry's semantic conventions for gRPC servers).
_SERVER_FAULTS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                  grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                  grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS}


def call_interceptors(metrics_on: bool) -> list[grpc.aio.ServerInterceptor]:
    """The interceptor for the server's list (first, outermost), or none when neither metrics
    nor tracing (tracing.install) is on."""
    tracer = tracing.tracer()
    if not metrics_on and tracer is None:
        return []
    return [ObservedCalls(metrics_on, tracer)]


class _Method:
    """One method's names and metric children, made once."""

    def __init__(self, full: str, kind: str, metrics_on: bool) -> None:
        service, _, name = full.lstrip("/").partition("/")
        self.span_name = f"{service}/{name}"
        self.attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        self._labels = (service, name, kind)
        self._by_code: dict[grpc.StatusCode, tuple[Any, Any]] = {}
        self.in_flight = (metrics.CALLS_IN_FLIGHT.labels(*self._labels) if metrics_on
                          else None)

    def done(self, code: grpc.StatusCode, seconds: float) -> None:
        children = self._by_code.get(code)
        if children is None:
            labels = (*self._labels, code.name)
            children = (metrics.CALLS.labels(*labels), metrics.CALL_SECONDS.labels(*labels))
            self._by_code[code] = children
        children[0].inc()
        children[1].observe(seconds)


class ObservedCalls(HandlerWrapper):
    def __init__(self, metrics_on: bool, tracer: Any | None) -> None:
        self._metrics_on = metrics_on
        self._tracer = tracer
        super().__init__()

    def wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str
             ) -> grpc.RpcMethodHandler[Any, Any]:
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, _Method(method, "unary", self._metrics_on)),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream,
                             _Method(method, "server_stream", self._metrics_on)),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler  # client and bidi streams: only reflection has them

    def _unary(self, behaviour: Any, m: _Method) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            if m.in_flight is not None:
                m.in_flight.inc()
            failed: grpc.StatusCode | None = None
            with self._span(m, ctx) as span:
                try:
                    return await behaviour(request, ctx)
                except asyncio.CancelledError:
                    failed = _cancelled(ctx)
                    raise
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    failed = grpc.StatusCode.UNKNOWN
                    raise
                finally:
                    _finish(m, span, failed or ctx.code() or OK, started)

        return call

    def _stream(self, behaviour: Any, m: _Method) -> Any:
        async def call(request: Any, ctx: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            if m.in_flight is not None:
                m.in_flight.inc()
            failed: grpc.StatusCode | None = None
            with self._span(m, ctx) as span:
                try:
                    async for response in behaviour(request, ctx):
                        yield response
                except (asyncio.CancelledError, GeneratorExit):
                    failed = _cancelled(ctx)
                    raise
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    failed = grpc.StatusCode.UNKNOWN
                    raise
                finally:
                    _finish(m, span, failed or ctx.code() or OK, started)

        return call

    def _span(self, m: _Method, ctx: grpc.aio.ServicerContext
              ) -> AbstractContextManager[Any]:
        if self._tracer is None:
            return nullcontext()
        carrier = {}
        for key, value in ctx.invocation_metadata() or ():
            if isinstance(value, str):
                carrier[key] = value
        return self._tracer.start_as_current_span(
            m.span_name, context=propagate.extract(carrier), kind=trace.SpanKind.SERVER,
            attributes=m.attributes, record_exception=False, set_status_on_exception=False)


def _cancelled(ctx: grpc.aio.ServicerContext) -> grpc.StatusCode:
    remaining = ctx.time_remaining()
    return (grpc.StatusCode.DEADLINE_EXCEEDED if remaining is not None and remaining <= 0
            else grpc.StatusCode.CANCELLED)


def _finish(m: _Method, span: Any, code: grpc.StatusCode, started: float) -> None:
    if m.in_flight is not None:
        m.in_flight.dec()
        m.done(code, time.perf_counter() - started)
    if span is not None:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        request_id = call_context.request_id.get()
        if request_id != "-":
            span.set_attribute("sales.request_id", request_id)
        principal = call_context.principal.get()
        if principal is not None:
            span.set_attribute("enduser.id", principal.subject)
        if code in _SERVER_FAULTS:
            span.set_status(Status(StatusCode.ERROR, code.name))
