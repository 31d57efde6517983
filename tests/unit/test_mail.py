"""Mail rules without a server: the retry schedule, what a mail may hold, the message as it
goes out, and the mail settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sales_grpc.config import Settings
from sales_grpc.domain.mail import (
    Attachment,
    DocumentRef,
    Mail,
    MailJob,
    RetryPolicy,
    message_id,
)
from sales_grpc.mail.message import build_message
from sales_grpc.mail.smtp import sender_domain

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
QUOTE = DocumentRef("quote", "q1")


def test_failed_attempts_wait_30_seconds_doubling_and_the_eighth_is_the_last():
    policy = RetryPolicy()
    delays = [policy.next_attempt(n, NOW) for n in range(1, 9)]
    assert [(d - NOW).total_seconds() for d in delays if d] == [
        30, 60, 120, 240, 480, 960, 1920]
    assert delays[-1] is None


def test_the_wait_between_attempts_never_passes_an_hour():
    policy = RetryPolicy(max_attempts=20)
    assert policy.next_attempt(19, NOW) == NOW + timedelta(hours=1)


def test_a_mail_without_recipients_or_with_a_header_break_is_refused():
    with pytest.raises(ValueError, match="recipient"):
        Mail(QUOTE, (), "Quote", "text")
    with pytest.raises(ValueError, match="one line"):
        Mail(QUOTE, ("ann@x.example",), "Quote\r\nBcc: all@x.example", "text")


def test_the_message_id_is_the_job_id_at_the_senders_domain():
    assert sender_domain("Example Sales <sales@shop.example>") == "shop.example"
    assert message_id("65f0c0ffee", "shop.example") == "<65f0c0ffee@shop.example>"


def test_the_message_carries_its_job_headers_unicode_subject_body_and_attachment():
    mail = Mail(QUOTE, ("ann@x.example", "bob@x.example"), "Angebot für Zoë", "Hallo Zoë",
                (QUOTE,))
    job = MailJob("m1", mail, "<m1@shop.example>", NOW, 3, "lease")
    message = build_message(job, "Sales <sales@shop.example>",
                            [Attachment("Quote QT-1.pdf", "application/pdf", b"%PDF-\xff")])

    assert message["Message-ID"] == "<m1@shop.example>"
    assert message["Date"] == "Sun, 01 Mar 2026 09:30:00 +0000"
    assert message["To"] == "ann@x.example, bob@x.example"
    assert "=?utf-8?" in message.as_string()  # the subject is encoded, not sent raw
    assert message["Subject"] == "Angebot für Zoë"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == b"%PDF-\xff"
    assert attachment.get_filename() == "Quote QT-1.pdf"


def test_mail_settings_read_booleans_and_refuse_what_cannot_work():
    settings = Settings.from_env({"SMTP_STARTTLS": "false", "SMTP_TLS": "yes",
                                  "MAIL_MAX_ATTEMPTS": "3"})
    assert (settings.smtp_starttls, settings.smtp_tls, settings.mail_max_attempts) == (
        False, True, 3)
    assert Settings().smtp_starttls is True and Settings().smtp_tls is False
    with pytest.raises(ValueError, match="SMTP_TLS='maybe' is not true or false"):
        Settings.from_env({"SMTP_TLS": "maybe"})
    with pytest.raises(ValueError, match="MAIL_MAX_ATTEMPTS=0"):
        Settings.from_env({"MAIL_MAX_ATTEMPTS": "0"})
    with pytest.raises(ValueError, match="MAIL_POLL_SECONDS=0.0"):
        Settings.from_env({"MAIL_POLL_SECONDS": "0"})


async def test_the_fake_mail_jobs_keep_a_committed_mail_and_forget_an_aborted_one():
    from tests.fakes.core import FakeDatabase, FakeTransactions
    from tests.fakes.mail import FakeMailJobs

    db = FakeDatabase()
    jobs, transactions = FakeMailJobs(db), FakeTransactions(db)
    kept = Mail(QUOTE, ("ann@x.example",), "Quote", "text", (QUOTE,))

    async def aborted(session):
        await jobs.enqueue(Mail(QUOTE, ("bob@x.example",), "Quote", "text"), NOW, session)
        raise RuntimeError("the change failed")

    await transactions.run_transaction(lambda session: jobs.enqueue(kept, NOW, session))
    with pytest.raises(RuntimeError):
        await transactions.run_transaction(aborted)

    status = await jobs.status_of(QUOTE)
    assert jobs.queued == [kept]
    assert status is not None and status.recipients == ("ann@x.example",)
