"""A call's deadline bounds the database work it starts: a client that gave up does not leave
the database working on its behalf."""

from __future__ import annotations

import grpc
from pymongo import monitoring

from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Role


class _Commands(monitoring.CommandListener):
    """The maxTimeMS of every command sent to one database's sales_orders collection (the
    server's background work, such as the outbox relay, has no caller and so no deadline)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.bounds: list[tuple[str, int | None]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database and \
                event.command.get(event.command_name) == "sales_orders":
            self.bounds.append((event.command_name, event.command.get("maxTimeMS")))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_database_commands_carry_the_calls_remaining_deadline(fresh_settings):
    settings = fresh_settings()
    commands = _Commands(settings.database_name)
    # A client listened to: what the server sends for one call with a deadline, one without.
    app = await build(settings, mongo_options={"event_listeners": [commands]})
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        md = (("authorization", f"Bearer {mint_token(settings, 'a', Role.ADMIN)}"),)
        stub = ogrpc.OrderServiceStub(channel)
        commands.bounds.clear()
        await stub.ListSalesOrders(opb.ListSalesOrdersRequest(), metadata=md, timeout=5.0)
        bounded = [b for name, b in commands.bounds if name == "find"]
        assert bounded and all(b is not None and 0 < b <= 5000 for b in bounded)
        commands.bounds.clear()
        # Without a deadline, the server's default one (DEFAULT_CALL_DEADLINE_SECONDS) bounds it.
        await stub.ListSalesOrders(opb.ListSalesOrdersRequest(), metadata=md)
        [bound] = [b for name, b in commands.bounds if name == "find"]
        default_ms = settings.default_call_deadline_seconds * 1000
        assert bound is not None and default_ms - 2000 < bound <= default_ms
    finally:
        await channel.close()
        await server.stop(0)
        await app.close()
