"""The shared document core: the pricing rule, the state machine and the history moves leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.documents.lines import DocumentLine, reprice, totals_of
from sales_grpc.domain.errors import FailedPrecondition
from sales_grpc.domain.money import MINOR_UNITS
from sales_grpc.domain.orders import LIFECYCLE, OrderAction, OrderState, SalesOrder
from sales_grpc.domain.pricing import LineAmounts, Totals
from sales_grpc.domain.records import Audit

NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)
ADMIN = Principal("admin-1", Role.ADMIN)
ZERO = LineAmounts(Decimal(0), Decimal(0), Decimal(0))


def _line(quantity: int, price: Decimal, discount: Decimal, tax: Decimal) -> DocumentLine:
    return DocumentLine("p" * 24, "SKU", "Thing", quantity, price, False, discount, tax, ZERO,
                        price)


rates = st.decimals(min_value=0, max_value=1, places=4)
lines = st.lists(st.tuples(st.integers(1, 1_000_000),
                           st.decimals(min_value=0, max_value=Decimal("999999.999999"),
                                       places=6),
                           rates, rates), min_size=1, max_size=20)


@given(lines=lines, document_discount=rates, currency=st.sampled_from(["USD", "JPY", "BHD"]),
       shipping=st.decimals(min_value=0, max_value=10_000, places=0))
def test_lines_add_up_to_the_totals_to_the_minor_unit(lines, document_discount, currency,
                                                     shipping):
    priced = reprice([_line(*x) for x in lines], document_discount, currency)
    totals = totals_of(priced, shipping)
    quantum = Decimal(1).scaleb(-MINOR_UNITS[currency])
    for line in priced:
        a = line.amounts
        for amount in (a.gross, a.discount, a.tax, a.total):
            assert amount == amount.quantize(quantum)  # rounded per line, never finer
        assert Decimal(0) <= a.discount <= a.gross
        assert a.total == a.gross - a.discount + a.tax
    assert totals.subtotal == sum(x.amounts.gross for x in priced)
    assert totals.discount_total == sum(x.amounts.discount for x in priced)
    assert totals.tax_total == sum(x.amounts.tax for x in priced)
    assert totals.grand_total == sum(x.amounts.total for x in priced) + shipping


def test_pricing_rounds_each_line_half_up_before_summing():
    priced = reprice([_line(3, Decimal("0.005"), Decimal(0), Decimal("0.19")),
                      _line(3, Decimal("19.99"), Decimal("0.125"), Decimal("0.07"))],
                     Decimal("0.05"), "USD")
    assert [x.amounts.gross for x in priced] == [Decimal("0.02"), Decimal("59.97")]
    # 59.97 - 7.50 (12.5%) = 52.47; 5% of it = 2.62; taxable 49.85; 7% = 3.49
    assert (priced[1].amounts.discount, priced[1].amounts.tax) == (Decimal("10.12"),
                                                                   Decimal("3.49"))


def _order(state: OrderState = OrderState.DRAFT) -> SalesOrder:
    return SalesOrder(id="o" * 24, number="SO-2026-000001", customer_id="c" * 24,
                      currency="USD", lines=[], discount_rate=Decimal(0), shipping=Decimal(0),
                      totals=Totals(Decimal(0), Decimal(0), Decimal(0), Decimal(0)),
                      owner_id="rep-1", team_id="team-a", audit=Audit.new("rep-1", NOW),
                      state=state, entered={OrderState.DRAFT: NOW})


ALLOWED = {
    (OrderAction.CONFIRM, OrderState.DRAFT): OrderState.CONFIRMED,
    (OrderAction.START_PROCESSING, OrderState.CONFIRMED): OrderState.PROCESSING,
    (OrderAction.SHIP, OrderState.PROCESSING): OrderState.SHIPPED,
    (OrderAction.DELIVER, OrderState.SHIPPED): OrderState.DELIVERED,
    (OrderAction.CANCEL, OrderState.DRAFT): OrderState.CANCELLED,
    (OrderAction.CANCEL, OrderState.CONFIRMED): OrderState.CANCELLED,
    (OrderAction.CANCEL, OrderState.PROCESSING): OrderState.CANCELLED,
}


@pytest.mark.parametrize("action", list(LIFECYCLE.steps))
@pytest.mark.parametrize("state", list(OrderState))
def test_the_order_lifecycle_allows_exactly_its_documented_moves(action, state):
    order = _order(state)
    if (action, state) in ALLOWED:
        entry = order.move(action, ADMIN, NOW + timedelta(hours=1), "why")
        assert order.state is ALLOWED[(action, state)]
        assert (entry.action, entry.from_state, entry.to_state, entry.actor, entry.note) == (
            action, state, order.state, "admin-1", "why")
    else:
        with pytest.raises(FailedPrecondition) as refused:
            order.move(action, ADMIN, NOW)
        assert refused.value.metadata["current_state"] == state.name
        assert refused.value.violations[0].subject == f"salesOrders/{order.id}"
        assert order.state is state  # nothing moved


def test_a_move_stamps_the_time_the_state_was_entered():
    order = _order()
    confirmed_at, cancelled_at = NOW + timedelta(minutes=5), NOW + timedelta(minutes=9)
    order.move(OrderAction.CONFIRM, ADMIN, confirmed_at)
    order.move(OrderAction.CANCEL, ADMIN, cancelled_at)
    assert (order.confirm_time, order.cancel_time, order.ship_time) == (
        confirmed_at, cancelled_at, None)


def test_an_edit_is_recorded_without_moving_the_state():
    order = _order()
    entry = order.record(OrderAction.UPDATE, ADMIN, NOW, "notes")
    assert (entry.from_state, entry.to_state, order.state) == (OrderState.DRAFT,) * 3
