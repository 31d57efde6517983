"""OpenTelemetry tracing: a server span per call (observability/calls.py), with the MongoDB
commands (opentelemetry-instrumentation-pymongo, a command listener, which serves
AsyncMongoClient as it does the synchronous one) and Redis commands
(opentelemetry-instrumentation-redis, which patches redis.asyncio) of the call as its children.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and
then it costs nothing: no tracer provider is installed, no instrumentation is applied, the
call interceptor starts no span, and the log formatters look up no trace id. When it is on,
spans go to a BatchSpanProcessor: ending a span puts it on a bounded queue (OTEL_BSP_*,
2048 spans by default; past that spans are dropped, never waited for) and a thread of the SDK
exports batches over OTLP/gRPC, so an endpoint that is slow or does not answer costs the calls
nothing; the exporter retries in that thread and gives a batch up after
OTEL_EXPORTER_OTLP_TIMEOUT (10 s).

Only calls start traces: the MongoDB and Redis commands of background work (the outbox relay,
the projector, mail delivery, polling every second or faster) have no parent span and are not
sampled, or every replica would send several traces a second of idle polling. A call whose
`traceparent` metadata says its caller sampled it is traced as part of the caller's trace (and
one the caller did not sample is not); other calls start traces of their own.

The SDK reads its own variables: OTEL_SERVICE_NAME (default `sales-grpc`),
OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT,
OTEL_EXPORTER_OTLP_INSECURE, OTEL_BSP_*, OTEL_PROPAGATORS; OTEL_SDK_DISABLED=true turns it off.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

SERVICE_NAME = "sales-grpc"
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

# The tracer of the call interceptor while tracing is installed, else None: the one flag the
# call path and the log formatters look at.
_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def tracer() -> trace.Tracer | None:
    return _tracer


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for traces to be exported."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in _ENDPOINTS)


def configure(env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Installs tracing exported over OTLP/gRPC when the environment asks for it (`enabled`);
    before the MongoDB client is made, because the driver takes its listeners then. Returns
    the provider, or None when tracing stays off."""
    if not enabled(env):
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    env = os.environ if env is None else env
    provider = TracerProvider(
        resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME")
                                  or SERVICE_NAME}),
        sampler=calls_only())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    install(provider)
    log.info("tracing: exporting spans over OTLP to %s",
             next(env[name] for name in _ENDPOINTS if env.get(name, "").strip()))
    return provider


def calls_only() -> Any:
    """The sampler: a call's span samples by its caller's decision (its `traceparent`), or
    always when it has none; spans without a parent that are not calls' are dropped."""
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        ALWAYS_ON,
        ParentBased,
        Sampler,
        SamplingResult,
    )

    class _RootCalls(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str,
                          kind: trace.SpanKind | None = None, attributes: Any = None,
                          links: Sequence[Any] | None = None, trace_state: Any = None
                          ) -> SamplingResult:
            chosen = ALWAYS_ON if kind is trace.SpanKind.SERVER else ALWAYS_OFF
            return chosen.should_sample(parent_context, trace_id, name, kind, attributes,
                                        links, trace_state)

        def get_description(self) -> str:
            return "RootCalls"

    return ParentBased(root=_RootCalls())


def install(provider: TracerProvider) -> None:
    """Traces calls, MongoDB and Redis commands into `provider` (tests pass one with an
    in-memory exporter). MongoDB clients made before this are not traced."""
    global _tracer, _provider
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    # The pymongo instrumentation registers one listener per process, for every client made
    # from then on, with the tracer of the first provider; later calls re-enable it.
    PymongoInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    _tracer = provider.get_tracer("sales_grpc")
    _provider = provider


def uninstall() -> None:
    """Stops tracing calls and commands (the provider is the caller's to shut down)."""
    global _tracer, _provider
    if _tracer is None:
        return
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    PymongoInstrumentor().uninstrument()
    RedisInstrumentor().uninstrument()
    _tracer = _provider = None


def shutdown(timeout_seconds: float = 5.0) -> None:
    """Stops tracing and exports what is queued, waiting `timeout_seconds` at most: the SDK's
    own shutdown waits up to 30 s for an endpoint that does not answer (and its force_flush
    has no limit at all), which must not hold a stopping server. Spans still queued then are
    lost with the process."""
    provider = _provider
    uninstall()
    if provider is None:
        return
    stopping = threading.Thread(target=provider.shutdown, name="tracing-shutdown", daemon=True)
    stopping.start()
    stopping.join(timeout_seconds)
    if stopping.is_alive():
        log.warning("tracing: the OTLP endpoint took over %ss; spans still queued are dropped",
                    f"{timeout_seconds:g}")


def current_trace_id() -> str:
    """The trace id of the span in progress (32 hex digits), or "" when there is none or
    tracing is off; for the log formatters."""
    if _tracer is None:
        return ""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
