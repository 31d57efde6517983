"""Per-call values the interceptor sets and servicers read, carried by contextvars."""

from __future__ import annotations

from contextvars import ContextVar

from ..domain.access import Principal

request_id: ContextVar[str] = ContextVar("request_id", default="-")
principal: ContextVar[Principal | None] = ContextVar("principal", default=None)


def caller() -> Principal:
    found = principal.get()
    if found is None:  # the auth interceptor guarantees one for every sales RPC
        raise RuntimeError("no authenticated principal for this call")
    return found
