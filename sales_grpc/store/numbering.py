"""Number series over the `counters` collection: blocks per process, or gapless in a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..domain.errors import Aborted
from ..domain.numbering import DrawOutsideTransaction, Policy, Series
from ..services.ports import Session
from .mongo import Mongo, Turn
from .sessions import driver_session


@dataclass
class _Block:
    """Numbers of a counter this process has drawn and not yet handed out."""

    next: int = 1
    last: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class NumberCounters:
    """The NumberSeries port: one document `{_id: "<series>:<year>", value: <last drawn>}` per
    counter (`_id: "<series>"` for a series that never restarts).

    BLOCK takes `series.block` numbers per round trip, outside any transaction, and hands them
    out in order; numbers unused when the process stops are never issued.

    GAPLESS increments the counter inside the caller's transaction. The counter document is
    then a hot spot: it stays write-locked until that transaction commits. Within a process,
    issuers of one series take turns (`Mongo.hold`); across replicas they conflict
    (WriteConflict, a TransientTransactionError) and `Mongo.run_transaction` retries them
    whole. Issuing is serialised per series,
    which is what a gapless sequence means; it is right for invoices, not for orders.
    """

    def __init__(self, mongo: Mongo, series: Mapping[str, Series]) -> None:
        self._counters = mongo.db.counters
        self._series = dict(series)
        self._blocks: dict[str, _Block] = {}
        self._turns: dict[str, Turn] = {}  # per gapless counter: one issuer at a time

    async def draw(self, series: str, moment: datetime, session: Session | None) -> str:
        definition = self._series[series]
        counter = definition.counter_id(moment)
        if definition.policy is Policy.GAPLESS:
            seq = await self._next_in_transaction(counter, session)
        else:
            seq = await self._next_of_block(counter, definition.block)
        return definition.number(seq, moment)

    async def _next_in_transaction(self, counter: str, session: Session | None) -> int:
        if session is None or not session.in_transaction:
            raise DrawOutsideTransaction(
                f"{counter} numbers are gapless: draw them in the transaction that writes "
                "the document")
        # This process's issuers of one series take turns (Mongo.hold): they would all write
        # this one document and, concurrently, conflict and be retried whole.
        await Mongo.hold(self._turns.setdefault(counter, Turn()))
        # A first-ever draw upserts; concurrent first draws conflict like any others, and a
        # counter created after this transaction's snapshot is a WriteConflict too: retried.
        doc = await self._counters.find_one_and_update(
            {"_id": counter}, {"$inc": {"value": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER, session=driver_session(session))
        assert doc is not None  # an upsert returning the document after always has one
        return int(doc["value"])

    async def _next_of_block(self, counter: str, block: int) -> int:
        pool = self._blocks.setdefault(counter, _Block())
        async with pool.lock:
            if pool.next > pool.last:
                pool.last = await self._take(counter, block)
                pool.next = pool.last - block + 1
            pool.next += 1
            return pool.next - 1

    async def _take(self, counter: str, count: int) -> int:
        # Two first-ever upserts of one counter can race: the loser sees a duplicate key (or,
        # on some servers, no document); the counter exists by then, so trying again wins.
        for _ in range(5):
            try:
                doc = await self._counters.find_one_and_update(
                    {"_id": counter}, {"$inc": {"value": count}}, upsert=True,
                    return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue
            if doc is not None:
                return int(doc["value"])
        raise Aborted(f"could not draw the next {counter} number; retry", reason="SEQUENCE_BUSY")
