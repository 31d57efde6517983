"""Events on the Redis stream: each a protobuf message written at commit time, decoded with the
generated classes alone, and published by the relay byte for byte as stored."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from erp.sales.v1 import events_pb2
from erp.sales.v1 import order_service_pb2 as opb
from sales_grpc.api.converters.events import encode_event
from sales_grpc.bootstrap import build
from sales_grpc.store.outbox import OutboxRelay
from tests.api.order_fixtures import Shop, line, usd

STREAM = "sales.events"


async def _published(running, event_type: str, order_id: str
                     ) -> events_pb2.EventEnvelope:
    """The envelope of the order's event of `event_type`, once the server's relay sent it."""
    message = getattr(events_pb2, event_type.rpartition(".")[2])
    for _ in range(100):
        for _, fields in await running.app.redis.xrange(STREAM):
            envelope = events_pb2.EventEnvelope.FromString(fields[b"data"])
            if envelope.type == event_type and \
                    message.FromString(envelope.payload).order_id == order_id:
                return envelope
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event_type} for {order_id} on {STREAM}")


async def _confirmed_order(running, admin, rep) -> opb.SalesOrder:
    """A rep's order of two priced lines (tax, a line discount, shipping), confirmed."""
    catalog, sales = Shop(running.channel, admin), Shop(running.channel, rep)
    taxed = await catalog.product(price="12.50", tax_rate="0.15")
    plain = await catalog.product(price="7.25", tax_rate="0")
    customer = await sales.customer()
    order = await sales.order(customer.id, line(taxed.id, 2, discount_rate="0.10"),
                              line(plain.id, 3), shipping_charge=usd("5.00"))
    return await sales.confirm(order.id)


async def test_a_confirmed_orders_event_decodes_with_the_generated_message_and_tells_the_order(
        running, admin, rep):
    order = await _confirmed_order(running, admin, rep)
    envelope = await _published(running, "erp.sales.v1.OrderConfirmed", order.id)
    event = events_pb2.OrderConfirmed.FromString(envelope.payload)
    assert (event.number, event.customer_id, event.owner_id, event.team_id,
            event.currency_code) == (order.number, order.customer_id, "rep-1", "team-a", "USD")
    assert event.grand_total == order.totals.grand_total  # Money, e.g. 5.00 shipping included
    assert (event.subtotal, event.discount_total, event.tax_total, event.shipping) == (
        order.totals.subtotal, order.totals.discount_total, order.totals.tax_total,
        order.totals.shipping)
    assert [(x.product_id, x.sku, x.quantity, x.unit_price, x.gross_amount, x.discount_amount,
             x.tax_amount, x.total_amount) for x in event.lines] == [
        (x.product_id, x.sku, x.quantity, x.unit_price, x.gross_amount, x.discount_amount,
         x.tax_amount, x.total_amount) for x in order.lines]
    assert event.lines[0].discount_amount.amount == "2.50" and \
        event.lines[0].tax_amount.amount == "3.38"
    assert envelope.actor == "rep-1" and envelope.HasField("occur_time")


async def test_a_cancellation_event_tells_the_reason_and_the_amounts_that_stop_counting(
        running, admin, rep):
    order = await _confirmed_order(running, admin, rep)
    await Shop(running.channel, rep).orders.CancelSalesOrder(
        opb.CancelSalesOrderRequest(id=order.id, reason="customer changed plans"), metadata=rep)
    envelope = await _published(running, "erp.sales.v1.OrderCancelled", order.id)
    event = events_pb2.OrderCancelled.FromString(envelope.payload)
    assert event.reason == "customer changed plans"
    assert event.grand_total == order.totals.grand_total and len(event.lines) == 2


async def test_the_relay_publishes_the_payload_stored_at_commit_byte_for_byte(running, admin,
                                                                             rep):
    order = await _confirmed_order(running, admin, rep)
    envelope = await _published(running, "erp.sales.v1.StockReserved", order.id)
    # Read whether or not the relay has marked it published yet: it does so after the XADD.
    stored = await running.app.mongo.db.outbox.find_one({"_id": envelope.event_id})
    assert stored is not None
    assert stored["type_url"] == "type.googleapis.com/erp.sales.v1.StockReserved"
    assert envelope.payload == stored["payload"]


async def test_the_relay_needs_no_mapping_and_leaves_entries_of_the_old_shape_alone(
        fresh_settings):
    """A private database and stream, without a running server whose relay would race."""
    app = await build(fresh_settings())
    stream = f"events-test-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    foreign = b"\x0a\x05inv-1\x12\x03I-1 and bytes no code here wrote"
    try:
        await app.mongo.db.outbox.insert_many([
            {"_id": "future", "type_url": "type.googleapis.com/erp.sales.v1.InvoiceIssued",
             "payload": foreign, "actor": "me", "occur_time": now, "published": False,
             "seq": 0},
            {"_id": "old-shape", "type": "OrderShipped", "data": {"order_id": "o1"},
             "actor": "me", "occur_time": now, "published": False, "seq": 1}])
        relay = OutboxRelay(app.outbox, app.redis, encode_event, stream=stream)
        assert await relay.publish_pending() == 1
        assert await relay.publish_pending() == 0
        [(_, fields)] = await app.redis.xrange(stream)
        envelope = events_pb2.EventEnvelope.FromString(fields[b"data"])
        assert (fields[b"type"], envelope.type, envelope.payload) == (
            b"erp.sales.v1.InvoiceIssued", "erp.sales.v1.InvoiceIssued", foreign)
        old = await app.mongo.db.outbox.find_one({"_id": "old-shape"})
        assert old is not None and not old["published"]
    finally:
        await app.redis.delete(stream)
        await app.close()
