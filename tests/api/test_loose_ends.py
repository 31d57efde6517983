"""Customers found by full name, codes in numeric order, prices compared within a currency."""

from __future__ import annotations

import uuid

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import product_service_pb2 as ppb
from sales_grpc.store.customers import code_key

from .helpers import create_customer, create_product, customers, money, products


async def test_a_customer_is_found_by_first_and_last_name_together(running, manager):
    last = f"Lee{uuid.uuid4().hex[:6]}"
    ann = await create_customer(running, manager, first_name="Ann", last_name=last)
    await create_customer(running, manager, first_name="Annette", last_name="Other")
    found = await customers(running).SearchCustomers(
        cpb.SearchCustomersRequest(query=f"ann {last.lower()}"), metadata=manager)
    assert [c.id for c in found.customers] == [ann.id]


def test_customer_codes_sort_by_their_number_past_six_digits():
    codes = ["CUST-1000000", "CUST-999999", "CUST-000042", "CUST-10000000"]
    assert sorted(codes, key=code_key) == ["CUST-000042", "CUST-999999", "CUST-1000000",
                                           "CUST-10000000"]


async def test_a_price_filter_compares_within_one_currency(running, clerk):
    tag = uuid.uuid4().hex[:8]
    usd = await create_product(running, clerk, unit_price=money("15.00"), category=tag)
    yen = await create_product(running, clerk, unit_price=money("1500", "JPY"), category=tag)
    stub = products(running)

    async def ids(condition: str) -> list[str]:
        reply = await stub.ListProducts(ppb.ListProductsRequest(
            filter=f'category = "{tag}" AND {condition}'), metadata=clerk)
        return [p.id for p in reply.products]

    assert await ids("unit_price >= 10") == [usd.id]  # DEFAULT_CURRENCY, USD
    assert await ids('unit_price >= 10 AND currency_code = "JPY"') == [yen.id]
    assert await ids('currency_code = "JPY"') == [yen.id]
