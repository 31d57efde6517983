"""The client side of the Render*Pdf RPCs, for `sales-grpc pdf KIND ID`: receives a document
file's stream from a running server and checks it is whole."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from erp.sales.v1 import document_file_pb2
from erp.sales.v1 import invoice_service_pb2 as invoices
from erp.sales.v1 import invoice_service_pb2_grpc as invoices_grpc
from erp.sales.v1 import order_service_pb2 as orders
from erp.sales.v1 import order_service_pb2_grpc as orders_grpc
from erp.sales.v1 import quote_service_pb2 as quotes
from erp.sales.v1 import quote_service_pb2_grpc as quotes_grpc

# A kind of document: how to open its Render*Pdf stream on a channel, given the id, the call
# metadata and a deadline in seconds.
Opener = Callable[[grpc.aio.Channel, str, Any, float], AsyncIterable[Any]]
KINDS: dict[str, Opener] = {
    "order": lambda channel, id, metadata, timeout: orders_grpc.OrderServiceStub(
        channel).RenderSalesOrderPdf(orders.RenderSalesOrderPdfRequest(id=id),
                                     metadata=metadata, timeout=timeout),
    "quote": lambda channel, id, metadata, timeout: quotes_grpc.QuoteServiceStub(
        channel).RenderQuotePdf(quotes.RenderQuotePdfRequest(id=id), metadata=metadata,
                                timeout=timeout),
    "invoice": lambda channel, id, metadata, timeout: invoices_grpc.InvoiceServiceStub(
        channel).RenderInvoicePdf(invoices.RenderInvoicePdfRequest(id=id), metadata=metadata,
                                  timeout=timeout),
    "credit_note": lambda channel, id, metadata, timeout: invoices_grpc.InvoiceServiceStub(
        channel).RenderCreditNotePdf(invoices.RenderCreditNotePdfRequest(id=id),
                                     metadata=metadata, timeout=timeout),
}


class DownloadFailed(Exception):
    """The call failed (its status code and message), or the stream ended without a header
    or with other bytes than the header announced."""


@dataclass(frozen=True)
class ReceivedFile:
    file_name: str
    content_type: str
    data: bytes


async def receive(chunks: AsyncIterable[Any]) -> ReceivedFile:
    """Joins a stream of messages carrying `chunk` (a DocumentFileChunk) into the file."""
    header: document_file_pb2.DocumentFileHeader | None = None
    parts: list[bytes] = []
    async for message in chunks:
        chunk = message.chunk
        if chunk.HasField("header"):
            header = chunk.header
        elif header is None:
            raise DownloadFailed("the server sent bytes before the file's header")
        else:
            parts.append(chunk.data)
    data = b"".join(parts)
    if header is None:
        raise DownloadFailed("the server sent no file")
    if len(data) != header.size_bytes:
        raise DownloadFailed(f"received {len(data)} bytes of {header.size_bytes}")
    return ReceivedFile(header.file_name, header.content_type, data)


async def download(address: str, token: str, kind: str, id: str,
                   deadline_seconds: float = 60.0) -> ReceivedFile:
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            return await receive(KINDS[kind](channel, id, metadata, deadline_seconds))
        except grpc.aio.AioRpcError as exc:
            raise DownloadFailed(f"{exc.code().name}: {exc.details()}") from None
