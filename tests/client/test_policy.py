"""The client's retry policy, read from the contract: the service config names exactly the
calls that are safe to repeat (reads, and requests with an idempotency key), worked out here
again from every service in the generated package, and none of the others."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest
from google.protobuf.descriptor import ServiceDescriptor

import erp.sales.v1
from erp.sales.v1 import annotations_pb2
from sales_grpc.client import SalesClient, policy

READ_VERBS = ("Get", "List", "Search", "Run", "Export", "Render")


def every_service() -> list[ServiceDescriptor]:
    """Each service of every module protoc generated for erp.sales.v1."""
    found = []
    for info in pkgutil.iter_modules(erp.sales.v1.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"erp.sales.v1.{info.name}")
            found += module.DESCRIPTOR.services_by_name.values()
    return found


def retried(config: str) -> set[str]:
    names = [entry["name"] for entry in json.loads(config).get("methodConfig", [])
             if "retryPolicy" in entry]
    return {f"/{n['service']}/{n['method']}" for group in names for n in group}


def test_the_client_covers_every_service_of_the_contract():
    assert {s.full_name for s in every_service()} == {
        m.service for m in policy.methods()}
    stubs = {"customers", "products", "orders", "quotes", "invoices", "reports", "analytics"}
    assert len(stubs) == len(every_service())
    assert all(isinstance(getattr(SalesClient, name), property) for name in stubs)


def test_the_service_config_retries_exactly_the_reads_and_the_keyed_requests():
    expected = set()
    for service in every_service():
        for method in service.methods:
            permission = method.GetOptions().Extensions[annotations_pb2.required_permission]
            if permission == "sales:read" or "request_id" in method.input_type.fields_by_name:
                expected.add(f"/{service.full_name}/{method.name}")
    assert retried(policy.service_config()) == expected
    assert "/erp.sales.v1.CustomerService/GetCustomer" in expected
    assert "/erp.sales.v1.ReportService/ExportReport" in expected  # a stream
    for keyed in ("CustomerService/CreateCustomer", "InvoiceService/RecordPayment",
                  "ProductService/AdjustStock", "QuoteService/ReviseQuote"):
        assert f"/erp.sales.v1.{keyed}" in expected
    for never in ("CustomerService/UpdateCustomer", "CustomerService/DeleteCustomer",
                  "OrderService/ConfirmSalesOrder", "InvoiceService/FinalizeInvoice",
                  "InvoiceService/SendInvoice", "ReportService/CreateCommissionPlan",
                  "AnalyticsService/SetExchangeRate"):
        assert f"/erp.sales.v1.{never}" not in expected


def test_a_methods_permission_and_its_name_agree_on_whether_it_reads():
    """The permission decides; the verb is a second opinion that catches a contract slip
    (a read named like a write, or a write given sales:read)."""
    for method in policy.methods():
        assert method.read == method.name.startswith(READ_VERBS), method.path


def test_every_keyed_request_has_a_string_request_id():
    for service in every_service():
        for method in service.methods:
            field = method.input_type.fields_by_name.get("request_id")
            if field is not None:
                assert field.type == field.TYPE_STRING, method.full_name


def test_the_retry_policy_is_unavailable_only_with_backoff_and_throttling():
    config = json.loads(policy.service_config())
    (entry,) = config["methodConfig"]
    assert entry["retryPolicy"] == {
        "maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "2s",
        "backoffMultiplier": 2.0, "retryableStatusCodes": ["UNAVAILABLE"]}
    assert config["retryThrottling"] == {"maxTokens": 10, "tokenRatio": 0.1}
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert "methodConfig" not in json.loads(policy.service_config(max_attempts=1))
    with pytest.raises(ValueError):
        policy.service_config(max_attempts=6)


def test_keepalive_stays_within_what_the_server_permits():
    options = dict(policy.channel_options(policy.service_config(), user_agent="t"))
    assert options["grpc.keepalive_time_ms"] >= 60_000
    assert options["grpc.keepalive_permit_without_calls"] == 0
    assert options["grpc.enable_retries"] == 1
    assert options["grpc.service_config_disable_resolution"] == 1
    assert dict(policy.channel_options("{}", user_agent="t", extra=[
        ("grpc.keepalive_time_ms", 120_000)]))["grpc.keepalive_time_ms"] == 120_000
