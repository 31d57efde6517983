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
from .document_views import order_view
from .orders import OrderService
from .ports import CustomerRecords


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
    def __init__(self, orders: OrderService, customers: CustomerRecords,
                 renderer: DocumentRenderer, seller: PartyBlock) -> None:
        self._orders = orders
        self._customers = customers
        self._renderer = renderer
        self._seller = seller

    async def sales_order_pdf(self, principal: Principal, order_id: str) -> DocumentFile:
        order = await self._orders.get(principal, order_id)
        view = order_view(order, await self._customer(order.customer_id), self._seller)
        return DocumentFile(view.file_name, self._renderer.content_type,
                            await self._renderer.render(view))

    async def _customer(self, customer_id: str) -> Customer:
        customer = await self._customers.get(customer_id)
        if customer is None:  # customers are archived, never removed: a broken reference
            raise NotFound(f"the document's customer {customer_id} does not exist",
                           reason="CUSTOMER_NOT_FOUND")
        return customer
