"""Server limits: an overloaded server refuses calls at once with RESOURCE_EXHAUSTED and a
RetryInfo instead of queueing them (health and reflection still answer), a unary call without a
deadline gets the server's default one, and an oversized request is refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer, server_options
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from .helpers import customer, fails


@dataclass
class Served:
    app: App
    server: SalesServer
    channel: grpc.aio.Channel
    md: tuple[tuple[str, str], ...]

    @property
    def customers(self) -> cgrpc.CustomerServiceStub:
        return cgrpc.CustomerServiceStub(self.channel)


@pytest.fixture
async def serve(fresh_settings: Callable[..., Settings]
                ) -> AsyncIterator[Callable[..., Any]]:
    started: list[Served] = []

    async def start(**overrides: Any) -> Served:
        app = await build(fresh_settings(**overrides))
        server = SalesServer(app)
        port = await server.start("127.0.0.1:0")
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        token = mint_token(app.settings, "admin-limits", Role.ADMIN)
        served = Served(app, server, channel, (("authorization", f"Bearer {token}"),))
        started.append(served)
        return served

    yield start
    for served in started:
        await served.channel.close()
        await served.server.stop(0.5)
        await served.app.close()


def _held(app: App) -> tuple[asyncio.Event, list[int]]:
    """Makes GetCustomer wait until the returned event is set; counts the calls waiting."""
    release, waiting = asyncio.Event(), [0]
    real_get = app.customers.get

    async def held_get(*args: Any, **kwargs: Any) -> Any:
        waiting[0] += 1
        await release.wait()
        return await real_get(*args, **kwargs)

    app.customers.get = held_get  # type: ignore[method-assign]
    return release, waiting


async def test_past_the_cap_calls_are_refused_at_once_with_retry_info_and_probes_still_answer(
        serve):
    served = await serve(max_calls_in_progress=3)
    made = (await served.customers.CreateCustomer(cpb.CreateCustomerRequest(
        customer=customer()), metadata=served.md)).customer
    release, waiting = _held(served.app)
    get = cpb.GetCustomerRequest(id=made.id)
    held = [asyncio.ensure_future(served.customers.GetCustomer(get, metadata=served.md,
                                                               timeout=20))
            for _ in range(3)]
    try:
        for _ in range(200):
            if waiting[0] == 3:
                break
            await asyncio.sleep(0.02)
        assert waiting[0] == 3 and served.server.calls_in_progress.count == 3

        refused = await asyncio.gather(*(fails(served.customers.GetCustomer(
            get, metadata=served.md, timeout=20), grpc.StatusCode.RESOURCE_EXHAUSTED)
            for _ in range(5)))
        # Refused, not queued behind the three: those are still held (a queued call would
        # have waited for them, and ended DEADLINE_EXCEEDED after 20 s).
        assert not any(call.done() for call in held)
        for failure in refused:
            assert failure.info is not None and failure.info.reason == "SERVER_OVERLOADED"
            assert failure.info.metadata["limit"] == "3"
            status = rpc_status.from_call(failure.error)  # type: ignore[arg-type]
            [retry] = [d for d in status.details
                       if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
            info = error_details_pb2.RetryInfo()
            retry.Unpack(info)
            assert info.retry_delay.ToTimedelta().total_seconds() > 0
        assert waiting[0] == 3  # none of the refused reached the servicer

        # Health and reflection are not sales calls: never refused.
        health = await health_pb2_grpc.HealthStub(served.channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(served.channel)
        replies = [r async for r in reflection.ServerReflectionInfo(iter([
            reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)]
        assert any(s.name == "erp.sales.v1.CustomerService"
                   for s in replies[0].list_services_response.service)
    finally:
        release.set()
    done = await asyncio.gather(*held)
    assert [r.customer.id for r in done] == [made.id] * 3
    assert served.server.calls_in_progress.count == 0
    assert (await served.customers.GetCustomer(get, metadata=served.md)).customer.id == made.id


async def test_a_unary_call_without_a_deadline_gets_the_default_one(serve):
    served = await serve(default_call_deadline_seconds=0.5)
    made = (await served.customers.CreateCustomer(cpb.CreateCustomerRequest(
        customer=customer()), metadata=served.md)).customer
    release, waiting = _held(served.app)
    get = cpb.GetCustomerRequest(id=made.id)
    try:
        started = time.perf_counter()
        failure = await fails(served.customers.GetCustomer(get, metadata=served.md),
                              grpc.StatusCode.DEADLINE_EXCEEDED)
        # Ended by the 0.5 s default (the held call would otherwise wait forever); the upper
        # bound leaves room for a loaded machine.
        assert 0.4 < time.perf_counter() - started < 30.0
        assert failure.info is not None and failure.info.reason == "DEFAULT_DEADLINE_EXCEEDED"
        # Its place is given back, when the call's handler ends (just after its reply).
        for _ in range(200):
            if served.server.calls_in_progress.count == 0:
                break
            await asyncio.sleep(0.05)
        assert served.server.calls_in_progress.count == 0

        # A caller's own deadline is kept, even when longer than the default.
        late = asyncio.get_running_loop().call_later(1.0, release.set)
        got = await served.customers.GetCustomer(get, metadata=served.md, timeout=10)
        assert got.customer.id == made.id and waiting[0] == 2
        late.cancel()
    finally:
        release.set()


async def test_a_request_over_the_receive_limit_is_refused(serve):
    served = await serve(max_receive_message_bytes=16 * 1024)
    big = customer(notes="n" * 20_000)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await served.customers.CreateCustomer(cpb.CreateCustomerRequest(customer=big),
                                              metadata=served.md)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert served.server.calls_in_progress.count == 0
    small = customer(notes="n" * 1000)
    assert (await served.customers.CreateCustomer(cpb.CreateCustomerRequest(customer=small),
                                                  metadata=served.md)).customer.id


def test_the_server_options_carry_the_limits_and_keepalive_enforcement():
    options = dict(server_options(Settings(max_concurrent_streams=7,
                                           max_connection_age_seconds=60,
                                           max_connection_age_grace_seconds=5,
                                           max_connection_idle_seconds=30)))
    assert options["grpc.max_concurrent_streams"] == 7
    assert Settings().max_concurrent_streams > Settings().max_calls_in_progress
    assert options["grpc.max_connection_age_ms"] == 60_000
    assert options["grpc.max_connection_age_grace_ms"] == 5_000
    assert options["grpc.max_connection_idle_ms"] == 30_000
    assert options["grpc.max_receive_message_length"] == 4 * 1024 * 1024
    assert options["grpc.max_send_message_length"] == 4 * 1024 * 1024
    assert options["grpc.keepalive_permit_without_calls"] == 0
    assert options["grpc.http2.min_recv_ping_interval_without_data_ms"] >= 30_000
    assert options["grpc.http2.max_ping_strikes"] == 2
    assert options["grpc.so_reuseport"] == 0  # a second server on a taken port fails
    assert dict(server_options(Settings(), reuse_port=True))["grpc.so_reuseport"] == 1


@pytest.mark.parametrize(("variable", "value"), [
    ("WORKERS", "0"), ("MAX_CALLS_IN_PROGRESS", "0"), ("MAX_CONCURRENT_STREAMS", "0"),
    ("MAX_RECEIVE_MESSAGE_BYTES", "100"), ("MAX_SEND_MESSAGE_BYTES", "0"),
    ("DEFAULT_CALL_DEADLINE_SECONDS", "0"), ("MAX_CONNECTION_IDLE_SECONDS", "-1"),
    ("MAX_CONNECTION_AGE_SECONDS", "nan"), ("MAX_CONNECTION_AGE_GRACE_SECONDS", "0")])
def test_a_limit_that_makes_no_sense_stops_the_start_naming_its_variable(variable, value):
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value})


def test_the_limits_are_read_from_the_environment():
    settings = Settings.from_env({"WORKERS": "4", "MAX_CALLS_IN_PROGRESS": "50",
                                  "DEFAULT_CALL_DEADLINE_SECONDS": "2.5"})
    assert (settings.workers, settings.max_calls_in_progress,
            settings.default_call_deadline_seconds) == (4, 50, 2.5)
