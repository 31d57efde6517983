"""Builders for the invoice tests: a confirmed order to bill, and the invoice stub."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import events_pb2, money_pb2
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import invoice_service_pb2_grpc as igrpc
from erp.sales.v1 import order_service_pb2 as opb

from .order_fixtures import Shop, line, usd


class Billing(Shop):
    """The shop's stubs plus the invoice service's."""

    def __init__(self, channel, metadata) -> None:
        super().__init__(channel, metadata)
        self.invoices = igrpc.InvoiceServiceStub(channel)

    async def confirmed_order(self, *prices_and_quantities: tuple[str, int, str],
                              customer_id: str = "", **fields) -> opb.SalesOrder:
        """A confirmed order with one line per (unit price, quantity, tax rate)."""
        customer_id = customer_id or (await self.customer()).id
        lines = []
        for price, quantity, tax in prices_and_quantities:
            product = await self.product(price=price, stock=quantity, tax_rate=tax)
            lines.append(line(product.id, quantity))
        order = await self.order(customer_id, *lines, **fields)
        return await self.confirm(order.id)

    async def invoice_order(self, order_id: str, *parts: tuple[int, int], md=None,
                            **fields) -> ipb.Invoice:
        request = ipb.CreateInvoiceFromOrderRequest(
            order_id=order_id, lines=[ipb.LineQuantity(line_number=n, quantity=q)
                                      for n, q in parts], **fields)
        return (await self.invoices.CreateInvoiceFromOrder(request, metadata=md or self.md)
                ).invoice

    async def finalize(self, invoice_id: str, md=None) -> ipb.Invoice:
        return (await self.invoices.FinalizeInvoice(
            ipb.FinalizeInvoiceRequest(id=invoice_id), metadata=md or self.md)).invoice

    async def pay(self, invoice_id: str, amount: str, md=None, currency: str = "USD",
                  method: int = ipb.PAYMENT_METHOD_BANK_TRANSFER, reference: str = "",
                  payment_date: str = "", **fields) -> ipb.RecordPaymentResponse:
        payment = ipb.Payment(amount=usd(amount) if currency == "USD" else
                              usd(amount).__class__(currency_code=currency, amount=amount),
                              method=method,  # type: ignore[arg-type]
                              reference=reference, payment_date=payment_date)
        return await self.invoices.RecordPayment(ipb.RecordPaymentRequest(
            invoice_id=invoice_id, payment=payment, **fields), metadata=md or self.md)

    async def draft(self, customer_id: str, *lines: dpb.DocumentLine, md=None,
                    **fields) -> ipb.Invoice:
        """A manual draft (CreateInvoice) for the customer."""
        return (await self.invoices.CreateInvoice(ipb.CreateInvoiceRequest(
            invoice=ipb.Invoice(customer_id=customer_id, lines=list(lines), **fields)),
            metadata=md or self.md)).invoice

    async def open_invoice(self, price: str, quantity: int = 1, tax: str = "0",
                           customer_id: str = "", currency: str = "USD",
                           **fields) -> ipb.Invoice:
        """A finalized manual invoice of one line of a new product."""
        customer_id = customer_id or (await self.customer()).id
        product = await self.product(price=price, stock=0, tax_rate=tax, currency=currency)
        draft = await self.draft(customer_id, line(product.id, quantity),
                                 currency_code=currency, **fields)
        return await self.finalize(draft.id)

    async def get(self, invoice_id: str, md=None) -> ipb.Invoice:
        return (await self.invoices.GetInvoice(ipb.GetInvoiceRequest(id=invoice_id),
                                               metadata=md or self.md)).invoice

    async def credit(self, invoice_id: str, *parts: tuple[int, int], amount: str = "",
                     currency: str = "USD", reason: str = "returned", md=None, **fields
                     ) -> ipb.CreateCreditNoteResponse:
        """A credit note by line quantities, or by a tax-inclusive `amount`."""
        request = ipb.CreateCreditNoteRequest(
            invoice_id=invoice_id, reason=reason,
            lines=[ipb.LineQuantity(line_number=n, quantity=q) for n, q in parts], **fields)
        if amount:
            request.amount.CopyFrom(money_pb2.Money(currency_code=currency, amount=amount))
        return await self.invoices.CreateCreditNote(request, metadata=md or self.md)

    async def history(self, invoice_id: str, md=None) -> list[str]:
        """The actions of the invoice's history, oldest first."""
        reply = await self.invoices.ListInvoiceHistory(
            ipb.ListInvoiceHistoryRequest(id=invoice_id, page_size=500), metadata=md or self.md)
        return [entry.action for entry in reply.entries]


def balanced(invoice: ipb.Invoice) -> bool:
    """Whether amount_due = total - paid - credited + credited_to_balance, to the cent."""
    d = Decimal
    return d(invoice.amount_due.amount) == (
        d(invoice.totals.grand_total.amount) - d(invoice.amount_paid.amount or "0")
        - d(invoice.amount_credited.amount or "0")
        + d(invoice.amount_credited_to_balance.amount or "0"))


async def outbox_events(mongo, name: str) -> list[Any]:
    """The outbox's events of type `name` (`InvoicePaid`), decoded, oldest first."""
    message = getattr(events_pb2, name)
    docs = await mongo.db.outbox.find(
        {"type_url": f"type.googleapis.com/erp.sales.v1.{name}"},
        sort=[("occur_time", 1), ("seq", 1)]).to_list()
    return [message.FromString(doc["payload"]) for doc in docs]
