"""Invoice use cases: drafts (manual, or billing an order), reading and listing (the lifecycle
is in invoice_lifecycle.py; payments, credit notes and aging in receivables.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..config import Settings
from ..domain import validation as check
from ..domain.access import Principal, scope_of
from ..domain.customers import Customer
from ..domain.documents.lines import totals_of
from ..domain.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, Violations
from ..domain.invoices import (
    Invoice,
    InvoiceAction,
    InvoiceHistoryEntry,
    InvoiceState,
    bill_order,
    release_order,
    today,
)
from ..domain.listing import (
    FilterField,
    bool_converter,
    day_converter,
    decimal_converter,
    enum_converter,
    page_size,
    parse_filter,
    parse_order_by,
    text_converter,
    time_converter,
)
from ..domain.mail import MailStatus
from ..domain.orders import SalesOrder
from ..domain.records import Audit
from ..domain.tallies import Selection
from .clock import now
from .customers import CustomerService
from .documents import Change, DocumentWorkflow
from .drafts import PRICING_FIELDS, DraftInput, Drafts
from .ids import new_id
from .mail import MailJobs
from .ports import (
    CustomerRecords,
    IdempotencyKeys,
    InvoiceRecords,
    OrderRecords,
    Page,
    ProductRecords,
    Replayed,
    Session,
    idempotency_key,
)

PREFIX = "invoice"
EDITABLE = PRICING_FIELDS | {"due_date"}
# A draft billing an order takes its lines, discount and shipping from the order.
FROM_ORDER_EDITABLE = frozenset({"notes", "due_date"})


@dataclass(frozen=True)
class InvoiceInput(DraftInput):
    due_date: str = ""  # an ISO date; empty means from the payment terms at finalize


_EQ = frozenset({"=", "!="})
_RANGE = frozenset({"=", "<", "<=", ">", ">="})
FILTERS = {
    "state": FilterField("state", _EQ, enum_converter({s.name: s.value for s in InvoiceState})),
    "customer_id": FilterField("customer_id", _EQ, text_converter),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "team_id": FilterField("team_id", _EQ, text_converter),
    "order_id": FilterField("order_id", _EQ, text_converter),
    "issue_date": FilterField("issue_date", _RANGE, day_converter),
    "due_date": FilterField("due_date", _RANGE, day_converter),
    "create_time": FilterField("create_time", _RANGE - {"="}, time_converter),
    "amount_due": FilterField("amount_due", _RANGE, decimal_converter),
    "grand_total": FilterField("totals.grand_total", _RANGE, decimal_converter),
    "overdue": FilterField("overdue", _EQ, bool_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
ORDER_BY = {"create_time": "create_time", "number": "number", "issue_date": "issue_date",
            "due_date": "due_date", "amount_due": "amount_due",
            "grand_total": "totals.grand_total"}


class InvoiceService:
    def __init__(self, workflow: DocumentWorkflow[Invoice], invoices: InvoiceRecords,
                 order_workflow: DocumentWorkflow[SalesOrder], orders: OrderRecords,
                 products: ProductRecords, customers: CustomerService,
                 customer_records: CustomerRecords, idempotency: IdempotencyKeys,
                 settings: Settings, mail: MailJobs) -> None:
        self._workflow = workflow
        self._invoices = invoices
        self._order_workflow = order_workflow
        self._orders = orders
        self._customers = customers
        self._customer_records = customer_records
        self._idempotency = idempotency
        self._settings = settings
        self._mail = mail
        self._drafts = Drafts(products, customers, settings)

    # -- reading ----------------------------------------------------------------------

    async def get(self, principal: Principal, invoice_id: str) -> Invoice:
        check.object_id("id", invoice_id)
        return self._workflow.visible(principal, await self._invoices.get(invoice_id),
                                      invoice_id)

    async def get_by_number(self, principal: Principal, number: str) -> Invoice:
        if not number:
            raise InvalidArgument.of("number", "is required")
        return self._workflow.visible(principal, await self._invoices.get_by_number(number),
                                      number)

    async def list_page(self, principal: Principal, *, filter: str = "", order_by: str = "",
                        size: int = 0, token: str = "") -> tuple[list[Invoice], str]:
        conditions = parse_filter(filter, FILTERS)
        order = parse_order_by(order_by, ORDER_BY, "create_time desc")
        return await self._invoices.list_page(scope_of(principal), conditions, order,
                                              page_size(size), token, today(now()))

    async def deliveries(self, invoices: Sequence[Invoice]) -> dict[str, MailStatus]:
        """Where each invoice's latest email stands, by invoice id; an invoice never sent
        has none, so it costs no read."""
        sent = [i.id for i in invoices if i.last_send_time is not None]
        return await self._mail.statuses_of("invoice", sent) if sent else {}

    async def history(self, principal: Principal, invoice_id: str, size: int = 0,
                      token: str = "") -> Page[InvoiceHistoryEntry]:
        return await self._workflow.history(principal, invoice_id, page_size(size), token)

    # -- drafts -----------------------------------------------------------------------

    async def create(self, principal: Principal, data: InvoiceInput, request_id: str = ""
                     ) -> Invoice:
        """A manual draft for a customer, priced from the catalog like an order."""
        key = self._key(principal, "invoice", request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)
        start = await self._drafts.start(principal, data, PREFIX, "invoice")
        invoice = self._blank(principal, start.customer, start.currency, start.owner_id,
                              start.team_id)
        due = _due_date(data.due_date, now()) if data.due_date else None
        self._drafts.apply(principal, invoice, data, set(PRICING_FIELDS), start.catalog,
                           PREFIX)
        invoice.due_date = due

        async def work(session: Session) -> None:
            await self._workflow.add(invoice, InvoiceAction.CREATE, principal, session)

        return await self._once(principal, key, invoice, work)

    async def create_from_order(self, principal: Principal, order_id: str,
                                wanted: list[Selection], due_date: str = "", notes: str = "",
                                request_id: str = "") -> Invoice:
        """A draft billing the order's chosen parts (or all that is left), which it claims on
        the order in the same transaction."""
        v = Violations()
        check.request_id(v, request_id)
        check.text(v, "notes", notes, required=False, max_len=2000)
        v.raise_if_any()
        check.object_id("order_id", order_id)
        key = idempotency_key("invoice", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)
        due = _due_date(due_date, now(), "due_date") if due_date else None
        invoice_id = new_id()
        made: list[Invoice] = []

        async def work(session: Session) -> None:
            order = self._order_workflow.visible(
                principal, await self._orders.get(order_id, session), order_id)
            customer = await self._customer_records.get(order.customer_id, session)
            if customer is None:
                raise NotFound(f"customer {order.customer_id} of order {order.number} is gone",
                               reason="CUSTOMER_NOT_FOUND")
            invoice = self._blank(principal, customer, order.currency, order.owner_id,
                                  order.team_id, invoice_id)
            invoice.order_id, invoice.order_number = order.id, order.number
            invoice.notes, invoice.due_date = notes, due
            bill_order(order, wanted, invoice, "lines")
            await self._orders.save_invoicing(order, session)
            await self._workflow.add(invoice, InvoiceAction.CREATE, principal, session)
            made[:] = [invoice]

        outcome = await self._idempotency.run_once(key, invoice_id, work)
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return made[0]

    async def update(self, principal: Principal, invoice_id: str, mask: list[str],
                     data: InvoiceInput, etag: str) -> Invoice:
        fields = set(check.update_mask(mask, EDITABLE, kind="draft invoice"))
        catalog = await self._drafts.catalog(data, fields)
        due = _due_date(data.due_date, now()) if "due_date" in fields and data.due_date \
            else None

        async def effects(change: Change[Invoice]) -> None:
            invoice = change.document
            invoice.require_draft()
            if invoice.order_id and not fields <= FROM_ORDER_EDITABLE:
                raise _from_order(invoice, fields - FROM_ORDER_EDITABLE)
            self._drafts.apply(principal, invoice, data, fields & PRICING_FIELDS, catalog,
                               PREFIX)
            if "due_date" in fields:
                invoice.due_date = due
            change.history.append(invoice.record(InvoiceAction.UPDATE, principal,
                                                 change.moment, ",".join(sorted(fields))))

        return await self._workflow.change(principal, invoice_id, etag, effects)

    async def delete(self, principal: Principal, invoice_id: str, etag: str) -> None:
        """Deletes a draft, giving its order back the quantities it claimed."""

        async def work(session: Session) -> None:
            check.object_id("id", invoice_id)
            invoice = self._workflow.visible(
                principal, await self._invoices.get(invoice_id, session), invoice_id)
            invoice.check_etag(etag)
            invoice.require_draft()
            if invoice.order_id:
                order = await self._orders.get(invoice.order_id, session)
                if order is not None:
                    release_order(order, invoice)
                    await self._orders.save_invoicing(order, session)
            if not await self._invoices.delete(invoice, session):
                raise Aborted(f"invoice {invoice.id} was changed concurrently; re-read and "
                              "retry", metadata={"id": invoice.id})

        await self._workflow.transactions.run_transaction(work)

    # -- helpers ----------------------------------------------------------------------

    def _blank(self, principal: Principal, customer: Customer, currency: str, owner_id: str,
               team_id: str, invoice_id: str = "") -> Invoice:
        moment = now()
        return Invoice(
            id=invoice_id or new_id(), number="", customer_id=customer.id, currency=currency,
            lines=[], discount_rate=Decimal(0), shipping=Decimal(0),
            totals=totals_of([], Decimal(0)), owner_id=owner_id, team_id=team_id,
            audit=Audit.new(principal.subject, moment), state=InvoiceState.DRAFT,
            entered={InvoiceState.DRAFT: moment}, payment_terms=customer.payment_terms)

    @staticmethod
    def _key(principal: Principal, kind: str, request_id: str) -> str:
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        return idempotency_key(kind, principal.subject, request_id)

    async def _once(self, principal: Principal, key: str, invoice: Invoice,
                    work: Callable[[Session], Awaitable[None]]) -> Invoice:
        outcome = await self._idempotency.run_once(key, invoice.id, work)
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return invoice


def _due_date(raw: str, moment: datetime, path: str = f"{PREFIX}.due_date") -> date:
    v = Violations()
    day = check.iso_date(v, path, raw, required=True)
    v.raise_if_any()
    assert day is not None
    if day < today(moment):
        raise InvalidArgument.of(path, f"{day.isoformat()} is in the past")
    return day


def _from_order(invoice: Invoice, fields: set[str]) -> Exception:
    return FailedPrecondition(
        f"invoice draft {invoice.id} bills order {invoice.order_number}: its "
        f"{', '.join(sorted(fields))} come from the order; delete the draft and invoice other "
        "quantities instead", reason="INVOICE_FROM_ORDER",
        metadata={"order_id": invoice.order_id})
