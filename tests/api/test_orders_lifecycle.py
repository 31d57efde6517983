"""The sales-order lifecycle over the wire: states, stock, history, statistics, events."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import events_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import product_service_pb2 as ppb

from .order_fixtures import Shop, line


@pytest.fixture
def shop(running, admin) -> Shop:
    return Shop(running.channel, admin)


async def test_a_confirmed_order_reserves_stock_and_shipping_takes_it_off_hand(shop):
    customer = await shop.customer()
    product = await shop.product(stock=10)
    order = await shop.order(customer.id, line(product.id, 4))
    assert order.state == opb.SALES_ORDER_STATE_DRAFT
    assert order.number.startswith("SO-")
    order = await shop.confirm(order.id, etag=order.etag)
    assert order.etag == "v2"  # one change, one version
    stock = await shop.stock(product.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 4, 6)
    order = (await shop.orders.StartProcessing(opb.StartProcessingRequest(id=order.id),
                                               metadata=shop.md)).sales_order
    order = (await shop.orders.ShipSalesOrder(opb.ShipSalesOrderRequest(id=order.id),
                                              metadata=shop.md)).sales_order
    stock = await shop.stock(product.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (6, 0, 6)
    ledger = await shop.products.ListStockMovements(
        ppb.ListStockMovementsRequest(product_id=product.id), metadata=shop.md)
    shipped = ledger.movements[0]  # newest first
    assert (shipped.reason, shipped.quantity_delta, shipped.on_hand_after) == (
        ppb.STOCK_MOVEMENT_REASON_SHIPMENT, -4, 6)
    assert order.number in shipped.note
    order = (await shop.orders.DeliverSalesOrder(opb.DeliverSalesOrderRequest(id=order.id),
                                                 metadata=shop.md)).sales_order
    assert order.state == opb.SALES_ORDER_STATE_DELIVERED
    history = await shop.orders.ListSalesOrderHistory(
        opb.ListSalesOrderHistoryRequest(id=order.id), metadata=shop.md)
    assert [e.action for e in history.entries] == [
        "created", "confirmed", "processing", "shipped", "delivered"]
    assert all(e.actor == "admin-1" for e in history.entries)


async def test_cancelling_a_confirmed_order_returns_its_stock(shop):
    customer = await shop.customer()
    product = await shop.product(stock=5)
    order = await shop.order(customer.id, line(product.id, 5))
    await shop.confirm(order.id)
    assert (await shop.stock(product.id)).available == 0
    cancelled = (await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(
        id=order.id, reason="customer changed their mind"), metadata=shop.md)).sales_order
    assert cancelled.state == opb.SALES_ORDER_STATE_CANCELLED
    assert cancelled.cancel_reason == "customer changed their mind"
    stock = await shop.stock(product.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (5, 0, 5)


@pytest.mark.parametrize("action", ["ship", "deliver", "process_twice", "confirm_twice"])
async def test_an_illegal_transition_is_failed_precondition_naming_the_state(shop, action):
    customer = await shop.customer()
    product = await shop.product()
    order = await shop.order(customer.id, line(product.id, 1))
    await shop.confirm(order.id)
    calls = {
        "ship": lambda: shop.orders.ShipSalesOrder(opb.ShipSalesOrderRequest(id=order.id),
                                                   metadata=shop.md),
        "deliver": lambda: shop.orders.DeliverSalesOrder(
            opb.DeliverSalesOrderRequest(id=order.id), metadata=shop.md),
        "confirm_twice": lambda: shop.confirm(order.id),
        "process_twice": None,
    }
    if action == "process_twice":
        await shop.orders.StartProcessing(opb.StartProcessingRequest(id=order.id),
                                          metadata=shop.md)
        call = lambda: shop.orders.StartProcessing(  # noqa: E731
            opb.StartProcessingRequest(id=order.id), metadata=shop.md)
        state = "PROCESSING"
    else:
        call, state = calls[action], "CONFIRMED"
    before = await shop.stock(product.id)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call()
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert state in err.value.details()
    assert await shop.stock(product.id) == before


async def test_a_shipped_order_cannot_be_cancelled(shop):
    customer = await shop.customer()
    product = await shop.product()
    order = await shop.order(customer.id, line(product.id, 1))
    await shop.confirm(order.id)
    await shop.orders.StartProcessing(opb.StartProcessingRequest(id=order.id), metadata=shop.md)
    await shop.orders.ShipSalesOrder(opb.ShipSalesOrderRequest(id=order.id), metadata=shop.md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(id=order.id, reason="x"),
                                           metadata=shop.md)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "SHIPPED" in err.value.details()


async def test_short_stock_lists_every_missing_product_and_reserves_nothing(shop):
    customer = await shop.customer()
    plenty, scarce, none = (await shop.product(stock=50), await shop.product(stock=3),
                            await shop.product(stock=0))
    order = await shop.order(customer.id, line(plenty.id, 10), line(scarce.id, 5),
                             line(none.id, 2))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await shop.confirm(order.id)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(err.value)
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    missing = {v.subject: v.description for v in failure.violations}
    assert set(missing) == {f"products/{scarce.id}", f"products/{none.id}"}
    assert "missing 2" in missing[f"products/{scarce.id}"]
    assert "missing 2" in missing[f"products/{none.id}"]
    assert (await shop.stock(plenty.id)).reserved == 0
    again = (await shop.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=order.id),
                                             metadata=shop.md)).sales_order
    assert again.state == opb.SALES_ORDER_STATE_DRAFT and again.etag == order.etag


async def test_fifty_concurrent_confirms_for_ten_units_sell_exactly_ten(shop):
    customer = await shop.customer()
    product = await shop.product(stock=10)
    orders = [await shop.order(customer.id, line(product.id, 1)) for _ in range(50)]
    results = await asyncio.gather(*(shop.confirm(o.id) for o in orders),
                                   return_exceptions=True)
    confirmed = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(confirmed) == 10
    assert all(isinstance(r, grpc.aio.AioRpcError)
               and r.code() == grpc.StatusCode.FAILED_PRECONDITION for r in refused)
    stock = await shop.stock(product.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 10, 0)


async def test_concurrent_confirms_for_one_customer_never_exceed_its_credit_limit(shop):
    customer = await shop.customer(credit_limit="100.00")
    product = await shop.product(price="20.00", tax_rate="0", stock=1000)
    orders = [await shop.order(customer.id, line(product.id, 1)) for _ in range(12)]
    results = await asyncio.gather(*(shop.confirm(o.id) for o in orders),
                                   return_exceptions=True)
    confirmed = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(confirmed) == 5  # 5 x 20.00 = the whole 100.00
    assert all(isinstance(r, grpc.aio.AioRpcError) and "credit limit" in (r.details() or "")
               for r in refused)


async def test_concurrently_created_orders_get_unique_numbers(shop):
    customer = await shop.customer()
    product = await shop.product()
    orders = await asyncio.gather(*(shop.order(customer.id, line(product.id, 1))
                                    for _ in range(30)))
    assert len({o.number for o in orders}) == 30


async def test_customer_statistics_follow_confirmations_and_cancellations(shop):
    customer = await shop.customer()
    product = await shop.product(price="10.00", tax_rate="0")
    first = await shop.order(customer.id, line(product.id, 2))
    second = await shop.order(customer.id, line(product.id, 3))
    await shop.confirm(first.id)
    await shop.confirm(second.id)
    stats = (await shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                              metadata=shop.md)).customer.sales_stats
    assert stats.order_count == 2 and stats.total_spent.amount == "50.00"
    assert stats.HasField("last_order_time")
    await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(id=first.id, reason="dup"),
                                       metadata=shop.md)
    stats = (await shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                              metadata=shop.md)).customer.sales_stats
    assert stats.order_count == 1 and stats.total_spent.amount == "30.00"


async def test_state_changes_reach_the_redis_stream_with_unique_event_ids(shop, running):
    customer = await shop.customer()
    product = await shop.product(stock=5)
    order = await shop.order(customer.id, line(product.id, 2))
    await shop.confirm(order.id)
    await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(id=order.id, reason="x"),
                                       metadata=shop.md)
    seen: dict[str, str] = {}
    for _ in range(100):
        entries = await running.app.redis.xrange("sales.events")
        seen = {}
        for _, fields in entries:
            envelope = events_pb2.EventEnvelope.FromString(fields[b"data"])
            payload_order = {
                "erp.sales.v1.OrderConfirmed": events_pb2.OrderConfirmed,
                "erp.sales.v1.OrderCancelled": events_pb2.OrderCancelled,
                "erp.sales.v1.StockReserved": events_pb2.StockReserved,
                "erp.sales.v1.StockReleased": events_pb2.StockReleased,
            }.get(envelope.type)
            if payload_order and payload_order.FromString(envelope.payload).order_id == order.id:
                seen[envelope.event_id] = envelope.type
        if len(seen) == 4:
            break
        await asyncio.sleep(0.1)
    assert sorted(seen.values()) == ["erp.sales.v1.OrderCancelled", "erp.sales.v1.OrderConfirmed",
                                     "erp.sales.v1.StockReleased", "erp.sales.v1.StockReserved"]



async def test_history_pages_oldest_first_and_lives_beside_the_order(shop, running):
    customer = await shop.customer()
    product = await shop.product(stock=5)
    order = await shop.order(customer.id, line(product.id, 1))
    for note in ("first", "second", "third"):
        order.notes = note
        order = (await shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
            sales_order=order, update_mask=FieldMask(paths=["notes"])),
            metadata=shop.md)).sales_order
    order = await shop.confirm(order.id)
    await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(
        id=order.id, reason="customer changed their mind"), metadata=shop.md)
    seen, token = [], ""
    while True:
        page = await shop.orders.ListSalesOrderHistory(opb.ListSalesOrderHistoryRequest(
            id=order.id, page_size=2, page_token=token), metadata=shop.md)
        assert len(page.entries) <= 2
        seen += page.entries
        token = page.next_page_token
        if not token:
            break
    assert [e.action for e in seen] == ["created", "updated", "updated", "updated",
                                         "confirmed", "cancelled"]
    assert seen[-1].note == "customer changed their mind"
    assert (seen[-1].from_state, seen[-1].to_state) == (opb.SALES_ORDER_STATE_CONFIRMED,
                                                        opb.SALES_ORDER_STATE_CANCELLED)
    stored = await running.app.mongo.db.sales_orders.find_one({"number": order.number})
    assert "history" not in stored  # an order does not grow with its history
