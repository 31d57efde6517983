"""Files people read: a sales document rendered for the caller who may see it.

The document is read through its own use case, so row-level access applies as for a Get (a
document outside the caller's scope is NOT_FOUND). Its customer is read without a scope
check: a caller who may see the order may see whom it is addressed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.access import Principal
from ..domain.customers import Customer
from ..domain.documents.view import DocumentView, PartyBlock
from ..domain.errors import NotFound
from ..domain.mail import Attachment
from ..domain.quotes import Quote
from .document_views import order_view, quote_view
from .orders import OrderService
from .ports import CustomerRecords, QuoteRecords
from .quotes import QuoteService


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
                 customers: CustomerRecords, renderer: DocumentRenderer, seller: PartyBlock
                 ) -> None:
        self._orders = orders
        self._quotes = quotes
        self._quote_records = quote_records
        self._customers = customers
        self._renderer = renderer
        self._seller = seller

    async def sales_order_pdf(self, principal: Principal, order_id: str) -> DocumentFile:
        order = await self._orders.get(principal, order_id)
        view = order_view(order, await self._customer(order.customer_id), self._seller)
        return DocumentFile(view.file_name, self._renderer.content_type,
                            await self._renderer.render(view))

    async def quote_pdf(self, principal: Principal, quote_id: str) -> DocumentFile:
        return await self.quote_file(await self._quotes.get(principal, quote_id))

    async def quote_file(self, quote: Quote) -> DocumentFile:
        """The quote's PDF as it is, without a scope check (the caller checked, or is the
        delivery worker)."""
        view = quote_view(quote, await self._customer(quote.customer_id), self._seller)
        return DocumentFile(view.file_name, self._renderer.content_type,
                            await self._renderer.render(view))

    async def _customer(self, customer_id: str) -> Customer:
        customer = await self._customers.get(customer_id)
        if customer is None:  # customers are archived, never removed: a broken reference
            raise NotFound(f"the document's customer {customer_id} does not exist",
                           reason="CUSTOMER_NOT_FOUND")
        return customer


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
