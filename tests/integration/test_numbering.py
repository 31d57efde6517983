"""Number series against a real SecantusDB: blocks unique across processes, gapless in
transactions that abort."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from sales_grpc.config import Settings
from sales_grpc.domain.numbering import (
    CUSTOMER_CODE,
    INVOICE,
    SALES_ORDER,
    DrawOutsideTransaction,
    Policy,
    Series,
)
from sales_grpc.store.mongo import Mongo
from sales_grpc.store.numbering import NumberCounters

MOMENT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SERIES = Settings().number_series()


class Refused(Exception):
    """A use case that fails after drawing its number, aborting its transaction."""


def _mongo(embedded, name: str) -> Mongo:
    return Mongo(embedded.mongodb_url, name)


async def test_numbers_drawn_in_blocks_by_two_processes_never_repeat(embedded):
    name = f"num_{uuid.uuid4().hex[:6]}"
    first, second = _mongo(embedded, name), _mongo(embedded, name)
    orders = {SALES_ORDER: Series(SALES_ORDER, "SO-{year}-{seq:06d}", Policy.BLOCK, block=7)}
    one, two = NumberCounters(first, orders), NumberCounters(second, orders)
    try:
        drawn = await asyncio.gather(*(
            numbers.draw(SALES_ORDER, MOMENT, None) for _ in range(40) for numbers in (one, two)))
        assert len(set(drawn)) == 80 and min(drawn) == "SO-2026-000001"
        in_order = [await one.draw(SALES_ORDER, MOMENT, None) for _ in range(10)]
        assert in_order == sorted(in_order)  # one process hands its numbers out in order
        assert not set(in_order) & set(drawn)
        restarted = NumberCounters(first, orders)  # the unused rest of a block is skipped
        assert await restarted.draw(SALES_ORDER, MOMENT, None) > max(drawn + in_order)
    finally:
        await first.close()
        await second.close()


async def test_counters_stored_before_series_existed_keep_their_sequence(embedded):
    mongo = _mongo(embedded, f"num_{uuid.uuid4().hex[:6]}")
    try:
        await mongo.db.counters.insert_many([{"_id": "sales_order:2026", "value": 41},
                                             {"_id": "customer_code", "value": 9}])
        numbers = NumberCounters(mongo, SERIES)
        assert await numbers.draw(SALES_ORDER, MOMENT, None) == "SO-2026-000042"
        assert await numbers.draw(CUSTOMER_CODE, MOMENT, None) == "CUST-000010"
        next_year = MOMENT.replace(year=2027)
        assert await numbers.draw(SALES_ORDER, next_year, None) == "SO-2027-000001"
        assert await numbers.draw(CUSTOMER_CODE, next_year, None) == "CUST-000011"
    finally:
        await mongo.close()


async def test_twenty_concurrent_gapless_draws_of_which_half_abort_leave_no_gap(embedded):
    mongo = _mongo(embedded, f"num_{uuid.uuid4().hex[:6]}")
    numbers = NumberCounters(mongo, SERIES)

    async def issue(n: int) -> str | None:
        async def work(session) -> str:
            number = await numbers.draw(INVOICE, MOMENT, session)
            await asyncio.sleep(0.005)  # let the others reach the counter meanwhile
            await mongo.db.invoices.insert_one({"number": number, "n": n}, session=session)
            if n % 2:
                raise Refused(number)
            return number

        try:
            return await mongo.run_transaction(work)
        except Refused:
            return None

    try:
        returned = await asyncio.gather(*(issue(n) for n in range(20)))
        committed = sorted([d["number"] async for d in mongo.db.invoices.find()])
        assert committed == [f"INV-2026-{seq:06d}" for seq in range(1, 11)]
        assert sorted(r for r in returned if r is not None) == committed
        counter = await mongo.db.counters.find_one({"_id": "invoice:2026"})
        assert counter is not None and counter["value"] == 10
    finally:
        await mongo.close()


async def test_a_gapless_draw_outside_a_transaction_is_refused_and_consumes_nothing(embedded):
    mongo = _mongo(embedded, f"num_{uuid.uuid4().hex[:6]}")
    numbers = NumberCounters(mongo, SERIES)
    try:
        with pytest.raises(DrawOutsideTransaction):
            await numbers.draw(INVOICE, MOMENT, None)
        async with mongo.client.start_session() as session:  # a session, but no transaction
            with pytest.raises(DrawOutsideTransaction):
                await numbers.draw(INVOICE, MOMENT, session)
        assert await mongo.db.counters.count_documents({}) == 0
        drawn = await mongo.run_transaction(lambda s: numbers.draw(INVOICE, MOMENT, s))
        assert drawn == "INV-2026-000001"
    finally:
        await mongo.close()
