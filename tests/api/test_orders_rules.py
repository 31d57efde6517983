"""Order rules over the wire: exact totals, discounts, credit, bad input, access, idempotency."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from erp.sales.v1 import order_service_pb2 as opb
from sales_grpc.domain.access import Role

from .order_fixtures import Shop, line, usd


@pytest.fixture
def shop(running, admin) -> Shop:
    return Shop(running.channel, admin)


def D(money) -> Decimal:
    return Decimal(money.amount)


async def _fails(code, call):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return err.value


async def test_totals_with_mixed_taxes_and_discounts_add_up_to_the_cent(shop):
    customer = await shop.customer()
    awkward = await shop.product(price="0.005", tax_rate="0.19")
    common = await shop.product(price="19.99", tax_rate="0.07")
    untaxed = await shop.product(price="3.33", tax_rate="0")
    defaulted = await shop.product(price="1.10")  # no rate: DEFAULT_TAX_RATE 0.15
    order = await shop.order(
        customer.id, line(awkward.id, 3), line(common.id, 3, discount_rate="0.125"),
        line(untaxed.id, 7), line(defaulted.id, 1, unit_price=usd("0.99")),
        discount_rate="0.05", shipping_charge=usd("4.95"))
    lines, t = order.lines, order.totals
    assert [x.tax_rate for x in lines] == ["0.19", "0.07", "0", "0.15"]
    assert lines[0].gross_amount.amount == "0.02"            # 3 x 0.005 = 0.015 -> 0.02
    assert lines[1].gross_amount.amount == "59.97"           # 19.99 x 3
    assert lines[2].tax_amount.amount == "0.00"              # 0% stays 0%
    assert lines[3].unit_price.amount == "0.99"              # an explicit price wins
    for x in lines:
        assert D(x.total_amount) == D(x.gross_amount) - D(x.discount_amount) + D(x.tax_amount)
        assert all(len(m.amount.split(".")[1]) == 2 for m in
                   (x.gross_amount, x.discount_amount, x.tax_amount, x.total_amount))
    assert D(t.subtotal) == sum(D(x.gross_amount) for x in lines)
    assert D(t.discount_total) == sum(D(x.discount_amount) for x in lines)
    assert D(t.tax_total) == sum(D(x.tax_amount) for x in lines)
    assert D(t.grand_total) == sum(D(x.total_amount) for x in lines) + D(t.shipping)
    assert D(t.grand_total) == D(t.subtotal) - D(t.discount_total) + D(t.tax_total) + Decimal(
        "4.95")
    # Line 2 by hand: 59.97 - 7.50 (12.5%) = 52.47; 5% of it = 2.62; taxable 49.85; 7% = 3.49
    assert (lines[1].discount_amount.amount, lines[1].tax_amount.amount) == ("10.12", "3.49")


async def test_a_rep_cannot_give_more_than_the_discount_limit_but_a_manager_can(shop, running):
    rep, manager = running.token("rep-disc", Role.SALES_REP, "team-d"), running.token(
        "mgr-disc", Role.SALES_MANAGER, "team-d")
    rep_shop = Shop(running.channel, rep)
    customer = await rep_shop.customer()
    product = await shop.product()
    err = await _fails(grpc.StatusCode.PERMISSION_DENIED,
                       rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.25")))
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in rpc_status.from_call(err).details)
    assert info.reason == "DISCOUNT_ABOVE_LIMIT" and info.metadata["limit"] == "0.20"
    order = await rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.25"),
                                 md=manager)
    assert order.lines[0].discount_rate == "0.25"


async def test_credit_limit_blocks_confirmation_unless_a_manager_overrides(shop, running):
    customer = await shop.customer(credit_limit="100.00")
    product = await shop.product(price="40.00", tax_rate="0")
    first = await shop.order(customer.id, line(product.id, 2))      # 80.00
    second = await shop.order(customer.id, line(product.id, 1))     # 40.00 -> 120 > 100
    await shop.confirm(first.id)
    err = await _fails(grpc.StatusCode.FAILED_PRECONDITION, shop.confirm(second.id))
    assert "credit limit" in err.details()
    assert (await shop.stock(product.id)).reserved == 2
    rep = running.token("rep-1", Role.SALES_REP, "team-a")
    await _fails(grpc.StatusCode.PERMISSION_DENIED, shop.confirm(
        second.id, md=rep, override_credit_limit=True, override_reason="ok"))
    confirmed = await shop.confirm(second.id, override_credit_limit=True,
                                   override_reason="paid upfront by wire")
    assert confirmed.credit_limit_overridden
    history = await shop.orders.ListSalesOrderHistory(
        opb.ListSalesOrderHistoryRequest(id=second.id), metadata=shop.md)
    override = [e for e in history.entries if e.action == "credit_override"]
    assert override and override[0].note == "paid upfront by wire"


@pytest.mark.parametrize("make_line, field", [
    (lambda p: line(p, 0), "sales_order.lines[0].quantity"),
    (lambda p: line(p, -3), "sales_order.lines[0].quantity"),
    (lambda p: line(p, 10**12), "sales_order.lines[0].quantity"),
    (lambda p: line(p, 1, discount_rate="1.5"), "sales_order.lines[0].discount_rate"),
    (lambda p: line(p, 1, discount_rate="abc"), "sales_order.lines[0].discount_rate"),
    (lambda p: line(p, 1, unit_price=usd("-1")), "sales_order.lines[0].unit_price.amount"),
    (lambda p: line(p, 1, unit_price=usd("1e9")), "sales_order.lines[0].unit_price.amount"),
    (lambda p: line("0" * 24, 1), "sales_order.lines[0].product_id"),
    (lambda p: line("not-an-id", 1), "sales_order.lines[0].product_id"),
])
async def test_bad_lines_are_invalid_argument_naming_the_field(shop, make_line, field):
    customer = await shop.customer()
    product = await shop.product()
    err = await _fails(grpc.StatusCode.INVALID_ARGUMENT,
                       shop.order(customer.id, make_line(product.id)))
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in rpc_status.from_call(err).details)
    assert field in [v.field for v in bad.field_violations]


async def test_currency_mismatches_and_line_counts_are_refused(shop):
    customer = await shop.customer()
    euro = await shop.product(currency="EUR")
    await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.order(customer.id, line(euro.id, 1)))
    await _fails(grpc.StatusCode.INVALID_ARGUMENT,
                 shop.order(customer.id, line(euro.id, 1), currency_code="XXX"))
    await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.order(customer.id))
    product = await shop.product()
    await _fails(grpc.StatusCode.INVALID_ARGUMENT,
                 shop.order(customer.id, *[line(product.id, 1) for _ in range(201)]))
    assert (await shop.order(customer.id, line(euro.id, 2), currency_code="EUR")).currency_code \
        == "EUR"


async def test_archived_products_and_customers_cannot_be_ordered(shop):
    from erp.sales.v1 import customer_service_pb2 as cpb
    from erp.sales.v1 import product_service_pb2 as ppb

    customer = await shop.customer()
    product = await shop.product(stock=0)
    await shop.products.DeleteProduct(ppb.DeleteProductRequest(id=product.id), metadata=shop.md)
    await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.order(customer.id, line(product.id, 1)))
    live = await shop.product()
    await shop.customers.DeleteCustomer(cpb.DeleteCustomerRequest(id=customer.id),
                                        metadata=shop.md)
    await _fails(grpc.StatusCode.FAILED_PRECONDITION, shop.order(customer.id, line(live.id, 1)))


async def test_a_retried_create_with_the_same_request_id_returns_the_first_order(shop):
    customer = await shop.customer()
    product = await shop.product()
    request = opb.CreateSalesOrderRequest(
        sales_order=opb.SalesOrder(customer_id=customer.id, lines=[line(product.id, 1)]),
        request_id="retry-me-once")
    first = (await shop.orders.CreateSalesOrder(request, metadata=shop.md)).sales_order
    second = (await shop.orders.CreateSalesOrder(request, metadata=shop.md)).sales_order
    assert (first.id, first.number) == (second.id, second.number)


async def test_updating_a_draft_reprices_and_a_stale_etag_is_aborted(shop):
    customer = await shop.customer()
    product = await shop.product(price="10.00", tax_rate="0")
    order = await shop.order(customer.id, line(product.id, 1))
    mask = field_mask_pb2.FieldMask(paths=["lines", "notes"])
    updated = (await shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=opb.SalesOrder(id=order.id, etag=order.etag, notes="rush",
                                   lines=[line(product.id, 4)]), update_mask=mask),
        metadata=shop.md)).sales_order
    assert updated.totals.grand_total.amount == "40.00" and updated.notes == "rush"
    await _fails(grpc.StatusCode.ABORTED, shop.orders.UpdateSalesOrder(
        opb.UpdateSalesOrderRequest(sales_order=opb.SalesOrder(id=order.id, etag=order.etag,
                                                               notes="late"),
                                    update_mask=field_mask_pb2.FieldMask(paths=["notes"])),
        metadata=shop.md))
    await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.orders.UpdateSalesOrder(
        opb.UpdateSalesOrderRequest(sales_order=opb.SalesOrder(id=order.id),
                                    update_mask=field_mask_pb2.FieldMask(paths=["state"])),
        metadata=shop.md))
    await shop.confirm(order.id)
    await _fails(grpc.StatusCode.FAILED_PRECONDITION, shop.orders.UpdateSalesOrder(
        opb.UpdateSalesOrderRequest(sales_order=opb.SalesOrder(id=order.id, notes="x"),
                                    update_mask=field_mask_pb2.FieldMask(paths=["notes"])),
        metadata=shop.md))


async def test_duplicate_makes_a_new_draft_at_current_prices(shop):
    from erp.sales.v1 import product_service_pb2 as ppb

    customer = await shop.customer()
    product = await shop.product(price="10.00", tax_rate="0")
    order = await shop.order(customer.id, line(product.id, 2))
    await shop.confirm(order.id)
    await shop.products.UpdateProduct(ppb.UpdateProductRequest(
        product=ppb.Product(id=product.id, unit_price=usd("12.00")),
        update_mask=field_mask_pb2.FieldMask(paths=["unit_price"])), metadata=shop.md)
    copy = (await shop.orders.DuplicateSalesOrder(opb.DuplicateSalesOrderRequest(id=order.id),
                                                  metadata=shop.md)).sales_order
    assert copy.id != order.id and copy.number != order.number
    assert copy.state == opb.SALES_ORDER_STATE_DRAFT
    assert copy.totals.grand_total.amount == "24.00"


async def test_another_reps_order_is_not_found_but_their_manager_sees_it(shop, running):
    owner = running.token("rep-own", Role.SALES_REP, "team-o")
    other = running.token("rep-other", Role.SALES_REP, "team-o")
    boss = running.token("mgr-o", Role.SALES_MANAGER, "team-o")
    outsider = running.token("mgr-x", Role.SALES_MANAGER, "team-x")
    owner_shop = Shop(running.channel, owner)
    customer = await owner_shop.customer()
    product = await shop.product()
    order = await owner_shop.order(customer.id, line(product.id, 1))
    for md in (other, outsider):
        await _fails(grpc.StatusCode.NOT_FOUND, shop.orders.GetSalesOrder(
            opb.GetSalesOrderRequest(id=order.id), metadata=md))
        await _fails(grpc.StatusCode.NOT_FOUND, shop.confirm(order.id, md=md))
    seen = await shop.orders.GetSalesOrderByNumber(
        opb.GetSalesOrderByNumberRequest(number=order.number), metadata=boss)
    assert seen.sales_order.id == order.id
    listed = await shop.orders.ListSalesOrders(opb.ListSalesOrdersRequest(), metadata=other)
    assert order.id not in {o.id for o in listed.sales_orders}


async def test_list_filters_by_state_and_total_and_pages_without_gaps(shop, running):
    md = running.token("rep-list", Role.SALES_REP, "team-l")
    mine = Shop(running.channel, md)
    customer = await mine.customer()
    product = await shop.product(price="10.00", tax_rate="0")
    made = [await mine.order(customer.id, line(product.id, q)) for q in (1, 2, 3, 4, 5)]
    await mine.confirm(made[4].id)
    big = await shop.orders.ListSalesOrders(opb.ListSalesOrdersRequest(
        filter='grand_total >= 30 AND state = DRAFT', order_by="grand_total"), metadata=md)
    assert [o.totals.grand_total.amount for o in big.sales_orders] == ["30.00", "40.00"]
    seen, token = [], ""
    while True:
        page = await shop.orders.ListSalesOrders(opb.ListSalesOrdersRequest(
            page_size=2, page_token=token), metadata=md)
        seen += [o.id for o in page.sales_orders]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(o.id for o in made)
    await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.orders.ListSalesOrders(
        opb.ListSalesOrdersRequest(filter='create_time > "yesterday"'), metadata=md))


async def test_a_transition_with_a_stale_etag_is_aborted_and_moves_no_stock(shop):
    customer = await shop.customer()
    product = await shop.product(stock=5)
    order = await shop.order(customer.id, line(product.id, 2))
    await shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=opb.SalesOrder(id=order.id, notes="edited by a colleague"),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=shop.md)
    err = await _fails(grpc.StatusCode.ABORTED, shop.confirm(order.id, etag=order.etag))
    assert "stale" in err.details()
    assert (await shop.stock(product.id)).reserved == 0


async def test_a_suspended_customer_gets_no_new_orders(shop):
    from erp.sales.v1 import customer_service_pb2 as cpb

    customer = await shop.customer()
    product = await shop.product()
    await shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=customer.id, status=cpb.CUSTOMER_STATUS_SUSPENDED),
        update_mask=field_mask_pb2.FieldMask(paths=["status"])), metadata=shop.md)
    err = await _fails(grpc.StatusCode.FAILED_PRECONDITION,
                       shop.order(customer.id, line(product.id, 1)))
    assert "suspended" in err.details()


async def test_an_update_ignores_bad_values_outside_its_mask_but_not_inside(shop):
    customer = await shop.customer()
    product = await shop.product()
    order = await shop.order(customer.id, line(product.id, 1))
    bad_price = line(product.id, 1, unit_price=usd("abc"))
    notes_only = await shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=opb.SalesOrder(id=order.id, notes="ok", lines=[bad_price]),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=shop.md)
    assert notes_only.sales_order.notes == "ok"
    err = await _fails(grpc.StatusCode.INVALID_ARGUMENT, shop.orders.UpdateSalesOrder(
        opb.UpdateSalesOrderRequest(sales_order=opb.SalesOrder(id=order.id, lines=[bad_price]),
                                    update_mask=field_mask_pb2.FieldMask(paths=["lines"])),
        metadata=shop.md))
    assert "sales_order.lines[0].unit_price.amount" in err.details()


async def test_a_draft_whose_customer_was_suspended_meanwhile_cannot_be_confirmed(shop):
    from erp.sales.v1 import customer_service_pb2 as cpb

    customer = await shop.customer()
    product = await shop.product(stock=3)
    order = await shop.order(customer.id, line(product.id, 1))
    await shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=customer.id, status=cpb.CUSTOMER_STATUS_SUSPENDED),
        update_mask=field_mask_pb2.FieldMask(paths=["status"])), metadata=shop.md)
    err = await _fails(grpc.StatusCode.FAILED_PRECONDITION, shop.confirm(order.id))
    assert "suspended" in err.details()
    assert (await shop.stock(product.id)).reserved == 0
    stats = (await shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                              metadata=shop.md)).customer.sales_stats
    assert stats.order_count == 0
