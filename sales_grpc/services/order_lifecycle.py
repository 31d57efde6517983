"""The sales-order lifecycle: each transition is one DocumentWorkflow change that moves the
order, its stock reservation, the customer's statistics and the outbox events together."""

from __future__ import annotations

from ..domain import events as ev
from ..domain import orders as rules
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.authorization import Move, authorize
from ..domain.customers import Customer, check_orderable
from ..domain.errors import Aborted, Violations
from ..domain.money import Money
from ..domain.orders import OrderAction, OrderState, SalesOrder
from ..domain.products import MovementReason, StockMovement
from .documents import Change, DocumentWorkflow, Effects
from .ids import new_id
from .ports import CustomerStatistics, OrderRecords, StockReservations


class OrderLifecycle:
    def __init__(self, workflow: DocumentWorkflow[SalesOrder], orders: OrderRecords,
                 stock: StockReservations, stats: CustomerStatistics) -> None:
        self._workflow = workflow
        self._orders = orders
        self._stock = stock
        self._stats = stats

    async def confirm(self, principal: Principal, order_id: str, etag: str,
                      override: bool = False, override_reason: str = "") -> SalesOrder:
        if override:
            authorize(principal, Move.OVERRIDE_CREDIT_LIMIT)
            v = Violations()
            check.text(v, "override_reason", override_reason, required=True, max_len=500)
            v.raise_if_any()

        try:
            return await self._workflow.change(
                principal, order_id, etag, self.confirming(principal, override, override_reason),
                action=OrderAction.CONFIRM)
        except ShortStock as short:
            raise await self.shortage(short.order) from None

    def confirming(self, principal: Principal, override: bool = False,
                   override_reason: str = "") -> Effects[SalesOrder]:
        """The effects of confirming an order that has just moved to CONFIRMED, in the
        change's transaction: claim the customer's account, check credit, reserve stock,
        emit the events. Raises ShortStock to abort when a product is short (turn it into
        the error with `shortage`). AcceptQuote runs them for the order it makes."""

        async def effects(change: Change[SalesOrder]) -> None:
            order, session = change.document, change.session
            # First, claim the customer's account (stats.record): concurrent confirms for one
            # customer then serialise, so the credit check below reads an exposure no other
            # transaction is changing. The update hands back the customer, so the check needs
            # no extra read; if it fails, the transaction's abort undoes the update.
            grand = Money(order.currency, order.totals.grand_total)
            customer = await self._stats.record(order.customer_id, 1, grand, change.moment,
                                                session)
            check_orderable(customer, order.customer_id,
                            f"order {order.number} cannot be confirmed")
            overridden = await self._check_credit(order, customer, override, change)
            if not await self._stock.reserve_all(order.reserved_quantities(), session):
                raise ShortStock(order)  # aborts: the reservations already made are undone
            order.credit_limit_overridden = overridden
            if overridden:
                change.history.append(order.record(OrderAction.OVERRIDE_CREDIT, principal,
                                                   change.moment, override_reason.strip()))
            change.events += [
                ev.OrderConfirmed.of(order, credit_limit_overridden=overridden),
                ev.StockReserved(order.id, _quantities(order))]

        return effects

    async def shortage(self, order: SalesOrder) -> Exception:
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
        return await self._workflow.change(principal, order_id, etag,
                                           action=OrderAction.START_PROCESSING)

    async def ship(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def effects(change: Change[SalesOrder]) -> None:
            order = change.document
            await self._stock.ship_all([
                StockMovement(new_id(), product_id, -quantity, MovementReason.SHIPMENT,
                              f"sales order {order.number}", 0, principal.subject,
                              change.moment)
                for product_id, quantity in order.reserved_quantities().items()],
                change.session)
            change.events.append(ev.OrderShipped.of(order))

        return await self._workflow.change(principal, order_id, etag, effects,
                                           action=OrderAction.SHIP)

    async def deliver(self, principal: Principal, order_id: str, etag: str) -> SalesOrder:
        async def effects(change: Change[SalesOrder]) -> None:
            change.events.append(ev.OrderDelivered.of(change.document))

        return await self._workflow.change(principal, order_id, etag, effects,
                                           action=OrderAction.DELIVER)

    async def cancel(self, principal: Principal, order_id: str, etag: str, reason: str
                     ) -> SalesOrder:
        v = Violations()
        check.text(v, "reason", reason, required=True, max_len=500)
        v.raise_if_any()
        reason = reason.strip()

        async def effects(change: Change[SalesOrder]) -> None:
            order, session = change.document, change.session
            order.require_no_invoices()
            was = change.history[-1].from_state  # the state the move left
            order.cancel_reason = reason
            change.events.append(ev.OrderCancelled.of(order, reason=reason))
            if was in rules.RESERVING:
                await self._stock.release_all(order.reserved_quantities(), session)
                change.events.append(ev.StockReleased(order.id, _quantities(order)))
            if was is not OrderState.DRAFT:
                await self._stats.record(order.customer_id, -1, Money(
                    order.currency, -order.totals.grand_total), None, session)

        return await self._workflow.change(principal, order_id, etag, effects,
                                           action=OrderAction.CANCEL, note=reason)

    async def _check_credit(self, order: SalesOrder, customer: Customer | None, override: bool,
                            change: Change[SalesOrder]) -> bool:
        """True when the confirmation goes through only thanks to an override."""
        limit = customer.credit_limit if customer else None
        if limit is None or limit.currency != order.currency:
            return False
        # Exposure: confirmed orders not yet invoiced, and open invoices' amount due (kept
        # on the customer just claimed, so it cannot move under this check).
        exposure = await self._orders.open_exposure(order.customer_id, order.currency,
                                                    change.session)
        if customer is not None:
            exposure += customer.stats.owed(order.currency)
        if exposure + order.totals.grand_total <= limit.amount:
            return False
        if override:
            return True
        raise rules.credit_error(order.customer_id,
                                 customer.customer_code if customer else order.customer_id,
                                 limit.amount, exposure, order.totals.grand_total,
                                 order.currency)


class ShortStock(Exception):
    """Raised inside the confirm transaction to abort it when a product is short."""

    def __init__(self, order: SalesOrder) -> None:
        super().__init__(order.number)
        self.order = order


def _quantities(order: SalesOrder) -> list[ev.StockQuantity]:
    skus = {line.product_id: line.sku for line in order.lines}
    return [ev.StockQuantity(pid, skus[pid], qty)
            for pid, qty in order.reserved_quantities().items()]
