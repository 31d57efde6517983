"""SendInvoice over the wire against a real SMTP server: a draft sent with `finalize` gets its
number, and the delivery worker mails the invoice's PDF, named after that number, after the
commit."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
import pytest
from pypdf import PdfReader

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import delivery_pb2
from erp.sales.v1 import invoice_service_pb2 as ipb
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from ..api.helpers import fails
from ..api.invoice_fixtures import Billing, outbox_events
from ..api.order_fixtures import line
from .conftest import SmtpServer

SETTLED = (delivery_pb2.DELIVERY_STATE_SENT, delivery_pb2.DELIVERY_STATE_FAILED)


@dataclass
class Served:
    app: App
    billing: Billing


@pytest.fixture
async def served(mail_settings: Callable[..., Settings]) -> AsyncIterator[Served]:
    app = await build(mail_settings(company_name="Zoë Ørsted Trading"))
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    token = mint_token(app.settings, "admin-mail", Role.ADMIN, "")
    yield Served(app, Billing(channel, (("authorization", f"Bearer {token}"),)))
    await channel.close()
    await server.stop(0.5)
    await app.close()


async def _delivered(billing: Billing, invoice_id: str) -> ipb.Invoice:
    """The invoice once the mail of its send has settled."""
    # Until settled, up to a minute: the first render starts the PDF worker processes, which
    # on a busy machine takes longer than the mail itself.
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        invoice = await billing.get(invoice_id)
        if invoice.delivery.state in SETTLED:
            return invoice
        await asyncio.sleep(0.05)
    raise AssertionError("the invoice's mail was not delivered")


async def _draft(billing: Billing) -> ipb.Invoice:
    customer = await billing.customer()
    product = await billing.product(price="12.50", stock=0, tax_rate="0")
    return await billing.draft(customer.id, line(product.id, 4))


async def test_sending_a_draft_with_finalize_numbers_it_and_mails_its_pdf(
        served: Served, smtp: SmtpServer):
    billing = served.billing
    draft = await _draft(billing)
    customer = (await billing.customers.GetCustomer(cpb.GetCustomerRequest(
        id=draft.customer_id), metadata=billing.md)).customer
    sent = (await billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=draft.id, etag=draft.etag, finalize=True), metadata=billing.md)).invoice
    assert sent.state == ipb.INVOICE_STATE_OPEN and sent.number.startswith("INV-")
    assert sent.issue_date and sent.HasField("send_time")
    assert sent.delivery.state in (delivery_pb2.DELIVERY_STATE_PENDING,
                                   delivery_pb2.DELIVERY_STATE_SENT)
    assert await billing.history(draft.id) == ["created", "finalized", "sent"]

    delivered = await _delivered(billing, draft.id)
    assert delivered.delivery.state == delivery_pb2.DELIVERY_STATE_SENT
    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == [customer.email]
    assert mail.message["Subject"] == f"Invoice {sent.number}"
    assert mail.message["Message-ID"] == delivered.delivery.message_id
    assert sent.number in mail.message.get_body(("plain",)).get_content()
    [pdf] = list(mail.message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"{sent.number}.pdf"
    mailed = pdf.get_content()
    text = PdfReader(io.BytesIO(mailed)).pages[0].extract_text()
    assert sent.number in text and "Zoë Ørsted Trading" in text and "50.00" in text

    chunks = [c async for c in billing.invoices.RenderInvoicePdf(
        ipb.RenderInvoicePdfRequest(id=draft.id), metadata=billing.md)]
    assert chunks[0].chunk.header.file_name == f"{sent.number}.pdf"
    rendered = b"".join(c.chunk.data for c in chunks[1:])
    assert PdfReader(io.BytesIO(rendered)).pages[0].extract_text() == text

    [event] = [e for e in await outbox_events(served.app.mongo, "InvoiceSent")
               if e.invoice_id == draft.id]
    assert (event.number, list(event.recipients)) == (sent.number, [customer.email])
    [finalized] = [e for e in await outbox_events(served.app.mongo, "InvoiceFinalized")
                   if e.invoice_id == draft.id]
    assert finalized.number == sent.number


async def test_a_paid_invoice_can_be_sent_again_to_other_recipients(
        served: Served, smtp: SmtpServer):
    billing = served.billing
    invoice = await billing.finalize((await _draft(billing)).id)
    await billing.pay(invoice.id, "50.00")
    again = (await billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=invoice.id, to=["books@customer.example", "ceo@customer.example"]),
        metadata=billing.md)).invoice
    assert again.state == ipb.INVOICE_STATE_PAID
    delivered = await _delivered(billing, invoice.id)
    assert delivered.delivery.state == delivery_pb2.DELIVERY_STATE_SENT
    [mail] = smtp.inbox.received
    assert sorted(mail.rcpt_tos) == ["books@customer.example", "ceo@customer.example"]
    [pdf] = list(mail.message.iter_attachments())
    assert pdf.get_filename() == f"{invoice.number}.pdf"


async def test_a_draft_without_finalize_a_void_invoice_or_a_bad_address_is_not_sent(
        served: Served, smtp: SmtpServer):
    billing = served.billing
    draft = await _draft(billing)
    failure = await fails(billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=draft.id), metadata=billing.md), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.info.reason == "INVOICE_IS_DRAFT"
    failure = await fails(billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=draft.id, finalize=True, to=["buyer@example.com", "not an address"]),
        metadata=billing.md), grpc.StatusCode.INVALID_ARGUMENT)
    assert "to[1]" in failure.fields
    kept = await billing.get(draft.id)
    assert (kept.state, kept.number) == (ipb.INVOICE_STATE_DRAFT, "")
    assert not kept.HasField("delivery")

    void = await billing.finalize((await _draft(billing)).id)
    await billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(id=void.id, reason="wrong"),
                                       metadata=billing.md)
    failure = await fails(billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=void.id), metadata=billing.md), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.info.reason == "INVOICE_VOID"
    await asyncio.sleep(0.3)
    assert smtp.inbox.received == []
