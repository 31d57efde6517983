"""Sales-order use cases: create, read, edit and duplicate drafts (the lifecycle is in
order_lifecycle.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..config import Settings
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.documents.lines import totals_of
from ..domain.errors import InvalidArgument, Violations
from ..domain.listing import page_size
from ..domain.money import Money
from ..domain.numbering import SALES_ORDER
from ..domain.orders import OrderAction, OrderHistoryEntry, OrderState, SalesOrder
from ..domain.records import Audit
from .clock import now
from .customers import CustomerService
from .document_lines import LineInput
from .documents import Change, DocumentWorkflow
from .drafts import PRICING_FIELDS, DraftInput, Drafts
from .ids import new_id
from .order_queries import list_orders
from .ports import (
    IdempotencyKeys,
    NumberSeries,
    OrderRecords,
    Page,
    ProductRecords,
    Replayed,
    idempotency_key,
)

OrderInput = DraftInput  # an order's draft is a plain sales-document draft


EDITABLE = PRICING_FIELDS


class OrderService:
    def __init__(self, workflow: DocumentWorkflow[SalesOrder], orders: OrderRecords,
                 products: ProductRecords, customers: CustomerService,
                 idempotency: IdempotencyKeys, settings: Settings,
                 numbers: NumberSeries) -> None:
        self._workflow = workflow
        self._orders = orders
        self._products = products
        self._customers = customers
        self._idempotency = idempotency
        self._settings = settings
        self._numbers = numbers
        self._drafts = Drafts(products, customers, settings)

    # -- reading ---------------------------------------------------------------------------

    async def get(self, principal: Principal, order_id: str) -> SalesOrder:
        check.object_id("id", order_id)
        return self._workflow.visible(principal, await self._orders.get(order_id), order_id)

    async def get_by_number(self, principal: Principal, number: str) -> SalesOrder:
        if not number:
            raise InvalidArgument.of("number", "is required")
        return self._workflow.visible(principal, await self._orders.get_by_number(number),
                                      number)

    async def list_page(self, principal: Principal, **query: Any) -> tuple[list[SalesOrder], str]:
        return await list_orders(self._orders, principal, **query)

    async def history(self, principal: Principal, order_id: str, size: int = 0, token: str = ""
                      ) -> Page[OrderHistoryEntry]:
        return await self._workflow.history(principal, order_id, page_size(size), token)

    # -- creating and editing --------------------------------------------------------------

    async def create(self, principal: Principal, data: OrderInput, request_id: str = ""
                     ) -> SalesOrder:
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        key = idempotency_key("order", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)  # before drawing an order number
        order = await self._draft(principal, data)
        order.number = await self._numbers.draw(SALES_ORDER, order.audit.create_time, None)
        outcome = await self._idempotency.run_once_single_write(
            key, order.id,
            lambda session: self._workflow.add(order, OrderAction.CREATE, principal, session))
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return order

    async def _draft(self, principal: Principal, data: OrderInput) -> SalesOrder:
        start = await self._drafts.start(principal, data, "sales_order", "order")
        moment = now()
        order = SalesOrder(
            id=new_id(), number="", customer_id=start.customer.id, currency=start.currency,
            lines=[], discount_rate=Decimal(0), shipping=Decimal(0),
            totals=totals_of([], Decimal(0)), owner_id=start.owner_id, team_id=start.team_id,
            audit=Audit.new(principal.subject, moment), state=OrderState.DRAFT,
            entered={OrderState.DRAFT: moment})
        self._drafts.apply(principal, order, data, set(PRICING_FIELDS), start.catalog,
                           "sales_order")
        return order

    async def update(self, principal: Principal, order_id: str, mask: list[str],
                     data: OrderInput, etag: str) -> SalesOrder:
        fields = check.update_mask(mask, EDITABLE, kind="draft order")
        catalog = await self._drafts.catalog(data, set(fields))

        async def effects(change: Change[SalesOrder]) -> None:
            order = change.document
            order.require_draft()
            self._drafts.apply(principal, order, data, set(fields), catalog, "sales_order")
            change.history.append(order.record(OrderAction.UPDATE, principal, change.moment,
                                               ",".join(fields)))

        return await self._workflow.change(principal, order_id, etag, effects)

    async def duplicate(self, principal: Principal, order_id: str, request_id: str = ""
                        ) -> SalesOrder:
        source = await self.get(principal, order_id)
        data = OrderInput(
            customer_id=source.customer_id, currency=source.currency,
            lines=[LineInput(x.product_id, x.quantity, None, str(x.discount_rate))
                   for x in source.lines],
            discount_rate=str(source.discount_rate),
            shipping=Money(source.currency, source.shipping), notes=source.notes)
        return await self.create(principal, data, request_id)


__all__ = ["OrderInput", "OrderService"]
