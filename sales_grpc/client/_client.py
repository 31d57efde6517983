"""`SalesClient`: one channel to the sales service, the typed stubs of its seven services, and
an interceptor that gives every call a bearer token, a deadline and an idempotency key, and
turns a failed call into a `SalesError`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from importlib import metadata as _metadata
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import grpc
from google.protobuf.message import Message

from erp.sales.v1 import (
    analytics_service_pb2_grpc,
    customer_service_pb2_grpc,
    invoice_service_pb2_grpc,
    order_service_pb2_grpc,
    product_service_pb2_grpc,
    quote_service_pb2_grpc,
    report_service_pb2_grpc,
)

from . import policy
from .errors import from_rpc_error

if TYPE_CHECKING:
    from erp.sales.v1.analytics_service_pb2_grpc import AnalyticsServiceAsyncStub
    from erp.sales.v1.customer_service_pb2_grpc import CustomerServiceAsyncStub
    from erp.sales.v1.invoice_service_pb2_grpc import InvoiceServiceAsyncStub
    from erp.sales.v1.order_service_pb2_grpc import OrderServiceAsyncStub
    from erp.sales.v1.product_service_pb2_grpc import ProductServiceAsyncStub
    from erp.sales.v1.quote_service_pb2_grpc import QuoteServiceAsyncStub
    from erp.sales.v1.report_service_pb2_grpc import ReportServiceAsyncStub

TokenProvider: TypeAlias = str | Callable[[], str] | Callable[[], Awaitable[str]]
"""A bearer token: the token itself, or a function (plain or async) that returns a current
one. A function is called before every call, so it can hand out a fresh token when the old
one nears expiry (and should cache it in between: it is on every call's path)."""

DEFAULT_DEADLINE = 10.0
DEFAULT_STREAM_DEADLINE = 300.0

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


def _version() -> str:
    try:
        return _metadata.version("sales-grpc")
    except _metadata.PackageNotFoundError:
        return "0"


def _method_path(name: str) -> str:
    """A method named as "GetCustomer", "CustomerService/GetCustomer" or its full path."""
    known = policy.by_path()
    if "/" not in name:
        matches = [path for path, method in known.items() if method.name == name]
        if len(matches) == 1:
            return matches[0]
    else:
        service, _, method = name.lstrip("/").partition("/")
        path = f"/{service if '.' in service else 'erp.sales.v1.' + service}/{method}"
        if path in known:
            return path
    raise ValueError(f"no sales RPC is named {name!r}")


class _CallPolicy:
    """Per call: the `authorization` header from the token provider (unless the caller gave
    one), the default deadline (unless the caller gave a timeout), a fresh `request_id` on a
    keyed request that has none, and a `SalesError` for a failed call. (grpc.aio files an
    interceptor under the first kind of call it handles, so each kind has a class.)"""

    def __init__(self, token: TokenProvider | None, deadlines: Mapping[str, float | None],
                 deadline: float | None, stream_deadline: float | None,
                 fill_request_ids: bool, wait_for_ready: bool | None) -> None:
        self._token = token
        self._deadlines = deadlines
        self._deadline = deadline
        self._stream_deadline = stream_deadline
        self._fill_request_ids = fill_request_ids
        self._wait_for_ready = wait_for_ready

    async def _bearer(self) -> str:
        if self._token is None or isinstance(self._token, str):
            return self._token or ""
        value = self._token()
        return value if isinstance(value, str) else await value

    async def _details(self, details: grpc.aio.ClientCallDetails, path: str,
                       streaming: bool) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if metadata.get("authorization") is None:
            token = await self._bearer()
            if token:
                metadata.add("authorization", f"Bearer {token}")
        timeout = details.timeout
        if timeout is None:
            timeout = self._deadlines.get(
                path, self._stream_deadline if streaming else self._deadline)
        wait_for_ready = details.wait_for_ready
        if wait_for_ready is None:
            wait_for_ready = self._wait_for_ready
        return grpc.aio.ClientCallDetails(details.method, timeout, metadata,
                                          details.credentials, wait_for_ready)

    def _keyed(self, path: str, request: _Request) -> _Request:
        """The request with a fresh `request_id` if its method takes one and it has none: the
        key gRPC's retries then repeat, so the server applies the call once."""
        method = policy.by_path().get(path)
        if (not self._fill_request_ids or method is None or not method.keyed
                or not isinstance(request, Message)
                or getattr(request, policy.IDEMPOTENCY_KEY, None) != ""):
            return request
        keyed = type(request)()
        keyed.CopyFrom(request)
        setattr(keyed, policy.IDEMPOTENCY_KEY, str(uuid.uuid4()))
        return keyed


class _UnaryPolicy(_CallPolicy, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, _Request],
                               Awaitable[grpc.aio.UnaryUnaryCall[_Request, _Response]]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: _Request,
    ) -> _Response | grpc.aio.UnaryUnaryCall[_Request, _Response]:
        path = _path(client_call_details)
        details = await self._details(client_call_details, path, streaming=False)
        call = await continuation(details, self._keyed(path, request))
        try:
            await call
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None
        return call  # done: awaiting it again gives the response, its metadata stays readable


class _StreamPolicy(_CallPolicy, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, _Request],
                               Awaitable[grpc.aio.UnaryStreamCall[_Request, _Response]]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: _Request,
    ) -> AsyncIterator[_Response] | grpc.aio.UnaryStreamCall[_Request, _Response]:
        path = _path(client_call_details)
        details = await self._details(client_call_details, path, streaming=True)
        call = await continuation(details, self._keyed(path, request))
        return _translated(call)


def _path(details: grpc.aio.ClientCallDetails) -> str:
    method: str | bytes = details.method  # bytes at run time, whatever the stubs say
    return method.decode() if isinstance(method, bytes) else method


async def _translated(call: grpc.aio.UnaryStreamCall[_Request, _Response]
                      ) -> AsyncIterator[_Response]:
    try:
        async for response in call:
            yield response
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None
    finally:
        if not call.done():  # the caller stopped reading early
            call.cancel()


class SalesClient:
    """An async client of the sales service over one gRPC channel.

        async with SalesClient("sales.internal:50051", token=tokens.current) as sales:
            reply = await sales.customers.GetCustomer(GetCustomerRequest(id=customer_id))

    `token`: the bearer token, or a function (plain or async) called before each call that
    returns a current one. `tls`: True (the default) for TLS with the system's roots, a
    `grpc.ChannelCredentials` for your own (a private CA, mTLS), False for plaintext (only
    inside a trusted network, or for local development).

    Deadlines: every call that does not pass `timeout=` gets `deadline` seconds (unary calls)
    or `stream_deadline` (the PDF and export streams); `deadlines` overrides them per method,
    named as "GetCustomer", "CustomerService/GetCustomer" or the full path. None means no
    deadline, which a production caller rarely wants.

    Retries: UNAVAILABLE is retried (up to `max_attempts` attempts, with backoff, within the
    call's deadline) on reads and on calls whose request has a `request_id`, to which the
    client gives a fresh UUID when it is empty (`fill_request_ids`); set it yourself to repeat
    a call safely after a DEADLINE_EXCEEDED. Nothing else is retried. See `policy.py`.

    Every failed call raises a `SalesError` subclass (`InvalidArgument`, `NotFound`, ...)
    with the status details decoded. The stubs are the generated ones, fully typed:
    `sales.orders.ConfirmSalesOrder(...)` takes a `ConfirmSalesOrderRequest` and is awaited
    for a `ConfirmSalesOrderResponse`; a server stream is read with `async for`.
    """

    def __init__(self, target: str, *, token: TokenProvider | None = None,
                 tls: bool | grpc.ChannelCredentials = True,
                 deadline: float | None = DEFAULT_DEADLINE,
                 stream_deadline: float | None = DEFAULT_STREAM_DEADLINE,
                 deadlines: Mapping[str, float | None] | None = None,
                 max_attempts: int = policy.MAX_ATTEMPTS, fill_request_ids: bool = True,
                 wait_for_ready: bool | None = None, load_balancing: str = "round_robin",
                 options: Sequence[tuple[str, str | int]] = ()) -> None:
        config = policy.service_config(max_attempts=max_attempts,
                                       load_balancing=load_balancing)
        channel_options = policy.channel_options(
            config, user_agent=f"sales-grpc-client/{_version()}", extra=options)
        settings = (token, {_method_path(name): value for name, value in (deadlines or {}).items()},
                    deadline, stream_deadline, fill_request_ids, wait_for_ready)
        interceptors: list[grpc.aio.ClientInterceptor] = [
            _UnaryPolicy(*settings), _StreamPolicy(*settings)]
        if tls is False:
            self._channel = grpc.aio.insecure_channel(
                target, options=channel_options, interceptors=interceptors)
        else:
            credentials = grpc.ssl_channel_credentials() if tls is True else tls
            self._channel = grpc.aio.secure_channel(
                target, credentials, options=channel_options, interceptors=interceptors)
        self.target = target
        self._customers = customer_service_pb2_grpc.CustomerServiceStub(self._channel)
        self._products = product_service_pb2_grpc.ProductServiceStub(self._channel)
        self._orders = order_service_pb2_grpc.OrderServiceStub(self._channel)
        self._quotes = quote_service_pb2_grpc.QuoteServiceStub(self._channel)
        self._invoices = invoice_service_pb2_grpc.InvoiceServiceStub(self._channel)
        self._reports = report_service_pb2_grpc.ReportServiceStub(self._channel)
        self._analytics = analytics_service_pb2_grpc.AnalyticsServiceStub(self._channel)

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    @property
    def customers(self) -> CustomerServiceAsyncStub:
        return self._customers

    @property
    def products(self) -> ProductServiceAsyncStub:
        return self._products

    @property
    def orders(self) -> OrderServiceAsyncStub:
        return self._orders

    @property
    def quotes(self) -> QuoteServiceAsyncStub:
        return self._quotes

    @property
    def invoices(self) -> InvoiceServiceAsyncStub:
        return self._invoices

    @property
    def reports(self) -> ReportServiceAsyncStub:
        return self._reports

    @property
    def analytics(self) -> AnalyticsServiceAsyncStub:
        return self._analytics

    async def wait_ready(self) -> None:
        """Waits until the channel has connected (bound it with `asyncio.timeout`)."""
        await self._channel.channel_ready()

    async def close(self, grace: float | None = None) -> None:
        """Closes the channel; calls in flight get `grace` seconds, then are cancelled."""
        await self._channel.close(grace)

    async def __aenter__(self) -> SalesClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()
