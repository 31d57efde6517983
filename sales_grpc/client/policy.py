"""Which calls the client may repeat, read from the contract's descriptors, and the channel
options that follow: the gRPC service config with its retry policy, and keepalive.

A call is retried on UNAVAILABLE only when repeating it cannot do anything twice:
- a read: its `(erp.sales.v1.required_permission)` is `sales:read` (every Get, List, Search,
  RunReport, and the server-streaming Render*Pdf and ExportReport; gRPC retries a stream only
  until the first response arrives, never halfway through);
- a create or change whose request carries a `request_id`: the server keeps the first call's
  result under that key and answers a repeat with it. The client fills an empty `request_id`
  with a fresh UUID before the first attempt, so every attempt of one call carries the same key.

Nothing else is retried (UpdateCustomer, ConfirmSalesOrder, CreateCommissionPlan, ...): a
repeat could apply a change twice or fail on the first attempt's effect. The lists come from
the descriptors, so a new RPC is classified by its permission and its request, not by a list
here that could drift from the protos.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from erp.sales.v1 import (
    analytics_service_pb2,
    annotations_pb2,
    customer_service_pb2,
    invoice_service_pb2,
    order_service_pb2,
    product_service_pb2,
    quote_service_pb2,
    report_service_pb2,
)

# The seven services of the sales API, in the order the client exposes them.
SERVICE_MODULES: tuple[ModuleType, ...] = (
    customer_service_pb2, product_service_pb2, order_service_pb2, quote_service_pb2,
    invoice_service_pb2, report_service_pb2, analytics_service_pb2)
READ_PERMISSION = "sales:read"
IDEMPOTENCY_KEY = "request_id"

# Retry policy. Attempts include the first; gRPC caps them at 5. The backoff is randomised
# between 0 and the current bound, which grows from INITIAL_BACKOFF by MULTIPLIER up to
# MAX_BACKOFF. All attempts share the call's one deadline.
MAX_ATTEMPTS = 4
INITIAL_BACKOFF = 0.1
MAX_BACKOFF = 2.0
BACKOFF_MULTIPLIER = 2.0
# Retry throttling per channel: each failure costs a token, each success gives back 0.1;
# below half of the tokens the channel stops retrying, so a down service is not hammered by
# every client multiplying its calls.
THROTTLE_MAX_TOKENS = 10
THROTTLE_TOKEN_RATIO = 0.1

# Keepalive: a ping after 60 s without activity on a connection that has calls in flight,
# never on an idle one, so it stays within what the server's keepalive enforcement permits
# (at most one ping a minute, none without calls). A peer that does not answer within 20 s
# is taken for gone: the calls on it fail UNAVAILABLE (and reads are retried elsewhere).
KEEPALIVE_TIME_MS = 60_000
KEEPALIVE_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Method:
    """One RPC of the sales API as the client sees it."""

    service: str            # "erp.sales.v1.CustomerService"
    name: str               # "GetCustomer"
    permission: str         # the required_permission option: "sales:read", ...
    keyed: bool             # the request has a `request_id` idempotency key
    server_streaming: bool

    @property
    def path(self) -> str:
        """The method's path on the wire: "/erp.sales.v1.CustomerService/GetCustomer"."""
        return f"/{self.service}/{self.name}"

    @property
    def read(self) -> bool:
        return self.permission == READ_PERMISSION

    @property
    def retryable(self) -> bool:
        """Whether repeating the call after UNAVAILABLE is safe: a read, or keyed."""
        return self.read or self.keyed


@cache
def methods() -> tuple[Method, ...]:
    """Every RPC of the seven services, from the generated descriptors."""
    found: list[Method] = []
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                request = method.input_type.fields_by_name
                found.append(Method(
                    service=service.full_name, name=method.name,
                    permission=method.GetOptions().Extensions[
                        annotations_pb2.required_permission],
                    keyed=IDEMPOTENCY_KEY in request, server_streaming=method.server_streaming))
    return tuple(found)


@cache
def by_path() -> Mapping[str, Method]:
    return {method.path: method for method in methods()}


def retryable_methods() -> tuple[Method, ...]:
    return tuple(method for method in methods() if method.retryable)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") + "s"


def service_config(*, max_attempts: int = MAX_ATTEMPTS, initial_backoff: float = INITIAL_BACKOFF,
                   max_backoff: float = MAX_BACKOFF, load_balancing: str = "round_robin",
                   retry: Iterable[Method] | None = None) -> str:
    """The gRPC service config (JSON) for a channel to the sales service: the retry policy on
    the retryable methods, retry throttling, and the load-balancing policy (`round_robin`
    spreads calls over every address a name resolves to, such as the pods behind a headless
    Kubernetes Service; with one address it is the same as `pick_first`). `max_attempts=1`
    turns retries off."""
    if not 1 <= max_attempts <= 5:
        raise ValueError(f"max_attempts must be 1 to 5 (gRPC's cap), not {max_attempts}")
    if not 0 < initial_backoff <= max_backoff:
        raise ValueError("backoffs must satisfy 0 < initial_backoff <= max_backoff")
    config: dict[str, Any] = {"loadBalancingConfig": [{load_balancing: {}}]}
    chosen = retryable_methods() if retry is None else tuple(retry)
    if max_attempts > 1 and chosen:
        config["methodConfig"] = [{
            "name": [{"service": m.service, "method": m.name} for m in chosen],
            "retryPolicy": {
                "maxAttempts": max_attempts,
                "initialBackoff": _seconds(initial_backoff),
                "maxBackoff": _seconds(max_backoff),
                "backoffMultiplier": BACKOFF_MULTIPLIER,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }]
        config["retryThrottling"] = {"maxTokens": THROTTLE_MAX_TOKENS,
                                     "tokenRatio": THROTTLE_TOKEN_RATIO}
    return json.dumps(config, separators=(",", ":"))


def channel_options(config: str, *, user_agent: str,
                    extra: Iterable[tuple[str, str | int]] = ()) -> list[tuple[str, str | int]]:
    """The channel arguments: the service config (and only ours: one a DNS TXT record
    carries is ignored), retries on, keepalive, the user agent; `extra` last, so it wins."""
    options: dict[str, str | int] = {
        "grpc.service_config": config,
        "grpc.service_config_disable_resolution": 1,
        "grpc.enable_retries": 1,
        "grpc.keepalive_time_ms": KEEPALIVE_TIME_MS,
        "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
        "grpc.keepalive_permit_without_calls": 0,
        "grpc.primary_user_agent": user_agent,
    }
    options.update(dict(extra))
    return list(options.items())
