"""Files people read: a sales document rendered for the caller who may see it.

The document is read through its own use case, or for invoices and credit notes under the
same rule, so row-level access applies as for a Get (a document outside the caller's scope is
NOT_FOUND). Its customer is read without a scope check: a caller who may see the order may see
whom it is addressed to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ..domain import validation as check
from ..domain.access import Principal, in_scope, scope_of
from ..domain.customers import Customer
from ..domain.documents.view import DocumentView, PartyBlock
from ..domain.errors import NotFound, shown
from ..domain.invoices import Invoice
from ..domain.mail import Attachment
from ..domain.quotes import Quote
from .clock import now
from .document_views import credit_note_view, invoice_view, order_view, quote_view
from .orders import OrderService
from .ports import CreditNoteRecords, CustomerRecords, InvoiceRecords, QuoteRecords
from .quotes import QuoteService

R = TypeVar("R")


class _Owned(Protocol):
    @property
    def owner_id(self) -> str: ...

    @property
    def team_id(self) -> str: ...


D = TypeVar("D", bound=_Owned)


class DocumentRenderer(Protocol):
    """The port to a layout (documents/renderer.py PdfRenderer); beside its one user rather
    than in ports.py, since only these use cases render."""

    @property
    def content_type(self) -> str: ...

    async def render(self, view: DocumentView) -> bytes: ...


@dataclass(frozen=True)
class DocumentFile:
    file_name: str
    content_type: str
    data: bytes


class DocumentFiles:
    def __init__(self, orders: OrderService, quotes: QuoteService, quote_records: QuoteRecords,
                 customers: CustomerRecords, renderer: DocumentRenderer, seller: PartyBlock,
                 *, invoices: InvoiceRecords | None = None,
                 credit_notes: CreditNoteRecords | None = None,
                 clock: Callable[[], datetime] = now) -> None:
        self._orders = orders
        self._quotes = quotes
        self._quote_records = quote_records
        self._customers = customers
        self._renderer = renderer
        self._seller = seller
        self._invoices = invoices
        self._credit_notes = credit_notes
        self._clock = clock

    async def sales_order_pdf(self, principal: Principal, order_id: str) -> DocumentFile:
        order = await self._orders.get(principal, order_id)
        view = order_view(order, await self._customer(order.customer_id), self._seller)
        return await self._file(view)

    async def quote_pdf(self, principal: Principal, quote_id: str) -> DocumentFile:
        return await self.quote_file(await self._quotes.get(principal, quote_id))

    async def quote_file(self, quote: Quote) -> DocumentFile:
        """The quote's PDF as it is, without a scope check (the caller checked, or is the
        delivery worker)."""
        view = quote_view(quote, await self._customer(quote.customer_id), self._seller)
        return await self._file(view)

    async def invoice_pdf(self, principal: Principal, invoice_id: str) -> DocumentFile:
        check.object_id("id", invoice_id)
        invoice = await _wired(self._invoices, "invoice").get(invoice_id)
        return await self.invoice_file(_visible(principal, invoice, "invoice", invoice_id))

    async def invoice_file(self, invoice: Invoice) -> DocumentFile:
        """The invoice's PDF as it is, without a scope check (the caller checked, or is the
        delivery worker); whether it reads overdue is judged on the clock's day."""
        customer = await self._customer(invoice.customer_id)
        return await self._file(invoice_view(invoice, customer, self._seller, self._clock()))

    async def credit_note_pdf(self, principal: Principal, credit_note_id: str
                              ) -> DocumentFile:
        check.object_id("id", credit_note_id)
        note = await _wired(self._credit_notes, "credit note").get(credit_note_id)
        note = _visible(principal, note, "credit note", credit_note_id)
        customer = await self._customer(note.customer_id)
        return await self._file(credit_note_view(note, customer, self._seller))

    async def _file(self, view: DocumentView) -> DocumentFile:
        return DocumentFile(view.file_name, self._renderer.content_type,
                            await self._renderer.render(view))

    async def _customer(self, customer_id: str) -> Customer:
        customer = await self._customers.get(customer_id)
        if customer is None:  # customers are archived, never removed: a broken reference
            raise NotFound(f"the document's customer {customer_id} does not exist",
                           reason="CUSTOMER_NOT_FOUND")
        return customer


def _visible(principal: Principal, document: D | None, kind: str, key: str) -> D:
    """The document if the caller may see it; another rep's is NOT_FOUND, as for a Get, so
    that its existence does not leak."""
    if document is None or not in_scope(scope_of(principal), document.owner_id,
                                         document.team_id):
        raise NotFound(f"{kind} {shown(key)} not found",
                       reason=f"{kind.upper().replace(' ', '_')}_NOT_FOUND")
    return document


def _wired(records: R | None, kind: str) -> R:
    if records is None:  # a composition root that did not pass them: a wiring bug
        raise RuntimeError(f"DocumentFiles was built without the {kind} records")
    return records


class QuotePdfAttachment:
    """The quote's PDF, attached to its mail when the delivery worker sends it (an
    AttachmentSource): rendered from the quote as it is then, with no caller's scope."""

    def __init__(self, files: DocumentFiles, quotes: QuoteRecords) -> None:
        self._files = files
        self._quotes = quotes

    async def attachment(self, document_id: str) -> Attachment:
        quote = await self._quotes.get(document_id)
        if quote is None:
            raise NotFound(f"quote {document_id} not found", reason="QUOTE_NOT_FOUND")
        file = await self._files.quote_file(quote)
        return Attachment(file.file_name, file.content_type, file.data)


class InvoicePdfAttachment:
    """The invoice's PDF, attached to its mail when the delivery worker sends it (an
    AttachmentSource): rendered from the invoice as it is then, with no caller's scope."""

    def __init__(self, files: DocumentFiles, invoices: InvoiceRecords) -> None:
        self._files = files
        self._invoices = invoices

    async def attachment(self, document_id: str) -> Attachment:
        invoice = await self._invoices.get(document_id)
        if invoice is None:
            raise NotFound(f"invoice {document_id} not found", reason="INVOICE_NOT_FOUND")
        file = await self._files.invoice_file(invoice)
        return Attachment(file.file_name, file.content_type, file.data)
