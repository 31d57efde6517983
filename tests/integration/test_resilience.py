"""What happens when parts fail: the database goes away, the outbox relay crashes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.converters.events import encode_event
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.customers import CustomerType
from sales_grpc.domain.money import Money
from sales_grpc.domain.products import MovementReason
from sales_grpc.services.document_lines import LineInput
from sales_grpc.services.orders import OrderInput
from sales_grpc.store.embedded import ChildProcess, free_port, start_mongo
from sales_grpc.store.outbox import OutboxRelay

ADMIN = Principal("admin-r", Role.ADMIN, frozenset({"sales:read", "sales:create",
                                                   "sales:update", "sales:delete"}))


async def _health(channel: grpc.aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)).status


async def _wait_for_health(channel: grpc.aio.Channel, status: int, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if await _health(channel) == status:
            return
        await asyncio.sleep(0.1)
    assert await _health(channel) == status


@contextlib.asynccontextmanager
async def _served_on_its_own_database(fresh_settings: Any) -> AsyncIterator[
        tuple[ChildProcess, Settings, grpc.aio.Channel]]:
    """A server over a SecantusDB of its own, which the test may stop or freeze."""
    mongo = start_mongo(None)
    settings = fresh_settings(
        mongodb_url=f"mongodb://127.0.0.1:{mongo.port}/?directConnection=true")
    app = await build(settings)
    server = SalesServer(app, health_interval=0.2)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield mongo, settings, channel
    finally:
        if mongo.process.poll() is None:  # still there: thaw it, if the test froze it
            os.kill(mongo.process.pid, signal.SIGCONT)
        await channel.close()
        await server.stop(0)
        await app.close()
        mongo.stop()


async def test_health_turns_not_serving_and_calls_unavailable_when_the_database_dies(
        fresh_settings):
    async with _served_on_its_own_database(fresh_settings) as (mongo, settings, channel):
        assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING
        mongo.stop()
        for _ in range(150):
            if await _health(channel, "erp.sales.v1.OrderService") == \
                    health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            await asyncio.sleep(0.1)
        assert await _health(channel, "erp.sales.v1.OrderService") == \
            health_pb2.HealthCheckResponse.NOT_SERVING
        assert await _health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
        # What a liveness probe asks: the process is fine, so it must not be restarted.
        assert await _health(channel, "liveness") == health_pb2.HealthCheckResponse.SERVING
        token = mint_token(settings, "admin-r", Role.ADMIN)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await cgrpc.CustomerServiceStub(channel).GetCustomer(
                cpb.GetCustomerRequest(id="0" * 24),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_database_that_stops_answering_turns_health_not_serving_until_it_answers(
        fresh_settings):
    """SIGSTOP keeps the database's connections open but silent: a hung server, not a dead
    one. Health must not wait on it (the ping is bounded), and must come back with it."""
    async with _served_on_its_own_database(fresh_settings) as (mongo, _, channel):
        assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING
        os.kill(mongo.process.pid, signal.SIGSTOP)
        # The ping gives up after 3 s; without that bound it took 30 s here.
        await _wait_for_health(channel, health_pb2.HealthCheckResponse.NOT_SERVING, 15)
        assert await _health(channel, "liveness") == health_pb2.HealthCheckResponse.SERVING
        os.kill(mongo.process.pid, signal.SIGCONT)
        await _wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, 30)


async def test_a_relay_that_crashes_after_publishing_loses_no_event(fresh_settings):
    """Without a running server, so no other relay marks the events meanwhile."""
    settings = fresh_settings()
    app = await build(settings)
    stream = f"relay-test-{uuid.uuid4().hex[:6]}"
    try:
        customer = await app.customers.create(ADMIN, {
            "first_name": "Rita", "last_name": "Relay", "email": "rita@example.com",
            "customer_type": CustomerType.INDIVIDUAL})
        product = await app.products.create(ADMIN, {
            "sku": "RELAY-1", "name": "Relay", "unit_price": Money.parse("USD", "5")})
        await app.products.adjust_stock(ADMIN, product.id, 5, MovementReason.RECEIPT, "")
        order = await app.orders.create(ADMIN, OrderInput(
            customer_id=customer.id, lines=[LineInput(product.id, 2)]))
        await app.order_lifecycle.confirm(ADMIN, order.id, "")
        written = {d["_id"] for d in await app.outbox.pending(100)}
        assert len(written) == 2  # OrderConfirmed and StockReserved

        class DiesBeforeMarking(OutboxRelay):
            async def publish_pending(self) -> int:
                for doc in await self._outbox.pending(100):
                    await self._redis.xadd(self._stream, {"event_id": doc["_id"],
                                                          "data": self._encode(doc)})
                raise ConnectionError("killed between XADD and marking published")

        with pytest.raises(ConnectionError):
            await DiesBeforeMarking(app.outbox, app.redis, encode_event,
                                    stream=stream).publish_pending()
        assert {d["_id"] for d in await app.outbox.pending(100)} == written
        relay = OutboxRelay(app.outbox, app.redis, encode_event, stream=stream)
        assert await relay.publish_pending() == 2
        assert await relay.publish_pending() == 0
        ids = [f[b"event_id"].decode() for _, f in await app.redis.xrange(stream)]
        assert sorted(set(ids)) == sorted(written) and len(ids) == 4  # at least once
    finally:
        await app.redis.delete(stream)
        await app.close()


async def test_customers_are_still_served_when_redis_is_down(fresh_settings):
    settings = fresh_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nobody listens
    app = await build(settings)
    try:
        created = await app.customers.create(ADMIN, {
            "first_name": "Nora", "last_name": "Nocache", "email": "nora@example.com",
            "customer_type": CustomerType.INDIVIDUAL})
        assert (await app.customers.get(ADMIN, created.id)).customer_code == \
            created.customer_code
    finally:
        await app.close()


async def test_a_redis_that_accepts_but_never_answers_costs_a_cache_miss_not_a_hang(fresh_settings):
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1 << 16):  # read commands, never reply, until the client goes
            pass
        writer.close()

    mute = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = mute.sockets[0].getsockname()[1]
    settings = fresh_settings(redis_url=f"redis://127.0.0.1:{port}/0")
    app = await build(settings)
    try:
        created = await app.customers.create(ADMIN, {
            "first_name": "Max", "last_name": "Mute", "email": "max@example.com",
            "customer_type": CustomerType.INDIVIDUAL})
        fetched = await asyncio.wait_for(app.customers.get(ADMIN, created.id), 10)
        assert fetched.customer_code == created.customer_code
    finally:
        mute.close()
        await app.close()


async def test_a_client_close_that_never_ends_does_not_hold_a_stopping_process(
        fresh_settings, caplog: pytest.LogCaptureFixture):
    """The driver's close() can wedge on its topology lock after a task was cancelled in
    server selection (Python 3.11); stopping must go on without it."""
    app = await build(fresh_settings())
    real_close = app.mongo.client.close

    async def wedged() -> None:
        await asyncio.Event().wait()

    app.mongo.client.close = wedged  # type: ignore[method-assign]
    try:
        await asyncio.wait_for(app.mongo.close(within=0.5), 5)
        assert "did not close within" in caplog.text
    finally:
        app.mongo.client.close = real_close  # type: ignore[method-assign]
        await app.close()
