"""The order use cases over the fakes of their ports (tests/fakes.py): no server, no database."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from sales_grpc.domain import events as ev
from sales_grpc.domain.access import PERMISSIONS, Principal, Role
from sales_grpc.domain.customers import Customer, CustomerType
from sales_grpc.domain.errors import FailedPrecondition, PermissionDenied
from sales_grpc.domain.money import Money
from sales_grpc.domain.numbering import INVOICE, DrawOutsideTransaction
from sales_grpc.domain.orders import OrderAction, OrderState, SalesOrder
from sales_grpc.domain.products import MovementReason, Product, Stock
from sales_grpc.domain.records import Audit
from sales_grpc.services.clock import now
from sales_grpc.services.document_lines import LineInput
from sales_grpc.services.ids import new_id
from sales_grpc.services.orders import OrderInput
from sales_grpc.services.ports import Session
from tests.fakes import FakeApp, FakeSession, fake_app

REP = Principal("rep-ann", Role.SALES_REP, frozenset(PERMISSIONS), team_id="north")
MANAGER = Principal("mgr-bo", Role.SALES_MANAGER, frozenset(PERMISSIONS), team_id="north")
D = Decimal


def add_product(app: FakeApp, sku: str, price: str, on_hand: int,
                tax_rate: str | None = None) -> Product:
    product = Product(id=new_id(), sku=sku, name=sku.title(), unit_price=Money.parse("USD", price),
                      audit=Audit.new("seed", now()), stock=Stock(on_hand),
                      tax_rate=None if tax_rate is None else D(tax_rate))
    app.db.products[product.id] = product
    return product


async def add_customer(app: FakeApp, credit_limit: str | None = None) -> Customer:
    values: dict[str, object] = {
        "first_name": "Ada", "last_name": "Byron", "email": "ada@example.com",
        "customer_type": CustomerType.INDIVIDUAL, "owner_id": REP.subject}
    if credit_limit is not None:
        values["credit_limit"] = Money.parse("USD", credit_limit)
    return await app.customers.create(MANAGER, values)  # a credit limit is a manager's to set


async def draft(app: FakeApp, customer: Customer, *lines: LineInput, discount: str = "",
                shipping: str = "0", by: Principal = REP) -> SalesOrder:
    return await app.orders.create(by, OrderInput(
        customer_id=customer.id, currency="USD", lines=list(lines), discount_rate=discount,
        shipping=Money.parse("USD", shipping)))


def stock(app: FakeApp, product: Product) -> Stock:
    return app.db.products[product.id].stock


async def test_a_created_order_is_priced_line_by_line_and_its_totals_add_up():
    app = fake_app()
    widget = add_product(app, "WIDGET", "19.99", 10)  # the default tax rate, 15%
    bolt = add_product(app, "BOLT", "5.00", 10, tax_rate="0")
    customer = await add_customer(app)

    order = await draft(app, customer, LineInput(widget.id, 3, None, "0.10"),
                        LineInput(bolt.id, 4, Money.parse("USD", "4.50")),
                        discount="0.05", shipping="7.50")

    first, second = order.lines
    # 59.97 gross; 6.00 (10%) off, then 2.70 (5% of 53.97); 15% tax on 51.27 is 7.69
    assert (first.amounts.gross, first.amounts.discount, first.amounts.tax,
            first.amounts.total) == (D("59.97"), D("8.70"), D("7.69"), D("58.96"))
    # a given price of 4.50 against a list price of 5.00; 5% of 18.00 off; no tax
    assert (second.list_price, second.unit_price, second.price_given) == (D("5.00"),
                                                                          D("4.50"), True)
    assert (second.amounts.gross, second.amounts.discount, second.amounts.tax,
            second.amounts.total) == (D("18.00"), D("0.90"), D("0.00"), D("17.10"))
    assert second.effective_discount(order.discount_rate) == D("0.145")  # 1 - 0.9 x 0.95
    totals = order.totals
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.shipping,
            totals.grand_total) == (D("77.97"), D("9.60"), D("7.69"), D("7.50"), D("83.56"))
    assert totals.grand_total == sum(line.amounts.total for line in order.lines) + D("7.50")
    stored = app.db.orders[order.id]
    assert stored.totals == totals and stored.number.startswith(f"SO-{now().year}-")


async def test_a_rep_cannot_discount_past_the_limit_but_a_manager_can():
    app = fake_app()
    widget = add_product(app, "WIDGET", "100.00", 10)
    customer = await add_customer(app)
    deep = LineInput(widget.id, 1, Money.parse("USD", "90.00"), "0.12")  # 20.8% off list

    with pytest.raises(PermissionDenied) as refused:
        await draft(app, customer, deep)
    assert refused.value.reason == "DISCOUNT_ABOVE_LIMIT"
    assert refused.value.metadata["field"] == "sales_order.lines[0]"
    assert refused.value.metadata["requested"] == "0.208"
    assert app.db.orders == {} and app.db.history == []

    order = await draft(app, customer, deep, by=MANAGER)
    assert order.lines[0].effective_discount(order.discount_rate) == D("0.208")
    assert order.totals.subtotal - order.totals.discount_total == D("79.20")
    assert list(app.db.orders) == [order.id]


async def test_confirming_reserves_stock_records_the_customer_and_emits_confirmed_and_reserved():
    app = fake_app()
    widget = add_product(app, "WIDGET", "10.00", 20)
    bolt = add_product(app, "BOLT", "2.00", 5)
    customer = await add_customer(app, credit_limit="1000.00")
    order = await draft(app, customer, LineInput(widget.id, 3), LineInput(bolt.id, 5),
                        LineInput(widget.id, 2))

    confirmed = await app.order_lifecycle.confirm(REP, order.id, order.etag)

    assert confirmed.state is OrderState.CONFIRMED and confirmed.confirm_time is not None
    assert app.db.orders[order.id].state is OrderState.CONFIRMED
    assert stock(app, widget) == Stock(20, 5)  # both widget lines, one reservation
    assert stock(app, bolt) == Stock(5, 5)
    stats = app.db.customers[customer.id].stats
    assert stats.order_count == 1
    assert stats.total_spent == (Money("USD", D("69.00")),)  # 60.00 + 15% tax
    assert stats.last_order_time == confirmed.confirm_time
    confirmed_event, reserved = app.events
    assert isinstance(confirmed_event, ev.OrderConfirmed)
    assert (confirmed_event.order_id, confirmed_event.customer_id, confirmed_event.owner_id,
            confirmed_event.team_id, confirmed_event.grand_total) == (
        order.id, customer.id, REP.subject, "north", D("69.00"))
    assert [(x.sku, x.quantity, x.total_amount) for x in confirmed_event.lines] == [
        ("WIDGET", 3, D("34.50")), ("BOLT", 5, D("11.50")), ("WIDGET", 2, D("23.00"))]
    assert not confirmed_event.credit_limit_overridden
    assert reserved == ev.StockReserved(order.id, [ev.StockQuantity(widget.id, "WIDGET", 5),
                                                   ev.StockQuantity(bolt.id, "BOLT", 5)])


async def test_confirming_with_short_stock_leaves_no_reservation_no_statistics_and_no_events():
    app = fake_app()
    widget = add_product(app, "WIDGET", "10.00", 20)
    bolt = add_product(app, "BOLT", "2.00", 2)
    customer = await add_customer(app)
    order = await draft(app, customer, LineInput(widget.id, 3), LineInput(bolt.id, 4))

    with pytest.raises(FailedPrecondition) as refused:
        await app.order_lifecycle.confirm(REP, order.id, order.etag)

    assert refused.value.reason == "INSUFFICIENT_STOCK"
    [violation] = refused.value.violations
    assert violation.subject == f"products/{bolt.id}"
    assert violation.description == "BOLT: requested 4, available 2, missing 2"
    # The widgets were reserved and the customer's statistics recorded before the bolts
    # came up short: the aborted transaction undid both.
    assert stock(app, widget) == Stock(20, 0) and stock(app, bolt) == Stock(2, 0)
    assert app.db.customers[customer.id].stats.order_count == 0
    assert app.events == []
    stored = app.db.orders[order.id]
    assert (stored.state, stored.version) == (OrderState.DRAFT, order.version)
    assert [e.action for e in app.db.history] == [OrderAction.CREATE]


async def confirmed_order(app: FakeApp, customer: Customer, product: Product, quantity: int
                          ) -> SalesOrder:
    order = await draft(app, customer, LineInput(product.id, quantity))
    return await app.order_lifecycle.confirm(REP, order.id, order.etag)


async def test_confirming_past_the_credit_limit_is_refused_and_changes_nothing():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 100, tax_rate="0")
    customer = await add_customer(app, credit_limit="100.00")
    await confirmed_order(app, customer, part, 6)  # 60.00 open
    order = await draft(app, customer, LineInput(part.id, 5))  # 50.00 more
    before = (app.db.customers[customer.id].stats, stock(app, part), len(app.events))

    with pytest.raises(FailedPrecondition) as refused:
        await app.order_lifecycle.confirm(REP, order.id, order.etag)

    assert refused.value.reason == "CREDIT_LIMIT_EXCEEDED"
    assert refused.value.metadata == {"credit_limit": "100.00", "open_exposure": "60.00",
                                      "order_total": "50.00", "currency": "USD"}
    assert (app.db.customers[customer.id].stats, stock(app, part), len(app.events)) == before
    assert app.db.orders[order.id].state is OrderState.DRAFT


async def test_a_manager_may_override_the_credit_limit_and_the_history_says_why():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 100, tax_rate="0")
    customer = await add_customer(app, credit_limit="100.00")
    await confirmed_order(app, customer, part, 6)
    order = await draft(app, customer, LineInput(part.id, 5))

    with pytest.raises(PermissionDenied) as refused:
        await app.order_lifecycle.confirm(REP, order.id, order.etag, True, "good payer")
    assert refused.value.reason == "OVERRIDE_NOT_ALLOWED"

    confirmed = await app.order_lifecycle.confirm(MANAGER, order.id, order.etag, True,
                                                  "  good payer ")
    assert confirmed.credit_limit_overridden and app.db.orders[order.id].credit_limit_overridden
    override = [e for e in app.db.history if e.action is OrderAction.OVERRIDE_CREDIT]
    assert [(e.document_id, e.actor, e.note) for e in override] == [
        (order.id, MANAGER.subject, "good payer")]
    assert isinstance(app.events[-2], ev.OrderConfirmed)
    assert app.events[-2].credit_limit_overridden
    assert stock(app, part) == Stock(100, 11)


async def test_cancelling_a_confirmed_order_releases_its_stock_and_takes_back_its_statistics():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 8, tax_rate="0")
    customer = await add_customer(app)
    order = await confirmed_order(app, customer, part, 3)

    cancelled = await app.order_lifecycle.cancel(REP, order.id, order.etag, "customer changed mind")

    assert cancelled.state is OrderState.CANCELLED
    assert app.db.orders[order.id].cancel_reason == "customer changed mind"
    assert stock(app, part) == Stock(8, 0)
    stats = app.db.customers[customer.id].stats
    assert (stats.order_count, stats.total_spent) == (0, (Money("USD", D("0.00")),))
    cancelled_event, released = app.events[2:]
    assert isinstance(cancelled_event, ev.OrderCancelled)
    assert cancelled_event.reason == "customer changed mind"
    assert released == ev.StockReleased(order.id, [ev.StockQuantity(part.id, "PART", 3)])


async def test_the_history_of_an_order_tells_its_whole_lifecycle_a_page_at_a_time():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 8)
    customer = await add_customer(app)
    order = await draft(app, customer, LineInput(part.id, 3))
    order = await app.orders.update(REP, order.id, ["notes"], OrderInput(notes="rush"),
                                    order.etag)
    for move in (app.order_lifecycle.confirm, app.order_lifecycle.start_processing,
                 app.order_lifecycle.ship, app.order_lifecycle.deliver):
        order = await move(MANAGER if move == app.order_lifecycle.ship else REP, order.id,
                           order.etag)

    first, token = await app.orders.history(REP, order.id, size=4)
    rest, last = await app.orders.history(REP, order.id, size=4, token=token)
    _ = OrderState
    assert [(e.action, e.from_state, e.to_state, e.actor, e.note) for e in first + rest] == [
        (OrderAction.CREATE, None, _.DRAFT, REP.subject, ""),
        (OrderAction.UPDATE, _.DRAFT, _.DRAFT, REP.subject, "notes"),
        (OrderAction.CONFIRM, _.DRAFT, _.CONFIRMED, REP.subject, ""),
        (OrderAction.START_PROCESSING, _.CONFIRMED, _.PROCESSING, REP.subject, ""),
        (OrderAction.SHIP, _.PROCESSING, _.SHIPPED, MANAGER.subject, ""),
        (OrderAction.DELIVER, _.SHIPPED, _.DELIVERED, REP.subject, "")]
    assert token and last == ""
    assert app.db.orders[order.id].state is OrderState.DELIVERED
    assert stock(app, part) == Stock(5, 0)  # shipped: out of stock on hand and reserved
    [shipment] = app.db.movements.values()
    assert (shipment.reason, shipment.quantity_delta, shipment.on_hand_after) == (
        MovementReason.SHIPMENT, -3, 5)
    assert [type(e).__name__ for e in app.events] == [
        "OrderConfirmed", "StockReserved", "OrderShipped", "OrderDelivered"]


async def test_gapless_numbers_drawn_in_transactions_that_half_abort_leave_no_gap():
    app = fake_app()
    moment = now()

    async def issue(n: int) -> str:
        async def work(session: Session) -> str:
            number = await app.numbers.draw(INVOICE, moment, session)
            await asyncio.sleep(0)  # let the others queue up meanwhile
            if n % 2:
                raise RuntimeError(f"invoice {number} failed")
            return number

        return await app.transactions.run_transaction(work)

    outcomes = await asyncio.gather(*(issue(n) for n in range(20)), return_exceptions=True)

    issued = sorted(x for x in outcomes if isinstance(x, str))
    assert issued == [f"INV-{moment.year}-{seq:06d}" for seq in range(1, 11)]
    assert sum(isinstance(x, RuntimeError) for x in outcomes) == 10
    after = await app.transactions.run_transaction(
        lambda session: app.numbers.draw(INVOICE, moment, session))
    assert after == f"INV-{moment.year}-000011"


async def test_a_gapless_number_is_refused_outside_a_transaction():
    app = fake_app()
    with pytest.raises(DrawOutsideTransaction):
        await app.numbers.draw(INVOICE, now(), None)
    with pytest.raises(DrawOutsideTransaction):
        await app.numbers.draw(INVOICE, now(), FakeSession(in_transaction=False))
    assert app.db.counters == {}


async def test_a_retried_create_with_the_same_request_id_returns_the_first_order_unnumbered():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 8)
    customer = await add_customer(app)
    data = OrderInput(customer_id=customer.id, lines=[LineInput(part.id, 1)])

    first = await app.orders.create(REP, data, request_id="req-1")
    again = await app.orders.create(REP, data, request_id="req-1")
    other = await app.orders.create(REP, data, request_id="req-2")

    assert again.id == first.id and again.number == first.number
    assert other.number.endswith("-000002")  # the retry drew no number
    assert list(app.db.orders) == [first.id, other.id] and len(app.db.history) == 2


async def test_two_concurrent_creates_with_one_request_id_make_one_order():
    app = fake_app()
    part = add_product(app, "PART", "10.00", 8)
    customer = await add_customer(app)
    data = OrderInput(customer_id=customer.id, lines=[LineInput(part.id, 1)])

    one, two = await asyncio.gather(app.orders.create(REP, data, request_id="req-1"),
                                    app.orders.create(REP, data, request_id="req-1"))

    assert one.id == two.id and one.number == two.number
    assert list(app.db.orders) == [one.id] and len(app.db.history) == 1
