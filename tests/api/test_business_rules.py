"""What a permitted caller may change, over the wire: each bypass a hostile sales rep tried."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import product_service_pb2 as ppb
from sales_grpc.domain.access import Role

from .helpers import fails
from .order_fixtures import Shop, line, usd

DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture
def team() -> str:
    return f"team-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def rep_shop(running, team) -> Shop:
    return Shop(running.channel, running.token(f"rep-{team}", Role.SALES_REP, team))


@pytest.fixture
def manager_md(running, team):
    return running.token(f"mgr-{team}", Role.SALES_MANAGER, team)


@pytest.fixture
def shop(running, admin) -> Shop:
    return Shop(running.channel, admin)


async def _own_customer(rep_shop: Shop, manager_md, credit_limit: str | None = None):
    """A customer of the rep's, with a credit limit a manager set."""
    customer = await rep_shop.customer()
    if credit_limit is None:
        return customer
    customer.credit_limit.CopyFrom(usd(credit_limit))
    return (await rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=customer, update_mask=FieldMask(paths=["credit_limit"])),
        metadata=manager_md)).customer


# -- prices and discounts ----------------------------------------------------------------

async def test_a_rep_cannot_sell_below_list_price_by_overriding_the_unit_price(
        rep_shop, shop, manager_md):
    customer = await rep_shop.customer()
    product = await shop.product(price="50.00")
    failure = await fails(rep_shop.order(customer.id, line(product.id, 1,
                                                           unit_price=usd("0.00"))), DENIED)
    assert failure.info.reason == "DISCOUNT_ABOVE_LIMIT"
    assert failure.info.metadata["field"] == "sales_order.lines[0]"
    assert "100%" in failure.message
    approved = await rep_shop.order(customer.id, line(product.id, 1, unit_price=usd("0.00")),
                                    md=manager_md)
    # The override stays visible on the order: the list price beside the price charged.
    assert approved.lines[0].list_price.amount == "50.00"
    assert approved.lines[0].unit_price.amount == "0.00"
    assert approved.lines[0].effective_discount_rate == "1"
    assert approved.totals.grand_total.amount == "0.00"


async def test_stacked_line_and_order_discounts_count_as_one_effective_discount(rep_shop, shop):
    customer = await rep_shop.customer()
    product = await shop.product(price="50.00", tax_rate="0")
    failure = await fails(rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.2"),
                                         discount_rate="0.2"), DENIED)
    assert failure.info.metadata["requested"] == "0.36"
    within = await rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.1"),
                                  discount_rate="0.1")
    assert within.lines[0].effective_discount_rate == "0.19"
    assert within.totals.grand_total.amount == "40.50"


async def test_a_price_cut_plus_a_discount_within_each_limit_is_refused_together(rep_shop, shop):
    customer = await rep_shop.customer()
    product = await shop.product(price="50.00")
    # 45.00 is 10% below list; 15% off that is 23.5% in all.
    await fails(rep_shop.order(customer.id, line(product.id, 1, unit_price=usd("45.00"),
                                                 discount_rate="0.15")), DENIED)


async def test_a_rep_cannot_raise_a_drafts_discount_above_the_limit_by_update(rep_shop, shop):
    customer = await rep_shop.customer()
    product = await shop.product(price="50.00")
    draft = await rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.15"))
    draft.discount_rate = "0.10"  # 1 - 0.85 x 0.90 = 23.5%
    await fails(rep_shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=draft, update_mask=FieldMask(paths=["discount_rate"])),
        metadata=rep_shop.md), DENIED)
    kept = (await rep_shop.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=draft.id),
                                                metadata=rep_shop.md)).sales_order
    assert kept.discount_rate == "0" and kept.etag == draft.etag


async def test_a_rep_may_edit_the_notes_of_a_draft_a_manager_discounted(
        rep_shop, shop, manager_md, team):
    customer = await rep_shop.customer()
    product = await shop.product(price="50.00")
    draft = await rep_shop.order(customer.id, line(product.id, 1, discount_rate="0.5"),
                                 md=manager_md, owner_id=f"rep-{team}")
    draft.notes = "deliver by the back door"
    updated = (await rep_shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=draft, update_mask=FieldMask(paths=["notes"])),
        metadata=rep_shop.md)).sales_order
    assert updated.notes == "deliver by the back door"
    assert updated.lines[0].effective_discount_rate == "0.5"


# -- credit decisions ----------------------------------------------------------------------

async def test_a_rep_refused_for_credit_cannot_raise_the_credit_limit_and_confirm(
        rep_shop, shop, manager_md):
    customer = await _own_customer(rep_shop, manager_md, credit_limit="100.00")
    product = await shop.product(price="80.00", tax_rate="0")
    order = await rep_shop.order(customer.id, line(product.id, 2))
    await fails(rep_shop.confirm(order.id), grpc.StatusCode.FAILED_PRECONDITION)
    customer.credit_limit.CopyFrom(usd("999999999999.00"))
    failure = await fails(rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=customer, update_mask=FieldMask(paths=["credit_limit"])),
        metadata=rep_shop.md), DENIED)
    assert failure.info.reason == "CREDIT_TERMS_NOT_ALLOWED"
    await fails(rep_shop.confirm(order.id), grpc.StatusCode.FAILED_PRECONDITION)
    stored = (await rep_shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                                   metadata=rep_shop.md)).customer
    assert stored.credit_limit.amount == "100.00"


async def test_payment_terms_are_set_by_a_manager_not_a_rep(rep_shop, manager_md):
    customer = await rep_shop.customer()
    customer.payment_terms = cpb.PAYMENT_TERMS_NET_90
    request = cpb.UpdateCustomerRequest(customer=customer,
                                        update_mask=FieldMask(paths=["payment_terms"]))
    failure = await fails(rep_shop.customers.UpdateCustomer(request, metadata=rep_shop.md),
                          DENIED)
    assert failure.info.reason == "CREDIT_TERMS_NOT_ALLOWED"
    await fails(rep_shop.customers.CreateCustomer(cpb.CreateCustomerRequest(
        customer=cpb.Customer(first_name="A", last_name="B", email="ab@example.com",
                              customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL,
                              payment_terms=cpb.PAYMENT_TERMS_NET_90)),
        metadata=rep_shop.md), DENIED)
    updated = (await rep_shop.customers.UpdateCustomer(request, metadata=manager_md)).customer
    assert updated.payment_terms == cpb.PAYMENT_TERMS_NET_90


async def test_a_rep_cannot_lift_a_suspension_to_confirm_an_old_draft(
        running, rep_shop, shop, team):
    customer = await rep_shop.customer()
    product = await shop.product()
    draft = await rep_shop.order(customer.id, line(product.id, 1))
    customer.status = cpb.CUSTOMER_STATUS_SUSPENDED
    mask = FieldMask(paths=["status"])
    await fails(rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=customer, update_mask=mask), metadata=rep_shop.md), DENIED)
    suspended = (await rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=customer, update_mask=mask), metadata=shop.md)).customer
    suspended.status = cpb.CUSTOMER_STATUS_ACTIVE
    failure = await fails(rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=suspended, update_mask=mask), metadata=rep_shop.md), DENIED)
    assert failure.info.reason == "SUSPENSION_NOT_ALLOWED"
    await fails(rep_shop.confirm(draft.id), grpc.StatusCode.FAILED_PRECONDITION)
    manager = running.token(f"mgr-{team}", Role.SALES_MANAGER, team)
    lifted = (await rep_shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=suspended, update_mask=mask), metadata=manager)).customer
    assert lifted.status == cpb.CUSTOMER_STATUS_ACTIVE
    assert (await rep_shop.confirm(draft.id)).state == opb.SALES_ORDER_STATE_CONFIRMED


# -- the catalog and stock ---------------------------------------------------------------

async def test_a_rep_cannot_change_the_catalog_or_receive_stock(rep_shop, shop):
    product = await shop.product(price="50.00")
    product.unit_price.CopyFrom(usd("0.01"))
    calls = {
        "CATALOG_CHANGE_NOT_ALLOWED": [
            rep_shop.products.UpdateProduct(ppb.UpdateProductRequest(
                product=product, update_mask=FieldMask(paths=["unit_price"])),
                metadata=rep_shop.md),
            rep_shop.products.CreateProduct(ppb.CreateProductRequest(product=ppb.Product(
                sku=f"X-{uuid.uuid4().hex[:8]}", name="Free", unit_price=usd("0.01"))),
                metadata=rep_shop.md)],
        "STOCK_CHANGE_NOT_ALLOWED": [
            rep_shop.products.AdjustStock(ppb.AdjustStockRequest(
                product_id=product.id, quantity_delta=1_000_000,
                reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT), metadata=rep_shop.md)],
    }
    for reason, refused in calls.items():
        for call in refused:
            assert (await fails(call, DENIED)).info.reason == reason
    stored = (await shop.products.GetProduct(ppb.GetProductRequest(id=product.id),
                                             metadata=shop.md)).product
    assert stored.unit_price.amount == "50.00" and stored.stock.on_hand == 100


async def test_a_token_with_the_catalog_permission_edits_products_but_not_stock(running, shop):
    clerk = running.token("clerk-2", Role.SALES_REP, "team-a",
                          ["sales:read", "sales:create", "sales:update", "sales:catalog"])
    product = await shop.product(price="50.00")
    product.unit_price.CopyFrom(usd("55.00"))
    updated = (await shop.products.UpdateProduct(ppb.UpdateProductRequest(
        product=product, update_mask=FieldMask(paths=["unit_price"])), metadata=clerk)).product
    assert updated.unit_price.amount == "55.00"
    failure = await fails(shop.products.AdjustStock(ppb.AdjustStockRequest(
        product_id=product.id, quantity_delta=5, reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT),
        metadata=clerk), DENIED)
    assert "sales:stock" in failure.message


# -- owners and teams of orders ------------------------------------------------------------

async def test_an_order_cannot_leave_its_customers_team(running, rep_shop, manager_md, shop,
                                                        team):
    customer = await rep_shop.customer()
    product = await shop.product()
    failure = await fails(rep_shop.order(customer.id, line(product.id, 1), md=manager_md,
                                         owner_id="rep-3", team_id="team-b"),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert "sales_order.team_id" in failure.fields
    handed = await rep_shop.order(customer.id, line(product.id, 1), md=manager_md,
                                  owner_id="rep-3")
    assert (handed.owner_id, handed.team_id) == ("rep-3", team)
    # rep-3 of another team cannot confirm it (nor see it); the manager still sees it.
    rep3 = running.token("rep-3", Role.SALES_REP, "team-b")
    await fails(rep_shop.confirm(handed.id, md=rep3), grpc.StatusCode.NOT_FOUND)
    seen = (await rep_shop.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=handed.id),
                                                metadata=manager_md)).sales_order
    assert seen.state == opb.SALES_ORDER_STATE_DRAFT


async def test_a_rep_cannot_create_an_order_for_another_owner(rep_shop, shop):
    customer = await rep_shop.customer()
    product = await shop.product()
    failure = await fails(rep_shop.order(customer.id, line(product.id, 1), owner_id="rep-x"),
                          DENIED)
    assert failure.info.reason == "ASSIGNMENT_NOT_ALLOWED"
