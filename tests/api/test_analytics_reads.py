"""READ_PREFERENCE: analytics queries carry it (a replica set can answer them from
secondaries), while the projector's transactions stay on the primary; a bad value stops the
start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from pymongo import monitoring

from erp.sales.v1 import analytics_service_pb2 as pb
from erp.sales.v1 import analytics_service_pb2_grpc as pb_grpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..conftest import Running
from .analytics_fixtures import known_history, write
from .test_analytics import projected


class Reads(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command: dict[str, Any] = event.command
        collection = command.get(event.command_name)
        mode = (command.get("$readPreference") or {}).get("mode", "")
        if isinstance(collection, str):
            self.seen.append((event.command_name, collection, mode))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_analytics_reads_carry_the_read_preference_and_projection_stays_on_primary(
        fresh_settings: Callable[..., Settings]) -> None:
    settings = fresh_settings(analytics_poll_seconds=0.2, read_preference="secondaryPreferred")
    reads = Reads()
    app = await build(settings, mongo_options={"event_listeners": [reads]})
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    running = Running(app, server, channel, settings)
    try:
        await write(app.mongo, known_history())
        await projected(running)
        reads.seen.clear()
        analytics = pb_grpc.AnalyticsServiceStub(channel)
        admin = running.token("admin-1", Role.ADMIN, "")
        reply = await analytics.GetRevenue(pb.GetRevenueRequest(
            start_date="2026-03-01", end_date="2026-03-31"), metadata=admin)
        assert reply.totals
        await analytics.GetSalesDashboard(pb.GetSalesDashboardRequest(), metadata=admin)
        # A direct connection to one server (as here) sends every read as primaryPreferred,
        # so the wire cannot tell; the driver's collections say what a replica set would get.
        service: Any = app.analytics.service
        assert service._rollups._reads.db.read_preference.mongos_mode == "secondaryPreferred"
        assert service._open._reads.db.read_preference.mongos_mode == "secondaryPreferred"
        assert service._cohorts._reads.db.read_preference.mongos_mode == "secondaryPreferred"
        projector: Any = app.analytics.projector
        assert projector._rollups._docs.read_preference.mongos_mode == "primary"
        assert {(n, c) for n, c, _ in reads.seen} >= {("find", "analytics_rollups"),
                                                      ("find", "quotes"), ("find", "invoices")}
    finally:
        await channel.close()
        await server.stop(1)
        await app.close()


def test_an_unknown_read_preference_stops_the_start() -> None:
    with pytest.raises(ValueError, match="READ_PREFERENCE"):
        Settings.from_env({"READ_PREFERENCE": "secondaryish"})
