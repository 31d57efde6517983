"""Mail delivery against a real SMTP server (aiosmtpd) and the real embedded SecantusDB."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from sales_grpc.bootstrap import smtp_sender
from sales_grpc.domain.mail import Attachment, DocumentRef, MailJob, MailState

from .conftest import MailWorld, SmtpServer, pdf_bytes, quote_mail


async def test_a_mail_arrives_with_its_subject_recipients_attachment_and_message_id(
        world: MailWorld, smtp: SmtpServer):
    subject = "Angebot QT-2026-000001 für Zoë Ørsted"
    queued = await world.enqueue(quote_mail("q1", ("ann@customer.example", "bob@customer.example"),
                                            subject))

    assert await world.parts.delivery.run_once() == 1

    [got] = smtp.inbox.received
    assert got.mail_from == "sales@shop.example"
    assert got.rcpt_tos == ["ann@customer.example", "bob@customer.example"]
    assert got.message["Subject"] == subject
    assert got.message["Message-ID"] == queued.message_id
    assert queued.message_id.endswith("@shop.example>")
    assert "Please find our quote attached." in got.message.get_body().get_content()
    [attachment] = list(got.message.iter_attachments())
    assert attachment.get_filename() == "Quote q1.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf_bytes("q1")
    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None
    assert (status.state, status.send_time, status.attempts, status.message_id) == (
        MailState.SENT, world.clock(), 1, queued.message_id)
    assert await world.events() == ["MailDelivered"]


async def test_a_mail_enqueued_in_a_transaction_that_aborts_is_never_sent(
        world: MailWorld, smtp: SmtpServer):
    async def change_then_fail(session):
        await world.parts.jobs.enqueue(quote_mail("q1"), world.clock(), session)
        raise RuntimeError("the document change failed")

    with pytest.raises(RuntimeError):
        await world.mongo.run_transaction(change_then_fail)

    assert await world.parts.delivery.run_once() == 0
    assert await world.parts.jobs.status_of(DocumentRef("quote", "q1")) is None
    assert smtp.inbox.received == []


async def test_with_the_smtp_server_down_the_mail_retries_with_backoff_until_it_is_back(
        world: MailWorld, smtp: SmtpServer):
    quote = DocumentRef("quote", "q1")
    await world.enqueue(quote_mail("q1"))
    smtp.stop()

    assert await world.parts.delivery.run_once() == 1
    first = await world.parts.jobs.status_of(quote)
    assert first is not None and first.state is MailState.RETRYING and first.attempts == 1
    assert first.next_attempt_time == world.clock() + timedelta(seconds=30)
    assert "Connect" in first.last_error
    assert await world.parts.delivery.run_once() == 0  # not due yet

    world.clock.advance(seconds=30)
    assert await world.parts.delivery.run_once() == 1
    second = await world.parts.jobs.status_of(quote)
    assert second is not None and second.state is MailState.RETRYING
    assert second.next_attempt_time == world.clock() + timedelta(seconds=60)

    smtp.start()
    world.clock.advance(seconds=60)
    assert await world.parts.delivery.run_once() == 1
    sent = await world.parts.jobs.status_of(quote)
    assert sent is not None and (sent.state, sent.attempts) == (MailState.SENT, 3)
    assert [r.message["Message-ID"] for r in smtp.inbox.received] == [sent.message_id]


async def test_a_mail_that_fails_every_attempt_ends_failed_after_the_last_with_an_event(
        world: MailWorld, smtp: SmtpServer):
    worker = (await world.replica(mail_max_attempts=3)).delivery
    await world.enqueue(quote_mail("q1"))
    smtp.stop()

    for _ in range(3):
        assert await worker.run_once() == 1
        world.clock.advance(hours=1)
    assert await worker.run_once() == 0

    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and (status.state, status.attempts) == (MailState.FAILED, 3)
    assert status.last_error.endswith("(gave up after 3 attempts)")
    assert status.next_attempt_time is None
    assert await world.events() == ["MailFailed"]


async def test_a_refused_recipient_ends_failed_with_the_error_and_is_not_retried(
        world: MailWorld, smtp: SmtpServer):
    smtp.inbox.refuse["nobody@customer.example"] = "550 5.1.1 No such user"
    await world.enqueue(quote_mail("q1", ("nobody@customer.example",)))

    assert await world.parts.delivery.run_once() == 1
    world.clock.advance(hours=2)
    assert await world.parts.delivery.run_once() == 0

    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and (status.state, status.attempts) == (MailState.FAILED, 1)
    assert status.last_error == "nobody@customer.example: 550 5.1.1 No such user"
    assert smtp.inbox.received == []
    event = await world.mongo.db.outbox.find_one({})
    assert event is not None and event["type_url"].endswith("MailFailed")


async def test_a_recipient_refused_for_now_is_retried(world: MailWorld, smtp: SmtpServer):
    smtp.inbox.refuse["ann@customer.example"] = "450 4.2.1 Mailbox busy"
    await world.enqueue(quote_mail("q1"))

    assert await world.parts.delivery.run_once() == 1
    del smtp.inbox.refuse["ann@customer.example"]
    world.clock.advance(seconds=30)
    assert await world.parts.delivery.run_once() == 1

    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and (status.state, status.attempts) == (MailState.SENT, 2)
    assert len(smtp.inbox.received) == 1


async def test_a_mail_refused_for_one_of_two_recipients_goes_to_the_other_and_names_it(
        world: MailWorld, smtp: SmtpServer):
    smtp.inbox.refuse["nobody@customer.example"] = "550 5.1.1 No such user"
    await world.enqueue(quote_mail("q1", ("ann@customer.example", "nobody@customer.example")))

    await world.parts.delivery.run_once()

    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and status.state is MailState.SENT
    assert status.last_error == "refused nobody@customer.example: 550 5.1.1 No such user"
    assert [r.rcpt_tos for r in smtp.inbox.received] == [["ann@customer.example"]]


async def test_two_replicas_running_at_once_send_each_of_many_mails_exactly_once(
        world: MailWorld, smtp: SmtpServer):
    first, second = (await world.replica()).delivery, (await world.replica()).delivery
    queued = [await world.enqueue(quote_mail(f"q{i}")) for i in range(30)]

    counts = [0, 0]
    while True:
        done = await asyncio.gather(first.run_once(), second.run_once())
        counts = [c + d for c, d in zip(counts, done, strict=True)]
        if done == [0, 0]:
            break

    ids = sorted(r.message["Message-ID"] for r in smtp.inbox.received)
    assert ids == sorted(q.message_id for q in queued)
    assert sum(counts) == 30 and min(counts) > 0  # both did part of the work


class CrashAfterSending:
    """Sends, then dies before the worker can record it: a process killed mid-send."""

    def __init__(self, real) -> None:
        self._real = real

    async def send(self, job: MailJob, attachments: Sequence[Attachment]) -> dict[str, str]:
        await self._real.send(job, attachments)
        raise SystemExit("killed")


async def test_a_mail_whose_worker_died_mid_send_is_sent_again_after_its_lease_with_the_same_id(
        world: MailWorld, smtp: SmtpServer):
    dying = (await world.replica(CrashAfterSending(smtp_sender(world.settings)))).delivery
    queued = await world.enqueue(quote_mail("q1"))

    with pytest.raises(SystemExit):
        await dying.run_once()
    assert await world.parts.delivery.run_once() == 0  # the dead worker's lease still holds

    world.clock.advance(seconds=world.settings.mail_lease_seconds)
    assert await world.parts.delivery.run_once() == 1

    assert [r.message["Message-ID"] for r in smtp.inbox.received] == [queued.message_id] * 2
    status = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and (status.state, status.attempts) == (MailState.SENT, 2)


async def test_a_worker_whose_lease_was_taken_over_cannot_change_the_outcome(
        world: MailWorld, smtp: SmtpServer):
    jobs, lease = world.parts.jobs, timedelta(seconds=world.settings.mail_lease_seconds)
    await world.enqueue(quote_mail("q1"))
    slow = await jobs.claim("slow", world.clock(), lease)
    world.clock.advance(seconds=lease.total_seconds())
    fast = await jobs.claim("fast", world.clock(), lease)
    assert slow is not None and fast is not None and fast.attempts == 2

    async def outcome(job: MailJob, failed: bool) -> bool:
        async def write(session):
            if failed:
                return await jobs.mark_failed(job, world.clock(), "late", session)
            return await jobs.mark_sent(job, world.clock(), "", session)
        return await world.mongo.run_transaction(write)

    assert await outcome(slow, failed=True) is False
    assert await outcome(fast, failed=False) is True
    status = await jobs.status_of(DocumentRef("quote", "q1"))
    assert status is not None and status.state is MailState.SENT


async def test_a_document_shows_the_state_of_its_latest_mail(world: MailWorld,
                                                             smtp: SmtpServer):
    await world.enqueue(quote_mail("q1"))
    await world.enqueue(quote_mail("q2"))
    await world.parts.delivery.run_once()
    world.clock.advance(seconds=1)
    resent = await world.enqueue(quote_mail("q1", ("new@customer.example",)))

    latest = await world.parts.jobs.status_of(DocumentRef("quote", "q1"))
    statuses = await world.parts.jobs.statuses_of("quote", ["q1", "q2", "q3"])

    assert latest == resent and latest.state is MailState.PENDING
    assert latest.recipients == ("new@customer.example",)
    assert sorted(statuses) == ["q1", "q2"]
    assert statuses["q1"] == resent and statuses["q2"].state is MailState.SENT
