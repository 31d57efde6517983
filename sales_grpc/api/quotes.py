"""QuoteService servicer: decode, call the use case, encode."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from erp.sales.v1 import quote_service_pb2 as pb
from erp.sales.v1 import quote_service_pb2_grpc as pb_grpc

from ..domain.quotes import Quote
from ..services.document_files import DocumentFiles
from ..services.quote_lifecycle import QuoteLifecycle
from ..services.quotes import QuoteService
from .context import caller
from .converters.orders import order_out
from .converters.quotes import history_out, quote_in, quote_out
from .document_files import file_chunks

Context = grpc.aio.ServicerContext[object, object]


class QuoteServicer(pb_grpc.QuoteServiceServicer):
    def __init__(self, quotes: QuoteService, lifecycle: QuoteLifecycle, files: DocumentFiles
                 ) -> None:
        self._quotes = quotes
        self._lifecycle = lifecycle
        self._files = files

    async def _out(self, quote: Quote) -> pb.Quote:
        """The quote with where its email stands."""
        return quote_out(quote, (await self._quotes.deliveries([quote])).get(quote.id))

    async def RenderQuotePdf(self, request: pb.RenderQuotePdfRequest, context: Context
                             ) -> AsyncIterator[pb.RenderQuotePdfResponse]:
        file = await self._files.quote_pdf(caller(), request.id)
        for chunk in file_chunks(file):
            yield pb.RenderQuotePdfResponse(chunk=chunk)

    async def CreateQuote(self, request: pb.CreateQuoteRequest, context: Context
                          ) -> pb.CreateQuoteResponse:
        quote = await self._quotes.create(caller(), quote_in(request.quote), request.request_id)
        return pb.CreateQuoteResponse(quote=await self._out(quote))

    async def GetQuote(self, request: pb.GetQuoteRequest, context: Context
                       ) -> pb.GetQuoteResponse:
        quote = await self._quotes.get(caller(), request.id)
        return pb.GetQuoteResponse(quote=await self._out(quote))

    async def GetQuoteByNumber(self, request: pb.GetQuoteByNumberRequest, context: Context
                               ) -> pb.GetQuoteByNumberResponse:
        quote = await self._quotes.get_by_number(caller(), request.number)
        return pb.GetQuoteByNumberResponse(quote=await self._out(quote))

    async def ListQuotes(self, request: pb.ListQuotesRequest, context: Context
                         ) -> pb.ListQuotesResponse:
        quotes, token = await self._quotes.list_page(
            caller(), filter=request.filter, order_by=request.order_by, size=request.page_size,
            token=request.page_token)
        deliveries = await self._quotes.deliveries(quotes)
        return pb.ListQuotesResponse(quotes=[quote_out(q, deliveries.get(q.id)) for q in quotes],
                                     next_page_token=token)

    async def UpdateQuote(self, request: pb.UpdateQuoteRequest, context: Context
                          ) -> pb.UpdateQuoteResponse:
        quote = await self._quotes.update(
            caller(), request.quote.id, list(request.update_mask.paths),
            quote_in(request.quote, request.update_mask.paths), request.quote.etag)
        return pb.UpdateQuoteResponse(quote=await self._out(quote))

    async def SendQuote(self, request: pb.SendQuoteRequest, context: Context
                        ) -> pb.SendQuoteResponse:
        quote = await self._lifecycle.send(caller(), request.id, request.etag,
                                           list(request.to))
        return pb.SendQuoteResponse(quote=await self._out(quote))

    async def AcceptQuote(self, request: pb.AcceptQuoteRequest, context: Context
                          ) -> pb.AcceptQuoteResponse:
        quote, order = await self._lifecycle.accept(caller(), request.id, request.etag,
                                                    request.confirm)
        return pb.AcceptQuoteResponse(quote=await self._out(quote), sales_order=order_out(order))

    async def RejectQuote(self, request: pb.RejectQuoteRequest, context: Context
                          ) -> pb.RejectQuoteResponse:
        quote = await self._lifecycle.reject(caller(), request.id, request.etag, request.reason)
        return pb.RejectQuoteResponse(quote=await self._out(quote))

    async def CancelQuote(self, request: pb.CancelQuoteRequest, context: Context
                          ) -> pb.CancelQuoteResponse:
        quote = await self._lifecycle.cancel(caller(), request.id, request.etag, request.reason)
        return pb.CancelQuoteResponse(quote=await self._out(quote))

    async def ReviseQuote(self, request: pb.ReviseQuoteRequest, context: Context
                          ) -> pb.ReviseQuoteResponse:
        quote = await self._lifecycle.revise(caller(), request.id, request.etag)
        return pb.ReviseQuoteResponse(quote=await self._out(quote))

    async def DuplicateQuote(self, request: pb.DuplicateQuoteRequest, context: Context
                             ) -> pb.DuplicateQuoteResponse:
        quote = await self._quotes.duplicate(caller(), request.id, request.request_id)
        return pb.DuplicateQuoteResponse(quote=await self._out(quote))

    async def ListQuoteHistory(self, request: pb.ListQuoteHistoryRequest, context: Context
                               ) -> pb.ListQuoteHistoryResponse:
        entries, token = await self._quotes.history(caller(), request.id, request.page_size,
                                                    request.page_token)
        return pb.ListQuoteHistoryResponse(entries=[history_out(h) for h in entries],
                                           next_page_token=token)
