"""The sales-order lifecycle: each transition is one transaction that moves the order, its
stock reservation, the customer's statistics and the outbox events together."""

from __future__ import annotations

from datetime import datetime

from ..domain import events as ev
from ..domain import orders as rules
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.authorization import Move, authorize
from ..domain.customers import Customer, check_orderable
from ..domain.errors import Aborted, Violations
from ..domain.money import Money
from ..domain.orders import OrderState, SalesOrder
from ..domain.products import MovementReason, StockMovement
from .clock import now
from .ids import new_id
from .order_queries import changed_concurrently, visible
from .ports import (
    CustomerStatistics,
    EventOutbox,
    OrderRecords,
    Session,
    StockReservations,
    Transactions,
)


class OrderLifecycle:
    def __init__(self, transactions: Transactions, orders: OrderRecords,
                 stock: StockReservations, stats: CustomerStatistics,
                 outbox: EventOutbox) -> None:
        self._transactions = transactions
        self._orders = orders
        self._stock = stock
        self._stats = stats
        self._outbox = outbox

    async def confirm(self, principal: Principal, order_id: str, etag: str,
                      override: bool = False, override_reason: str = "") -> SalesOrder:
        if override:
            authorize(principal, Move.OVERRIDE_CREDIT_LIMIT)
        if override:
            v = Violations()
            check.text(v, "override_reason", override_reason, required=True, max_len=500)
            v.raise_if_any()

        async def work(session: Session) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "confirmed", session)
            # The stats update hands back the customer, so the credit check needs no extra
            # read; if the check fails, the transaction's abort undoes the update.
            grand = Money(order.currency, order.totals.grand_total)
            customer = await self._stats.record(order.customer_id, 1, grand, moment, session)
            check_orderable(customer, order.customer_id,
                            f"order {order.number} cannot be confirmed")
            overridden = await self._check_credit(order, customer, override, session)
            await self._reserve(order, session)
            order.credit_limit_overridden = overridden
            if overridden:
                order.history.append(rules.HistoryEntry(
                    "credit_override", order.state, order.state, principal.subject, moment,
                    override_reason.strip()))
            return await self._commit(order, principal, moment, session, [
                ev.OrderConfirmed.of(order, credit_limit_overridden=overridden),
                ev.StockReserved(order.id, _quantities(order))])

        try:
            return await self._transactions.run_transaction(work)
        except _ShortStock as short:
            raise await self._shortage(short.order) from None

    async def _shortage(self, order: SalesOrder) -> Exception:
        """Which products were short, read after the abort released everything: accurate to
        the moment of reading (stock can arrive in between; then a retry will do)."""
        wanted = order.reserved_quantities()
        available = await self._stock.availability(list(wanted))
        skus = {line.product_id: line.sku for line in order.lines}
        short = [(pid, skus[pid], qty, available.get(pid, 0))
                 for pid, qty in wanted.items() if available.get(pid, 0) < qty]
        if not short:
            return Aborted(f"stock for {order.number} changed while confirming; retry",
                           reason="STOCK_CHANGED")
        return rules.shortage_error(order.number, short)

    async def start_processing(self, principal: Principal, order_id: str, etag: str
                               ) -> SalesOrder:
        async def work(session: Session) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "processing", session)
            return await self._commit(order, principal, moment, session, [])

        return await self._transactions.run_transaction(work)

    async def ship(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def work(session: Session) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "shipped", session)
            await self._stock.ship_all([
                StockMovement(new_id(), product_id, -quantity, MovementReason.SHIPMENT,
                              f"sales order {order.number}", 0, principal.subject, moment)
                for product_id, quantity in order.reserved_quantities().items()], session)
            return await self._commit(order, principal, moment, session,
                                      [ev.OrderShipped.of(order)])

        return await self._transactions.run_transaction(work)

    async def deliver(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def work(session: Session) -> SalesOrder:
            order, moment = await self._begin(principal, order_id, etag, "delivered", session)
            return await self._commit(order, principal, moment, session,
                                      [ev.OrderDelivered.of(order)])

        return await self._transactions.run_transaction(work)

    async def cancel(self, principal: Principal, order_id: str, etag: str, reason: str
                     ) -> SalesOrder:
        v = Violations()
        check.text(v, "reason", reason, required=True, max_len=500)
        v.raise_if_any()

        async def work(session: Session) -> SalesOrder:
            order = await self._load(principal, order_id, etag, session)
            held = order.state in rules.RESERVING
            counted = order.state is not OrderState.DRAFT
            moment = now()
            order.transition("cancelled", principal, moment, reason.strip())
            order.cancel_reason = reason.strip()
            events: list[ev.DomainEvent] = [ev.OrderCancelled.of(order, reason=order.cancel_reason)]
            if held:
                await self._stock.release_all(order.reserved_quantities(), session)
                events.append(ev.StockReleased(order.id, _quantities(order)))
            if counted:
                await self._stats.record(order.customer_id, -1, Money(
                    order.currency, -order.totals.grand_total), None, session)
            return await self._commit(order, principal, moment, session, events)

        return await self._transactions.run_transaction(work)

    # -- steps shared by the transitions ---------------------------------------------------

    async def _load(self, principal: Principal, order_id: str, etag: str,
                    session: Session) -> SalesOrder:
        check.object_id("id", order_id)
        order = visible(principal, await self._orders.get(order_id, session), order_id)
        order.check_etag(etag)
        return order

    async def _begin(self, principal: Principal, order_id: str, etag: str, action: str,
                     session: Session) -> tuple[SalesOrder, datetime]:
        order = await self._load(principal, order_id, etag, session)
        moment = now()
        order.transition(action, principal, moment)
        return order, moment

    async def _commit(self, order: SalesOrder, principal: Principal, moment: datetime,
                      session: Session, events: list[ev.DomainEvent]) -> SalesOrder:
        """Saves the transitioned order (one version on) with its events, atomically."""
        if not await self._orders.save(order, order.version - 1, session):
            raise changed_concurrently(order)
        await self._outbox.add(events, principal.subject, moment, session)
        return order

    async def _reserve(self, order: SalesOrder, session: Session) -> None:
        if not await self._stock.reserve_all(order.reserved_quantities(), session):
            raise _ShortStock(order)  # aborts: the reservations already made are undone

    async def _check_credit(self, order: SalesOrder, customer: Customer | None, override: bool,
                            session: Session) -> bool:
        """True when the confirmation goes through only thanks to an override."""
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


class _ShortStock(Exception):
    """Raised inside the confirm transaction to abort it when a product is short."""

    def __init__(self, order: SalesOrder) -> None:
        super().__init__(order.number)
        self.order = order


def _quantities(order: SalesOrder) -> list[ev.StockQuantity]:
    skus = {line.product_id: line.sku for line in order.lines}
    return [ev.StockQuantity(pid, skus[pid], qty)
            for pid, qty in order.reserved_quantities().items()]

