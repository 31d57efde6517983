"""Prometheus metrics on METRICS_PORT: a server with the endpoint, scraped over HTTP after
real calls, and the endpoint's faults (a port in use)."""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import report_service_pb2_grpc as rgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.domain.access import Role
from sales_grpc.observability.calls import call_interceptors
from sales_grpc.store.cache import DocumentCache

from .helpers import fails
from .invoice_fixtures import Billing
from .report_fixtures import export, request

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Served:
    app: App
    server: SalesServer
    channel: grpc.aio.Channel
    admin: tuple[tuple[str, str], ...]

    async def scrape(self) -> Samples:
        assert self.server.metrics.port is not None
        url = f"http://127.0.0.1:{self.server.metrics.port}/metrics"

        def get() -> str:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return response.read().decode()

        samples: Samples = {}
        for family in text_string_to_metric_families(await asyncio.to_thread(get)):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def call(method: str, code: str, kind: str = "unary") -> dict[str, str]:
    service, _, name = method.rpartition("/")
    return {"grpc_service": service, "grpc_method": name, "grpc_type": kind, "grpc_code": code}


@pytest.fixture
async def served(fresh_settings) -> AsyncIterator[Served]:
    settings = fresh_settings(metrics_port=0, service_host="127.0.0.1")
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    admin = (("authorization", f"Bearer {mint_token(settings, 'admin-m', Role.ADMIN)}"),)
    try:
        yield Served(app, server, channel, admin)
    finally:
        await channel.close()
        await server.stop(1)
        await app.close()


async def test_a_scrape_after_calls_shows_them_by_method_and_code(served: Served) -> None:
    before = await served.scrape()
    shop = Billing(served.channel, served.admin)
    customer = await shop.customer()
    customers = cgrpc.CustomerServiceStub(served.channel)
    for _ in range(2):  # a miss that fills the cache, then a hit
        await customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                    metadata=served.admin)
    await fails(customers.GetCustomer(cpb.GetCustomerRequest(id=uuid.uuid4().hex[:24]),
                                      metadata=served.admin), grpc.StatusCode.NOT_FOUND)
    await fails(customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id)),
                grpc.StatusCode.UNAUTHENTICATED)  # refused by the edge: counted too
    order = await shop.confirmed_order(("10.00", 2, "0"), customer_id=customer.id)
    invoice = await shop.invoice_order(order.id)
    await shop.finalize(invoice.id)
    await shop.pay(invoice.id, "5.00")
    await export(rgrpc.ReportServiceStub(served.channel), request("payments"), served.admin)
    with pytest.raises(Exception):  # noqa: B017 - any failure: the command does not exist
        await served.app.mongo.db.command("noSuchCommandForTheMetricsTest")
    assert await served.server.metrics.refresh()
    after = await served.scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    get = "erp.sales.v1.CustomerService/GetCustomer"
    assert moved("grpc_server_handled_total", **call(get, "OK")) == 2
    assert moved("grpc_server_handled_total", **call(get, "NOT_FOUND")) == 1
    assert moved("grpc_server_handled_total", **call(get, "UNAUTHENTICATED")) == 1
    assert moved("grpc_server_handling_seconds_count", **call(get, "NOT_FOUND")) == 1
    assert moved("grpc_server_handling_seconds_bucket", le="+Inf", **call(get, "OK")) == 2
    assert value(after, "grpc_server_calls_in_flight", grpc_service="erp.sales.v1.CustomerService",
                 grpc_method="GetCustomer", grpc_type="unary") == 0
    confirm = "erp.sales.v1.OrderService/ConfirmSalesOrder"
    assert moved("grpc_server_handled_total", **call(confirm, "OK")) == 1
    # The stream is counted when it ends, with its status.
    exported = "erp.sales.v1.ReportService/ExportReport"
    assert moved("grpc_server_handled_total", **call(exported, "OK", "server_stream")) == 1
    assert value(after, "sales_export_streams_open") == 0

    assert moved("sales_orders_confirmed_total", currency="USD") == 1
    assert moved("sales_orders_confirmed_amount_total", currency="USD") == 20.0
    assert moved("sales_invoices_finalized_total", currency="USD") == 1
    assert moved("sales_payments_recorded_total", currency="USD") == 1
    assert moved("sales_payments_recorded_amount_total", currency="USD") == 5.0
    assert moved("sales_cache_hits_total", cache="customer") >= 1
    assert moved("sales_cache_misses_total", cache="customer") >= 1
    assert sum(v for (name, labels), v in after.items()
               if name == "sales_database_errors_total"
               and ("command", "noSuchCommandForTheMetricsTest") in labels) == 1

    # The backlog gauges, read by the refresh (never by the scrape).
    assert value(after, "sales_backlog_refresh_timestamp_seconds") > 0
    assert ("sales_outbox_pending_events", frozenset()) in after
    assert ("sales_mail_jobs_failed", frozenset()) in after
    assert value(after, "sales_outbox_oldest_pending_age_seconds") >= 0


async def test_business_counters_count_a_replayed_request_once(served: Served) -> None:
    shop = Billing(served.channel, served.admin)
    order = await shop.confirmed_order(("3.00", 1, "0"))
    invoice = await shop.finalize((await shop.invoice_order(order.id)).id)
    before = REGISTRY.get_sample_value("sales_payments_recorded_total", {"currency": "USD"})
    request_id = uuid.uuid4().hex
    for _ in range(2):  # a client's retry with the same request id records one payment
        await shop.pay(invoice.id, "1.00", request_id=request_id)
    after = REGISTRY.get_sample_value("sales_payments_recorded_total", {"currency": "USD"})
    assert (after or 0) - (before or 0) == 1


async def test_a_metrics_port_in_use_leaves_the_server_serving_without_it(
        fresh_settings, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = fresh_settings(metrics_port=port, service_host="127.0.0.1")
        app = await build(settings)
        server = SalesServer(app)
        with caplog.at_level(logging.WARNING, logger="sales_grpc.observability.metrics"):
            grpc_port = await server.start("127.0.0.1:0")
        try:
            assert server.metrics.port is None
            assert any(f"cannot listen on 127.0.0.1:{port}" in r.getMessage()
                       for r in caplog.records)
            token = mint_token(settings, "a", Role.ADMIN)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                await fails(cgrpc.CustomerServiceStub(channel).GetCustomer(
                    cpb.GetCustomerRequest(id="0" * 24),
                    metadata=(("authorization", f"Bearer {token}"),)),
                    grpc.StatusCode.NOT_FOUND)
        finally:
            await server.stop(1)
            await app.close()


async def test_redis_errors_and_misses_are_counted_where_the_cache_fails() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2,
                               socket_connect_timeout=0.2)
    cache = DocumentCache(client, "metrics-test", name="metrics_test")
    errors = {"operation": "metrics_test_cache.read"}
    before = REGISTRY.get_sample_value("sales_redis_errors_total", errors) or 0
    try:
        assert await cache.get("k") is None
    finally:
        await client.aclose()
    assert REGISTRY.get_sample_value("sales_redis_errors_total", errors) == before + 1
    assert REGISTRY.get_sample_value("sales_cache_misses_total", {"cache": "metrics_test"}) >= 1


def test_without_metrics_and_tracing_the_server_has_no_observing_interceptor() -> None:
    assert call_interceptors(False) == []
