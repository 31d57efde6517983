"""The edge interceptor treats server-streaming calls like unary ones: auth before the first
message, and a domain error raised mid-stream arrives as its status with details."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from sales_grpc.api.auth import Authenticator, mint_token
from sales_grpc.api.interceptors import EdgeInterceptor
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.domain.errors import NotFound

SETTINGS = Settings(secret_key="stream-secret-0123456789-0123456789-01")
METHOD = "/erp.sales.v1.StreamProbe/Numbers"
UNLISTED = "/erp.sales.v1.StreamProbe/Unlisted"


async def numbers(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"1"
    yield b"2"
    if request == b"fail":
        raise NotFound("row 3 vanished", reason="ROW_GONE")
    if request == b"crash":
        raise RuntimeError("secret internals")
    yield b"3"


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    handler = grpc.method_handlers_generic_handler("erp.sales.v1.StreamProbe", {
        name: grpc.unary_stream_rpc_method_handler(numbers) for name in ("Numbers", "Unlisted")})
    server = grpc.aio.server(interceptors=[
        EdgeInterceptor(Authenticator(SETTINGS), {METHOD: "sales:read"})])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(0)


def _call(channel: grpc.aio.Channel, method: str, request: bytes, token: str | None):
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    return channel.unary_stream(method)(request, metadata=metadata)


async def _collect(call) -> tuple[list[bytes], grpc.aio.AioRpcError | None]:
    got: list[bytes] = []
    try:
        async for item in call:
            got.append(item)
    except grpc.aio.AioRpcError as err:
        return got, err
    return got, None


async def test_a_stream_runs_to_the_end_for_a_caller_with_the_permission(channel):
    token = mint_token(SETTINGS, "r", Role.SALES_REP, "t")
    assert await _collect(_call(channel, METHOD, b"", token)) == ([b"1", b"2", b"3"], None)


async def test_a_stream_without_a_token_sends_nothing_and_is_unauthenticated(channel):
    got, err = await _collect(_call(channel, METHOD, b"", None))
    assert got == [] and err is not None and err.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_domain_error_mid_stream_arrives_after_the_rows_sent_with_details(channel):
    token = mint_token(SETTINGS, "r", Role.SALES_REP, "t")
    got, err = await _collect(_call(channel, METHOD, b"fail", token))
    assert got == [b"1", b"2"]
    assert err is not None and err.code() == grpc.StatusCode.NOT_FOUND
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in rpc_status.from_call(err).details)
    assert info.reason == "ROW_GONE"


async def test_an_unexpected_error_mid_stream_is_internal_without_its_text(channel):
    token = mint_token(SETTINGS, "r", Role.SALES_REP, "t")
    got, err = await _collect(_call(channel, METHOD, b"crash", token))
    assert got == [b"1", b"2"]
    assert err is not None and err.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.details() or "") and "request id" in (err.details() or "")


async def test_a_sales_method_the_contract_gives_no_permission_is_refused(channel):
    token = mint_token(SETTINGS, "a", Role.ADMIN)
    got, err = await _collect(_call(channel, UNLISTED, b"", token))
    assert got == [] and err is not None and err.code() == grpc.StatusCode.PERMISSION_DENIED
