"""A real SMTP server (aiosmtpd, in its own thread) on a free port, and the mail parts over a
database of their own on the session's SecantusDB, with a clock the test moves."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sales_grpc.api.converters.events import event_payload
from sales_grpc.bootstrap import MailParts, build_mail
from sales_grpc.config import Settings
from sales_grpc.domain.mail import Attachment, DocumentRef, Mail, MailStatus
from sales_grpc.services.clock import now
from sales_grpc.services.mail import MailSender
from sales_grpc.store.mongo import INDEXES, Mongo
from sales_grpc.store.outbox import Outbox


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """aiosmtpd's handler: keeps what arrives; refuses the addresses in `refuse` with the
    reply given there (`550 5.1.1 no such user`)."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.time = now()

    def __call__(self) -> datetime:
        return self.time

    def advance(self, **delta: float) -> None:
        self.time += timedelta(**delta)


class PdfLikeSource:
    """A tiny AttachmentSource: a PDF-looking file per document, every byte value in it."""

    async def attachment(self, document_id: str) -> Attachment:
        return Attachment(f"Quote {document_id}.pdf", "application/pdf", pdf_bytes(document_id))


def pdf_bytes(document_id: str) -> bytes:
    return b"%PDF-1.7\n" + document_id.encode() + bytes(range(256)) + b"\n%%EOF\n"


@dataclass
class MailWorld:
    """The mail parts of one replica over the test's database; `replica()` makes another."""

    settings: Settings
    clock: Clock
    mongo: Mongo
    outbox: Outbox
    parts: MailParts
    _mongos: list[Mongo]

    async def replica(self, sender: MailSender | None = None, **settings: Any) -> MailParts:
        """Another replica's mail parts (its own client), with settings changed if given."""
        mongo = Mongo(self.settings.mongodb_url, self.settings.database_name)
        self._mongos.append(mongo)
        parts = build_mail(replace(self.settings, **settings), mongo,
                           Outbox(mongo, event_payload), sender=sender, clock=self.clock)
        parts.attachments.register("quote", PdfLikeSource())
        return parts

    async def enqueue(self, mail: Mail) -> MailStatus:
        return await self.mongo.run_transaction(
            lambda session: self.parts.jobs.enqueue(mail, self.clock(), session))

    async def events(self) -> list[str]:
        """The names of the events in the outbox, oldest first."""
        docs = await self.mongo.db.outbox.find({}, sort=[("occur_time", 1)]).to_list()
        return [doc["type_url"].rpartition(".")[2] for doc in docs]


def quote_mail(quote_id: str = "q1", to: tuple[str, ...] = ("ann@customer.example",),
               subject: str = "Quote QT-2026-000001") -> Mail:
    document = DocumentRef("quote", quote_id)
    return Mail(document, to, subject, "Please find our quote attached.", (document,))


@pytest.fixture
def mail_settings(fresh_settings: Callable[..., Settings], smtp: SmtpServer
                  ) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return fresh_settings(**{
            "smtp_server": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False,
            "smtp_timeout_seconds": 2.0, "smtp_from": "Example Sales <sales@shop.example>",
            "mail_poll_seconds": 0.05, **overrides})
    return make


@pytest.fixture
async def world(mail_settings: Callable[..., Settings]) -> AsyncIterator[MailWorld]:
    settings = mail_settings()
    mongo = Mongo(settings.mongodb_url, settings.database_name)
    for name in ("mail_jobs", "outbox"):
        await mongo.db[name].create_indexes(INDEXES[name])
    clock = Clock()
    outbox = Outbox(mongo, event_payload)
    parts = build_mail(settings, mongo, outbox, clock=clock)
    parts.attachments.register("quote", PdfLikeSource())
    world = MailWorld(settings, clock, mongo, outbox, parts, [mongo])
    yield world
    for client in world._mongos:
        await client.close()
