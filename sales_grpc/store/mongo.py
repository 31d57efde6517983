"""The MongoDB connection, transactions, idempotency keys and indexes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pymongo
from bson.timestamp import Timestamp
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReadPreference
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from ..domain.errors import Aborted
from ..services.ports import Replayed

log = logging.getLogger(__name__)
T = TypeVar("T")
_after_commit: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "after_commit", default=None)
_held: ContextVar[list[Turn] | None] = ContextVar("held_turns", default=None)


class Turn:
    """A lock for transactions of this process that write one hot document (Mongo.hold):
    taken without waiting inside a transaction, or waited for outside one.

    Not an asyncio.Lock: its acquire() waits, even when the lock is free, while earlier
    waiters have not yet run; a transaction waiting there with its writes open stalled the
    holder's writes to the same documents (WriteConflict, retried until the server dropped
    the idle transaction after 60 s). Free here means not taken and nobody waiting, so a
    newcomer queues behind the waiters instead of overtaking them."""

    __slots__ = ("_freed", "_taken", "_waiting")

    def __init__(self) -> None:
        self._taken = False
        self._waiting = 0
        self._freed = asyncio.Event()

    @property
    def taken(self) -> bool:
        return self._taken

    def try_take(self) -> bool:
        if self._taken or self._waiting:
            return False
        self._taken = True
        return True

    async def take(self) -> None:
        self._waiting += 1
        try:
            while self._taken:
                self._freed.clear()
                await self._freed.wait()
        finally:
            self._waiting -= 1
        self._taken = True

    def give_back(self) -> None:
        self._taken = False
        self._freed.set()  # every waiter wakes; the first to run takes it, the rest wait on


class _WaitForTurn(Exception):
    """Aborts a transaction attempt that needs a turn another run of this process holds."""

    def __init__(self, turn: Turn) -> None:
        super().__init__("waiting for a transaction turn")
        self.turn = turn

RETENTION_SECONDS = 7 * 24 * 3600

# Durability, set here instead of left to the server's defaults (README, "Durability: read
# and write concerns"). A transaction reads one snapshot of majority-committed data, on the
# primary, and its commit is acknowledged once a majority of the replica set has it in its
# journal: an acknowledged commit survives the loss of the primary and a power cut.
TRANSACTION_READ_CONCERN = ReadConcern("snapshot")
TRANSACTION_WRITE_CONCERN = WriteConcern("majority", j=True)
TRANSACTION_READ_PREFERENCE = ReadPreference.PRIMARY
# Every write outside a transaction (creates without a request_id, block number draws, mail
# claims, outbox marks) gets the same acknowledgement: the client's default, whatever
# MONGODB_URL says.
CLIENT_WRITE_CONCERN: dict[str, Any] = {"w": "majority", "journal": True}


@dataclass(frozen=True)
class CommitPoint:
    """Where a commit sits in the replica set's history (the session's cluster time and
    operation time after it): a causally consistent read advanced to it sees that commit and
    everything committed before it, on whichever member answers (store/reads.py)."""

    cluster_time: Mapping[str, Any]
    operation_time: Timestamp


def _listing(equal: list[str], sort_keys: list[str]) -> list[IndexModel]:
    """One index per List sort key: the query's equality fields (scope, `delete_time: null`),
    then the key and _id, as `store/paging.py` asks for a page and the rows after a token.

    On SecantusDB each one made the pages after the first 2 to 14 times faster (bench/README);
    on MongoDB it also serves the sort."""
    return [IndexModel([*((f, ASCENDING) for f in equal), (key, ASCENDING), ("_id", ASCENDING)])
            for key in sort_keys]


INDEXES: dict[str, list[IndexModel]] = {
    "customers": [
        IndexModel([("customer_code", ASCENDING)], unique=True),
        IndexModel([("status", ASCENDING)]),
        IndexModel([("email", ASCENDING)]),
        *(model for scope in (["owner_id"], ["team_id"], [])
          for model in _listing([*scope, "delete_time"],
                                ["create_time", "code_key", "last_name", "company_name"])),
    ],
    "products": [
        IndexModel([("sku", ASCENDING)], unique=True),
        IndexModel([("category", ASCENDING)]),
        *_listing(["delete_time"], ["create_time", "name", "sku", "unit_price.amount"]),
    ],
    "stock_movements": [IndexModel([("product_id", ASCENDING), ("_id", DESCENDING)])],
    "sales_orders": [
        IndexModel([("number", ASCENDING)], unique=True),
        IndexModel([("customer_id", ASCENDING), ("state", ASCENDING)]),
        *_listing(["owner_id"], ["create_time", "number", "totals.grand_total"]),
        *_listing(["team_id"], ["create_time", "number", "totals.grand_total"]),
        *_listing([], ["create_time", "totals.grand_total"]),  # number: its unique index
    ],
    "quotes": [
        IndexModel([("number", ASCENDING), ("revision", ASCENDING)], unique=True),
        IndexModel([("state", ASCENDING), ("valid_until", ASCENDING)]),  # the expiry job
        *_listing(["owner_id"], ["create_time", "number", "valid_until", "totals.grand_total"]),
        *_listing(["team_id"], ["create_time", "number", "valid_until", "totals.grand_total"]),
        *_listing([], ["create_time", "valid_until", "totals.grand_total"]),
    ],
    "invoices": [
        # Drafts have no number (no field at all), so the unique index is sparse.
        IndexModel([("number", ASCENDING)], unique=True, sparse=True),
        IndexModel([("order_id", ASCENDING)]),
        IndexModel([("customer_id", ASCENDING), ("state", ASCENDING)]),
        IndexModel([("state", ASCENDING), ("due_date", ASCENDING)]),  # overdue job, aging
        *_listing(["owner_id"], ["create_time", "due_date", "amount_due",
                                 "totals.grand_total"]),
        *_listing(["team_id"], ["create_time", "due_date", "amount_due", "totals.grand_total"]),
        *_listing([], ["create_time", "issue_date", "due_date", "amount_due",
                       "totals.grand_total"]),
    ],
    "payments": [IndexModel([("invoice_id", ASCENDING), ("create_time", DESCENDING)]),
                 IndexModel([("payment_date", ASCENDING)]),  # commission on collections
                 *_listing(["owner_id"], ["create_time"]), *_listing(["team_id"], ["create_time"]),
                 *_listing([], ["create_time"])],
    "credit_notes": [IndexModel([("number", ASCENDING)], unique=True),
                     IndexModel([("invoice_id", ASCENDING), ("create_time", DESCENDING)]),
                     IndexModel([("issue_date", ASCENDING)]),  # commission clawbacks
                     *_listing(["owner_id"], ["create_time"]),
                     *_listing(["team_id"], ["create_time"]), *_listing([], ["create_time"])],
    # Plans listed by team (store/commission_plans.py).
    "commission_plans": _listing(["team_id"], ["create_time"]),
    "report_templates": [IndexModel([("owner_id", ASCENDING), ("_id", ASCENDING)]),
                         IndexModel([("team_id", ASCENDING), ("shared_with_team", ASCENDING),
                                     ("_id", ASCENDING)])],
    "document_history": [IndexModel([("document_type", ASCENDING), ("document_id", ASCENDING),
                                      ("time", ASCENDING), ("_id", ASCENDING)])],
    # Published events are kept a week, then MongoDB's TTL monitor removes them; pending ones
    # have no publish_time, so they are never removed. The revenue projector claims
    # unprojected events oldest first (store/projection.py); one it has not reached within the
    # week (a projector failing that long while the relay publishes) is gone; `sales-grpc
    # analytics rebuild` recounts it from the documents.
    "outbox": [IndexModel([("published", ASCENDING), ("occur_time", ASCENDING)]),
               IndexModel([("projected_time", ASCENDING), ("occur_time", ASCENDING)]),
               IndexModel([("publish_time", ASCENDING)], expireAfterSeconds=RETENTION_SECONDS)],
    # A period's rollups are read by bucket level and start (store/rollups.py).
    "analytics_rollups": [IndexModel([("basis", ASCENDING), ("level", ASCENDING),
                                      ("start", ASCENDING)]),
                          # Rows per customer or product, kept apart from the totals.
                          IndexModel([("basis", ASCENDING), ("dimension", ASCENDING),
                                      ("level", ASCENDING), ("start", ASCENDING)]),
                          # A customer's first and last bookings (GetCustomerAnalytics).
                          IndexModel([("basis", ASCENDING), ("dimension", ASCENDING),
                                      ("level", ASCENDING), ("subject", ASCENDING),
                                      ("start", ASCENDING)])],
    # The rate of a pair in effect on a day (store/exchange_rates.py).
    "exchange_rates": [IndexModel([("reporting", ASCENDING), ("currency", ASCENDING),
                                   ("day", ASCENDING)])],
    # The delivery workers' claim, and a document's latest mail (store/mail_jobs.py); jobs
    # are kept as the documents' delivery status.
    "mail_jobs": [IndexModel([("state", ASCENDING), ("due_time", ASCENDING)]),
                  IndexModel([("document_type", ASCENDING), ("document_id", ASCENDING),
                              ("create_time", DESCENDING)])],
    # A retry is expected within minutes (AIP-155); a key is remembered for a week.
    "idempotency_keys": [IndexModel([("create_time", ASCENDING)],
                                    expireAfterSeconds=RETENTION_SECONDS)],
}


PING_TIMEOUT_SECONDS = 3.0
CLOSE_TIMEOUT_SECONDS = 10.0


class Mongo:
    """One client for the process; repositories borrow its database and sessions."""

    def __init__(self, url: str, database: str, **client_options: Any) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=5000,
            **{**CLIENT_WRITE_CONCERN, **client_options})
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]
        self.reachable = True  # as of the last ping
        # The latest transaction this process committed (None before the first, or on a
        # server that reports no cluster time): analytics reads on secondaries wait for it.
        self.last_commit: CommitPoint | None = None

    async def ping(self) -> bool:
        """Whether the database answers within PING_TIMEOUT_SECONDS. Bounded, because a
        server that holds the connection open without answering (frozen, or stuck) would
        otherwise keep the health watcher waiting, and health SERVING, for as long as that
        lasts: the driver sets no socket timeout of its own."""
        try:
            with pymongo.timeout(PING_TIMEOUT_SECONDS):
                await self.client.admin.command("ping")
            self.reachable = True
        except PyMongoError:
            self.reachable = False
        return self.reachable

    def call_scope(self, remaining: float | None) -> contextlib.AbstractContextManager[Any]:
        """Bounds every MongoDB operation a call starts by the call's remaining deadline
        (pymongo's client-side operation timeout: sent as maxTimeMS, and the limit of a
        transaction's retries), so a client that gave up does not leave the database working
        for it; no deadline, no bound.

        Not while the last ping failed: under a deadline the driver waits for a server for
        all of it (the deadline replaces serverSelectionTimeoutMS), so a call to a database
        that is down would hang until its deadline instead of being UNAVAILABLE after
        serverSelectionTimeoutMS (5 s)."""
        if remaining is None or not self.reachable:
            return contextlib.nullcontext()
        return pymongo.timeout(max(remaining, 0.001))

    async def ensure_indexes(self) -> None:
        """Idempotent: creating an index that exists with the same spec is a no-op."""
        for name, models in INDEXES.items():
            await self.db[name].create_indexes(models)

    async def run_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Runs `work` in a transaction, retrying it whole on transient write conflicts (as
        concurrent confirms of one product cause); a domain error aborts it untouched.
        Hooks registered with `after_commit` meanwhile run once it has committed. Locks taken
        with `hold` are kept across the retries and released when the run is over."""
        hooks: list[Callable[[], Awaitable[None]]] = []
        held: list[Turn] = []

        async def attempt(session: AsyncClientSession) -> T:
            hooks.clear()  # a retried attempt registers its own hooks again
            return await work(session)

        token, held_token = _after_commit.set(hooks), _held.set(held)
        try:
            while True:
                try:
                    async with self.client.start_session() as session:
                        result = await session.with_transaction(
                            attempt, read_concern=TRANSACTION_READ_CONCERN,
                            write_concern=TRANSACTION_WRITE_CONCERN,
                            read_preference=TRANSACTION_READ_PREFERENCE)
                        self._committed(session)
                    break
                except _WaitForTurn as wait:
                    # The attempt was aborted, so this run holds no uncommitted write while
                    # it waits. It gives back the turns it holds and takes them all, the
                    # wanted one too, in one order every run follows: a run that waited for
                    # a second turn while keeping its first would deadlock with one taking
                    # the same two the other way round. Then it runs again.
                    wanted = sorted({*held, wait.turn}, key=id)
                    for turn in reversed(held):
                        turn.give_back()
                    held.clear()
                    for turn in wanted:
                        await turn.take()
                        held.append(turn)
        finally:
            _after_commit.reset(token)
            _held.reset(held_token)
            for turn in reversed(held):
                turn.give_back()
        for hook in hooks:
            await hook()
        return result

    def _committed(self, session: AsyncClientSession) -> None:
        """Remembers the commit `session` just made if it is this process's latest."""
        cluster_time, operation_time = session.cluster_time, session.operation_time
        if cluster_time is None or operation_time is None:
            return
        if self.last_commit is None or operation_time > self.last_commit.operation_time:
            self.last_commit = CommitPoint(cluster_time, operation_time)

    @staticmethod
    async def hold(turn: Turn) -> None:
        """Keeps `turn` for the rest of the current transaction run: for a hot document that
        every such transaction of this process writes (a gapless number series' counter), so
        that they take turns instead of conflicting and being retried whole, which at 32
        concurrent issues cost 15 attempts each. Taken at once when free; otherwise the
        attempt is aborted, so no transaction waits while holding a write another one needs,
        and the run waits with its turns taken in one global order (see run_transaction),
        so no two runs wait on each other. Replicas still conflict with each other; that is
        retried as before."""
        held = _held.get()
        if held is None:
            raise RuntimeError("Mongo.hold is for work inside Mongo.run_transaction")
        if turn in held:
            return
        if not turn.try_take():
            raise _WaitForTurn(turn)
        held.append(turn)

    @staticmethod
    async def after_commit(hook: Callable[[], Awaitable[None]]) -> None:
        """Runs `hook` when the current transaction commits, or now outside a transaction."""
        pending = _after_commit.get()
        if pending is None:
            await hook()
        else:
            pending.append(hook)

    async def close(self, within: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Closes the client, waiting at most `within` seconds: a close wedged on the driver's
        topology lock (a task cancelled in server selection can leave it held, seen on Python
        3.11) must not keep a stopping process from exiting. Not waited for past that, not
        even for its cancellation."""
        closing = asyncio.create_task(self.client.close())
        done, _ = await asyncio.wait({closing}, timeout=within)
        if not done:
            closing.cancel()
            log.warning("the MongoDB client did not close within %.0f s; left to the exit",
                        within)
            return
        closing.result()


class RequestReplayed(Exception):
    """Raised inside a transaction whose idempotency key another call committed first."""


class Idempotency:
    """Remembers what a (caller, request_id) created, so that a retry returns it (AIP-155).

    The key is written in the creating transaction, after the work, so the record and its
    key commit together or not at all.
    """

    def __init__(self, mongo: Mongo) -> None:
        self._mongo = mongo
        self._keys = mongo.db.idempotency_keys

    async def find(self, key: str) -> str | None:
        doc = await self._keys.find_one({"_id": key})
        return None if doc is None else str(doc["result_id"])

    async def run_once_single_write(self, key: str, result_id: str,
                                    work: Callable[[AsyncClientSession | None], Awaitable[T]]
                                    ) -> T | Replayed:
        """Like run_once, for a `work` atomic by itself: without a key it runs outside any
        transaction, with None for its session."""
        return await (self.run_once(key, result_id, work) if key else work(None))

    async def run_once(self, key: str, result_id: str,
                       work: Callable[[AsyncClientSession], Awaitable[T]]) -> T | Replayed:
        """Runs `work` once per key, in a transaction retried on write conflicts.

        Callers look the key up with `find` first (before drawing numbers or checking
        uniqueness); this covers the race of two calls that both found nothing."""
        if not key:
            return await self._mongo.run_transaction(work)

        async def claimed(session: AsyncClientSession) -> T:
            result = await work(session)
            try:
                await self._keys.insert_one({"_id": key, "result_id": result_id,
                                             "create_time": datetime.now(UTC)}, session=session)
            except DuplicateKeyError:
                raise RequestReplayed(key) from None
            return result

        try:
            return await self._mongo.run_transaction(claimed)
        except RequestReplayed:
            return Replayed(await self._wait_for(key))

    async def _wait_for(self, key: str, attempts: int = 50) -> str:
        for _ in range(attempts):
            if (found := await self.find(key)) is not None:
                return found
            await asyncio.sleep(0.02)
        raise Aborted("a call with the same request_id is still in progress; retry",
                      reason="REQUEST_IN_PROGRESS")
