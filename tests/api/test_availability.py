"""Expensive calls cannot take the server from the rest: past a method's concurrency limit a
List is refused fast with RESOURCE_EXHAUSTED, cheap calls never are, and a call whose
deadline has passed is not started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from sales_grpc.api.auth import Authenticator, mint_token
from sales_grpc.api.interceptors import EdgeInterceptor
from sales_grpc.api.limits import expensive_methods
from sales_grpc.api.server import SALES_SERVICES, SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.domain.access import Role

from .helpers import create_product, decode, products

LIST_ORDERS = "/erp.sales.v1.OrderService/ListSalesOrders"


@dataclass
class Gate:
    """Holds every ListSalesOrders inside its handler until opened, counting those that got in."""

    app: App
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    entered: int = 0

    def __post_init__(self) -> None:
        real = self.app.orders.list_page

        async def held(*args: Any, **kwargs: Any) -> Any:
            self.entered += 1
            await self.opened.wait()
            return await real(*args, **kwargs)

        self.app.orders.list_page = held  # type: ignore[method-assign]


@dataclass
class Limited:
    channel: grpc.aio.Channel
    gate: Gate
    admin: tuple[tuple[str, str], ...]


@pytest.fixture
async def limited(fresh_settings) -> AsyncIterator[Limited]:
    settings = fresh_settings(list_concurrency_limit=2, list_wait_seconds=0.05)
    app = await build(settings)
    gate = Gate(app)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    admin = (("authorization", f"Bearer {mint_token(settings, 'admin-l', Role.ADMIN)}"),)
    yield Limited(channel, gate, admin)
    gate.opened.set()
    await channel.close()
    await server.stop(1)
    await app.close()


async def _outcome(call: Any) -> grpc.StatusCode | Any:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        return error


async def _until(condition: Any) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def test_every_list_search_and_export_method_of_the_contract_is_limited():
    methods = expensive_methods(SALES_SERVICES)
    assert "/erp.sales.v1.ReportService/ExportReport" in methods
    assert LIST_ORDERS in methods
    assert "/erp.sales.v1.CustomerService/SearchCustomers" in methods
    assert "/erp.sales.v1.ProductService/ListProducts" in methods
    assert "/erp.sales.v1.ProductService/GetProduct" not in methods
    assert all(m.rsplit("/", 1)[1].startswith(("List", "Search", "Export")) for m in methods)


async def test_lists_past_the_limit_are_resource_exhausted_and_the_admitted_ones_succeed(
        limited):
    stub = ogrpc.OrderServiceStub(limited.channel)
    calls = [asyncio.ensure_future(_outcome(stub.ListSalesOrders(
        opb.ListSalesOrdersRequest(), metadata=limited.admin))) for _ in range(6)]
    await _until(lambda: sum(c.done() for c in calls) == 4)  # the two admitted wait at the gate

    refused = [decode(c.result()) for c in calls if c.done()]
    assert [f.code for f in refused] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 4
    assert {f.info.reason for f in refused if f.info} == {"CONCURRENCY_LIMIT"}
    assert refused[0].info is not None and refused[0].info.metadata["method"] == LIST_ORDERS
    status = rpc_status.from_call(refused[0].error)  # type: ignore[arg-type]
    retry = [d for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
    assert len(retry) == 1
    assert limited.gate.entered == 2

    limited.gate.opened.set()
    admitted = await asyncio.gather(*(c for c in calls if not c.done()))
    assert all(isinstance(reply, opb.ListSalesOrdersResponse) for reply in admitted)


async def test_cheap_calls_and_other_lists_go_through_while_one_list_method_is_full(limited):
    product = await create_product(limited, limited.admin)
    stub = ogrpc.OrderServiceStub(limited.channel)
    holding = [asyncio.ensure_future(stub.ListSalesOrders(
        opb.ListSalesOrdersRequest(), metadata=limited.admin)) for _ in range(2)]
    await _until(lambda: limited.gate.entered == 2)

    catalog = products(limited)
    replies = await asyncio.gather(*(catalog.GetProduct(
        ppb.GetProductRequest(id=product.id), metadata=limited.admin) for _ in range(20)))
    assert {r.product.id for r in replies} == {product.id}
    listed = await catalog.ListProducts(ppb.ListProductsRequest(), metadata=limited.admin)
    assert product.id in [p.id for p in listed.products]

    limited.gate.opened.set()
    await asyncio.gather(*holding)


async def test_a_refused_list_leaves_its_place_to_the_next_caller(limited):
    stub = ogrpc.OrderServiceStub(limited.channel)
    first = [asyncio.ensure_future(_outcome(stub.ListSalesOrders(
        opb.ListSalesOrdersRequest(), metadata=limited.admin))) for _ in range(3)]
    await _until(lambda: sum(c.done() for c in first) == 1)
    limited.gate.opened.set()
    await asyncio.gather(*first)
    later = await asyncio.gather(*(stub.ListSalesOrders(
        opb.ListSalesOrdersRequest(), metadata=limited.admin) for _ in range(2)))
    assert len(later) == 2 and limited.gate.entered == 4


class _ExpiredContext:
    """What the interceptor sees of a call whose deadline ran out before it was started.

    Over the wire this cannot be produced on demand: grpc.aio itself drops a unary call whose
    deadline expires while it is queued (probed with the event loop blocked for 1 s under a
    0.3 s deadline: the interceptor was never entered), so the interceptor's check catches only
    a deadline that runs out between the transport and the interceptor."""

    def __init__(self) -> None:
        self.aborted: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass

    def time_remaining(self) -> float:
        return 0.0

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()):
        self.aborted = code
        raise grpc.aio.AbortError()


async def test_a_call_whose_deadline_has_passed_is_deadline_exceeded_without_running(settings):
    ran = []

    async def handler(request: Any, context: Any) -> Any:
        ran.append(request)
        return request

    interceptor = EdgeInterceptor(Authenticator(settings), {LIST_ORDERS: "sales:read"})
    wrapped = interceptor.wrap(grpc.unary_unary_rpc_method_handler(handler), LIST_ORDERS)
    context = _ExpiredContext()
    with pytest.raises(grpc.aio.AbortError):
        await wrapped.unary_unary(opb.ListSalesOrdersRequest(), context)
    assert context.aborted == grpc.StatusCode.DEADLINE_EXCEEDED
    assert ran == []
