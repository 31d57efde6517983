"""OpenTelemetry tracing of calls: spans recorded in memory, from a server built after
tracing was installed (as `serve` does when OTEL_EXPORTER_OTLP_ENDPOINT is set)."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.domain.access import Role
from sales_grpc.observability import logs, tracing

from .helpers import customer


class StuckExporter(SpanExporter):
    """An exporter that hangs like a collector that does not answer, until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.threads: set[str] = set()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        self.release.wait(30)
        return SpanExportResult.SUCCESS


@dataclass
class Traced:
    spans: InMemorySpanExporter
    stuck: StuckExporter


@pytest.fixture(scope="module")
def traced() -> Iterator[Traced]:
    spans, stuck = InMemorySpanExporter(), StuckExporter()
    provider = TracerProvider(sampler=tracing.calls_only())
    provider.add_span_processor(SimpleSpanProcessor(spans))
    # As in production: a bounded queue, exported by the SDK's thread.
    provider.add_span_processor(BatchSpanProcessor(stuck, schedule_delay_millis=50))
    tracing.install(provider)
    try:
        yield Traced(spans, stuck)
    finally:
        stuck.release.set()
        tracing.uninstall()
        provider.shutdown()


@dataclass
class Server:
    app: App
    stub: cgrpc.CustomerServiceStub
    md: tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
async def server(traced: Traced, fresh_settings) -> AsyncIterator[Server]:
    settings = fresh_settings()
    app = await build(settings)  # after install: the MongoDB client takes the listener
    sales = SalesServer(app)
    port = await sales.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    md = (("authorization", f"Bearer {mint_token(settings, 'tracer-1', Role.ADMIN)}"),)
    try:
        yield Server(app, cgrpc.CustomerServiceStub(channel), md)
    finally:
        await channel.close()
        await sales.stop(1)
        await app.close()


def server_span(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.kind is SpanKind.SERVER]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


async def settled(traced: Traced, name: str, calls: int = 1) -> Sequence[ReadableSpan]:
    """The finished spans once `calls` server spans named `name` are among them: the server
    ends a call's span after its reply is sent, so the client can see the reply first."""
    for _ in range(200):
        spans = traced.spans.get_finished_spans()
        if sum(1 for s in spans if s.name == name and s.kind is SpanKind.SERVER) >= calls:
            return spans
        await asyncio.sleep(0.05)
    return traced.spans.get_finished_spans()


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None
            and s.parent.span_id == parent.context.span_id]


def system(span: ReadableSpan) -> Any:
    attributes = span.attributes or {}
    return attributes.get("db.system") or attributes.get("db.system.name")


async def test_a_call_is_a_server_span_with_database_and_redis_children(
        traced: Traced, server: Server) -> None:
    traced.spans.clear()
    created = (await server.stub.CreateCustomer(cpb.CreateCustomerRequest(
        customer=customer()), metadata=server.md)).customer
    await server.stub.GetCustomer(cpb.GetCustomerRequest(id=created.id), metadata=server.md)
    spans = await settled(traced, "erp.sales.v1.CustomerService/GetCustomer")

    create = server_span(spans, "erp.sales.v1.CustomerService/CreateCustomer")
    assert create.attributes is not None
    assert create.attributes["rpc.system"] == "grpc"
    assert create.attributes["rpc.method"] == "CreateCustomer"
    assert create.attributes["rpc.grpc.status_code"] == 0
    assert create.attributes["enduser.id"] == "tracer-1"
    assert create.parent is None
    mongo = [s for s in children(spans, create) if system(s) == "mongodb"]
    assert mongo and all(s.kind is SpanKind.CLIENT for s in mongo)
    assert {s.context.trace_id for s in mongo if s.context} == {create.context.trace_id}
    assert any(s.name.endswith(".insert") for s in mongo), [s.name for s in mongo]

    get = server_span(spans, "erp.sales.v1.CustomerService/GetCustomer")
    below = children(spans, get)
    assert any(system(s) == "redis" for s in below), [s.name for s in below]  # the cache
    assert get.context.trace_id != create.context.trace_id  # a trace per call


async def test_an_incoming_traceparent_continues_the_callers_trace(
        traced: Traced, server: Server) -> None:
    trace_id, parent_id = uuid.uuid4().int >> 64 << 64 | 1, 0x1234_5678_9ABC_DEF0
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    keep = Keep(logging.INFO)
    keep.setFormatter(logs.TextLines(logs.TEXT_FORMAT))
    calls_log = logging.getLogger("sales_grpc.calls")
    calls_log.addHandler(keep)
    level = calls_log.level
    calls_log.setLevel(logging.INFO)
    traced.spans.clear()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await server.stub.GetCustomer(
                cpb.GetCustomerRequest(id="0" * 24),
                metadata=(*server.md, ("traceparent", f"00-{trace_id:032x}-{parent_id:016x}-01")))
    finally:
        calls_log.removeHandler(keep)
        calls_log.setLevel(level)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    span = server_span(await settled(traced, "erp.sales.v1.CustomerService/GetCustomer"),
                       "erp.sales.v1.CustomerService/GetCustomer")
    assert span.context.trace_id == trace_id
    assert span.parent is not None and span.parent.is_remote
    assert span.parent.span_id == parent_id
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    # The access-log line of the call carries the trace id.
    assert any(f"trace={trace_id:032x}" in line and "code=NOT_FOUND" in line
               for line in records), records


async def test_a_caller_that_did_not_sample_is_not_traced(traced: Traced,
                                                           server: Server) -> None:
    traced.spans.clear()
    trace_id = uuid.uuid4().hex
    await server.stub.ListCustomers(cpb.ListCustomersRequest(page_size=1), metadata=(
        *server.md, ("traceparent", f"00-{trace_id}-{'ab' * 8}-00")))
    # A traced call, as in the other tests, ends its span after its reply; by the time this
    # one has, the unsampled call would have its spans too, had it been sampled.
    await server.stub.ListCustomers(cpb.ListCustomersRequest(page_size=1), metadata=server.md)
    spans = await settled(traced, "erp.sales.v1.CustomerService/ListCustomers")
    assert [s.name for s in spans if s.context and s.context.trace_id == int(trace_id, 16)] == []
    assert sum(1 for s in spans if s.name == "erp.sales.v1.CustomerService/ListCustomers") == 1


async def test_an_exporter_that_hangs_does_not_hold_calls(traced: Traced,
                                                          server: Server) -> None:
    traced.stuck.release.clear()
    try:
        # The exporter hangs on the first batch; every call still completes, because spans
        # are queued and exported by the SDK's thread, never on the call path.
        for _ in range(20):
            await server.stub.ListCustomers(cpb.ListCustomersRequest(page_size=1),
                                            metadata=server.md)
        assert traced.stuck.entered.wait(10)
        for _ in range(20):
            await server.stub.ListCustomers(cpb.ListCustomersRequest(page_size=1),
                                            metadata=server.md)
        assert threading.main_thread().name not in traced.stuck.threads
    finally:
        traced.stuck.release.set()


def test_tracing_is_on_only_when_an_endpoint_is_set() -> None:
    assert tracing.enabled({}) is False
    assert tracing.enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
                            "OTEL_SDK_DISABLED": "true"}) is False
    assert tracing.enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    assert tracing.enabled({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"})
    assert tracing.configure({}) is None  # nothing installed
