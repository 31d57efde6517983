"""Prometheus metrics: their definitions, the `/metrics` endpoint on METRICS_PORT, and the
task that reads the backlog gauges from the database.

Metrics live in prometheus_client's default registry, one set per process (with the process's
own `process_*` and `python_*` metrics). The call metrics are recorded by the interceptor in
observability/calls.py; the caches, the Redis adapters, the database listeners, the outbox and
the report servicer record theirs where they happen, cheaply enough to do so whether or not
the endpoint is served.

Gauges that need a database read (the outbox and mail backlogs) are refreshed by a periodic
task on the event loop (`MetricsEndpoint`, every REFRESH_SECONDS), never on the scrape: the
endpoint answers from a thread of its own with the values last read, so a slow or unreachable
database cannot hang a scrape; `sales_backlog_refresh_timestamp_seconds` says how old they are.

Business counters count committed domain events: the outbox registers a hook when a
transaction writes events (store/outbox.py), and the hook runs once the transaction has
committed, on the replica that committed it; a retried attempt drops the hooks of the one
before, and a replayed request writes nothing. So each confirmed order, finalized invoice and
recorded payment is counted exactly once, by one replica: sum them across replicas. (Counting
what the relay publishes would count some twice: publishing is at least once, and a relay that
stops between publishing a batch and marking it published publishes it again.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pymongo
from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from pymongo import monitoring

from ..domain.events import DomainEvent, InvoiceFinalized, OrderConfirmed, PaymentReceived

log = logging.getLogger(__name__)
# No `*_created` series beside every counter and histogram: they double a scrape for nothing
# that a rate() needs.
disable_created_metrics()

# How often each server reads the backlog gauges from the database, and how long one read may
# take before it is given up (the gauges then keep their last values).
REFRESH_SECONDS = 15.0
REFRESH_TIMEOUT_SECONDS = 5.0

CALL_LABELS = ["grpc_service", "grpc_method", "grpc_type", "grpc_code"]
# Seconds. Unary calls take 1 to 50 ms; exports and PDF streams take up to minutes.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0, 300.0)

CALLS = Counter("grpc_server_handled", "gRPC calls completed, by method and status code",
                CALL_LABELS)
CALL_SECONDS = Histogram("grpc_server_handling_seconds",
                         "Time from a call's arrival to its status, by method and status code",
                         CALL_LABELS, buckets=LATENCY_BUCKETS)
CALLS_IN_FLIGHT = Gauge("grpc_server_calls_in_flight", "gRPC calls in progress, by method",
                        ["grpc_service", "grpc_method", "grpc_type"])

OUTBOX_PENDING = Gauge("sales_outbox_pending_events",
                       "Events in the outbox not yet published to the Redis stream "
                       "(database-wide, as of the last refresh)")
OUTBOX_OLDEST_AGE = Gauge("sales_outbox_oldest_pending_age_seconds",
                          "Age of the oldest unpublished outbox event at the last refresh "
                          "(0 when none)")
MAIL_PENDING = Gauge("sales_mail_jobs_pending",
                     "Mail jobs waiting to be sent or retried (database-wide)")
MAIL_FAILED = Gauge("sales_mail_jobs_failed",
                    "Mail jobs that failed for good, kept as their documents' delivery status "
                    "(database-wide)")
BACKLOG_REFRESHED = Gauge("sales_backlog_refresh_timestamp_seconds",
                          "When the outbox and mail gauges were last read (Unix time)")

EXPORT_STREAMS_OPEN = Gauge("sales_export_streams_open", "ExportReport streams in progress")
CACHE_HITS = Counter("sales_cache_hits", "Cache reads answered from Redis", ["cache"])
CACHE_MISSES = Counter("sales_cache_misses",
                       "Cache reads that went to the database (absent, or Redis failed)",
                       ["cache"])
DATABASE_ERRORS = Counter("sales_database_errors",
                          "MongoDB commands that failed (error: the server's codeName or the "
                          "driver's exception), and failed heartbeats (command=heartbeat)",
                          ["command", "error"])
REDIS_ERRORS = Counter("sales_redis_errors", "Redis operations that failed",
                       ["operation"])

ORDERS_CONFIRMED = Counter("sales_orders_confirmed", "Sales orders confirmed", ["currency"])
ORDERS_CONFIRMED_AMOUNT = Counter("sales_orders_confirmed_amount",
                                  "Grand totals of confirmed orders, in the currency",
                                  ["currency"])
INVOICES_FINALIZED = Counter("sales_invoices_finalized", "Invoices finalized (issued)",
                             ["currency"])
INVOICES_FINALIZED_AMOUNT = Counter("sales_invoices_finalized_amount",
                                    "Grand totals of finalized invoices, in the currency",
                                    ["currency"])
PAYMENTS_RECORDED = Counter("sales_payments_recorded", "Payments recorded against invoices",
                            ["currency"])
PAYMENTS_RECORDED_AMOUNT = Counter("sales_payments_recorded_amount",
                                   "Amounts of recorded payments, in the currency",
                                   ["currency"])


def events_committed(events: Sequence[DomainEvent]) -> None:
    """Counts the business events of a transaction that has committed (store/outbox.py)."""
    for event in events:
        if isinstance(event, OrderConfirmed):
            ORDERS_CONFIRMED.labels(event.currency_code).inc()
            ORDERS_CONFIRMED_AMOUNT.labels(event.currency_code).inc(float(event.grand_total))
        elif isinstance(event, InvoiceFinalized):
            INVOICES_FINALIZED.labels(event.currency_code).inc()
            INVOICES_FINALIZED_AMOUNT.labels(event.currency_code).inc(float(event.grand_total))
        elif isinstance(event, PaymentReceived):
            PAYMENTS_RECORDED.labels(event.currency_code).inc()
            PAYMENTS_RECORDED_AMOUNT.labels(event.currency_code).inc(float(event.amount))


class CacheCounts:
    """The hit and miss counters of one cache, bound to its label once."""

    def __init__(self, cache: str) -> None:
        self.hit = CACHE_HITS.labels(cache).inc
        self.miss = CACHE_MISSES.labels(cache).inc


class _FailedCommands(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = event.failure or {}
        error = failure.get("codeName") or failure.get("errtype") or "unknown"
        DATABASE_ERRORS.labels(event.command_name, str(error)).inc()


class _FailedHeartbeats(monitoring.ServerHeartbeatListener):
    def started(self, event: monitoring.ServerHeartbeatStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.ServerHeartbeatSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.ServerHeartbeatFailedEvent) -> None:
        DATABASE_ERRORS.labels("heartbeat", type(event.reply).__name__).inc()


def database_listeners() -> list[monitoring._EventListener]:
    """Listeners for the MongoDB client that count its failures. Only installed while metrics
    are served (bootstrap.build): a command listener makes the driver build an event for
    every command."""
    return [_FailedCommands(), _FailedHeartbeats()]


@dataclass(frozen=True)
class Backlog:
    """The database-wide work waiting, as the refresh reads it."""

    outbox_pending: int
    outbox_oldest: datetime | None
    mail_pending: int
    mail_failed: int


BacklogReader = Callable[[], Awaitable[Backlog]]


class MetricsEndpoint:
    """Serves `/metrics` on `port` (None: not at all; 0: a free port, for tests) from a thread
    of its own, and refreshes the backlog gauges on the event loop while it serves.

    A port that cannot be bound (in use, not permitted) is logged as a warning and the server
    goes on without the endpoint: metrics are worth less than the calls."""

    def __init__(self, port: int | None, host: str, backlog: BacklogReader,
                 refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._requested = port
        self._host = host
        self._backlog = backlog
        self._refresh_seconds = refresh_seconds
        self._httpd: Any = None
        self._stopping = asyncio.Event()
        self.port: int | None = None  # the bound port while serving

    @property
    def enabled(self) -> bool:
        return self._requested is not None

    def start(self) -> list[asyncio.Task[None]]:
        """Starts serving; returns the refresh task for the caller to cancel on stop."""
        if self._requested is None:
            return []
        try:
            self._httpd, _ = start_http_server(self._requested, self._host)
        except OSError as exc:
            log.warning("metrics: cannot listen on %s:%s (%s); serving calls without the "
                        "/metrics endpoint", self._host, self._requested, exc.strerror or exc)
            return []
        self.port = int(self._httpd.server_port)
        log.info("metrics: serving /metrics on %s:%s", self._host, self.port)
        return [asyncio.create_task(self._refresh_loop())]

    async def refresh(self) -> bool:
        """Reads the backlog gauges once, bounded in time; False if the read failed."""
        try:
            with pymongo.timeout(REFRESH_TIMEOUT_SECONDS):
                backlog = await asyncio.wait_for(self._backlog(), REFRESH_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the gauges keep their last values
            log.warning("metrics: backlog refresh failed: %s", exc)
            return False
        now = time.time()
        OUTBOX_PENDING.set(backlog.outbox_pending)
        OUTBOX_OLDEST_AGE.set(0.0 if backlog.outbox_oldest is None
                              else max(now - backlog.outbox_oldest.timestamp(), 0.0))
        MAIL_PENDING.set(backlog.mail_pending)
        MAIL_FAILED.set(backlog.mail_failed)
        BACKLOG_REFRESHED.set(now)
        return True

    async def _refresh_loop(self) -> None:
        while not self._stopping.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._refresh_seconds)

    async def stop(self) -> None:
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            # shutdown() waits for serve_forever's poll (0.5 s): not on the event loop.
            await asyncio.to_thread(httpd.shutdown)
            httpd.server_close()
        self.port = None


class _OutboxBacklog(Protocol):
    async def backlog(self) -> tuple[int, datetime | None]: ...


class _MailBacklog(Protocol):
    async def backlog(self) -> tuple[int, int]: ...


def backlog_of(outbox: _OutboxBacklog, mail: _MailBacklog) -> BacklogReader:
    """The reader of the backlog gauges over the outbox and the mail jobs (store/)."""

    async def read() -> Backlog:
        pending, oldest = await outbox.backlog()
        mail_pending, mail_failed = await mail.backlog()
        return Backlog(pending, oldest, mail_pending, mail_failed)

    return read
