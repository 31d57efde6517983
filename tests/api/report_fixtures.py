"""A server of its own for the export tests (its own database, so sums are exact), with a
command listener to see cursors closed, and helpers that read an export stream."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import grpc
from bson import ObjectId
from pymongo import monitoring

from erp.sales.v1 import report_service_pb2 as rpb
from erp.sales.v1 import report_service_pb2_grpc as rgrpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.invoices import Payment, PaymentMethod
from sales_grpc.store.receipts import payment_doc

from ..conftest import Running


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.events: list[monitoring.CommandStartedEvent] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.events.append(event)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def killed_cursors(self, collection: str) -> int:
        return sum(1 for e in self.events
                   if e.command_name == "killCursors" and e.command.get("killCursors") ==
                   collection)


@dataclass
class Reporting(Running):
    commands: Commands = field(default_factory=Commands)
    port: int = 0

    @property
    def reports(self) -> rgrpc.ReportServiceStub:
        return rgrpc.ReportServiceStub(self.channel)


@contextlib.asynccontextmanager
async def serve_reporting(settings: Settings) -> AsyncIterator[Reporting]:
    """A server on a database of its own whose commands a listener records."""
    commands = Commands()
    app = await build(settings, mongo_options={"event_listeners": [commands]})
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Reporting(app, server, channel, settings, commands, port)
    finally:
        await channel.close()
        await server.stop(1)
        await app.close()


@dataclass
class Export:
    header: rpb.ExportHeader
    chunks: list[rpb.ExportChunk]
    trailer: rpb.ExportTrailer | None

    @property
    def data(self) -> bytes:
        return b"".join(c.data for c in self.chunks)


def request(report_id: str, fmt: int = rpb.EXPORT_FORMAT_CSV, **fields: Any
            ) -> rpb.ExportReportRequest:
    return rpb.ExportReportRequest(report_id=report_id, format=fmt,  # type: ignore[arg-type]
                                   **fields)


async def export(stub: rgrpc.ReportServiceStub, req: rpb.ExportReportRequest, md: Any,
                 stop_after: int | None = None) -> Export:
    """The stream's messages; with `stop_after`, the call is cancelled after that many
    chunks, as a dropped connection would leave it."""
    call = stub.ExportReport(req, metadata=md)
    header, chunks, trailer = None, [], None
    async for message in call:
        kind = message.WhichOneof("kind")
        if kind == "header":
            header = message.header
        elif kind == "chunk":
            chunks.append(message.chunk)
            if stop_after is not None and len(chunks) == stop_after:
                call.cancel()
                break
        else:
            trailer = message.trailer
    assert header is not None
    return Export(header, chunks, trailer)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def insert_payments(app: Any, count: int, reference: str = "ref", currency: str = "EUR"
                          ) -> None:
    """`count` payments written straight to the database: rows for many 64 KiB chunks."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    await app.mongo.db.payments.insert_many([payment_doc(Payment(
        str(ObjectId()), "inv-bulk", f"BULK-{n:05d}", "cust-bulk", "bulk-rep", "team-b",
        currency, Decimal(n) / 100, PaymentMethod.CARD, f"{reference} #{n}",
        date(2026, 1, 1 + n % 28), "tester", created)) for n in range(1, count + 1)])


class DroppingProxy:
    """A TCP proxy to `port` that cuts its first connection once the server has sent
    `cut_after` bytes through it, as a dropped network would; later ones pass whole."""

    def __init__(self, port: int, cut_after: int) -> None:
        self._port = port
        self._cut_after = cut_after
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
                     ) -> None:
        self.connections += 1
        limit = self._cut_after if self.connections == 1 else None
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       budget: int | None) -> None:
            sent = 0
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(16384):
                    dst.write(data)
                    await dst.drain()
                    sent += len(data)
                    if budget is not None and sent >= budget:
                        break
            for writer in (client_w, server_w):
                writer.transport.abort()

        await asyncio.gather(pump(client_r, server_w, None), pump(server_r, client_w, limit))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
