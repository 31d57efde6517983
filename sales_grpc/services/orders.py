"""Sales-order use cases: create, read, edit and duplicate drafts (the lifecycle is in
order_lifecycle.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..domain import orders as rules
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.customers import check_orderable
from ..domain.documents.lines import check_discounts, totals_of
from ..domain.errors import InvalidArgument, Violations
from ..domain.listing import page_size
from ..domain.money import Money, MoneyError, check_currency
from ..domain.numbering import SALES_ORDER
from ..domain.orders import OrderAction, OrderHistoryEntry, OrderState, SalesOrder
from ..domain.pricing import check_within_cap
from ..domain.products import Product
from ..domain.records import Audit
from .clock import now
from .customers import CustomerService
from .document_lines import LineInput, build_lines, load_catalog, parse_rate
from .documents import Change, DocumentWorkflow
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


@dataclass(frozen=True)
class OrderInput:
    customer_id: str = ""
    currency: str = ""
    lines: list[LineInput] | None = None
    discount_rate: str = ""
    shipping: Money | None = None
    notes: str = ""
    owner_id: str = ""
    team_id: str = ""


EDITABLE = frozenset({"lines", "discount_rate", "shipping_charge", "notes"})


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
        v = Violations()
        if not data.customer_id:
            v.add("sales_order.customer_id", "is required")
        currency = data.currency or self._settings.default_currency
        try:
            check_currency(currency)
        except MoneyError as exc:
            v.add("sales_order.currency_code", str(exc))
        v.raise_if_any()
        # The customer and the catalog are independent reads: one wait instead of two.
        customer, catalog = await asyncio.gather(
            self._customers.get(principal, data.customer_id),
            load_catalog(self._products, data.lines or []))
        check_orderable(customer, customer.id, f"no new orders for {customer.customer_code}")
        owner_id, team_id = rules.assignment(principal, customer.team_id, data.owner_id,
                                             data.team_id)
        moment = now()
        order = SalesOrder(
            id=new_id(), number="", customer_id=customer.id, currency=currency, lines=[],
            discount_rate=Decimal(0), shipping=Decimal(0), totals=totals_of([], Decimal(0)),
            owner_id=owner_id, team_id=team_id, audit=Audit.new(principal.subject, moment),
            state=OrderState.DRAFT, entered={OrderState.DRAFT: moment})
        self._apply(principal, order, data, {"lines", "discount_rate", "shipping_charge",
                                             "notes"}, catalog)
        return order

    def _apply(self, principal: Principal, order: SalesOrder, data: OrderInput,
               fields: set[str], catalog: dict[str, Product]) -> None:
        v = Violations()
        if "discount_rate" in fields:
            order.discount_rate = parse_rate(v, "sales_order.discount_rate", data.discount_rate)
        if "shipping_charge" in fields:
            shipping = data.shipping or Money.zero(order.currency)
            if shipping.currency != order.currency:
                v.add("sales_order.shipping_charge.currency_code",
                      f"must be the order's currency {order.currency}")
            elif shipping.is_negative():
                v.add("sales_order.shipping_charge.amount", "must not be negative")
            elif not shipping.fits_minor_unit():
                v.add("sales_order.shipping_charge.amount", shipping.minor_unit_error())
            else:
                order.shipping = shipping.rounded().amount
        if "notes" in fields:
            check.text(v, "sales_order.notes", data.notes, required=False, max_len=2000)
            order.notes = data.notes
        if "lines" in fields:
            order.lines = build_lines(v, data.lines or [], order.currency, catalog,
                                      self._settings.default_tax_rate, "sales_order.lines")
        v.raise_if_any()
        if fields & {"lines", "discount_rate"}:  # only the caller's own pricing moves
            check_discounts(principal, order.lines, order.discount_rate,
                            self._settings.default_discount_limit, "sales_order")
        order.reprice()
        check_within_cap([line.amounts for line in order.lines], order.totals)

    async def update(self, principal: Principal, order_id: str, mask: list[str],
                     data: OrderInput, etag: str) -> SalesOrder:
        fields = check.update_mask(mask, EDITABLE, kind="draft order")
        catalog = await load_catalog(self._products, data.lines or []) \
            if "lines" in fields else {}

        async def effects(change: Change[SalesOrder]) -> None:
            order = change.document
            order.require_draft()
            self._apply(principal, order, data, set(fields), catalog)
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
