"""List replies are capped by size as well as by count: a page of big orders ends early with a
next_page_token, so a client with gRPC's default 4 MB limit can read every page."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Role

from .order_fixtures import Shop, line, usd

DEFAULT_CLIENT_LIMIT = 4 * 1024 * 1024


async def _big_order(shop: Shop, catalog: Shop, lines: int, name_length: int = 5
                     ) -> opb.SalesOrder:
    """An order of `lines` lines owned by `shop`'s caller; `catalog` may create products."""

    async def product() -> str:
        sku = f"P-{uuid.uuid4().hex[:10]}"
        name = (sku + " long product name ") * (name_length // 20 + 1)
        return (await catalog.products.CreateProduct(ppb.CreateProductRequest(
            product=ppb.Product(sku=sku, name=name[:name_length], unit_price=usd("3.50"))),
            metadata=catalog.md)).product.id

    customer = await shop.customer()
    products: list[str] = []
    for start in range(0, lines, 20):
        products += await asyncio.gather(*(product()
                                           for _ in range(start, min(lines, start + 20))))
    return await shop.order(customer.id, *[line(p, 2) for p in products])


async def _every_page(stub: ogrpc.OrderServiceStub, metadata: Any
                      ) -> list[opb.ListSalesOrdersResponse]:
    pages, token = [], ""
    for _ in range(200):
        reply = await stub.ListSalesOrders(opb.ListSalesOrdersRequest(
            page_size=500, page_token=token), metadata=metadata)
        pages.append(reply)
        token = reply.next_page_token
        if not token:
            return pages
    raise AssertionError("the pages did not end")


@pytest.fixture
async def small_pages(fresh_settings) -> AsyncIterator[tuple[grpc.aio.Channel, Any]]:
    """A server whose List pages carry at most 40 KB of records: a few 30-line orders."""
    settings = fresh_settings(list_page_bytes=40_000)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield channel, settings
    await channel.close()
    await server.stop(1)
    await app.close()


async def test_a_page_past_the_byte_budget_ends_early_and_the_tokens_reach_every_order_once(
        small_pages):
    channel, settings = small_pages
    metadata = (("authorization",
                 f"Bearer {mint_token(settings, 'rep-size', Role.SALES_REP, 'team-s')}"),)
    shop = Shop(channel, metadata)
    catalog = Shop(channel, (("authorization",
                              f"Bearer {mint_token(settings, 'admin-size', Role.ADMIN)}"),))
    created = [(await _big_order(shop, catalog, 30)).id for _ in range(7)]

    pages = await _every_page(shop.orders, metadata)
    assert 1 < len(pages[0].sales_orders) < len(created)
    assert pages[0].next_page_token
    assert len(pages) > 2
    listed = [o.id for page in pages for o in page.sales_orders]
    assert sorted(listed) == sorted(created)


async def test_a_default_client_reads_every_page_of_orders_too_big_for_one_reply(running):
    rep = f"rep-{uuid.uuid4().hex[:8]}"
    metadata = running.token(rep, Role.SALES_REP, "team-big")
    shop = Shop(running.channel, metadata)
    # 200 lines naming products of 200 characters: about 66 KB of protobuf per order
    original = await _big_order(shop, Shop(running.channel, running.token(
        "admin-size", Role.ADMIN, "")), 200, name_length=200)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(running.settings.mongodb_url,
                                                                tz_aware=True)
    try:  # copies of the order straight into the collection: 70 orders, over 4 MB
        orders = client[running.settings.database_name]["sales_orders"]
        doc = await orders.find_one({"_id": ObjectId(original.id)})
        assert doc is not None
        start = datetime.now(UTC)
        copies = [{**doc, "_id": ObjectId(), "number": f"{original.number}-{i:04d}",
                   "create_time": start + timedelta(milliseconds=i)} for i in range(69)]
        for first in range(0, len(copies), 20):
            await orders.insert_many(copies[first:first + 20])
    finally:
        await client.close()
    # The suite's channel has no options: it receives at most gRPC's default of 4 MB.
    pages = await _every_page(ogrpc.OrderServiceStub(running.channel), metadata)

    assert sum(page.ByteSize() for page in pages) > DEFAULT_CLIENT_LIMIT
    assert all(page.ByteSize() < DEFAULT_CLIENT_LIMIT for page in pages)
    listed = [o.id for page in pages for o in page.sales_orders]
    assert len(listed) == len(set(listed)) == 70
    assert set(listed) == {original.id} | {str(c["_id"]) for c in copies}
