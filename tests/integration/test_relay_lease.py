"""The outbox relay publishes from one process at a time (the `outbox_relay` lease): of two
relays on one database only the holder publishes; the other takes over when the holder stops
(it gives the lease up) or dies (the lease expires). tests/integration/test_workers.py checks
the whole: two `serve` workers publish every event once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sales_grpc.api.converters.events import encode_event
from sales_grpc.bootstrap import build
from sales_grpc.store.leases import Lease
from sales_grpc.store.outbox import RELAY_LEASE, OutboxRelay


async def test_only_the_lease_holder_publishes_and_another_takes_over(fresh_settings):
    app = await build(fresh_settings())
    stream = f"lease-test-{uuid.uuid4().hex[:6]}"
    first = Lease(app.mongo, RELAY_LEASE, timedelta(seconds=2), owner="first")
    second = Lease(app.mongo, RELAY_LEASE, timedelta(seconds=2), owner="second")
    relays = [OutboxRelay(app.outbox, app.redis, encode_event, stream=stream, lease=lease,
                          idle_seconds=0.01, lease_poll_seconds=0.05)
              for lease in (first, second)]

    async def events(count: int) -> None:
        now = datetime.now(UTC)
        await app.mongo.db.outbox.insert_many([
            {"_id": uuid.uuid4().hex, "type_url": "type.googleapis.com/erp.sales.v1.X",
             "payload": b"p", "actor": "me", "occur_time": now, "published": False, "seq": i}
            for i in range(count)])

    async def published() -> Counter[str]:
        return Counter(f[b"event_id"].decode() for _, f in await app.redis.xrange(stream))

    async def drained() -> None:
        for _ in range(1500):  # up to 30 s on a loaded machine
            if await app.mongo.db.outbox.count_documents({"published": False}) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the outbox was not published")

    try:
        assert await first.hold() and not await second.hold()
        tasks = [asyncio.create_task(relay.run()) for relay in relays]
        for _ in range(20):  # both relays polling while events keep coming
            await events(5)
            await asyncio.sleep(0.01)
        await drained()
        counts = await published()
        assert len(counts) == 100 and set(counts.values()) == {1}
        assert first.held and not second.held

        relays[0].stop()
        await tasks[0]
        await relays[0].finish()  # gives the lease up: the second takes over at its next poll
        await events(10)
        await drained()
        assert second.held and len(await published()) == 110

        # The second dies without a word: its lease runs out, and then the first may hold it.
        tasks[1].cancel()
        assert not await first.hold()
        await asyncio.sleep(2.1)
        assert await first.hold()
        assert set((await published()).values()) == {1}
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.redis.delete(stream)
        await app.close()
