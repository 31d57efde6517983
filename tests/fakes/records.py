"""The fakes of the customer, product, stock and order records (see tests/fakes/__init__.py)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sales_grpc.domain.access import Scope, in_scope
from sales_grpc.domain.customers import Customer, by_currency
from sales_grpc.domain.errors import AlreadyExists
from sales_grpc.domain.listing import Condition, SortKey
from sales_grpc.domain.money import Money
from sales_grpc.domain.orders import OPEN_EXPOSURE, SalesOrder
from sales_grpc.domain.products import Product, Stock, StockMovement
from sales_grpc.services.ports import Page, Session

from .core import FakeDatabase, alone_or_in_transaction, in_transaction, ordered, page


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

    async def receivable(self, customer_id: str, outstanding: Money, balance: Money,
                         session: Session) -> Customer | None:
        in_transaction(session)
        customer = self._db.customers.get(customer_id)
        if customer is None or customer.stats.balance(balance.currency) + balance.amount < 0:
            return None
        customer.stats = replace(
            customer.stats,
            outstanding=by_currency([*customer.stats.outstanding, outstanding]),
            credit_balance=by_currency([*customer.stats.credit_balance, balance]))
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

    async def add(self, order: SalesOrder, session: Session | None) -> None:
        alone_or_in_transaction(session)
        assert all(o.number != order.number for o in self._db.orders.values())
        self._db.orders[order.id] = copy.deepcopy(order)

    async def save(self, order: SalesOrder, expected_version: int, session: Session) -> bool:
        in_transaction(session)
        stored = self._db.orders.get(order.id)
        if stored is None or stored.version != expected_version:
            return False
        # Like the store: an order's own save leaves the invoicing as stored.
        invoicing = (stored.invoiced, stored.shipping_invoiced, stored.invoiced_amount)
        self._db.orders[order.id] = copy.deepcopy(order)
        saved = self._db.orders[order.id]
        saved.invoiced, saved.shipping_invoiced, saved.invoiced_amount = invoicing
        return True

    async def save_invoicing(self, order: SalesOrder, session: Session) -> None:
        in_transaction(session)
        stored = self._db.orders[order.id]
        stored.invoiced = list(order.invoiced)
        stored.shipping_invoiced = order.shipping_invoiced
        stored.invoiced_amount = order.invoiced_amount

    async def open_exposure(self, customer_id: str, currency: str, session: Session
                            ) -> Decimal:
        in_transaction(session)
        return sum((o.totals.grand_total - o.invoiced_amount for o in self._db.orders.values()
                    if o.customer_id == customer_id and o.currency == currency
                    and o.state in OPEN_EXPOSURE), Decimal(0))

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> Page[SalesOrder]:
        rows = [o for o in self._db.orders.values() if in_scope(scope, o.owner_id, o.team_id)]
        return page(copy.deepcopy(ordered(rows, conditions, order)), size, token)
