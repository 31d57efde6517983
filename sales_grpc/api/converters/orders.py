"""Sales-order messages to domain values and back."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from erp.sales.v1 import money_pb2
from erp.sales.v1 import order_service_pb2 as pb

from ...domain.errors import Violations
from ...domain.money import Money
from ...domain.orders import OrderHistoryEntry, OrderState, SalesOrder
from ...services.orders import OrderInput
from .common import (
    audit_out,
    enum_names,
    enum_out,
    money_in,
    money_out,
    only_masked,
    timestamp,
)
from .documents import line_out, lines_in, totals_out

STATES = enum_names(pb.SalesOrderState.DESCRIPTOR, "SALES_ORDER_STATE_")


def order_in(message: pb.SalesOrder, mask: Sequence[str] | None = None) -> OrderInput:
    """The order's editable values; on update (`mask` given) bad values outside the mask
    are ignored like the fields themselves."""
    v = Violations()
    lines = lines_in(v, "sales_order.lines", message.lines)
    shipping = (money_in(v, "sales_order.shipping_charge", message.shipping_charge)
                if message.HasField("shipping_charge") else None)
    only_masked(v, "sales_order", mask)
    v.raise_if_any()
    return OrderInput(customer_id=message.customer_id, currency=message.currency_code,
                      lines=lines, discount_rate=message.discount_rate, shipping=shipping,
                      notes=message.notes, owner_id=message.owner_id, team_id=message.team_id)


def _money(amount: Decimal, currency: str) -> money_pb2.Money | None:
    return money_out(Money(currency, amount))


def _state(state: OrderState | None) -> int:
    return 0 if state is None else enum_out(state, STATES)


def order_out(o: SalesOrder) -> pb.SalesOrder:
    c = o.currency
    return pb.SalesOrder(
        id=o.id, number=o.number, customer_id=o.customer_id,
        state=_state(o.state),  # type: ignore[arg-type]
        currency_code=c,
        lines=[line_out(x, c, o.discount_rate) for x in o.lines],
        discount_rate=str(o.discount_rate), shipping_charge=_money(o.shipping, c),
        totals=totals_out(o.totals, c),
        notes=o.notes, owner_id=o.owner_id, team_id=o.team_id, audit=audit_out(o.audit),
        etag=o.etag, confirm_time=timestamp(o.confirm_time), ship_time=timestamp(o.ship_time),
        deliver_time=timestamp(o.deliver_time), cancel_time=timestamp(o.cancel_time),
        cancel_reason=o.cancel_reason, credit_limit_overridden=o.credit_limit_overridden,
        quote_id=o.quote_id, invoiced_quantities=[t.quantity for t in o.invoiced],
        invoiced_amount=_money(o.invoiced_amount, c),
    )


def history_out(h: OrderHistoryEntry) -> pb.SalesOrderHistoryEntry:
    return pb.SalesOrderHistoryEntry(
        action=h.action.value, from_state=_state(h.from_state),  # type: ignore[arg-type]
        to_state=_state(h.to_state),  # type: ignore[arg-type]
        actor=h.actor, time=timestamp(h.time), note=h.note)
