"""The MongoDB connection, transactions, counters, idempotency keys and indexes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from ..domain.errors import Aborted, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

INDEXES: dict[str, list[IndexModel]] = {
    "customers": [
        IndexModel([("customer_code", ASCENDING)], unique=True),
        IndexModel([("owner_id", ASCENDING), ("create_time", ASCENDING)]),
        IndexModel([("team_id", ASCENDING), ("create_time", ASCENDING)]),
        IndexModel([("status", ASCENDING)]),
        IndexModel([("email", ASCENDING)]),
    ],
    "products": [
        IndexModel([("sku", ASCENDING)], unique=True),
        IndexModel([("category", ASCENDING)]),
        IndexModel([("create_time", ASCENDING)]),
    ],
    "stock_movements": [IndexModel([("product_id", ASCENDING), ("_id", DESCENDING)])],
    "sales_orders": [
        IndexModel([("number", ASCENDING)], unique=True),
        IndexModel([("owner_id", ASCENDING), ("create_time", DESCENDING)]),
        IndexModel([("team_id", ASCENDING), ("create_time", DESCENDING)]),
        IndexModel([("customer_id", ASCENDING), ("state", ASCENDING)]),
        IndexModel([("create_time", DESCENDING)]),
    ],
    "outbox": [IndexModel([("published", ASCENDING), ("occur_time", ASCENDING)])],
}


class Mongo:
    """One client for the process; repositories borrow its database and sessions."""

    def __init__(self, url: str, database: str, **client_options: Any) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5000, **client_options)
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    async def ensure_indexes(self) -> None:
        """Idempotent: creating an index that exists with the same spec is a no-op."""
        for name, models in INDEXES.items():
            await self.db[name].create_indexes(models)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncClientSession]:
        """One multi-document transaction: committed on exit, aborted on any exception."""
        async with self.client.start_session() as session:
            async with await session.start_transaction():
                yield session

    async def run_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Runs `work` in a transaction, retrying it whole on transient write conflicts (as
        concurrent confirms of one product cause); a domain error aborts it untouched."""
        async with self.client.start_session() as session:
            return await session.with_transaction(work)

    async def next_sequence(self, series: str) -> int:
        """An atomic per-series counter; numbers are unique, a failed create leaves a gap."""
        # Two first-ever upserts of one series can race: the loser sees a duplicate key (or,
        # on some servers, no document); the series exists by then, so trying again wins.
        for _ in range(5):
            try:
                doc = await self.db.counters.find_one_and_update(
                    {"_id": series}, {"$inc": {"value": 1}}, upsert=True,
                    return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue
            if doc is not None:
                return int(doc["value"])
        raise Aborted(f"could not draw the next {series} number; retry", reason="SEQUENCE_BUSY")

    async def close(self) -> None:
        await self.client.close()


class Idempotency:
    """Remembers which record a (caller, request_id) created, so a retry returns it."""

    def __init__(self, mongo: Mongo) -> None:
        self._keys = mongo.db.idempotency_keys

    @staticmethod
    def key(kind: str, subject: str, request_id: str) -> str:
        return f"{kind}:{subject}:{request_id}"

    async def find(self, key: str) -> str | None:
        doc = await self._keys.find_one({"_id": key})
        return None if doc is None else str(doc["result_id"])

    async def claim(self, key: str, result_id: str, session: AsyncClientSession) -> None:
        """Records the key inside the creating transaction, so the record and its key commit
        together. Raises RequestReplayed if another call with the key got there first."""
        if not key:
            return
        try:
            await self._keys.insert_one({"_id": key, "result_id": result_id}, session=session)
        except (DuplicateKeyError, OperationFailure) as exc:
            if isinstance(exc, DuplicateKeyError) or exc.has_error_label(
                    "TransientTransactionError"):
                raise RequestReplayed(key) from exc
            raise

    async def wait_for(self, key: str, attempts: int = 50) -> str:
        """The record id of a replayed request, once the first call's transaction commits."""
        for _ in range(attempts):
            if (found := await self.find(key)) is not None:
                return found
            await asyncio.sleep(0.02)
        raise Aborted("a call with the same request_id is still in progress; retry",
                      reason="REQUEST_IN_PROGRESS")


class RequestReplayed(Exception):
    """A create raced with an earlier call that used the same request_id."""


def unavailable(exc: PyMongoError) -> Unavailable:
    log.warning("database unavailable: %s", exc)
    return Unavailable("the database is unavailable; retry later", reason="DATABASE_UNAVAILABLE")
