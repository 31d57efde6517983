"""Invoices over the wire: the whole story from order to paid, and its accounting."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import order_service_pb2 as opb

from .helpers import decode
from .invoice_fixtures import Billing
from .order_fixtures import usd

D = Decimal


@pytest.fixture
def billing(running, manager) -> Billing:
    return Billing(running.channel, manager)


async def test_order_to_invoice_to_partial_payments_to_paid(billing):
    # Awkward prices and mixed tax rates: the invoice copies the order to the cent.
    order = await billing.confirmed_order(("3.333333", 7, "0.19"), ("0.005", 13, "0"),
                                          ("19.99", 3, "0.07"), shipping_charge=usd("4.95"))
    draft = await billing.invoice_order(order.id)
    assert draft.state == ipb.INVOICE_STATE_DRAFT and draft.number == ""
    assert draft.totals == order.totals
    assert [x.source_line_number for x in draft.lines] == [1, 2, 3]
    assert [x.total_amount for x in draft.lines] == [x.total_amount for x in order.lines]

    invoice = await billing.finalize(draft.id)
    assert invoice.state == ipb.INVOICE_STATE_OPEN
    assert invoice.number.startswith("INV-") and invoice.issue_date
    assert invoice.due_date > invoice.issue_date  # NET_30 by default
    total = D(invoice.totals.grand_total.amount)
    assert D(invoice.amount_due.amount) == total

    first = await billing.pay(invoice.id, "10.00", request_id="pay-1")
    assert first.invoice.state == ipb.INVOICE_STATE_OPEN and first.invoice.partially_paid
    assert D(first.invoice.amount_due.amount) == total - D("10.00")
    again = await billing.pay(invoice.id, "10.00", request_id="pay-1")  # a retry: applied once
    assert again.payment.id == first.payment.id
    assert D(again.invoice.amount_due.amount) == total - D("10.00")

    with pytest.raises(grpc.aio.AioRpcError) as over:
        await billing.pay(invoice.id, str(total))  # more than is due
    failure = decode(over.value)
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.info.reason == "PAYMENT_EXCEEDS_AMOUNT_DUE"

    last = await billing.pay(invoice.id, str(total - D("10.00")))
    assert last.invoice.state == ipb.INVOICE_STATE_PAID
    assert D(last.invoice.amount_due.amount) == 0 and not last.invoice.partially_paid
    payments = await billing.invoices.ListPayments(ipb.ListPaymentsRequest(
        invoice_id=invoice.id), metadata=billing.md)
    assert sorted(D(p.amount.amount) for p in payments.payments) == sorted(
        [D("10.00"), total - D("10.00")])

    billed = (await billing.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=order.id),
                                                 metadata=billing.md)).sales_order
    assert list(billed.invoiced_quantities) == [7, 13, 3]
    assert billed.invoiced_amount.amount == invoice.totals.grand_total.amount


async def test_an_order_invoiced_in_parts_adds_up_to_the_order_and_never_beyond(billing):
    order = await billing.confirmed_order(("3.333333", 7, "0.19"), ("10.00", 3, "0.07"),
                                          shipping_charge=usd("5.00"))
    first = await billing.invoice_order(order.id, (1, 3), (2, 1))
    second = await billing.invoice_order(order.id, (1, 2))
    rest = await billing.invoice_order(order.id)  # everything left: 2 of line 1, 2 of line 2
    assert [(x.source_line_number, x.quantity) for x in rest.lines] == [(1, 2), (2, 2)]
    assert D(first.totals.shipping.amount) == D("5.00")
    assert D(second.totals.shipping.amount) == D(rest.totals.shipping.amount) == 0
    parts = sum(D(i.totals.grand_total.amount) for i in (first, second, rest))
    assert parts == D(order.totals.grand_total.amount)

    with pytest.raises(grpc.aio.AioRpcError) as beyond:
        await billing.invoice_order(order.id, (1, 1))
    assert beyond.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    # Deleting a draft gives its quantities back.
    await billing.invoices.DeleteInvoice(ipb.DeleteInvoiceRequest(id=second.id),
                                         metadata=billing.md)
    again = await billing.invoice_order(order.id, (1, 2))
    assert again.totals == second.totals


async def test_credit_exposure_moves_from_the_order_to_the_open_invoice(billing):
    customer = await billing.customer(credit_limit="100.00")
    order = await billing.confirmed_order(("30.00", 2, "0"), customer_id=customer.id)
    invoice = await billing.finalize((await billing.invoice_order(order.id)).id)
    got = (await billing.customers.GetCustomer(cpb.GetCustomerRequest(id=customer.id),
                                               metadata=billing.md)).customer
    assert [(m.currency_code, m.amount) for m in got.sales_stats.outstanding_by_currency] == [
        ("USD", "60.00")]
    # 60 open on the invoice + 50 would pass the 100 limit; after paying 20 it fits.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await billing.confirmed_order(("50.00", 1, "0"), customer_id=customer.id)
    assert decode(refused.value).info.reason == "CREDIT_LIMIT_EXCEEDED"
    await billing.pay(invoice.id, "20.00")
    await billing.confirmed_order(("50.00", 1, "0"), customer_id=customer.id)


async def test_a_rep_cannot_record_payments(billing, rep, running):
    order = await billing.confirmed_order(("10.00", 1, "0"))
    invoice = await billing.finalize((await billing.invoice_order(order.id)).id)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await billing.pay(invoice.id, "1.00", md=rep)
    assert refused.value.code() in (grpc.StatusCode.PERMISSION_DENIED,
                                    grpc.StatusCode.NOT_FOUND)
