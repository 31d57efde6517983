"""`SalesClient` against a scripted in-process gRPC server: which calls gRPC retries after
UNAVAILABLE (for real, counting the attempts the server sees), the idempotency key the client
fills in, the token provider called per call, default deadlines, and the status details the
server's own error mapping sends, decoded into exceptions."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cpb_grpc
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as opb_grpc
from sales_grpc.api.errors import to_status
from sales_grpc.client import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    SalesClient,
    SalesError,
    Unavailable,
)
from sales_grpc.domain import errors as e


@dataclass
class Script:
    """What the fake server does: fail the first `failures[method]` attempts UNAVAILABLE."""

    failures: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    request_ids: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    deadlines: list[float | None] = field(default_factory=list)
    error: e.DomainError | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def attempt(self, method: str, ctx: grpc.aio.ServicerContext) -> None:
        self.attempts[method] += 1
        self.authorizations.append(dict(ctx.invocation_metadata() or ()).get("authorization", ""))
        self.deadlines.append(ctx.time_remaining())
        if self.attempts[method] <= self.failures[method]:
            await ctx.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        if self.error is not None:
            code, status = to_status(self.error)
            await ctx.abort(code, status.message, trailing_metadata=(
                ("grpc-status-details-bin", status.SerializeToString()),
                ("x-request-id", "rid-123")))


class Customers(cpb_grpc.CustomerServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def GetCustomer(self, request, ctx):  # noqa: N802
        await self.script.attempt("GetCustomer", ctx)
        if request.id == "slow":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.script.cancelled.set()
                raise
        return cpb.GetCustomerResponse(customer=cpb.Customer(id=request.id, first_name="Ann"))

    async def CreateCustomer(self, request, ctx):  # noqa: N802
        self.script.request_ids.append(request.request_id)
        await self.script.attempt("CreateCustomer", ctx)
        return cpb.CreateCustomerResponse(customer=cpb.Customer(id="c1"))

    async def UpdateCustomer(self, request, ctx):  # noqa: N802
        await self.script.attempt("UpdateCustomer", ctx)
        return cpb.UpdateCustomerResponse(customer=request.customer)


class Orders(opb_grpc.OrderServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def RenderSalesOrderPdf(self, request, ctx):  # noqa: N802
        await self.script.attempt("RenderSalesOrderPdf", ctx)
        yield opb.RenderSalesOrderPdfResponse()
        if request.id == "cut":  # fails after the first message: too late to retry
            await ctx.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")
        yield opb.RenderSalesOrderPdfResponse()


@dataclass
class Fake:
    script: Script
    target: str

    def client(self, **options: object) -> SalesClient:
        values: dict[str, object] = {"token": "static-token", "tls": False}
        values.update(options)
        return SalesClient(self.target, **values)


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    script = Script()
    server = grpc.aio.server()
    cpb_grpc.add_CustomerServiceServicer_to_server(Customers(script), server)
    opb_grpc.add_OrderServiceServicer_to_server(Orders(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Fake(script, f"127.0.0.1:{port}")
    await server.stop(None)


async def test_a_read_is_retried_after_unavailable_until_it_succeeds(fake):
    fake.script.failures["GetCustomer"] = 2
    async with fake.client() as sales:
        reply = await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
    assert reply.customer.first_name == "Ann"
    assert fake.script.attempts["GetCustomer"] == 3


async def test_retries_stop_at_max_attempts_and_raise_unavailable(fake):
    fake.script.failures["GetCustomer"] = 10
    async with fake.client(max_attempts=2) as sales:
        with pytest.raises(Unavailable) as raised:
            await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
    assert fake.script.attempts["GetCustomer"] == 2
    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE  # still an AioRpcError
    assert isinstance(raised.value, grpc.aio.AioRpcError)


async def test_a_non_idempotent_call_is_never_retried(fake):
    fake.script.failures["UpdateCustomer"] = 1
    async with fake.client() as sales:
        with pytest.raises(Unavailable):
            await sales.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
                customer=cpb.Customer(id="c1")))
    assert fake.script.attempts["UpdateCustomer"] == 1


async def test_a_create_without_request_id_gets_one_and_every_attempt_repeats_it(fake):
    fake.script.failures["CreateCustomer"] = 1
    request = cpb.CreateCustomerRequest(customer=cpb.Customer(first_name="Ann"))
    async with fake.client() as sales:
        reply = await sales.customers.CreateCustomer(request)
    assert reply.customer.id == "c1"
    first, second = fake.script.request_ids
    assert first == second and len(first) == 36
    assert request.request_id == ""  # the caller's message is left alone


async def test_a_request_id_the_caller_chose_is_kept(fake):
    async with fake.client() as sales:
        await sales.customers.CreateCustomer(cpb.CreateCustomerRequest(request_id="mine-1"))
        await sales.customers.CreateCustomer(cpb.CreateCustomerRequest(request_id="mine-1"))
    assert fake.script.request_ids == ["mine-1", "mine-1"]


async def test_a_stream_is_retried_before_its_first_message_only(fake):
    fake.script.failures["RenderSalesOrderPdf"] = 1
    async with fake.client() as sales:
        chunks = [c async for c in sales.orders.RenderSalesOrderPdf(
            opb.RenderSalesOrderPdfRequest(id="o1"))]
        assert len(chunks) == 2
        assert fake.script.attempts["RenderSalesOrderPdf"] == 2
        got = []
        with pytest.raises(Unavailable):
            async for chunk in sales.orders.RenderSalesOrderPdf(
                    opb.RenderSalesOrderPdfRequest(id="cut")):
                got.append(chunk)
    assert len(got) == 1
    assert fake.script.attempts["RenderSalesOrderPdf"] == 3


async def test_an_async_token_provider_is_asked_on_every_call(fake):
    issued = 0

    async def fresh() -> str:
        nonlocal issued
        issued += 1
        return f"token-{issued}"

    async with fake.client(token=fresh) as sales:
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"),
                                          metadata=(("authorization", "Bearer own"),))
    assert fake.script.authorizations == ["Bearer token-1", "Bearer token-2", "Bearer own"]


async def test_a_plain_function_and_a_string_are_token_providers_too(fake):
    async with fake.client(token=lambda: "from-function") as sales:
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
    async with fake.client(token="static") as sales:
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
    assert fake.script.authorizations == ["Bearer from-function", "Bearer static"]


async def test_calls_get_the_default_deadline_unless_the_method_or_the_call_says_otherwise(fake):
    async with fake.client(deadline=7.0, stream_deadline=40.0,
                           deadlines={"CustomerService/UpdateCustomer": 20.0}) as sales:
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        await sales.customers.UpdateCustomer(cpb.UpdateCustomerRequest())
        await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"), timeout=3.0)
        [c async for c in sales.orders.RenderSalesOrderPdf(opb.RenderSalesOrderPdfRequest())]
    expected = [7.0, 20.0, 3.0, 40.0]
    for remaining, wanted in zip(fake.script.deadlines, expected, strict=True):
        # (gRPC rounds the grpc-timeout header up a little; a loaded machine starts late)
        assert remaining is not None and wanted / 2 < remaining <= wanted + 0.5


def test_an_unknown_method_in_deadlines_is_refused():
    with pytest.raises(ValueError, match="GetCustomr"):
        SalesClient("127.0.0.1:1", tls=False, deadlines={"GetCustomr": 1.0})


async def test_the_servers_status_details_become_the_exception_for_the_code(fake):
    fake.script.error = e.InvalidArgument("2 fields are invalid", violations=[
        e.FieldViolation("customer.email", "is not an email address"),
        e.FieldViolation("customer.first_name", "is required")])
    async with fake.client() as sales:
        with pytest.raises(InvalidArgument) as raised:
            await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        error = raised.value
        assert error.message == "2 fields are invalid"
        assert error.reason == "INVALID_ARGUMENT" and error.domain == "sales.erp"
        assert error.fields == {"customer.email": "is not an email address",
                                "customer.first_name": "is required"}
        assert error.request_id == "rid-123"
        assert "customer.email: is not an email address" in str(error)

        fake.script.error = e.FailedPrecondition(
            "short of stock", reason="INSUFFICIENT_STOCK", metadata={"sku": "A-1"},
            violations=[e.PreconditionViolation("STOCK", "A-1", "short by 2")])
        with pytest.raises(FailedPrecondition) as failed:
            await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        assert failed.value.reason == "INSUFFICIENT_STOCK"
        assert failed.value.metadata == {"sku": "A-1"}
        assert [(v.type, v.subject) for v in failed.value.precondition_violations] == [
            ("STOCK", "A-1")]

        fake.script.error = e.ResourceExhausted("busy", reason="CONCURRENCY_LIMIT",
                                                retry_after=1.5)
        with pytest.raises(ResourceExhausted) as busy:
            await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        assert busy.value.retry_after == 1.5

        fake.script.error = e.NotFound("no customer c1", reason="CUSTOMER_NOT_FOUND")
        call = sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        with pytest.raises(NotFound):
            await call
        # The call object answers as a plain grpc.aio call's would.
        assert await call.code() is grpc.StatusCode.NOT_FOUND
        assert await call.details() == "no customer c1"


async def test_a_successful_call_keeps_its_metadata(fake):
    async with fake.client() as sales:
        call = sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
        await call
        assert await call.code() is grpc.StatusCode.OK


async def test_a_cancelled_call_is_cancelled_on_the_wire(fake):
    async with fake.client() as sales:
        call = sales.customers.GetCustomer(cpb.GetCustomerRequest(id="slow"))
        task = asyncio.ensure_future(call)
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(fake.script.cancelled.wait(), 5)


async def test_an_unreachable_server_is_unavailable_within_the_deadline():
    async with SalesClient("127.0.0.1:1", tls=False, deadline=2.0) as sales:
        with pytest.raises(SalesError) as raised:
            await sales.customers.GetCustomer(cpb.GetCustomerRequest(id="c1"))
    assert raised.value.code() in (grpc.StatusCode.UNAVAILABLE,
                                   grpc.StatusCode.DEADLINE_EXCEEDED)
