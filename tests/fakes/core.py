"""The fakes' database, transactions, sessions, idempotency keys, number series, history and
outbox (see tests/fakes/__init__.py)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sales_grpc.domain.customers import Customer
from sales_grpc.domain.documents.lifecycle import HistoryEntry
from sales_grpc.domain.events import DomainEvent
from sales_grpc.domain.listing import Condition, SortKey
from sales_grpc.domain.numbering import DrawOutsideTransaction, Policy, Series
from sales_grpc.domain.orders import SalesOrder
from sales_grpc.domain.products import Product, StockMovement
from sales_grpc.services.ports import Page, Replayed, Session

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FakeSession:
    in_transaction: bool = True


@dataclass(frozen=True)
class OutboxEntry:
    event: DomainEvent
    actor: str
    time: datetime


@dataclass
class FakeDatabase:
    customers: dict[str, Customer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    movements: dict[str, StockMovement] = field(default_factory=dict)
    orders: dict[str, SalesOrder] = field(default_factory=dict)
    history: list[HistoryEntry[Any, Any]] = field(default_factory=list)
    outbox: list[OutboxEntry] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    idempotency_keys: dict[str, str] = field(default_factory=dict)
    mail_jobs: list[Any] = field(default_factory=list)  # FakeMail (tests/fakes/mail.py)

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(vars(self))

    def restore(self, snapshot: dict[str, Any]) -> None:
        vars(self).update(snapshot)


def in_transaction(session: Session) -> None:
    if not session.in_transaction:
        raise AssertionError("a write that belongs to a transaction ran outside one")


def alone_or_in_transaction(session: Session | None) -> None:
    if session is not None:
        in_transaction(session)


def page(items: Iterable[R], size: int, token: str) -> Page[R]:
    """Offset pages; the token is the offset of the next page."""
    rows, start = list(items), int(token or 0)
    end = start + size
    return rows[start:end], str(end) if end < len(rows) else ""


def ordered(items: Iterable[R], conditions: list[Condition], order: list[SortKey]) -> list[R]:
    if conditions:
        raise NotImplementedError("the fakes do not filter; test filters over the wire")
    rows = list(items)
    for key in reversed(order):  # stable sorts, least significant key first
        rows.sort(key=lambda row: _value(row, key.path), reverse=key.descending)
    return rows


def _value(row: Any, path: str) -> Any:
    if path == "create_time":
        return row.audit.create_time
    value = row
    for name in path.split("."):
        value = getattr(value, name)
    return value


class FakeTransactions:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T:
        if self._holder is not None and self._holder is asyncio.current_task():
            raise AssertionError("a transaction started inside another")
        async with self._lock:
            self._holder = asyncio.current_task()
            before, session = self._db.snapshot(), FakeSession()
            try:
                return await work(session)
            except BaseException:
                self._db.restore(before)
                raise
            finally:
                session.in_transaction = False
                self._holder = None


class _Replay(Exception):
    pass


class FakeIdempotencyKeys:
    def __init__(self, db: FakeDatabase, transactions: FakeTransactions) -> None:
        self._db = db
        self._transactions = transactions

    async def find(self, key: str) -> str | None:
        return self._db.idempotency_keys.get(key)

    async def run_once(self, key: str, result_id: str, work: Callable[[Session], Awaitable[T]]
                       ) -> T | Replayed:
        async def claimed(session: Session) -> T:
            result = await work(session)
            if key:
                if key in self._db.idempotency_keys:
                    raise _Replay
                self._db.idempotency_keys[key] = result_id
            return result

        try:
            return await self._transactions.run_transaction(claimed)
        except _Replay:
            return Replayed(self._db.idempotency_keys[key])

    async def run_once_single_write(self, key: str, result_id: str,
                                    work: Callable[[Session | None], Awaitable[T]]
                                    ) -> T | Replayed:
        return await (self.run_once(key, result_id, work) if key else work(None))


class FakeNumberSeries:
    """BLOCK numbers come from this process's own counters, never given back; GAPLESS ones
    from the database's, so an aborted transaction gives its number back."""

    def __init__(self, db: FakeDatabase, series: Mapping[str, Series]) -> None:
        self._db = db
        self._series = dict(series)
        self._blocks: dict[str, int] = {}

    async def draw(self, series: str, moment: datetime, session: Session | None) -> str:
        definition = self._series[series]
        counter = definition.counter_id(moment)
        if definition.policy is Policy.GAPLESS:
            if session is None or not session.in_transaction:
                raise DrawOutsideTransaction(f"{counter} numbers are gapless")
            seq = self._db.counters[counter] = self._db.counters.get(counter, 0) + 1
        else:
            seq = self._blocks[counter] = self._blocks.get(counter, 0) + 1
        return definition.number(seq, moment)


class FakeDocumentHistory:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def add(self, entries: list[HistoryEntry[Any, Any]], session: Session | None
                  ) -> None:
        alone_or_in_transaction(session)
        self._db.history.extend(entries)

    async def list_page(self, document_id: str, size: int, token: str
                        ) -> Page[HistoryEntry[Any, Any]]:
        rows = [e for e in self._db.history if e.document_id == document_id]
        return page(sorted(rows, key=lambda e: e.time), size, token)


class FakeEventOutbox:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def add(self, events: list[DomainEvent], actor: str, now: datetime,
                  session: Session) -> None:
        in_transaction(session)
        self._db.outbox.extend(OutboxEntry(event, actor, now) for event in events)
