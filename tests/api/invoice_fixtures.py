"""Builders for the invoice tests: a confirmed order to bill, and the invoice stub."""

from __future__ import annotations

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
                  method: int = ipb.PAYMENT_METHOD_BANK_TRANSFER, **fields
                  ) -> ipb.RecordPaymentResponse:
        payment = ipb.Payment(amount=usd(amount) if currency == "USD" else
                              usd(amount).__class__(currency_code=currency, amount=amount),
                              method=method)  # type: ignore[arg-type]
        return await self.invoices.RecordPayment(ipb.RecordPaymentRequest(
            invoice_id=invoice_id, payment=payment, **fields), metadata=md or self.md)
