"""Stock over the wire: AdjustStock rules and idempotency, the ledger, low-stock listing."""

from __future__ import annotations

import asyncio

from google.protobuf.field_mask_pb2 import FieldMask
from grpc import StatusCode

from erp.sales.v1 import product_service_pb2 as pb

from .helpers import create_product, fails, products, unique
from .order_fixtures import Shop, line

RECEIPT = pb.STOCK_MOVEMENT_REASON_RECEIPT
CORRECTION = pb.STOCK_MOVEMENT_REASON_CORRECTION
WRITE_OFF = pb.STOCK_MOVEMENT_REASON_WRITE_OFF


def _adjust(product_id, delta, reason, note="", request_id=""):
    return pb.AdjustStockRequest(product_id=product_id, quantity_delta=delta, reason=reason,
                                 note=note, request_id=request_id)


async def _stocked(running, metadata, on_hand, **fields):
    created = await create_product(running, metadata, **fields)
    if on_hand:
        await products(running).AdjustStock(_adjust(created.id, on_hand, RECEIPT),
                                            metadata=metadata)
    return created


async def test_a_receipt_adds_stock_and_writes_a_ledger_entry(running, clerk):
    created = await create_product(running, clerk)
    reply = await products(running).AdjustStock(
        _adjust(created.id, 12, RECEIPT, "PO-17"), metadata=clerk)
    assert (reply.product.stock.on_hand, reply.product.stock.available) == (12, 12)
    movement = reply.movement
    assert (movement.quantity_delta, movement.reason, movement.note) == (12, RECEIPT, "PO-17")
    assert (movement.on_hand_after, movement.actor, movement.product_id) == (
        12, "clerk-1", created.id)
    assert movement.HasField("create_time")


async def test_a_correction_below_zero_is_failed_precondition_and_moves_nothing(running, clerk):
    created = await _stocked(running, clerk, 5)
    stub = products(running)
    failure = await fails(stub.AdjustStock(_adjust(created.id, -6, CORRECTION), metadata=clerk),
                          StatusCode.FAILED_PRECONDITION)
    assert failure.info.reason == "INSUFFICIENT_STOCK"
    [violation] = failure.precondition.violations
    assert (violation.type, violation.subject) == ("INSUFFICIENT_STOCK", f"products/{created.id}")
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 5
    ledger = await stub.ListStockMovements(pb.ListStockMovementsRequest(product_id=created.id),
                                           metadata=clerk)
    assert [m.quantity_delta for m in ledger.movements] == [5]


async def test_a_correction_down_to_exactly_zero_is_allowed(running, clerk):
    created = await _stocked(running, clerk, 5)
    reply = await products(running).AdjustStock(_adjust(created.id, -5, CORRECTION),
                                                metadata=clerk)
    assert reply.product.stock.on_hand == 0


async def test_a_positive_write_off_is_invalid_argument(running, clerk):
    created = await _stocked(running, clerk, 5)
    failure = await fails(products(running).AdjustStock(_adjust(created.id, 2, WRITE_OFF),
                                                        metadata=clerk),
                          StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"quantity_delta"}


async def test_bad_adjustments_are_invalid_argument_naming_the_field(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    for request, field in (
            (_adjust(created.id, 0, CORRECTION), "quantity_delta"),
            (_adjust(created.id, -1, RECEIPT), "quantity_delta"),
            (_adjust(created.id, 1, pb.STOCK_MOVEMENT_REASON_UNSPECIFIED), "reason"),
            (_adjust(created.id, -1, pb.STOCK_MOVEMENT_REASON_SHIPMENT), "reason"),
            (_adjust(created.id, 1, 99), "reason"),
            (_adjust(created.id, 1, RECEIPT, note="n" * 501), "note"),
            (_adjust(created.id, 1, RECEIPT, request_id="r" * 101), "request_id"),
            (_adjust("nope", 1, RECEIPT), "product_id")):
        failure = await fails(stub.AdjustStock(request, metadata=clerk),
                              StatusCode.INVALID_ARGUMENT)
        assert field in failure.fields


async def test_adjusting_an_unknown_product_is_not_found(running, clerk):
    await fails(products(running).AdjustStock(_adjust("0123456789abcdef01234567", 1, RECEIPT),
                                              metadata=clerk), StatusCode.NOT_FOUND)


async def test_a_retried_adjustment_with_one_request_id_moves_stock_once(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    request = _adjust(created.id, 7, RECEIPT, request_id=unique("req"))
    first = await stub.AdjustStock(request, metadata=clerk)
    second = await stub.AdjustStock(request, metadata=clerk)
    assert second.movement.id == first.movement.id
    assert second.product.stock.on_hand == 7
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 7


async def test_concurrent_retries_of_one_adjustment_move_stock_once(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    request = _adjust(created.id, 3, RECEIPT, request_id=unique("req"))
    replies = await asyncio.gather(*(stub.AdjustStock(request, metadata=clerk) for _ in range(4)),
                                   return_exceptions=True)
    ok = [r for r in replies if isinstance(r, pb.AdjustStockResponse)]
    assert {r.code() for r in replies if r not in ok} <= {StatusCode.ABORTED}
    assert ok and len({r.movement.id for r in ok}) == 1
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 3


async def test_concurrent_write_offs_take_exactly_the_stock_there_is(running, clerk):
    created = await _stocked(running, clerk, 3)
    stub = products(running)
    replies = await asyncio.gather(
        *(stub.AdjustStock(_adjust(created.id, -1, WRITE_OFF), metadata=clerk) for _ in range(6)),
        return_exceptions=True)
    codes = sorted(getattr(r, "code", lambda: StatusCode.OK)().name for r in replies)
    assert codes == ["FAILED_PRECONDITION"] * 3 + ["OK"] * 3
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 0


async def test_concurrent_receipts_all_land(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    await asyncio.gather(*(stub.AdjustStock(_adjust(created.id, 2, RECEIPT), metadata=clerk)
                           for _ in range(5)))
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 10
    ledger = await stub.ListStockMovements(pb.ListStockMovementsRequest(product_id=created.id),
                                           metadata=clerk)
    assert sorted(m.on_hand_after for m in ledger.movements) == [2, 4, 6, 8, 10]


async def test_adjusting_a_deleted_product_is_failed_precondition(running, manager):
    created = await create_product(running, manager)
    await products(running).DeleteProduct(pb.DeleteProductRequest(id=created.id),
                                          metadata=manager)
    await fails(products(running).AdjustStock(_adjust(created.id, 1, RECEIPT),
                                              metadata=manager), StatusCode.FAILED_PRECONDITION)


async def test_stock_movements_are_listed_newest_first_and_page(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    for delta, reason in ((10, RECEIPT), (-2, WRITE_OFF), (1, CORRECTION)):
        await stub.AdjustStock(_adjust(created.id, delta, reason), metadata=clerk)
    first = await stub.ListStockMovements(pb.ListStockMovementsRequest(
        product_id=created.id, page_size=2), metadata=clerk)
    second = await stub.ListStockMovements(pb.ListStockMovementsRequest(
        product_id=created.id, page_size=2, page_token=first.next_page_token), metadata=clerk)
    movements = [*first.movements, *second.movements]
    assert [m.quantity_delta for m in movements] == [1, -2, 10]
    assert [m.on_hand_after for m in movements] == [9, 8, 10]
    assert second.next_page_token == ""


async def test_listing_the_movements_of_an_unknown_product_is_not_found(running, clerk):
    await fails(products(running).ListStockMovements(
        pb.ListStockMovementsRequest(product_id="0123456789abcdef01234567"), metadata=clerk),
        StatusCode.NOT_FOUND)


async def test_low_stock_lists_active_live_products_at_or_below_reorder_level(running, manager):
    stub = products(running)
    low = await _stocked(running, manager, 2, reorder_level=5)
    at_level = await _stocked(running, manager, 5, reorder_level=5)
    healthy = await _stocked(running, manager, 9, reorder_level=5)
    inactive = await _stocked(running, manager, 0, reorder_level=5, active=False)
    deleted = await _stocked(running, manager, 0, reorder_level=5)
    await stub.DeleteProduct(pb.DeleteProductRequest(id=deleted.id), metadata=manager)
    seen, token = [], ""
    for _ in range(100):
        reply = await stub.ListLowStockProducts(pb.ListLowStockProductsRequest(
            page_size=50, page_token=token), metadata=manager)
        seen.extend(reply.products)
        token = reply.next_page_token
        if not token:
            break
    ids = [p.id for p in seen]
    assert low.id in ids and at_level.id in ids
    assert ids.index(low.id) < ids.index(at_level.id)
    assert {healthy.id, inactive.id, deleted.id}.isdisjoint(ids)
    available = [p.stock.available for p in seen]
    assert available == sorted(available)
    assert all(p.stock.available <= p.reorder_level for p in seen)


async def _reserved(running, metadata, on_hand: int, reserved: int) -> pb.Product:
    """A product with `on_hand` units of which a confirmed order reserves `reserved`."""
    shop = Shop(running.channel, metadata)
    buyer = await shop.customer()
    made = await shop.product(stock=on_hand)
    order = await shop.order(buyer.id, line(made.id, reserved))
    await shop.confirm(order.id)
    stock = await shop.stock(made.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (
        on_hand, reserved, on_hand - reserved)
    return made


async def test_a_correction_below_the_reserved_units_is_failed_precondition(running, manager):
    made = await _reserved(running, manager, 10, 4)
    stub = products(running)
    failure = await fails(stub.AdjustStock(_adjust(made.id, -7, CORRECTION), metadata=manager),
                          StatusCode.FAILED_PRECONDITION)
    assert failure.precondition.violations[0].subject == f"products/{made.id}"
    assert "4 reserved" in failure.message
    fetched = await stub.GetProduct(pb.GetProductRequest(id=made.id), metadata=manager)
    assert (fetched.product.stock.on_hand, fetched.product.stock.reserved) == (10, 4)
    reply = await stub.AdjustStock(_adjust(made.id, -6, CORRECTION), metadata=manager)
    assert (reply.product.stock.on_hand, reply.product.stock.available) == (4, 0)


async def test_a_product_with_reserved_stock_cannot_be_deleted(running, manager):
    made = await _reserved(running, manager, 5, 2)
    failure = await fails(products(running).DeleteProduct(pb.DeleteProductRequest(id=made.id),
                                                          metadata=manager),
                          StatusCode.FAILED_PRECONDITION)
    assert failure.info.reason == "STOCK_RESERVED"
    fetched = await products(running).GetProduct(pb.GetProductRequest(id=made.id),
                                                 metadata=manager)
    assert not fetched.product.HasField("delete_time")


async def test_low_stock_counts_available_not_on_hand(running, manager):
    made = await _reserved(running, manager, 10, 8)
    await products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=made.id, reorder_level=3),
        update_mask=FieldMask(paths=["reorder_level"])), metadata=manager)
    seen, token = set(), ""
    for _ in range(100):
        reply = await products(running).ListLowStockProducts(
            pb.ListLowStockProductsRequest(page_size=100, page_token=token), metadata=manager)
        seen |= {p.id for p in reply.products}
        token = reply.next_page_token
        if not token:
            break
    assert made.id in seen


async def test_concurrent_adjustments_each_sent_twice_move_stock_once_per_request_id(running,
                                                                                    clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    requests = [_adjust(created.id, 1, RECEIPT, request_id=unique("req")) for _ in range(6)]
    replies = await asyncio.gather(*(stub.AdjustStock(r, metadata=clerk)
                                     for r in requests + requests))
    assert len({r.movement.id for r in replies}) == 6
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=clerk)
    assert fetched.product.stock.on_hand == 6
