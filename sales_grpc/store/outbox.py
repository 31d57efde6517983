"""The transactional outbox, and the relay that publishes it to a Redis stream.

Events are inserted in the same transaction as the change that caused them, so a change
and its events commit together, each as its protobuf message serialized at that moment with
its type URL: the relay and consumers need no mapping of their own, and an event waiting here
reads the same after the code changes. The relay publishes each unpublished event with XADD
and only then marks it published: a crash in between publishes it again (at least once), and
consumers deduplicate by the unique event_id.

Every server process runs a relay, but only the one holding the `outbox_relay` lease
(store/leases.py) publishes: two relays reading the same unpublished events would both
publish them, and the stream would carry each event twice and out of order. The others only
check the lease, once a second, and one of them takes over when the holder stops (it releases
the lease) or dies (the lease runs out, 10 s after its last renewal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pymongo
import redis.asyncio as aioredis
from pymongo import ASCENDING, UpdateOne
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from ..domain.events import DomainEvent
from ..observability.metrics import REDIS_ERRORS
from ..services.ports import Session
from .leases import Lease
from .mongo import Mongo
from .sessions import driver_session

log = logging.getLogger(__name__)
STREAM = "sales.events"
# The stream keeps about this many entries (XADD MAXLEN ~): consumers far behind that lose the
# oldest, as Redis streams do; the outbox keeps published events for a week (a TTL index on
# publish_time, see store/mongo.py) to replay from.
STREAM_MAXLEN = 1_000_000
RELAY_LEASE = "outbox_relay"

# Serializes a domain event: its type URL and message bytes (api/converters/events.py; wired
# in bootstrap, so this adapter needs no generated code).
PayloadEncoder = Callable[[DomainEvent], tuple[str, bytes]]
# Encodes an outbox document into the bytes published as the stream entry's `data`.
Encoder = Callable[[dict[str, Any]], bytes]
# Entries written before payloads were stored serialized (a `type` name and a `data` dict of
# the dataclass) have no `payload` and are never published: the service was not released, so
# only a development database can hold them, and publishing them would take the per-event
# mapping that storing payloads removed. Delete them there with
# `db.outbox.deleteMany({payload: {$exists: false}})`; they do not expire by themselves.
_PUBLISHABLE = {"published": False, "payload": {"$exists": True}}


class Outbox:
    def __init__(self, mongo: Mongo, encode: PayloadEncoder,
                 committed: Callable[[list[DomainEvent]], None] | None = None) -> None:
        self._docs = mongo.db.outbox
        self._encode = encode
        # Told the events of each transaction once it has committed (the business counters
        # of observability/metrics.py); never for an attempt that was rolled back.
        self._committed = committed

    async def add(self, events: list[DomainEvent], actor: str, now: datetime,
                  session: Session) -> None:
        if not events:
            return
        docs = []
        for i, event in enumerate(events):
            type_url, payload = self._encode(event)
            docs.append({"_id": uuid.uuid4().hex, "type_url": type_url, "payload": payload,
                         "actor": actor, "occur_time": now, "published": False, "seq": i})
        await self._docs.insert_many(docs, session=driver_session(session))
        if self._committed is not None:
            await Mongo.after_commit(_telling(self._committed, events))

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many events wait to be published, and when the oldest of them occurred."""
        count = await self._docs.count_documents(_PUBLISHABLE)
        oldest = None if count == 0 else await self._docs.find_one(
            _PUBLISHABLE, {"occur_time": 1}, sort=[("occur_time", ASCENDING)])
        return count, None if oldest is None else oldest["occur_time"]

    async def pending(self, limit: int) -> list[dict[str, Any]]:
        cursor = self._docs.find(_PUBLISHABLE,
                                 sort=[("occur_time", ASCENDING), ("seq", ASCENDING)],
                                 limit=limit)
        return await cursor.to_list()

    async def mark_published(self, event_ids: list[str], now: datetime) -> None:
        # One single-document update per event, not an update_many: SecantusDB retries a
        # multi-document write that meets a write conflict while holding the collection's
        # lock, and the projector's transactions write these documents too (projected_time),
        # so a multi-update here could wait on a transaction that waits on that lock.
        if event_ids:
            await self._docs.bulk_write(
                [UpdateOne({"_id": event_id}, {"$set": {"published": True, "publish_time": now}})
                 for event_id in event_ids], ordered=False)


def _telling(committed: Callable[[list[DomainEvent]], None], events: list[DomainEvent]
             ) -> Callable[[], Awaitable[None]]:
    async def hook() -> None:
        try:
            committed(events)
        except Exception:  # noqa: BLE001 - the change has committed; counting must not fail it
            log.warning("counting committed events failed", exc_info=True)

    return hook


class OutboxRelay:
    def __init__(self, outbox: Outbox, redis: aioredis.Redis, encode: Encoder,
                 stream: str = STREAM, batch: int = 100, idle_seconds: float = 0.2,
                 stream_maxlen: int = STREAM_MAXLEN, lease: Lease | None = None,
                 lease_poll_seconds: float = 1.0) -> None:
        # `lease`: publish only while holding it (servers); None publishes unconditionally.
        self._lease = lease
        self._lease_poll = lease_poll_seconds
        self._outbox = outbox
        self._redis = redis
        self._encode = encode
        self._stream = stream
        self._batch = batch
        self._idle = idle_seconds
        self._maxlen = stream_maxlen
        self._stopped = asyncio.Event()

    async def publish_pending(self) -> int:
        """Publishes one batch; returns how many events went out."""
        docs = await self._outbox.pending(self._batch)
        if not docs:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc in docs:
                pipe.xadd(self._stream, {"event_id": doc["_id"],
                                         "type": doc["type_url"].rpartition("/")[2],
                                         "data": self._encode(doc)},
                          maxlen=self._maxlen, approximate=True)
            await pipe.execute()
        await self._outbox.mark_published([doc["_id"] for doc in docs], datetime.now(UTC))
        return len(docs)

    async def run(self) -> None:
        """Publishes until `stop()`. The stop flag, not only task cancellation, ends the loop:
        a cancellation that lands inside the driver's server selection can be absorbed."""
        while not self._stopped.is_set():
            try:
                if self._lease is not None and not await self._lease.hold():
                    await self._pause(self._lease_poll)  # another process publishes
                elif await self.publish_pending() == 0:
                    await self._pause(self._idle)
            except (PyMongoError, RedisError) as exc:
                log.warning("outbox relay: %s; retrying", exc)
                if isinstance(exc, RedisError):
                    REDIS_ERRORS.labels("outbox_relay.publish").inc()
                await self._pause(1.0)

    def stop(self) -> None:
        self._stopped.set()

    async def finish(self, within: float | None = None) -> None:
        """After `stop()`: one last batch if this process holds the lease (the events of the
        calls just drained go out now), then the lease is given up for another to take.
        `within` bounds the database work by the driver's own timeout rather than by
        cancelling it (see SalesServer.stop)."""
        with pymongo.timeout(within) if within is not None else contextlib.nullcontext():
            if self._lease is None:
                await self.publish_pending()
            elif self._lease.held:
                try:
                    await self.publish_pending()
                finally:
                    await self._lease.release()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)
