"""The ports of mail delivery: what use cases call to send mail about a document, and what the
delivery worker (jobs/mail_delivery.py) needs from the store, the documents and SMTP.

A use case never sends: it enqueues a job in the transaction that changes the document, so the
change and the mail commit together, and a worker sends after the commit, retrying.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from ..domain.mail import Attachment, DocumentRef, Mail, MailJob, MailStatus
from .ports import Session


class MailJobs(Protocol):
    """What use cases call."""

    async def enqueue(self, mail: Mail, now: datetime, session: Session) -> MailStatus:
        """Adds a mail job in the caller's transaction, due at once, with its Message-ID
        fixed now; it is sent only if the transaction commits."""
        ...

    async def status_of(self, document: DocumentRef) -> MailStatus | None:
        """The latest mail job about the document (None if it has none)."""
        ...

    async def statuses_of(self, document_type: str, document_ids: Sequence[str]
                          ) -> dict[str, MailStatus]:
        """The latest mail job of each document that has one, by document id (for lists)."""
        ...


class MailQueue(Protocol):
    """What the worker calls. Outcomes are written only while the job's lease (`lease_id`) is
    still the worker's: once another worker took an expired lease over, they change nothing
    and return False."""

    async def claim(self, owner: str, now: datetime, lease: timedelta) -> MailJob | None:
        """Takes the earliest due job that is pending or retrying and not leased (or whose
        lease has expired), in one atomic write: leases it to `owner` until now + lease and
        counts the attempt. None when nothing is due."""
        ...

    async def mark_sent(self, job: MailJob, now: datetime, note: str, session: Session
                        ) -> bool: ...

    async def mark_failed(self, job: MailJob, now: datetime, error: str, session: Session
                          ) -> bool: ...

    async def retry_later(self, job: MailJob, due: datetime, now: datetime, error: str
                          ) -> bool:
        """One atomic single-document write: retrying, due again at `due`, lease released."""
        ...


class AttachmentSource(Protocol):
    """Builds the file of one type of document (the quote PDF) when its mail is sent."""

    async def attachment(self, document_id: str) -> Attachment: ...


class DeliveryFailed(Exception):
    """An attempt that did not deliver. Permanent (a refused recipient, SMTP 5xx) ends the
    job as failed at once; otherwise (SMTP down, 4xx) it retries with backoff."""

    def __init__(self, reason: str, *, permanent: bool, code: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code  # the SMTP reply code, 0 when there was none


class MailSender(Protocol):
    async def send(self, job: MailJob, attachments: Sequence[Attachment]) -> dict[str, str]:
        """Sends the job's mail with its Message-ID; returns the recipients the server
        refused while accepting the others (address to reply), usually none. Raises
        DeliveryFailed when nobody got it."""
        ...


class AttachmentSources:
    """The AttachmentSource of each document type, registered at bootstrap."""

    def __init__(self) -> None:
        self._sources: dict[str, AttachmentSource] = {}

    def register(self, document_type: str, source: AttachmentSource) -> None:
        self._sources[document_type] = source

    async def build(self, document: DocumentRef) -> Attachment:
        source = self._sources.get(document.document_type)
        if source is None:
            raise DeliveryFailed(f"no attachment source for {document.document_type}",
                                 permanent=True)
        return await source.attachment(document.document_id)
