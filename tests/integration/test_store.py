"""The MongoDB adapters against a real SecantusDB: writes that race must not undo each other."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.customers import CustomerType
from sales_grpc.domain.money import Money
from sales_grpc.store.customers import CustomerRepository, CustomerStats
from sales_grpc.store.mongo import Mongo, Turn
from sales_grpc.store.paging import PageTokens

ADMIN = Principal("admin-s", Role.ADMIN, frozenset({"sales:create"}))


async def test_saving_a_customer_read_before_an_order_keeps_the_orders_statistics(fresh_settings):
    settings = fresh_settings()
    app = await build(settings)
    try:
        created = await app.customers.create(ADMIN, {
            "first_name": "Sam", "last_name": "Stale", "email": "sam@example.com",
            "customer_type": CustomerType.INDIVIDUAL})
        repo = CustomerRepository(app.mongo, PageTokens(settings.secret_key))
        stale = await repo.get(created.id)
        assert stale is not None and stale.stats.order_count == 0

        async def confirm_effect(session):
            await CustomerStats(app.mongo).record(created.id, 1, Money.parse("USD", "42.50"),
                                                  None, session)

        await app.mongo.run_transaction(confirm_effect)  # an order confirmed meanwhile
        edited = replace(stale, notes="edited from an old read", version=stale.version + 1)
        assert await repo.save(edited, expected_version=stale.version)
        after = await repo.get(created.id)
        assert after is not None and after.notes == "edited from an old read"
        assert after.stats.order_count == 1
        assert after.stats.total_spent == (Money.parse("USD", "42.50"),)
    finally:
        await app.close()


async def test_concurrent_orders_in_two_currencies_each_add_to_their_own_total(fresh_settings):
    import asyncio

    settings = fresh_settings()
    app = await build(settings)
    try:
        created = await app.customers.create(ADMIN, {
            "first_name": "Cora", "last_name": "Current", "email": "cora@example.com",
            "customer_type": CustomerType.INDIVIDUAL})
        stats = CustomerStats(app.mongo)

        async def confirm(amount: Money) -> None:
            await app.mongo.run_transaction(
                lambda session: stats.record(created.id, 1, amount, None, session))

        await asyncio.gather(*(confirm(Money.parse(currency, "1.25"))
                               for _ in range(10) for currency in ("USD", "EUR")))
        after = await CustomerRepository(app.mongo, PageTokens(settings.secret_key)
                                         ).get(created.id)
        assert after is not None and after.stats.order_count == 20
        assert after.stats.total_spent == (Money.parse("EUR", "12.50"),
                                           Money.parse("USD", "12.50"))
    finally:
        await app.close()


async def test_published_events_and_idempotency_keys_expire_but_pending_events_never(
        fresh_settings):
    """MongoDB's TTL monitor does the removing (about once a minute, too slow to wait for
    here); this checks what it keys on: a TTL index, and a publish time only once published."""
    from datetime import UTC, datetime

    from erp.sales.v1.events_pb2 import StockReserved as StockReservedMessage
    from sales_grpc.api.converters.events import encode_event
    from sales_grpc.domain.events import StockReserved
    from sales_grpc.store.mongo import RETENTION_SECONDS
    from sales_grpc.store.outbox import OutboxRelay

    settings = fresh_settings()
    app = await build(settings)
    stream = f"ttl-{uuid.uuid4().hex[:6]}"
    try:
        outbox = app.outbox

        async def write(session, number):
            await outbox.add([StockReserved(number)], "me", datetime.now(UTC), session)

        await app.mongo.run_transaction(lambda s: write(s, "SO-1"))
        assert await OutboxRelay(outbox, app.redis, encode_event,
                                 stream=stream).publish_pending() == 1
        await app.mongo.run_transaction(lambda s: write(s, "SO-2"))  # stays pending
        docs = {StockReservedMessage.FromString(d["payload"]).order_id: d
                async for d in app.mongo.db.outbox.find()}
        assert "publish_time" in docs["SO-1"] and "publish_time" not in docs["SO-2"]
        for collection, field in (("outbox", "publish_time"),
                                  ("idempotency_keys", "create_time")):
            ttl = [ix for ix in (await app.mongo.db[collection].index_information()).values()
                   if ix["key"] == [(field, 1)]]
            assert ttl and ttl[0]["expireAfterSeconds"] == RETENTION_SECONDS
        await app.customers.create(ADMIN, {
            "first_name": "Ida", "last_name": "Key", "email": "ida@example.com",
            "customer_type": CustomerType.INDIVIDUAL}, request_id="ttl-1")
        key = await app.mongo.db.idempotency_keys.find_one()
        assert key is not None and "create_time" in key
    finally:
        await app.redis.delete(stream)
        await app.close()


async def test_two_transactions_holding_two_locks_in_opposite_orders_both_commit(fresh_settings):
    """Each run takes one turn, then wants the other's: a run that waits must not keep what
    it holds, or both wait forever (as two number series drawn in opposite orders would)."""
    settings = fresh_settings()
    app = await build(settings)
    first, second = Turn(), Turn()
    holding_one: set[str] = set()
    both_hold_one = asyncio.Event()
    done: list[str] = []

    def work(name: str, mine: Turn, theirs: Turn):
        async def run(session):
            await Mongo.hold(mine)
            if not both_hold_one.is_set():  # the first attempts meet, each holding its own
                holding_one.add(name)
                if len(holding_one) == 2:
                    both_hold_one.set()
                await both_hold_one.wait()
            await Mongo.hold(theirs)
            await app.mongo.db.lock_test.insert_one({"run": name}, session=session)
            done.append(name)
        return run

    try:
        await asyncio.wait_for(asyncio.gather(
            app.mongo.run_transaction(work("a", first, second)),
            app.mongo.run_transaction(work("b", second, first))), 30)
        assert sorted(done) == ["a", "b"]
        assert not first.taken and not second.taken
        assert sorted([d["run"] async for d in app.mongo.db.lock_test.find()]) == ["a", "b"]
    finally:
        await app.close()


async def test_a_turn_given_back_goes_to_its_waiter_and_a_newcomer_is_told_not_parked():
    """A transaction asks for a turn without waiting (its writes are open): when one was
    just given back but its waiter has not run yet, the asker must hear "taken" at once. An
    asyncio.Lock there reads unlocked and then parks the caller in acquire()."""
    turn = Turn()
    assert turn.try_take()
    waiter = asyncio.create_task(turn.take())
    await asyncio.sleep(0)  # the waiter is queued
    turn.give_back()
    assert not turn.try_take()
    await asyncio.wait_for(waiter, 5)
    assert turn.taken
    turn.give_back()
    assert turn.try_take()
