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

from dataclasses import dataclass

from sales_grpc.config import Settings
from sales_grpc.domain.events import DomainEvent
from sales_grpc.domain.orders import SalesOrder
from sales_grpc.services.customers import CustomerService
from sales_grpc.services.documents import DocumentWorkflow
from sales_grpc.services.order_lifecycle import OrderLifecycle
from sales_grpc.services.orders import OrderService
from sales_grpc.services.products import ProductService

from .core import (
    FakeDatabase,
    FakeDocumentHistory,
    FakeEventOutbox,
    FakeIdempotencyKeys,
    FakeNumberSeries,
    FakeSession,
    FakeTransactions,
    OutboxEntry,
)
from .records import (
    FakeCustomerRecords,
    FakeCustomerStatistics,
    FakeOrderRecords,
    FakeProductRecords,
    FakeStockReservations,
)

__all__ = [
    "FakeApp", "FakeCustomerRecords", "FakeCustomerStatistics", "FakeDatabase",
    "FakeDocumentHistory", "FakeEventOutbox", "FakeIdempotencyKeys", "FakeNumberSeries",
    "FakeOrderRecords", "FakeProductRecords", "FakeSession", "FakeStockReservations",
    "FakeTransactions", "OutboxEntry", "fake_app",
]


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

