"""SendQuote over the wire against a real SMTP server: the quote's PDF arrives by mail after
the commit, and the quote shows where its mail stands."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from pypdf import PdfReader

from erp.sales.v1 import delivery_pb2
from erp.sales.v1 import quote_service_pb2 as qpb
from erp.sales.v1 import quote_service_pb2_grpc as qgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..api.helpers import fails
from ..api.order_fixtures import Shop, line
from .conftest import SmtpServer


@dataclass
class Served:
    """A server that mails through the test's SMTP server: a channel to it, an admin's call
    metadata, and its port."""

    channel: grpc.aio.Channel
    md: tuple[tuple[str, str], ...]
    port: int

    def __iter__(self) -> Iterator[Any]:
        return iter((self.channel, self.md))


@pytest.fixture
async def served(mail_settings: Callable[..., Settings]) -> AsyncIterator[Served]:
    app = await build(mail_settings(company_name="Zoë Ørsted Trading"))
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    token = mint_token(app.settings, "admin-mail", Role.ADMIN, "")
    yield Served(channel, (("authorization", f"Bearer {token}"),), port)
    await channel.close()
    await server.stop(0.5)
    await app.close()


async def _delivered(quotes: qgrpc.QuoteServiceStub, md, quote_id: str) -> qpb.Quote:
    # Until settled, up to a minute: the first render starts the PDF worker processes, which
    # on a busy machine takes longer than the mail itself.
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        quote = (await quotes.GetQuote(qpb.GetQuoteRequest(id=quote_id), metadata=md)).quote
        if quote.delivery.state in (delivery_pb2.DELIVERY_STATE_SENT,
                                    delivery_pb2.DELIVERY_STATE_FAILED):
            return quote
        await asyncio.sleep(0.05)
    raise AssertionError("the quote's mail was not delivered")


async def test_a_sent_quote_is_mailed_with_its_pdf_after_the_commit(served, smtp: SmtpServer):
    channel, md = served
    shop, quotes = Shop(channel, md), qgrpc.QuoteServiceStub(channel)
    customer = await shop.customer()
    product = await shop.product(price="12.50")
    quote = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 4)])), metadata=md)).quote
    assert not quote.HasField("delivery")
    sent = (await quotes.SendQuote(qpb.SendQuoteRequest(id=quote.id), metadata=md)).quote
    assert sent.delivery.state in (delivery_pb2.DELIVERY_STATE_PENDING,
                                   delivery_pb2.DELIVERY_STATE_SENT)
    delivered = await _delivered(quotes, md, quote.id)
    assert delivered.delivery.state == delivery_pb2.DELIVERY_STATE_SENT
    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == [customer.email]
    assert mail.message["Subject"] == f"Quote {quote.number}"
    assert mail.message["Message-ID"] == delivered.delivery.message_id
    [pdf] = [part for part in mail.message.iter_attachments()]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{quote.number}.pdf"
    text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert quote.number in text and "Zoë Ørsted Trading" in text and "50.00" in text


async def test_a_bad_recipient_is_invalid_argument_and_the_quote_stays_a_draft(
        served, smtp: SmtpServer):
    channel, md = served
    shop, quotes = Shop(channel, md), qgrpc.QuoteServiceStub(channel)
    customer = await shop.customer()
    product = await shop.product()
    quote = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 1)])), metadata=md)).quote
    failure = await fails(quotes.SendQuote(qpb.SendQuoteRequest(
        id=quote.id, to=["buyer@example.com", "not an address"]), metadata=md),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert "to[1]" in failure.fields
    kept = (await quotes.GetQuote(qpb.GetQuoteRequest(id=quote.id), metadata=md)).quote
    assert kept.state == qpb.QUOTE_STATE_DRAFT and not kept.HasField("delivery")
    await asyncio.sleep(0.3)
    assert smtp.inbox.received == []


async def test_render_quote_pdf_streams_the_same_bytes_each_time(served):
    channel, md = served
    shop, quotes = Shop(channel, md), qgrpc.QuoteServiceStub(channel)
    customer = await shop.customer()
    product = await shop.product()
    quote = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 2)])), metadata=md)).quote

    async def download() -> tuple[qpb.RenderQuotePdfResponse, bytes]:
        chunks = [c async for c in quotes.RenderQuotePdf(
            qpb.RenderQuotePdfRequest(id=quote.id), metadata=md)]
        data = b"".join(c.chunk.data for c in chunks[1:])
        assert chunks[0].chunk.header.size_bytes == len(data)
        assert all(len(c.chunk.data) <= 64 * 1024 for c in chunks[1:])
        return chunks[0], data

    (header, first), (_, second) = await download(), await download()
    assert header.chunk.header.content_type == "application/pdf"
    assert first.startswith(b"%PDF") and first == second


async def test_the_cli_writes_a_quotes_pdf_to_a_file(served, tmp_path: Path):
    channel, md = served
    shop, quotes = Shop(channel, md), qgrpc.QuoteServiceStub(channel)
    customer = await shop.customer()
    product = await shop.product()
    quote = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 2)])), metadata=md)).quote
    target = tmp_path / "quote.pdf"
    env = {**os.environ, "TOKEN": md[0][1].removeprefix("Bearer "),
           "SERVICE_PORT": str(served.port)}
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from sales_grpc.cli import main; main()", "pdf", "quote",
        quote.id, "-o", str(target), env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    assert quote.number in PdfReader(target).pages[0].extract_text()
