"""A fake of MailJobs (services/mail.py) for use-case tests: a job enqueued in a transaction
that aborts is gone with it; `settle` plays the delivery worker."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sales_grpc.domain.mail import DocumentRef, Mail, MailState, MailStatus, message_id
from sales_grpc.services.ids import new_id
from sales_grpc.services.mail import MailJobs
from sales_grpc.services.ports import Session

from .core import FakeDatabase, in_transaction


@dataclasses.dataclass
class FakeMail:
    mail: Mail
    status: MailStatus


class FakeMailJobs:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    @property
    def queued(self) -> list[Mail]:
        """Every mail asked for and committed, oldest first."""
        return [job.mail for job in self._db.mail_jobs]

    async def enqueue(self, mail: Mail, now: datetime, session: Session) -> MailStatus:
        in_transaction(session)
        mail_id = new_id()
        status = MailStatus(mail_id, mail.document, MailState.PENDING, mail.to,
                            message_id(mail_id, "fake.example"), 0, now, now, None, "")
        self._db.mail_jobs.append(FakeMail(mail, status))
        return status

    async def status_of(self, document: DocumentRef) -> MailStatus | None:
        found = [job.status for job in self._db.mail_jobs if job.mail.document == document]
        return found[-1] if found else None

    async def statuses_of(self, document_type: str, document_ids: Sequence[str]
                          ) -> dict[str, MailStatus]:
        wanted = [DocumentRef(document_type, document_id) for document_id in document_ids]
        return {ref.document_id: status for ref in wanted
                if (status := await self.status_of(ref)) is not None}

    def settle(self, mail_id: str, state: MailState, when: datetime, error: str = "") -> None:
        """What the worker would record: sent at `when`, or failed (or retrying) with `error`."""
        for job in self._db.mail_jobs:
            if job.status.mail_id == mail_id:
                job.status = dataclasses.replace(
                    job.status, state=state, attempts=job.status.attempts + 1,
                    send_time=when if state is MailState.SENT else None,
                    next_attempt_time=when if state.open else None, last_error=error)


def _typed(db: FakeDatabase) -> MailJobs:
    return FakeMailJobs(db)  # mypy checks the fake against the port here
