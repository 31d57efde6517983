"""Durability set explicitly (store/mongo.py): transactions read a snapshot and commit with
w: majority, j: true on the primary; writes outside them are majority and journaled too.
Analytics reads that may go to a secondary use causally consistent sessions advanced to the
commits they must see (store/reads.py, store/answer_cache.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
from bson.timestamp import Timestamp
from pymongo import monitoring

from erp.sales.v1 import analytics_service_pb2 as apb
from erp.sales.v1 import analytics_service_pb2_grpc as agrpc
from erp.sales.v1 import order_service_pb2 as opb
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.answer_cache import AnswerCache
from sales_grpc.store.mongo import CommitPoint, Mongo
from sales_grpc.store.reads import AnalyticsReads

from ..api.order_fixtures import Shop, line
from ..api.test_analytics import projected
from ..conftest import Running

WRITES = {"insert", "update", "delete", "findAndModify"}
MAJORITY_JOURNALED = {"w": "majority", "j": True}


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.seen.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_transactions_and_plain_writes_carry_explicit_concerns(
        fresh_settings: Callable[..., Settings]) -> None:
    """Through the API: customers, a product with stock, an order created with a request_id
    (a transaction with its idempotency key) and confirmed (a transaction)."""
    settings = fresh_settings()
    commands = Commands()
    app = await build(settings, mongo_options={"event_listeners": [commands]})
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    running = Running(app, server, channel, settings)
    try:
        shop = Shop(channel, running.token("clerk-1", Role.SALES_REP, "team-a", [
            "sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"]))
        customer = await shop.customer()
        product = await shop.product(price="5.00")
        order = (await shop.orders.CreateSalesOrder(opb.CreateSalesOrderRequest(
            sales_order=opb.SalesOrder(customer_id=customer.id, lines=[line(product.id, 2)]),
            request_id=str(uuid.uuid4())), metadata=shop.md)).sales_order
        await shop.confirm(order.id)
        await projected(running)
    finally:
        await channel.close()
        await server.stop(1)
        await app.close()

    firsts = [c for _, c in commands.seen if c.get("startTransaction")]
    commits = [c for name, c in commands.seen if name == "commitTransaction"]
    plain = [(name, c) for name, c in commands.seen
             if name in WRITES and "autocommit" not in c]
    # The create with a request_id, the confirm, at least one projector pass.
    assert len(firsts) >= 3 and len(commits) >= 3
    for first in firsts:
        assert first["readConcern"] == {"level": "snapshot"}
        assert "$readPreference" not in first or \
            first["$readPreference"]["mode"] in ("primary", "primaryPreferred")
    for commit in commits:
        assert dict(commit["writeConcern"]) == MAJORITY_JOURNALED
    # Inside a transaction only the commit carries a write concern.
    assert not [c for name, c in commands.seen
                if "autocommit" in c and name != "commitTransaction" and "writeConcern" in c]
    assert plain  # AdjustStock's movement, block number draws, outbox marks...
    for name, command in plain:
        assert dict(command.get("writeConcern", {})) == MAJORITY_JOURNALED, name
    assert app.mongo.last_commit is not None


async def test_a_connection_string_cannot_lower_the_write_concern(embedded) -> None:
    mongo = Mongo(f"{embedded.mongodb_url}&w=1&journal=false", f"test_{uuid.uuid4().hex[:8]}")
    try:
        concern = mongo.db.write_concern
        assert concern.document == MAJORITY_JOURNALED
    finally:
        await mongo.close()


async def test_analytics_reads_on_secondaries_wait_for_the_commits_they_must_see(
        fresh_settings: Callable[..., Settings]) -> None:
    """A replica's analytics reads see its own latest commit and the projection behind the
    answers' version another replica published; on the primary they need no session."""
    settings = fresh_settings(read_preference="secondaryPreferred")
    commands = Commands()
    app = await build(settings, mongo_options={"event_listeners": [commands]})
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    running = Running(app, server, channel, settings)
    try:
        shop = Shop(channel, running.token("clerk-1", Role.SALES_REP, "team-a", [
            "sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"]))
        customer = await shop.customer()
        product = await shop.product(price="5.00")
        await shop.confirm((await shop.order(customer.id, line(product.id, 1))).id)
        await projected(running)
        own = app.mongo.last_commit
        assert own is not None
        # Another replica commits a projection after anything this one committed, and
        # publishes it with the version it made.
        other = Mongo(settings.mongodb_url, settings.database_name)
        try:
            await other.run_transaction(
                lambda s: other.db.scratch.insert_one({"x": 1}, session=s))
            later = other.last_commit
        finally:
            await other.close()
        assert later is not None and later.operation_time > own.operation_time
        elsewhere = AnswerCache(app.redis, f"{settings.database_name}:analytics",
                                last_commit=lambda: later)
        await elsewhere.bump()
        commands.seen.clear()
        admin = running.token("admin-1", Role.ADMIN, "")
        await agrpc.AnalyticsServiceStub(channel).GetRevenue(apb.GetRevenueRequest(
            start_date="2020-01-01", end_date="2099-12-31"), metadata=admin)
        reads = [c for name, c in commands.seen
                 if name in ("find", "aggregate") and c.get(name) == "analytics_rollups"]
        assert reads
        assert app.mongo.last_commit.operation_time < later.operation_time
        for command in reads:  # so the version's point, from Redis, is what they wait for
            after = command["readConcern"]["afterClusterTime"]
            assert after == later.operation_time
            assert command["$clusterTime"]["clusterTime"] >= after
    finally:
        await channel.close()
        await server.stop(1)
        await app.close()


async def test_the_answers_version_carries_the_latest_projection_of_any_replica(
        fresh_settings: Callable[..., Settings]) -> None:
    settings = fresh_settings()
    app = await build(settings)
    namespace = f"{settings.database_name}:analytics"
    stamp = {"clusterTime": Timestamp(2_000_000_000, 7),
             "signature": {"hash": b"\x00" * 20, "keyId": 0}}
    newer = CommitPoint(stamp, Timestamp(2_000_000_000, 7))
    older = CommitPoint({**stamp, "clusterTime": Timestamp(2_000_000_000, 3)},
                        Timestamp(2_000_000_000, 3))
    try:
        first = AnswerCache(app.redis, namespace, last_commit=lambda: newer)
        second = AnswerCache(app.redis, namespace, last_commit=lambda: older)
        quiet = AnswerCache(app.redis, namespace)  # no commit of its own
        await first.bump()
        await second.bump()  # a replica that bumps later with an earlier projection
        await quiet.bump()
        reads = AnalyticsReads(app.mongo, "secondaryPreferred")
        app.mongo.last_commit = None
        assert reads.point() is None
        assert await quiet.version() == "3"
        assert reads.point() == newer
        async with reads.session() as session:
            assert session is not None and session.operation_time == newer.operation_time
        assert AnalyticsReads(app.mongo, "primary").point() == newer
        async with AnalyticsReads(app.mongo, "primary").session() as session:
            assert session is None
    finally:
        await app.close()
