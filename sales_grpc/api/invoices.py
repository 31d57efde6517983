"""InvoiceService servicer: decode, call the use case, encode."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from erp.sales.v1 import invoice_service_pb2 as pb
from erp.sales.v1 import invoice_service_pb2_grpc as pb_grpc

from ..domain.invoices import Invoice
from ..services.document_files import DocumentFiles
from ..services.invoice_lifecycle import InvoiceLifecycle
from ..services.invoices import InvoiceService
from ..services.receivables import Receivables
from .context import caller
from .converters.invoices import (
    aging_out,
    amount_in,
    credit_note_out,
    history_out,
    invoice_in,
    invoice_out,
    payment_in,
    payment_out,
    selections_in,
)
from .document_files import file_chunks

Context = grpc.aio.ServicerContext[object, object]


class InvoiceServicer(pb_grpc.InvoiceServiceServicer):
    def __init__(self, invoices: InvoiceService, lifecycle: InvoiceLifecycle,
                 receivables: Receivables, files: DocumentFiles) -> None:
        self._invoices = invoices
        self._lifecycle = lifecycle
        self._receivables = receivables
        self._files = files

    async def _out(self, invoice: Invoice) -> pb.Invoice:
        """The invoice with where its latest email stands."""
        return invoice_out(invoice, (await self._invoices.deliveries([invoice])).get(invoice.id))

    async def CreateInvoice(self, request: pb.CreateInvoiceRequest, context: Context
                            ) -> pb.CreateInvoiceResponse:
        invoice = await self._invoices.create(caller(), invoice_in(request.invoice),
                                              request.request_id)
        return pb.CreateInvoiceResponse(invoice=await self._out(invoice))

    async def CreateInvoiceFromOrder(self, request: pb.CreateInvoiceFromOrderRequest,
                                     context: Context) -> pb.CreateInvoiceFromOrderResponse:
        invoice = await self._invoices.create_from_order(
            caller(), request.order_id, selections_in(request.lines), request.due_date,
            request.notes, request.request_id)
        return pb.CreateInvoiceFromOrderResponse(invoice=await self._out(invoice))

    async def GetInvoice(self, request: pb.GetInvoiceRequest, context: Context
                         ) -> pb.GetInvoiceResponse:
        invoice = await self._invoices.get(caller(), request.id)
        return pb.GetInvoiceResponse(invoice=await self._out(invoice))

    async def GetInvoiceByNumber(self, request: pb.GetInvoiceByNumberRequest, context: Context
                                 ) -> pb.GetInvoiceByNumberResponse:
        invoice = await self._invoices.get_by_number(caller(), request.number)
        return pb.GetInvoiceByNumberResponse(invoice=await self._out(invoice))

    async def ListInvoices(self, request: pb.ListInvoicesRequest, context: Context
                           ) -> pb.ListInvoicesResponse:
        invoices, token = await self._invoices.list_page(
            caller(), filter=request.filter, order_by=request.order_by,
            size=request.page_size, token=request.page_token)
        deliveries = await self._invoices.deliveries(invoices)
        return pb.ListInvoicesResponse(
            invoices=[invoice_out(i, deliveries.get(i.id)) for i in invoices],
            next_page_token=token)

    async def UpdateInvoice(self, request: pb.UpdateInvoiceRequest, context: Context
                            ) -> pb.UpdateInvoiceResponse:
        invoice = await self._invoices.update(
            caller(), request.invoice.id, list(request.update_mask.paths),
            invoice_in(request.invoice, request.update_mask.paths), request.invoice.etag)
        return pb.UpdateInvoiceResponse(invoice=await self._out(invoice))

    async def DeleteInvoice(self, request: pb.DeleteInvoiceRequest, context: Context
                            ) -> pb.DeleteInvoiceResponse:
        await self._invoices.delete(caller(), request.id, request.etag)
        return pb.DeleteInvoiceResponse()

    async def FinalizeInvoice(self, request: pb.FinalizeInvoiceRequest, context: Context
                              ) -> pb.FinalizeInvoiceResponse:
        invoice = await self._lifecycle.finalize(caller(), request.id, request.etag)
        return pb.FinalizeInvoiceResponse(invoice=await self._out(invoice))

    async def SendInvoice(self, request: pb.SendInvoiceRequest, context: Context
                          ) -> pb.SendInvoiceResponse:
        invoice = await self._lifecycle.send(caller(), request.id, request.etag,
                                             list(request.to), request.finalize)
        return pb.SendInvoiceResponse(invoice=await self._out(invoice))

    async def RecordPayment(self, request: pb.RecordPaymentRequest, context: Context
                            ) -> pb.RecordPaymentResponse:
        payment, invoice = await self._receivables.record_payment(
            caller(), request.invoice_id, payment_in(request.payment), request.request_id)
        return pb.RecordPaymentResponse(payment=payment_out(payment),
                                        invoice=await self._out(invoice))

    async def ListPayments(self, request: pb.ListPaymentsRequest, context: Context
                           ) -> pb.ListPaymentsResponse:
        payments, token = await self._receivables.list_payments(
            caller(), request.invoice_id, request.page_size, request.page_token)
        return pb.ListPaymentsResponse(payments=[payment_out(p) for p in payments],
                                       next_page_token=token)

    async def VoidInvoice(self, request: pb.VoidInvoiceRequest, context: Context
                          ) -> pb.VoidInvoiceResponse:
        invoice = await self._lifecycle.void(caller(), request.id, request.etag, request.reason)
        return pb.VoidInvoiceResponse(invoice=await self._out(invoice))

    async def MarkInvoiceUncollectible(self, request: pb.MarkInvoiceUncollectibleRequest,
                                       context: Context
                                       ) -> pb.MarkInvoiceUncollectibleResponse:
        invoice = await self._lifecycle.mark_uncollectible(caller(), request.id, request.etag,
                                                           request.reason)
        return pb.MarkInvoiceUncollectibleResponse(invoice=await self._out(invoice))

    async def CreateCreditNote(self, request: pb.CreateCreditNoteRequest, context: Context
                               ) -> pb.CreateCreditNoteResponse:
        note, invoice = await self._receivables.create_credit_note(
            caller(), request.invoice_id, selections_in(request.lines), amount_in(request),
            request.reason, request.request_id)
        return pb.CreateCreditNoteResponse(credit_note=credit_note_out(note),
                                           invoice=await self._out(invoice))

    async def GetCreditNote(self, request: pb.GetCreditNoteRequest, context: Context
                            ) -> pb.GetCreditNoteResponse:
        note = await self._receivables.get_credit_note(caller(), request.id)
        return pb.GetCreditNoteResponse(credit_note=credit_note_out(note))

    async def ListCreditNotes(self, request: pb.ListCreditNotesRequest, context: Context
                              ) -> pb.ListCreditNotesResponse:
        notes, token = await self._receivables.list_credit_notes(
            caller(), request.invoice_id, request.page_size, request.page_token)
        return pb.ListCreditNotesResponse(credit_notes=[credit_note_out(n) for n in notes],
                                          next_page_token=token)

    async def ListInvoiceHistory(self, request: pb.ListInvoiceHistoryRequest, context: Context
                                 ) -> pb.ListInvoiceHistoryResponse:
        entries, token = await self._invoices.history(caller(), request.id, request.page_size,
                                                      request.page_token)
        return pb.ListInvoiceHistoryResponse(entries=[history_out(h) for h in entries],
                                             next_page_token=token)

    async def GetReceivablesAging(self, request: pb.GetReceivablesAgingRequest,
                                  context: Context) -> pb.GetReceivablesAgingResponse:
        aging, customers = await self._receivables.aging(
            caller(), request.as_of, request.customer_id, request.owner_id, request.team_id)
        return aging_out(aging, customers)

    async def RenderInvoicePdf(self, request: pb.RenderInvoicePdfRequest, context: Context
                               ) -> AsyncIterator[pb.RenderInvoicePdfResponse]:
        file = await self._files.invoice_pdf(caller(), request.id)
        for chunk in file_chunks(file):
            yield pb.RenderInvoicePdfResponse(chunk=chunk)

    async def RenderCreditNotePdf(self, request: pb.RenderCreditNotePdfRequest,
                                  context: Context
                                  ) -> AsyncIterator[pb.RenderCreditNotePdfResponse]:
        file = await self._files.credit_note_pdf(caller(), request.id)
        for chunk in file_chunks(file):
            yield pb.RenderCreditNotePdfResponse(chunk=chunk)
