"""The shape both of our server interceptors share: they wrap the handler of each method they
take, rather than chaining interceptor layers (each aio layer costs a coroutine hop per call),
and build each wrapper once per method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc


class HandlerWrapper(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        # Built once per method: the server hands out the same registered handler for every
        # call, and rebuilding the wrapper per call costs measurable time.
        self._wrapped: dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]] = {}

    def takes(self, method: str) -> bool:
        """Whether calls of `method` (`/package.Service/Method`) are wrapped at all."""
        return True

    def wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str
             ) -> grpc.RpcMethodHandler[Any, Any]:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails],
                               Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        method = details.method
        if handler is None or not self.takes(method):
            return handler
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = (handler, self.wrap(handler, method))
            self._wrapped[method] = cached
        return cached[1]
