"""Sales-order use cases: create, edit, and the lifecycle with stock, credit and events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from ..config import Settings
from ..domain import events as ev
from ..domain import orders as rules
from ..domain import validation as check
from ..domain.access import Principal, in_scope, scope_of
from ..domain.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Violations,
)
from ..domain.money import Money, MoneyError, check_currency
from ..domain.orders import OrderState, SalesOrder
from ..domain.products import MovementReason, StockMovement
from ..domain.records import Audit
from ..store.customers import CustomerRepository, CustomerStats
from ..store.mongo import Idempotency, Mongo, RequestReplayed
from ..store.orders import OrderRepository
from ..store.outbox import Outbox
from ..store.products import ProductRepository, StockLedger
from .clock import now
from .customers import CustomerService
from .order_lines import LineInput, build_lines, parse_rate
from .order_queries import FILTERS, ORDER_BY, list_orders


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
    def __init__(self, mongo: Mongo, orders: OrderRepository, products: ProductRepository,
                 customers: CustomerService, customer_records: CustomerRepository,
                 settings: Settings) -> None:
        self._mongo = mongo
        self._orders = orders
        self._products = products
        self._customers = customers
        self._customer_records = customer_records
        self._stock = StockLedger(mongo)
        self._stats = CustomerStats(mongo)
        self._outbox = Outbox(mongo)
        self._idempotency = Idempotency(mongo)
        self._settings = settings

    # -- reading ---------------------------------------------------------------------------

    async def get(self, principal: Principal, order_id: str) -> SalesOrder:
        check.object_id("id", order_id)
        return self._visible(principal, await self._orders.get(order_id), order_id)

    async def get_by_number(self, principal: Principal, number: str) -> SalesOrder:
        if not number:
            raise InvalidArgument.of("number", "is required")
        return self._visible(principal, await self._orders.get_by_number(number), number)

    def _visible(self, principal: Principal, order: SalesOrder | None, key: str) -> SalesOrder:
        if order is None or not in_scope(scope_of(principal), order.owner_id, order.team_id):
            raise NotFound(f"sales order {key[:40]} not found", reason="ORDER_NOT_FOUND")
        return order

    async def list_page(self, principal: Principal, **query: Any) -> tuple[list[SalesOrder], str]:
        return await list_orders(self._orders, principal, **query)

    # -- creating and editing --------------------------------------------------------------

    async def create(self, principal: Principal, data: OrderInput, request_id: str = ""
                     ) -> SalesOrder:
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        key = Idempotency.key("order", principal.subject, request_id) if request_id else ""
        if key and (existing := await self._idempotency.find(key)):
            return await self.get(principal, existing)
        order = await self._draft(principal, data)
        order.number = self._settings.order_number_format.format(
            year=order.audit.create_time.year,
            seq=await self._orders.next_number_sequence(order.audit.create_time.year))
        try:
            async with self._mongo.transaction() as session:
                await self._idempotency.claim(key, order.id, session)
                await self._orders.add(order, session)
        except RequestReplayed:
            return await self.get(principal, await self._idempotency.wait_for(key))
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
        customer = await self._customers.get(principal, data.customer_id)
        if customer.is_deleted or customer.status.value == "suspended":
            raise FailedPrecondition(
                f"customer {customer.customer_code} is "
                f"{'deleted' if customer.is_deleted else 'suspended'}; no new orders",
                reason="CUSTOMER_NOT_ORDERABLE", metadata={"customer_id": customer.id})
        moment = now()
        order = SalesOrder(
            id=str(ObjectId()), number="", customer_id=customer.id, currency=currency, lines=[],
            discount_rate=Decimal(0), shipping=Decimal(0), totals=rules.totals_of([], Decimal(0)),
            owner_id=data.owner_id or principal.subject,
            team_id=data.team_id or principal.team_id, audit=Audit.new(principal.subject, moment))
        if (order.owner_id != principal.subject or order.team_id != principal.team_id) and \
                not principal.is_privileged:
            raise PermissionDenied("a sales rep can only create orders they own",
                                   reason="ASSIGNMENT_NOT_ALLOWED")
        await self._apply(principal, order, data, {"lines", "discount_rate", "shipping_charge",
                                                   "notes"})
        order.history.append(rules.HistoryEntry("created", None, OrderState.DRAFT,
                                                principal.subject, moment))
        return order

    async def _apply(self, principal: Principal, order: SalesOrder, data: OrderInput,
                     fields: set[str]) -> None:
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
            else:
                order.shipping = shipping.rounded().amount
        if "notes" in fields:
            check.text(v, "sales_order.notes", data.notes, required=False, max_len=2000)
            order.notes = data.notes
        if "lines" in fields:
            order.lines = await build_lines(v, data.lines or [], order.currency, self._products,
                                            self._settings.default_tax_rate)
        v.raise_if_any()
        rules.check_discounts(principal, [("sales_order.discount_rate", order.discount_rate)] + [
            (f"sales_order.lines[{i}].discount_rate", line.discount_rate)
            for i, line in enumerate(order.lines)], self._settings.default_discount_limit)
        order.lines = rules.reprice(order.lines, order.discount_rate, order.currency)
        order.totals = rules.totals_of(order.lines, order.shipping)

    async def update(self, principal: Principal, order_id: str, mask: list[str],
                     data: OrderInput, etag: str) -> SalesOrder:
        v = Violations()
        if not mask:
            v.add("update_mask", "is required: name the fields to change")
        for path in mask:
            if path not in EDITABLE:
                v.add("update_mask", f"{path!r} is not editable; editable: "
                      + ", ".join(sorted(EDITABLE)))
        v.raise_if_any("invalid update_mask")
        order = await self.get(principal, order_id)
        order.check_etag(etag)
        order.require_draft()
        expected = order.version
        await self._apply(principal, order, data, set(mask))
        moment = now()
        order.history.append(rules.HistoryEntry("updated", order.state, order.state,
                                                principal.subject, moment, ",".join(sorted(mask))))
        order.touch(principal, moment)
        if not await self._orders.save(order, expected):
            raise _changed(order)
        return order

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

    # -- the lifecycle ---------------------------------------------------------------------

    async def confirm(self, principal: Principal, order_id: str, etag: str,
                      override: bool = False, override_reason: str = "") -> SalesOrder:
        if override and not principal.is_privileged:
            raise PermissionDenied("only a sales manager or admin can override a credit limit",
                                   reason="OVERRIDE_NOT_ALLOWED")
        if override and not override_reason.strip():
            raise InvalidArgument.of("override_reason", "is required with an override")

        async def work(session: AsyncClientSession) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "confirmed", session)
            overridden = await self._check_credit(order, override, session)
            await self._reserve(order, session)
            order.credit_limit_overridden = overridden
            if overridden:
                order.history.append(rules.HistoryEntry(
                    "credit_override", order.state, order.state, principal.subject, moment,
                    override_reason.strip()))
            grand = Money(order.currency, order.totals.grand_total)
            await self._stats.record(order.customer_id, 1, grand, moment, session)
            return await self._commit(order, principal, moment, session, [
                ev.OrderConfirmed(order.id, order.number, order.customer_id,
                                  str(order.totals.grand_total), order.currency, overridden),
                ev.StockReserved(order.id, _quantities(order))])

        return await self._mongo.run_transaction(work)

    async def start_processing(self, principal: Principal, order_id: str, etag: str
                               ) -> SalesOrder:
        async def work(session: AsyncClientSession) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "processing", session)
            return await self._commit(order, principal, moment, session, [])

        return await self._mongo.run_transaction(work)

    async def ship(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def work(session: AsyncClientSession) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "shipped", session)
            for product_id, quantity in order.reserved_quantities().items():
                await self._stock.ship(StockMovement(
                    str(ObjectId()), product_id, -quantity, MovementReason.SHIPMENT,
                    f"sales order {order.number}", 0, principal.subject, moment), session)
            return await self._commit(order, principal, moment, session,
                                      [ev.OrderShipped(order.id, order.number)])

        return await self._mongo.run_transaction(work)

    async def deliver(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def work(session: AsyncClientSession) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "delivered", session)
            return await self._commit(order, principal, moment, session,
                                      [ev.OrderDelivered(order.id, order.number)])

        return await self._mongo.run_transaction(work)

    async def cancel(self, principal: Principal, order_id: str, etag: str, reason: str
                     ) -> SalesOrder:
        v = Violations()
        check.text(v, "reason", reason, required=True, max_len=500)
        v.raise_if_any()

        async def work(session: AsyncClientSession) -> SalesOrder:
            order = await self._load(principal, order_id, etag, session)
            held = order.state in rules.RESERVING
            counted = order.state is not OrderState.DRAFT
            moment = now()
            order.transition("cancelled", principal, moment, reason.strip())
            order.cancel_reason = reason.strip()
            events: list[ev.DomainEvent] = [ev.OrderCancelled(order.id, order.number,
                                                              order.cancel_reason)]
            if held:
                for product_id, quantity in order.reserved_quantities().items():
                    await self._stock.release(product_id, quantity, session)
                events.append(ev.StockReleased(order.id, _quantities(order)))
            if counted:
                await self._stats.record(order.customer_id, -1, Money(
                    order.currency, -order.totals.grand_total), None, session)
            return await self._commit(order, principal, moment, session, events)

        return await self._mongo.run_transaction(work)

    # -- steps shared by the transitions ---------------------------------------------------

    async def _load(self, principal: Principal, order_id: str, etag: str,
                    session: AsyncClientSession) -> SalesOrder:
        check.object_id("id", order_id)
        order = self._visible(principal, await self._orders.get(order_id, session), order_id)
        order.check_etag(etag)
        return order

    async def _begin(self, principal: Principal, order_id: str, etag: str, action: str,
                     session: AsyncClientSession) -> tuple[SalesOrder, datetime]:
        order = await self._load(principal, order_id, etag, session)
        moment = now()
        order.transition(action, principal, moment)
        return order, moment

    async def _commit(self, order: SalesOrder, principal: Principal, moment: datetime,
                      session: AsyncClientSession, events: list[ev.DomainEvent]) -> SalesOrder:
        """Saves the transitioned order (one version on) with its events, atomically."""
        if not await self._orders.save(order, order.version - 1, session):
            raise _changed(order)
        await self._outbox.add(events, principal.subject, moment, session)
        return order

    async def _reserve(self, order: SalesOrder, session: AsyncClientSession) -> None:
        """Reserves every line or raises listing every shortage; the transaction's abort
        undoes the reservations already made."""
        shortages: list[tuple[str, str, int, int]] = []
        skus = {line.product_id: line.sku for line in order.lines}
        for product_id, quantity in order.reserved_quantities().items():
            if not await self._stock.reserve(product_id, quantity, session):
                available = await self._stock.available(product_id, session)
                shortages.append((product_id, skus[product_id], quantity, available))
        if shortages:
            raise rules.shortage_error(order.number, shortages)

    async def _check_credit(self, order: SalesOrder, override: bool,
                            session: AsyncClientSession) -> bool:
        """True when the confirmation goes through only thanks to an override."""
        customer = await self._customer_records.get(order.customer_id, session)
        limit = customer.credit_limit if customer else None
        if limit is None or limit.currency != order.currency:
            return False
        exposure = await self._orders.open_exposure(order.customer_id, order.currency, session)
        if exposure + order.totals.grand_total <= limit.amount:
            return False
        if override:
            return True
        raise rules.credit_error(customer.customer_code if customer else order.customer_id,
                                 limit.amount, exposure, order.totals.grand_total,
                                 order.currency)


def _quantities(order: SalesOrder) -> list[ev.StockQuantity]:
    skus = {line.product_id: line.sku for line in order.lines}
    return [ev.StockQuantity(pid, skus[pid], qty)
            for pid, qty in order.reserved_quantities().items()]


def _changed(order: SalesOrder) -> Aborted:
    return Aborted(f"order {order.number} was changed concurrently; re-read and retry",
                   metadata={"id": order.id})


__all__ = ["FILTERS", "ORDER_BY", "OrderInput", "OrderService"]
