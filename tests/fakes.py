"""In-memory fakes of the ports (services/ports.py, services/documents.py) for fast use-case tests.

Every fake keeps its records in one FakeDatabase. FakeTransactions runs one transaction at a
time (serializable, as MongoDB's write conflicts and retries make concurrent ones look),
snapshots the database first and puts the snapshot back when the work raises: an aborted
transaction leaves nothing, in every store at once. Records go in and come out as copies, so a
use case that changes a record and forgets to save it is caught, as with the real database.
A write that belongs to a transaction refuses a session whose transaction has ended. Reads
outside a transaction see the database as it is (no isolation from a running transaction).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sales_grpc.config import Settings
from sales_grpc.domain.access import Scope, in_scope
from sales_grpc.domain.customers import Customer
from sales_grpc.domain.documents.lifecycle import HistoryEntry
from sales_grpc.domain.errors import AlreadyExists
from sales_grpc.domain.events import DomainEvent
from sales_grpc.domain.listing import Condition, SortKey
from sales_grpc.domain.money import Money
from sales_grpc.domain.numbering import DrawOutsideTransaction, Policy, Series
from sales_grpc.domain.orders import OPEN_EXPOSURE, SalesOrder
from sales_grpc.domain.products import Product, Stock, StockMovement
from sales_grpc.services.customers import CustomerService
from sales_grpc.services.documents import DocumentWorkflow
from sales_grpc.services.order_lifecycle import OrderLifecycle
from sales_grpc.services.orders import OrderService
from sales_grpc.services.ports import Page, Replayed, Session
from sales_grpc.services.products import ProductService

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


class FakeCustomerRecords:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def get(self, customer_id: str, session: Session | None = None) -> Customer | None:
        return copy.deepcopy(self._db.customers.get(customer_id))

    async def add(self, customer: Customer, session: Session | None) -> None:
        alone_or_in_transaction(session)
        assert customer.id not in self._db.customers
        self._db.customers[customer.id] = copy.deepcopy(customer)

    async def save(self, customer: Customer, expected_version: int) -> bool:
        stored = self._db.customers.get(customer.id)
        if stored is None or stored.version != expected_version:
            return False
        self._db.customers[customer.id] = replace(copy.deepcopy(customer), stats=stored.stats)
        return True

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str, show_deleted: bool) -> Page[Customer]:
        rows = [c for c in self._db.customers.values()
                if in_scope(scope, c.owner_id, c.team_id) and (show_deleted or not c.is_deleted)]
        return page(copy.deepcopy(ordered(rows, conditions, order)), size, token)


class FakeCustomerStatistics:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def record(self, customer_id: str, count: int, amount: Money, when: datetime | None,
                     session: Session) -> Customer | None:
        in_transaction(session)
        customer = self._db.customers.get(customer_id)
        if customer is None:
            return None
        customer.stats = customer.stats.recorded(count, amount, when)
        return copy.deepcopy(customer)


class FakeProductRecords:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def get(self, product_id: str, session: Session | None = None) -> Product | None:
        return copy.deepcopy(self._db.products.get(product_id))

    async def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        return {i: copy.deepcopy(self._db.products[i]) for i in product_ids
                if i in self._db.products}

    async def get_by_sku(self, sku: str) -> Product | None:
        return copy.deepcopy(next((p for p in self._db.products.values() if p.sku == sku), None))

    async def add(self, product: Product, session: Session) -> None:
        in_transaction(session)
        self._check_sku(product)
        self._db.products[product.id] = copy.deepcopy(product)

    async def save(self, product: Product, expected_version: int) -> Product | None:
        stored = self._db.products.get(product.id)
        if stored is None or stored.version != expected_version:
            return None
        self._check_sku(product)
        saved = self._db.products[product.id] = replace(copy.deepcopy(product),
                                                        stock=stored.stock)
        return copy.deepcopy(saved)

    def _check_sku(self, product: Product) -> None:
        if any(p.sku == product.sku and p.id != product.id for p in self._db.products.values()):
            raise AlreadyExists(f"a product with SKU {product.sku!r} already exists",
                                reason="SKU_TAKEN", metadata={"sku": product.sku})

    async def move_stock(self, product_id: str, delta: int, session: Session
                         ) -> Product | None:
        in_transaction(session)
        product = self._db.products.get(product_id)
        if product is None or product.stock.available < -delta:
            return None
        product.stock = Stock(product.stock.on_hand + delta, product.stock.reserved)
        return copy.deepcopy(product)

    async def add_movement(self, movement: StockMovement, session: Session) -> None:
        in_transaction(session)
        self._db.movements[movement.id] = movement

    async def get_movement(self, movement_id: str) -> StockMovement | None:
        return self._db.movements.get(movement_id)

    async def list_page(self, conditions: list[Condition], order: list[SortKey], size: int,
                        token: str, show_deleted: bool) -> Page[Product]:
        rows = [p for p in self._db.products.values() if show_deleted or not p.is_deleted]
        return page(copy.deepcopy(ordered(rows, conditions, order)), size, token)

    async def list_low_stock(self, size: int, token: str) -> Page[Product]:
        rows = [p for p in self._db.products.values()
                if p.sellable and p.stock.available <= p.reorder_level]
        return page(copy.deepcopy(sorted(rows, key=lambda p: p.stock.available)), size, token)

    async def list_movements(self, product_id: str, size: int, token: str
                             ) -> Page[StockMovement]:
        rows = [m for m in self._db.movements.values() if m.product_id == product_id]
        return page(reversed(rows), size, token)

    async def categories(self, size: int, token: str) -> Page[tuple[str, int, int]]:
        live = [p for p in self._db.products.values() if not p.is_deleted]
        names = sorted({p.category for p in live})
        return page([(name, sum(p.category == name for p in live),
                      sum(p.category == name and p.active for p in live)) for name in names],
                    size, token)


class FakeStockReservations:
    """Like the real ledger's unordered bulk write, a short product does not stop the others'
    reservations: the caller's abort undoes them."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def _move(self, product_id: str, on_hand: int, reserved: int) -> None:
        product = self._db.products[product_id]
        product.stock = Stock(product.stock.on_hand + on_hand, product.stock.reserved + reserved)

    async def reserve_all(self, quantities: dict[str, int], session: Session) -> bool:
        in_transaction(session)
        reserved = 0
        for product_id, quantity in quantities.items():
            product = self._db.products.get(product_id)
            if product is not None and product.stock.available >= quantity:
                self._move(product_id, 0, quantity)
                reserved += 1
        return reserved == len(quantities)

    async def availability(self, product_ids: list[str]) -> dict[str, int]:
        return {i: self._db.products[i].stock.available for i in product_ids
                if i in self._db.products}

    async def release_all(self, quantities: dict[str, int], session: Session) -> None:
        in_transaction(session)
        for product_id, quantity in quantities.items():
            self._move(product_id, 0, -quantity)

    async def ship_all(self, movements: list[StockMovement], session: Session) -> None:
        in_transaction(session)
        for m in movements:
            self._move(m.product_id, m.quantity_delta, m.quantity_delta)
            on_hand = self._db.products[m.product_id].stock.on_hand
            self._db.movements[m.id] = replace(m, on_hand_after=on_hand)


class FakeOrderRecords:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def get(self, order_id: str, session: Session | None = None) -> SalesOrder | None:
        return copy.deepcopy(self._db.orders.get(order_id))

    async def get_by_number(self, number: str) -> SalesOrder | None:
        return copy.deepcopy(next((o for o in self._db.orders.values() if o.number == number),
                                  None))

    async def add(self, order: SalesOrder, session: Session) -> None:
        in_transaction(session)
        assert all(o.number != order.number for o in self._db.orders.values())
        self._db.orders[order.id] = copy.deepcopy(order)

    async def save(self, order: SalesOrder, expected_version: int, session: Session) -> bool:
        in_transaction(session)
        stored = self._db.orders.get(order.id)
        if stored is None or stored.version != expected_version:
            return False
        self._db.orders[order.id] = copy.deepcopy(order)
        return True

    async def open_exposure(self, customer_id: str, currency: str, session: Session
                            ) -> Decimal:
        in_transaction(session)
        return sum((o.totals.grand_total for o in self._db.orders.values()
                    if o.customer_id == customer_id and o.currency == currency
                    and o.state in OPEN_EXPOSURE), Decimal(0))

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> Page[SalesOrder]:
        rows = [o for o in self._db.orders.values() if in_scope(scope, o.owner_id, o.team_id)]
        return page(copy.deepcopy(ordered(rows, conditions, order)), size, token)


class FakeDocumentHistory:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def add(self, entries: list[HistoryEntry[Any, Any]], session: Session) -> None:
        in_transaction(session)
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


@dataclass
class FakeApp:
    """The use cases wired as bootstrap.build wires them, over the fakes."""

    db: FakeDatabase
    transactions: FakeTransactions
    numbers: FakeNumberSeries
    customers: CustomerService
    products: ProductService
    orders: OrderService
    order_lifecycle: OrderLifecycle

    @property
    def events(self) -> list[DomainEvent]:
        return [entry.event for entry in self.db.outbox]


def fake_app(settings: Settings | None = None) -> FakeApp:
    settings = settings or Settings()
    db = FakeDatabase()
    transactions = FakeTransactions(db)
    idempotency = FakeIdempotencyKeys(db, transactions)
    numbers = FakeNumberSeries(db, settings.number_series())
    orders = FakeOrderRecords(db)
    products = FakeProductRecords(db)
    customers = CustomerService(FakeCustomerRecords(db), idempotency, numbers)
    workflow = DocumentWorkflow[SalesOrder]("sales order", "ORDER_NOT_FOUND", transactions,
                                            orders, FakeDocumentHistory(db),
                                            FakeEventOutbox(db))
    return FakeApp(
        db, transactions, numbers, customers, ProductService(products, idempotency),
        OrderService(workflow, orders, products, customers, idempotency, settings, numbers),
        OrderLifecycle(workflow, orders, FakeStockReservations(db), FakeCustomerStatistics(db)))

