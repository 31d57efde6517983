"""The adapter interfaces the use cases need. store/ implements them; bootstrap wires them.

How a method takes its `Session` says where it may run. A write that belongs to the caller's
transaction takes `session: Session`, required, so it cannot quietly run outside it; a read
that may run in or out of one takes `session: Session | None = None`. A write that is atomic
by itself (one document) says so in its docstring: it takes no session, or an explicit
`Session | None` when it joins the caller's transaction only sometimes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from ..domain.access import Scope
from ..domain.aging import Receivable
from ..domain.credit_notes import CreditNote
from ..domain.customers import Customer
from ..domain.events import DomainEvent
from ..domain.invoices import Invoice, Payment
from ..domain.listing import Condition, SortKey
from ..domain.money import Money
from ..domain.orders import SalesOrder
from ..domain.products import Product, StockMovement
from ..domain.quotes import Quote

T = TypeVar("T")
Page = tuple[list[T], str]


class Session(Protocol):
    """A transaction handle made by the adapters (Transactions.run_transaction hands one to its
    work): pymongo's AsyncClientSession, or the fakes' session in tests. Use cases only pass it
    back to adapters; `in_transaction` lets an adapter refuse work that must not run outside a
    transaction, as a gapless number series does."""

    @property
    def in_transaction(self) -> bool: ...


@dataclass(frozen=True)
class Replayed:
    """A request_id seen before: the id of what its first call created."""

    result_id: str


def idempotency_key(kind: str, subject: str, request_id: str) -> str:
    """Keys are per caller: two callers' equal request_ids never collide."""
    return f"{kind}:{subject}:{request_id}" if request_id else ""


class Transactions(Protocol):
    async def run_transaction(self, work: Callable[[Session], Awaitable[T]]) -> T: ...


class IdempotencyKeys(Protocol):
    async def find(self, key: str) -> str | None: ...

    async def run_once(self, key: str, result_id: str, work: Callable[[Session], Awaitable[T]]
                       ) -> T | Replayed:
        """Runs `work` in a transaction retried on write conflicts; a key, if any, is claimed
        in the same transaction, so a second call with it gets Replayed instead."""
        ...

    async def run_once_single_write(self, key: str, result_id: str,
                                    work: Callable[[Session | None], Awaitable[T]]
                                    ) -> T | Replayed:
        """Like run_once, for `work` that is safe without a transaction (one atomic write, or
        writes ordered so that a crash between them leaves nothing anyone can read): without
        a key it runs alone, outside any transaction (its session is None)."""
        ...


class CustomerRecords(Protocol):
    async def get(self, customer_id: str, session: Session | None = None) -> Customer | None: ...

    async def add(self, customer: Customer, session: Session | None) -> None:
        """An atomic single-document insert: in the caller's transaction when it has one (with
        an idempotency key), alone when `session` is None."""
        ...

    async def save(self, customer: Customer, expected_version: int) -> bool:
        """An atomic single-document write, outside any transaction: it writes only if the
        version is still `expected_version` (False otherwise), and leaves the sales statistics
        as stored."""
        ...

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str, show_deleted: bool) -> Page[Customer]: ...


class CustomerStatistics(Protocol):
    async def record(self, customer_id: str, count: int, amount: Money, when: datetime | None,
                     session: Session) -> Customer | None: ...

    async def receivable(self, customer_id: str, outstanding: Money, balance: Money,
                         session: Session) -> Customer | None:
        """Adds `outstanding` to what the customer owes on open invoices and `balance` to
        their credit balance (both may be negative or zero), claiming the account as `record`
        does. None when the customer is gone, or when the balance would go below zero (a
        CREDIT_BALANCE payment above it): then nothing changed."""
        ...


class ProductRecords(Protocol):
    async def get(self, product_id: str, session: Session | None = None) -> Product | None: ...
    async def get_many(self, product_ids: list[str]) -> dict[str, Product]: ...
    async def get_by_sku(self, sku: str) -> Product | None: ...
    async def add(self, product: Product, session: Session) -> None: ...

    async def save(self, product: Product, expected_version: int) -> Product | None:
        """An atomic single-document write, outside any transaction: catalog fields only (stock
        as stored), and only if the version is still `expected_version` (None otherwise)."""
        ...

    async def move_stock(self, product_id: str, delta: int, session: Session
                         ) -> Product | None: ...
    async def add_movement(self, movement: StockMovement, session: Session) -> None: ...
    async def get_movement(self, movement_id: str) -> StockMovement | None: ...
    async def list_page(self, conditions: list[Condition], order: list[SortKey], size: int,
                        token: str, show_deleted: bool) -> Page[Product]: ...
    async def list_low_stock(self, size: int, token: str) -> Page[Product]: ...
    async def list_movements(self, product_id: str, size: int, token: str
                             ) -> Page[StockMovement]: ...
    async def categories(self, size: int, token: str) -> Page[tuple[str, int, int]]: ...


class StockReservations(Protocol):
    async def reserve_all(self, quantities: dict[str, int], session: Session) -> bool: ...
    async def availability(self, product_ids: list[str]) -> dict[str, int]: ...
    async def release_all(self, quantities: dict[str, int], session: Session) -> None: ...
    async def ship_all(self, movements: list[StockMovement], session: Session) -> None: ...


class OrderRecords(Protocol):
    async def get(self, order_id: str, session: Session | None = None) -> SalesOrder | None: ...
    async def get_by_number(self, number: str) -> SalesOrder | None: ...
    async def add(self, order: SalesOrder, session: Session | None) -> None:
        """Inserts the order: one atomic insert, in the caller's transaction if it gives one."""
        ...

    async def save(self, order: SalesOrder, expected_version: int, session: Session) -> bool: ...

    async def save_invoicing(self, order: SalesOrder, session: Session) -> None:
        """Writes the order's invoicing (what invoices claim and bill) and nothing else,
        without touching its version: the invoice's transaction owns this change."""
        ...

    async def open_exposure(self, customer_id: str, currency: str,
                            session: Session) -> Decimal: ...
    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> Page[SalesOrder]: ...


class NumberSeries(Protocol):
    """Draws the next number of a series (domain/numbering.py) and returns it formatted: the
    series, not the caller, knows its counter, format and policy, so a use case only names it.

    `moment` is the document's creation time; its year picks the counter and fills `{year}`.
    A BLOCK series ignores `session` (its numbers are drawn outside any transaction; a failed
    create leaves a gap); pass None. A GAPLESS series needs the caller's transaction and
    raises DrawOutsideTransaction without one: the number then commits or aborts with the
    document it numbers. Draw it last in the transaction, since it holds the series' counter
    until the commit and every other issuing transaction waits for it or retries."""

    async def draw(self, series: str, moment: datetime, session: Session | None) -> str: ...


class QuoteRecords(Protocol):
    async def get(self, quote_id: str, session: Session | None = None) -> Quote | None: ...
    async def get_by_number(self, number: str) -> Quote | None: ...
    async def add(self, quote: Quote, session: Session | None) -> None: ...
    async def save(self, quote: Quote, expected_version: int, session: Session) -> bool: ...
    async def past_due(self, today: date, limit: int) -> list[str]: ...
    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> Page[Quote]: ...


class InvoiceRecords(Protocol):
    async def get(self, invoice_id: str, session: Session | None = None) -> Invoice | None: ...
    async def get_by_number(self, number: str) -> Invoice | None: ...
    async def add(self, invoice: Invoice, session: Session | None) -> None: ...
    async def save(self, invoice: Invoice, expected_version: int, session: Session) -> bool: ...
    async def delete(self, invoice: Invoice, session: Session) -> bool:
        """Deletes the draft if its version is still the one read; False otherwise."""
        ...
    async def overdue_unnoted(self, today: date, limit: int) -> list[str]:
        """Ids of OPEN invoices due before `today` whose InvoiceOverdue is not written."""
        ...
    async def receivables(self, scope: Scope, as_of: date, customer_id: str, owner_id: str,
                          team_id: str) -> list[Receivable]: ...
    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str, today: date | None = None) -> Page[Invoice]:
        """`today` is the day an `overdue` condition is judged on."""
        ...


class PaymentRecords(Protocol):
    async def get(self, payment_id: str) -> Payment | None: ...
    async def add(self, payment: Payment, session: Session) -> None: ...
    async def list_page(self, scope: Scope, invoice_id: str, size: int, token: str
                        ) -> Page[Payment]: ...


class CreditNoteRecords(Protocol):
    async def get(self, credit_note_id: str) -> CreditNote | None: ...
    async def add(self, note: CreditNote, session: Session) -> None: ...
    async def list_page(self, scope: Scope, invoice_id: str, size: int, token: str
                        ) -> Page[CreditNote]: ...


class EventOutbox(Protocol):
    async def add(self, events: list[DomainEvent], actor: str, now: datetime,
                  session: Session) -> None: ...
