"""The server runs the delivery worker beside its calls, and stops it with itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.mail import DocumentRef, Mail, MailState, MailStatus
from sales_grpc.services.clock import now

from .conftest import PdfLikeSource, SmtpServer


async def test_a_running_server_delivers_mail_and_a_stopped_one_no_longer_does(
        mail_settings: Callable[..., Settings], smtp: SmtpServer):
    app = await build(mail_settings())
    app.mail.attachments.register("report", PdfLikeSource())
    server = SalesServer(app)
    await server.start("127.0.0.1:0")

    async def enqueue(document_id: str) -> MailStatus:
        document = DocumentRef("report", document_id)
        mail = Mail(document, ("ann@customer.example",), "Your report", "Attached.", (document,))
        return await app.mongo.run_transaction(
            lambda session: app.mail.jobs.enqueue(mail, now(), session))

    async def state_of(document_id: str) -> MailState | None:
        status = await app.mail.jobs.status_of(DocumentRef("report", document_id))
        return None if status is None else status.state

    try:
        await enqueue("r1")
        for _ in range(600):  # up to 30 s: a loaded machine may be slow to deliver
            if await state_of("r1") is MailState.SENT:
                break
            await asyncio.sleep(0.05)
        assert await state_of("r1") is MailState.SENT
        assert len(smtp.inbox.received) == 1
    finally:
        await server.stop(0.5)

    await enqueue("r2")
    await asyncio.sleep(10 * app.settings.mail_poll_seconds)
    assert await state_of("r2") is MailState.PENDING
    await app.close()
