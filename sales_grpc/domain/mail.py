"""Mail about a document: what to send, its delivery state, and when a failed attempt retries.

A use case asks for a `Mail` in its own transaction; a delivery worker sends it later (the
mail job). Attachments are named by document, not carried: the worker builds them at send
time, so a job stays small and the file is the document as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


@dataclass(frozen=True)
class DocumentRef:
    """A document by type (`quote`, `invoice`) and id."""

    document_type: str
    document_id: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # `application/pdf`
    content: bytes


@dataclass(frozen=True)
class Mail:
    """A mail about `document` to `to`, with one attachment built from each of `attachments`."""

    document: DocumentRef
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[DocumentRef, ...] = ()

    def __post_init__(self) -> None:
        # Addresses are the caller's to check (domain/validation.email, with field paths);
        # these would break the message's headers, so no caller may pass them.
        if not self.to:
            raise ValueError("a mail needs at least one recipient")
        if any(c in value for value in (self.subject, *self.to) for c in "\r\n"):
            raise ValueError("a subject or address must be one line")


class MailState(str, Enum):
    PENDING = "pending"  # waiting for its first attempt
    RETRYING = "retrying"  # an attempt failed temporarily; the next is at next_attempt_time
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused for good, or out of attempts; last_error says why

    @property
    def open(self) -> bool:
        return self in (MailState.PENDING, MailState.RETRYING)


@dataclass(frozen=True)
class MailStatus:
    """A mail job as a document shows it: its delivery state and what the last attempt did."""

    mail_id: str
    document: DocumentRef
    state: MailState
    recipients: tuple[str, ...]
    message_id: str  # `<...@domain>`, fixed when the mail was asked for
    attempts: int
    create_time: datetime
    next_attempt_time: datetime | None  # while pending or retrying
    send_time: datetime | None  # once sent
    last_error: str  # why it failed or is retrying; once sent, recipients refused, if any


@dataclass(frozen=True)
class MailJob:
    """A mail job as a worker holds it under its lease: `attempts` counts this one."""

    mail_id: str
    mail: Mail
    message_id: str
    create_time: datetime
    attempts: int
    lease_id: str


def message_id(mail_id: str, domain: str) -> str:
    """The Message-ID of a mail: one per job, so every attempt carries the same one and a
    mail system that got it before can drop the copy."""
    return f"<{mail_id}@{domain or 'localhost'}>"


@dataclass(frozen=True)
class RetryPolicy:
    """Temporary failures retry after `first_delay`, doubling up to `max_delay`; the attempt
    numbered `max_attempts` is the last (8 attempts, 30 s first: about an hour in all)."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts; None when they are used up."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)
        return now + delay
