"""The grpc.aio server: sales services, health per service, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from erp.sales.v1 import (
    analytics_service_pb2,
    analytics_service_pb2_grpc,
    customer_service_pb2,
    customer_service_pb2_grpc,
    invoice_service_pb2,
    invoice_service_pb2_grpc,
    order_service_pb2,
    order_service_pb2_grpc,
    product_service_pb2,
    product_service_pb2_grpc,
    quote_service_pb2,
    quote_service_pb2_grpc,
    report_service_pb2,
    report_service_pb2_grpc,
)

from ..bootstrap import App
from ..config import Settings
from ..observability.calls import call_interceptors
from ..observability.metrics import MetricsEndpoint, backlog_of
from ..store.leases import Lease
from ..store.outbox import RELAY_LEASE, OutboxRelay
from .analytics import AnalyticsServicer
from .auth import Authenticator
from .converters.events import encode_event
from .customers import CustomerServicer
from .interceptors import EdgeInterceptor, required_permissions
from .invoices import InvoiceServicer
from .limits import CallsInProgress, method_limits
from .orders import OrderServicer
from .products import ProductServicer
from .quotes import QuoteServicer
from .reports import ReportServicer

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# The health name a liveness probe asks for (deploy/k8s/deployment.yaml): SERVING from the
# start until a graceful shutdown, whatever the database does. The overall service ("") and
# the sales services go NOT_SERVING while MongoDB is unreachable, which is for readiness: a
# liveness probe on them would restart every replica during a database outage.
LIVENESS = "liveness"
# How long a stopping server lets its background loops end by themselves before cancelling.
BACKGROUND_STOP_SECONDS = 6.0

# The most request metadata (headers) a call may carry, soft and hard limit alike. gRPC's
# defaults (8 KiB soft, where calls start failing at random with RESOURCE_EXHAUSTED, and
# 16 KiB hard) are smaller than the JWTs a real Auth service issues with many group or
# permission claims; 64 KiB fits those with room, and one value makes the limit exact.
MAX_METADATA_BYTES = 64 * 1024

# Keepalive enforcement. Clients may ping at most every MIN_CLIENT_PING_INTERVAL_MS while
# calls are in flight, and not at all on a connection without calls; a client that pings
# more often collects a strike per ping, and past MAX_PING_STRIKES the connection is closed
# (GOAWAY too_many_pings), so a misconfigured client cannot keep the server busy answering
# pings. The typed client (sales_grpc/client) pings after 60 s of silence, calls in flight
# only. The server pings a connection after SERVER_PING_MS of silence and closes it when no
# answer comes within SERVER_PING_TIMEOUT_MS: a peer that vanished (a pod deleted, a cable
# pulled) stops holding its calls' places within about a minute and a half.
MIN_CLIENT_PING_INTERVAL_MS = 30_000
MAX_PING_STRIKES = 2
SERVER_PING_MS = 60_000
SERVER_PING_TIMEOUT_MS = 20_000


def server_options(settings: Settings, reuse_port: bool = False) -> list[tuple[str, int]]:
    """The grpc.aio server's channel arguments: message sizes, streams per connection,
    keepalive enforcement, connection idle time and age (Settings and the constants above)."""
    def ms(seconds: float) -> int:
        return round(seconds * 1000)

    return [
        ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
        ("grpc.max_send_message_length", settings.max_send_message_bytes),
        ("grpc.max_metadata_size", MAX_METADATA_BYTES),
        ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ("grpc.max_concurrent_streams", settings.max_concurrent_streams),
        ("grpc.keepalive_time_ms", SERVER_PING_MS),
        ("grpc.keepalive_timeout_ms", SERVER_PING_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
        ("grpc.http2.max_ping_strikes", MAX_PING_STRIKES),
        ("grpc.max_connection_idle_ms", ms(settings.max_connection_idle_seconds)),
        ("grpc.max_connection_age_ms", ms(settings.max_connection_age_seconds)),
        ("grpc.max_connection_age_grace_ms", ms(settings.max_connection_age_grace_seconds)),
        # No SO_REUSEPORT by default: a second server on a taken port must fail, not share
        # the calls. The workers of `serve --workers N` share a port the supervisor holds
        # for them (sales_grpc/workers.py says why that keeps the guarantee).
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]


SALES_SERVICES = [
    customer_service_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
    product_service_pb2.DESCRIPTOR.services_by_name["ProductService"].full_name,
    order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
    quote_service_pb2.DESCRIPTOR.services_by_name["QuoteService"].full_name,
    invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name,
    analytics_service_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
    report_service_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name,
]


class SalesServer:
    def __init__(self, app: App, health_interval: float = 2.0, reuse_port: bool = False
                 ) -> None:
        self.app = app
        self.health = health.aio.HealthServicer()
        self._interval = health_interval
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        # MAX_CALLS_IN_PROGRESS: the sales calls this process runs at once, at most.
        self.calls_in_progress = CallsInProgress(app.settings.max_calls_in_progress)
        self.metrics = MetricsEndpoint(app.settings.metrics_port, app.settings.service_host,
                                       backlog_of(app.outbox, app.mail.jobs))
        self.server = grpc.aio.server(
            interceptors=[*call_interceptors(self.metrics.enabled), EdgeInterceptor(
                Authenticator(app.settings), required_permissions(SALES_SERVICES),
                method_limits(SALES_SERVICES, app.settings.list_concurrency_limit,
                              app.settings.list_wait_seconds), app.mongo.call_scope,
                self.calls_in_progress, app.settings.default_call_deadline_seconds)],
            options=server_options(app.settings, reuse_port),
        )
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server(
            CustomerServicer(app.customers), self.server)
        product_service_pb2_grpc.add_ProductServiceServicer_to_server(
            ProductServicer(app.products, app.settings.default_tax_rate), self.server)
        order_service_pb2_grpc.add_OrderServiceServicer_to_server(
            OrderServicer(app.orders, app.order_lifecycle, app.documents), self.server)
        quote_service_pb2_grpc.add_QuoteServiceServicer_to_server(
            QuoteServicer(app.quotes, app.quote_lifecycle, app.documents), self.server)
        invoice_service_pb2_grpc.add_InvoiceServiceServicer_to_server(
            InvoiceServicer(app.invoices, app.invoice_lifecycle, app.receivables,
                            app.documents), self.server)
        analytics_service_pb2_grpc.add_AnalyticsServiceServicer_to_server(
            AnalyticsServicer(app.analytics.service), self.server)
        report_service_pb2_grpc.add_ReportServiceServicer_to_server(
            ReportServicer(app.reports, app.report_runs, app.report_templates,
                           app.commissions), self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        # Publishing from one process at a time, however many replicas and workers run.
        self.relay = OutboxRelay(app.outbox, app.redis, encode_event,
                                 lease=Lease(app.mongo, RELAY_LEASE))
        reflection.enable_server_reflection(
            [*SALES_SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)

    async def start(self, address: str) -> int:
        port = self.server.add_insecure_port(address)
        await self.server.start()
        await self._set_all(SERVING if await self.app.mongo.ping() else NOT_SERVING)
        await self.health.set(LIVENESS, SERVING)
        self._tasks = [asyncio.create_task(self._watch_database()),
                       asyncio.create_task(self.relay.run()),
                       asyncio.create_task(self._expire_quotes()),
                       asyncio.create_task(self._note_overdue_invoices())]
        self._tasks.append(asyncio.create_task(self.app.mail.delivery.run()))
        self._tasks.append(asyncio.create_task(self.app.analytics.projector.run()))
        self._tasks.extend(self.metrics.start())
        return port

    async def _expire_quotes(self) -> None:
        """Records the expiry of sent quotes past their day, on every replica (the use case
        is safe to run concurrently); reads show them expired before this runs."""
        while not self._stopping.is_set():
            try:
                await self.app.quote_lifecycle.expire_due()
            except Exception:  # noqa: BLE001 - a failed pass is retried on the next one
                log.warning("quote expiry pass failed; retrying later", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(),
                                       self.app.settings.quote_expiry_seconds)

    async def _note_overdue_invoices(self) -> None:
        """Writes the InvoiceOverdue event of each invoice past its due day, once, on every
        replica (the use case is safe to run concurrently); reads show `overdue` before."""
        while not self._stopping.is_set():
            try:
                await self.app.invoice_lifecycle.note_overdue()
            except Exception:  # noqa: BLE001 - a failed pass is retried on the next one
                log.warning("invoice overdue pass failed; retrying later", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(),
                                       self.app.settings.invoice_overdue_seconds)

    async def _set_all(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType
                       ) -> None:
        for name in ["", *SALES_SERVICES]:
            await self.health.set(name, status)

    async def _watch_database(self) -> None:
        """NOT_SERVING while MongoDB is unreachable, so load balancers route around us."""
        serving: bool | None = None
        while not self._stopping.is_set():
            up = await self.app.mongo.ping()
            if up != serving and not self._stopping.is_set():
                log.log(logging.INFO if up else logging.WARNING, "database %s",
                        "reachable: SERVING" if up else "unreachable: NOT_SERVING")
                await self._set_all(SERVING if up else NOT_SERVING)
                serving = up
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def stop(self, grace: float) -> None:
        """Flips health to NOT_SERVING first, then drains in-flight calls for `grace` seconds."""
        self._stopping.set()  # before health flips, so the watcher cannot flip it back
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.relay.stop()
        self.app.mail.delivery.stop()
        self.app.analytics.projector.stop()
        await self.metrics.stop()  # its backlog refresh loop ends with it
        # Told to stop, the loops end by themselves: a database operation in flight ends
        # within serverSelectionTimeoutMS (5 s) even with the database down. Only what outlives
        # that is cancelled: a task cancelled inside PyMongo's server selection can leave the
        # driver's topology lock never released (seen on Python 3.11, where the client's
        # close() then waited forever).
        _, running = await asyncio.wait(self._tasks, timeout=BACKGROUND_STOP_SECONDS)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=2.0)
        # One last batch after draining, so events of the calls just finished go out now;
        # whatever still fails (say, the database is down) stays in the outbox for next time.
        with contextlib.suppress(Exception):
            await self.relay.finish(within=2.0)

    async def wait(self) -> None:
        await self.server.wait_for_termination()
