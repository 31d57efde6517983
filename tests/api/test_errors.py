"""Errors over the wire: rich google.rpc.Status details, request ids, and no INTERNAL for
any input a client can send."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2
from grpc import StatusCode
from grpc_status import rpc_status

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import product_service_pb2 as ppb

from .helpers import create_customer, create_product, customers, money, products

NASTY = [
    "", " ", "zz", "' or 1=1 --", '{"$gt": ""}', "$where", ".*", "(a+)+$", "\\", '"', "a.b",
    "x" * 100_000, "\x00", "a\x00b", "\x01\x1f\x7f", "\n", "0" * 24 + "\n", "0" * 24 + "\x00",
    "ä漢字🙂", "\u202e\u200b", "٠" * 24, "ＡＢＣ", "-1", "1e309", "NaN", "9" * 400,
    "null", "undefined", "<script>", "%00", "../../etc/passwd", "CUST-000001",
]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _calls(running, value: str, customer_id: str, product_id: str):
    """(rpc, request) pairs that each put `value` into one client-controlled field."""
    c, p = customers(running), products(running)
    receipt = ppb.STOCK_MOVEMENT_REASON_RECEIPT
    return [
        (c.GetCustomer, cpb.GetCustomerRequest(id=value)),
        (c.SearchCustomers, cpb.SearchCustomersRequest(query=value)),
        (c.SearchCustomers, cpb.SearchCustomersRequest(query="a", page_token=value)),
        (c.ListCustomers, cpb.ListCustomersRequest(filter=value)),
        (c.ListCustomers, cpb.ListCustomersRequest(filter=f"text:{_quoted(value)}")),
        (c.ListCustomers, cpb.ListCustomersRequest(filter=f"owner_id = {_quoted(value)}")),
        (c.ListCustomers, cpb.ListCustomersRequest(order_by=value)),
        (c.ListCustomers, cpb.ListCustomersRequest(page_token=value)),
        (c.CreateCustomer, cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name=value, last_name=value, email=value, phone=value, company_name=value,
            customer_type=cpb.CUSTOMER_TYPE_BUSINESS, credit_limit=money(value, value)),
            request_id=value)),
        (c.CreateCustomer, cpb.CreateCustomerRequest(customer=cpb.Customer(
            first_name="A", last_name="B", email="a@b.example", owner_id=value, team_id=value,
            customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL, credit_limit=money(value)))),
        (c.UpdateCustomer, cpb.UpdateCustomerRequest(
            customer=cpb.Customer(id=customer_id, notes=value, etag=value),
            update_mask=FieldMask(paths=["notes"]))),
        (c.UpdateCustomer, cpb.UpdateCustomerRequest(
            customer=cpb.Customer(id=customer_id), update_mask=FieldMask(paths=[value]))),
        (c.DeleteCustomer, cpb.DeleteCustomerRequest(id=value)),
        (p.GetProduct, ppb.GetProductRequest(id=value)),
        (p.GetProductBySku, ppb.GetProductBySkuRequest(sku=value)),
        (p.ListProducts, ppb.ListProductsRequest(filter=f"category = {_quoted(value)}")),
        (p.ListProducts, ppb.ListProductsRequest(filter=f"unit_price > {_quoted(value)}")),
        (p.ListProducts, ppb.ListProductsRequest(filter=f"text:{_quoted(value)}")),
        (p.ListProducts, ppb.ListProductsRequest(page_token=value)),
        (p.CreateProduct, ppb.CreateProductRequest(product=ppb.Product(
            sku=value, name=value, category=value, description=value, unit_of_measure=value,
            unit_price=money(value), cost=money(value, value), tax_rate=value))),
        (p.UpdateProduct, ppb.UpdateProductRequest(
            product=ppb.Product(id=product_id, tax_rate=value),
            update_mask=FieldMask(paths=["tax_rate"]))),
        (p.AdjustStock, ppb.AdjustStockRequest(product_id=value, quantity_delta=1,
                                               reason=receipt)),
        (p.AdjustStock, ppb.AdjustStockRequest(product_id=product_id, quantity_delta=1,
                                               reason=receipt, note=value)),
        (p.ListStockMovements, ppb.ListStockMovementsRequest(product_id=product_id,
                                                             page_token=value)),
        (p.ListLowStockProducts, ppb.ListLowStockProductsRequest(page_token=value)),
    ]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v[:12]) for v in NASTY])
async def test_no_nasty_input_gives_an_internal_error(running, admin, value):
    customer = await create_customer(running, admin)
    product = await create_product(running, admin)
    internal = []
    for rpc, request in _calls(running, value, customer.id, product.id):
        try:
            await rpc(request, metadata=admin)
        except grpc.aio.AioRpcError as error:
            if error.code() in (StatusCode.INTERNAL, StatusCode.UNKNOWN):
                internal.append((type(request).__name__, error.details()))
    assert internal == []


async def test_error_details_decode_into_error_info_and_bad_request(running, rep):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await customers(running).CreateCustomer(cpb.CreateCustomerRequest(
            customer=cpb.Customer(first_name="", email="nope")), metadata=rep)
    status = rpc_status.from_call(raised.value)
    assert status is not None
    assert status.code == StatusCode.INVALID_ARGUMENT.value[0]
    assert status.message == raised.value.details()
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info)
    assert status.details[1].Unpack(bad_request)
    assert (info.domain, info.reason) == ("sales.erp", "INVALID_ARGUMENT")
    fields = {v.field for v in bad_request.field_violations}
    assert {"customer.first_name", "customer.email", "customer.last_name",
            "customer.customer_type"} <= fields
    assert all(v.description for v in bad_request.field_violations)


async def test_a_not_found_carries_error_info_with_the_id(running, rep):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await products(running).GetProduct(ppb.GetProductRequest(id="0123456789abcdef01234567"),
                                           metadata=rep)
    status = rpc_status.from_call(raised.value)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "PRODUCT_NOT_FOUND"
    assert info.metadata["id"] == "0123456789abcdef01234567"


async def test_the_callers_request_id_comes_back_in_trailing_metadata(running, rep):
    call = customers(running).ListCustomers(
        cpb.ListCustomersRequest(), metadata=(*rep, ("x-request-id", "trace-abc-123")))
    await call
    assert ("x-request-id", "trace-abc-123") in tuple(await call.trailing_metadata())


async def test_a_request_id_is_generated_and_returned_on_failure_too(running, rep):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await customers(running).GetCustomer(cpb.GetCustomerRequest(id="zz"), metadata=rep)
    request_ids = [v for k, v in raised.value.trailing_metadata() if k == "x-request-id"]
    assert len(request_ids) == 1 and len(request_ids[0]) >= 16


async def test_an_unauthenticated_call_still_returns_a_request_id(running):
    call = customers(running).ListCustomers(cpb.ListCustomersRequest(),
                                            metadata=(("x-request-id", "anon-1"),))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == StatusCode.UNAUTHENTICATED
    assert ("x-request-id", "anon-1") in tuple(raised.value.trailing_metadata())
