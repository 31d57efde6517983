"""Inputs that misbehave, over the wire: extreme times, huge values, big tokens, amounts past
the cap, amounts finer than the currency, invisible names and malformed etags."""

from __future__ import annotations

import time

import grpc
import jwt
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import money_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import product_service_pb2 as ppb

from .helpers import create_customer, customers, fails, products
from .order_fixtures import Shop, line, usd

SHORT = 2000  # far below the 8 KiB at which a client's default limits start to bite
HUGE = "x" * 100_000


@pytest.fixture
def shop(running, admin) -> Shop:
    return Shop(running.channel, admin)


async def _list_orders(shop: Shop, **fields) -> opb.ListSalesOrdersResponse:
    return await shop.orders.ListSalesOrders(opb.ListSalesOrdersRequest(**fields),
                                             metadata=shop.md)


# -- 1. times at the edges of the Timestamp range -------------------------------------------


@pytest.mark.parametrize("text", [
    'create_time > "0001-01-01T00:00:00+14:00"',
    'create_time < "9999-12-31T23:59:59-14:00"',
    'create_time <= "9999-12-31T23:30:00-00:30"',
])
async def test_a_time_outside_the_timestamp_range_in_utc_is_invalid_argument_not_internal(
        shop, text):
    failure = await fails(_list_orders(shop, filter=text), grpc.StatusCode.INVALID_ARGUMENT)
    assert "filter" in failure.fields
    assert "range" in failure.fields["filter"]


async def test_orders_page_through_with_the_earliest_and_latest_valid_times(shop):
    customer = await shop.customer()
    product = await shop.product(stock=0)
    made = {(await shop.order(customer.id, line(product.id, 1))).id for _ in range(3)}
    for text in ('create_time > "0001-01-02T00:00:00Z"',
                 'create_time >= "0001-01-01T00:00:00Z"',
                 'create_time < "9999-12-31T23:59:59Z"',
                 'create_time < "9999-12-31T23:59:59.999999Z"',
                 'create_time > "0001-01-01T10:00:00+10:00"'):
        query = f'{text} AND customer_id = "{customer.id}"'
        seen: list[str] = []
        token = ""
        while True:
            page = await _list_orders(shop, filter=query, order_by="create_time",
                                      page_size=1, page_token=token)
            seen += [o.id for o in page.sales_orders]
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(made), text


@pytest.mark.parametrize("text", [
    "create_time > 2026-01-01T00:00:00Z",
    "create_time < 2026-01-01T00:00:00+02:00",
    "create_time >= 2026-01-01",
])
async def test_an_unquoted_timestamp_is_told_to_quote_it(shop, text):
    failure = await fails(_list_orders(shop, filter=text), grpc.StatusCode.INVALID_ARGUMENT)
    assert "must be quoted" in failure.fields["filter"]
    assert '"2026-01-01T' in failure.fields["filter"]


# -- 2. huge values are not echoed back -----------------------------------------------------


def _short(failure) -> None:
    assert len(failure.message) < SHORT
    assert all(len(d) < SHORT for d in failure.fields.values())
    assert all(len(v) < SHORT for v in (failure.info.metadata.values() if failure.info else ()))


async def test_a_100_kb_order_by_is_invalid_argument_with_a_short_message(shop):
    failure = await fails(_list_orders(shop, order_by=HUGE), grpc.StatusCode.INVALID_ARGUMENT)
    _short(failure)
    assert "order_by" in failure.fields and "100000" in failure.message


async def test_a_100_kb_filter_is_invalid_argument_with_a_short_message(shop):
    failure = await fails(_list_orders(shop, filter=HUGE), grpc.StatusCode.INVALID_ARGUMENT)
    _short(failure)
    assert "filter" in failure.fields


async def test_a_100_kb_sku_lookup_is_not_found_with_a_short_message(running, admin):
    failure = await fails(products(running).GetProductBySku(
        ppb.GetProductBySkuRequest(sku=HUGE), metadata=admin), grpc.StatusCode.NOT_FOUND)
    _short(failure)


async def test_a_100_kb_currency_code_and_amount_are_invalid_argument_with_short_messages(
        running, admin):
    request = ppb.CreateProductRequest(product=ppb.Product(
        sku="HUGE-1", name="Huge", unit_price=money_pb2.Money(currency_code=HUGE, amount="1"),
        cost=money_pb2.Money(currency_code="USD", amount="1" * 100_000)))
    failure = await fails(products(running).CreateProduct(request, metadata=admin),
                          grpc.StatusCode.INVALID_ARGUMENT)
    _short(failure)
    assert {"product.unit_price.currency_code", "product.cost.amount"} <= set(failure.fields)


async def test_a_100_kb_update_mask_path_is_invalid_argument_with_a_short_message(
        running, admin):
    created = await create_customer(running, admin)
    failure = await fails(customers(running).UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=created.id), update_mask=FieldMask(paths=[HUGE])),
        metadata=admin), grpc.StatusCode.INVALID_ARGUMENT)
    _short(failure)
    assert "update_mask" in failure.fields


async def test_a_100_kb_etag_is_aborted_with_a_short_message(running, admin):
    created = await create_customer(running, admin)
    failure = await fails(customers(running).UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=created.id, notes="n", etag="v" + "9" * 100_000),
        update_mask=FieldMask(paths=["notes"])), metadata=admin), grpc.StatusCode.ABORTED)
    _short(failure)
    assert failure.info is not None and failure.info.metadata["current_etag"] == created.etag


# -- 3. big tokens ----------------------------------------------------------------------------


def _big_token(running, size: int) -> str:
    """A token of about `size` characters, as an Auth service with many group claims signs."""
    now = int(time.time())
    claims = {"sub": "admin-big", "role": "admin", "team_id": "",
              "permissions": ["sales:read", "sales:create", "sales:update", "sales:delete"],
              "exp": now + 600, "iat": now,
              "groups": [f"group-{i:05d}-{'g' * 20}" for i in range(size * 3 // 4 // 34)]}
    return jwt.encode(claims, running.settings.secret_key, algorithm="HS256")


@pytest.mark.parametrize("size", [12_000, 16_500, 40_000])
async def test_a_token_of_up_to_40_kb_works_on_every_call(running, size):
    token = _big_token(running, size)
    assert len(token) >= size * 0.95
    md = (("authorization", f"Bearer {token}"),)
    for _ in range(20):
        reply = await products(running).ListProducts(ppb.ListProductsRequest(page_size=1),
                                                     metadata=md)
        assert reply is not None


async def test_a_token_past_the_64_kib_limit_is_resource_exhausted_every_time(running):
    md = (("authorization", f"Bearer {_big_token(running, 70_000)}"),)
    for _ in range(5):
        failure = await fails(products(running).ListProducts(ppb.ListProductsRequest(),
                                                             metadata=md),
                              grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert "65536" in failure.message


# -- 4. amounts past the cap --------------------------------------------------------------


async def _orders_of(shop: Shop, customer_id: str) -> list[opb.SalesOrder]:
    page = await _list_orders(shop, filter=f'customer_id = "{customer_id}"')
    return list(page.sales_orders)


async def test_an_order_whose_total_would_pass_the_cap_is_refused_and_not_created(shop):
    customer = await shop.customer()
    product = await shop.product(price="999999999.99", tax_rate="0", stock=0)
    failure = await fails(shop.order(customer.id, line(product.id, 1_000_000),
                                     line(product.id, 1_000_000)),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert "sales_order.lines" in failure.fields
    assert "1000000000000000" in failure.fields["sales_order.lines"]
    assert await _orders_of(shop, customer.id) == []


async def test_a_line_whose_amount_would_pass_the_cap_is_named(shop):
    customer = await shop.customer()
    product = await shop.product(price="999999999.99", tax_rate="0.19", stock=0)
    failure = await fails(shop.order(customer.id, line(product.id, 1),
                                     line(product.id, 1_000_000)),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert "sales_order.lines[1]" in failure.fields
    assert "sales_order.lines[0]" not in failure.fields


async def test_shipping_that_pushes_the_grand_total_past_the_cap_is_refused(shop):
    customer = await shop.customer()
    product = await shop.product(price="999999999.99", tax_rate="0", stock=0)
    failure = await fails(shop.order(customer.id, line(product.id, 1_000_000),
                                     shipping_charge=usd("999999.99")),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert "sales_order.shipping_charge" in failure.fields
    assert await _orders_of(shop, customer.id) == []


async def test_an_update_past_the_cap_is_refused_and_leaves_the_draft_as_it_was(shop):
    customer = await shop.customer()
    product = await shop.product(price="999999999.99", tax_rate="0", stock=0)
    order = await shop.order(customer.id, line(product.id, 1))
    await fails(shop.orders.UpdateSalesOrder(opb.UpdateSalesOrderRequest(
        sales_order=opb.SalesOrder(id=order.id, lines=[line(product.id, 1_000_000)],
                                   shipping_charge=usd("999999.99")),
        update_mask=FieldMask(paths=["lines", "shipping_charge"])), metadata=shop.md),
        grpc.StatusCode.INVALID_ARGUMENT)
    [stored] = await _orders_of(shop, customer.id)
    assert stored.totals.grand_total.amount == order.totals.grand_total.amount
    assert stored.etag == order.etag


# -- 5. amounts finer than the currency's minor unit ---------------------------------------


async def test_a_jpy_credit_limit_with_decimals_is_invalid_argument(running, admin):
    failure = await fails(customers(running).CreateCustomer(cpb.CreateCustomerRequest(
        customer=cpb.Customer(first_name="Ken", last_name="Sato", email="ken@example.com",
                              customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL,
                              credit_limit=money_pb2.Money(currency_code="JPY", amount="1.5"))),
        metadata=admin), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.credit_limit.amount"}
    assert "JPY" in failure.fields["customer.credit_limit.amount"]


async def test_a_whole_jpy_and_a_cent_usd_credit_limit_are_kept(running, admin):
    yen = await create_customer(running, admin,
                                credit_limit=money_pb2.Money(currency_code="JPY", amount="1500"))
    cents = await create_customer(running, admin, credit_limit=usd("1500.250"))
    assert yen.credit_limit.amount in ("1500", "1500.00", "1500.0")
    assert cents.credit_limit.amount.startswith("1500.25")


async def test_a_credit_limit_update_with_too_many_places_is_invalid_argument(running, admin):
    created = await create_customer(running, admin)
    failure = await fails(customers(running).UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=created.id, credit_limit=usd("10.001")),
        update_mask=FieldMask(paths=["credit_limit"])), metadata=admin),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.credit_limit.amount"}


async def test_a_shipping_charge_finer_than_the_cent_is_invalid_argument_not_rounded(shop):
    customer = await shop.customer()
    product = await shop.product(stock=0)
    failure = await fails(shop.order(customer.id, line(product.id, 1),
                                     shipping_charge=usd("4.955")),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"sales_order.shipping_charge.amount"}
    assert await _orders_of(shop, customer.id) == []


async def test_a_sub_cent_unit_price_is_still_accepted(shop):
    customer = await shop.customer()
    product = await shop.product(price="0.005", tax_rate="0", stock=0)
    order = await shop.order(customer.id, line(product.id, 3))
    assert order.totals.grand_total.amount == "0.02"


# -- 6. invisible names ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\u200b\ufeff", "\u200b", " \u2060 ", "\u3000", "\u00ad"])
async def test_a_name_of_only_invisible_characters_is_missing(running, admin, name):
    failure = await fails(customers(running).CreateCustomer(cpb.CreateCustomerRequest(
        customer=cpb.Customer(first_name=name, last_name="Lee", email="inv@example.com",
                              customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=admin),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.first_name"}


async def test_a_name_with_a_zero_width_joiner_between_letters_is_kept(running, admin):
    created = await create_customer(running, admin, first_name="Ann\u200dMarie")
    assert created.first_name == "Ann\u200dMarie"


async def test_a_company_name_of_only_invisible_characters_is_missing(running, admin):
    failure = await fails(customers(running).CreateCustomer(cpb.CreateCustomerRequest(
        customer=cpb.Customer(first_name="Ann", last_name="Lee", email="inv@example.com",
                              company_name="\u200b\ufeff",
                              customer_type=cpb.CUSTOMER_TYPE_BUSINESS)), metadata=admin),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.company_name"}


async def test_a_credit_override_reason_of_only_invisible_characters_is_missing(running, admin):
    shop = Shop(running.channel, admin)
    customer = await shop.customer(credit_limit="1.00")
    product = await shop.product(price="5.00")
    order = await shop.order(customer.id, line(product.id, 1))
    failure = await fails(shop.confirm(order.id, override_credit_limit=True,
                                       override_reason="\u200b\u2060"),
                          grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"override_reason"}


# -- 7. malformed etags ------------------------------------------------------------------------


@pytest.mark.parametrize("etag", ["v-1", "*", "abc", "v0", "v", "V1", "v1 ", "v01"])
async def test_a_malformed_etag_on_update_customer_is_invalid_argument(running, admin, etag):
    created = await create_customer(running, admin)
    failure = await fails(customers(running).UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=created.id, notes="n", etag=etag),
        update_mask=FieldMask(paths=["notes"])), metadata=admin),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"etag"}


@pytest.mark.parametrize("etag", ["v-1", "*", "abc"])
async def test_a_malformed_etag_on_an_order_transition_is_invalid_argument(shop, etag):
    customer = await shop.customer()
    product = await shop.product(stock=5)
    order = await shop.order(customer.id, line(product.id, 1))
    failure = await fails(shop.confirm(order.id, etag=etag), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"etag"}
    assert (await shop.stock(product.id)).reserved == 0


async def test_a_well_formed_but_old_etag_is_still_aborted(running, admin):
    created = await create_customer(running, admin)
    await fails(customers(running).UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=created.id, notes="n", etag="v7"),
        update_mask=FieldMask(paths=["notes"])), metadata=admin), grpc.StatusCode.ABORTED)
