"""The mail delivery worker: every replica runs one beside its server (api/server.py starts and
stops it like the outbox relay).

It claims one due job at a time under a lease, builds its attachments, sends it, and records
the outcome only while it still holds the lease: sent (with a MailDelivered event), retrying
later with backoff, or failed (with a MailFailed event) when refused for good or out of
attempts; the outcome and its event commit together. Two replicas never claim one job at once;
a worker that dies mid-send leaves its lease to expire, and the next claim sends the mail again
with the same Message-ID, so the receiving systems can drop the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from ..domain.events import DomainEvent, MailDelivered, MailFailed
from ..domain.mail import MailJob, RetryPolicy
from ..services.clock import now as system_now
from ..services.ids import claimant
from ..services.mail import AttachmentSources, DeliveryFailed, MailQueue, MailSender
from ..services.ports import EventOutbox, Session, Transactions

log = logging.getLogger(__name__)
ACTOR = "system:mail-delivery"


class MailDelivery:
    def __init__(self, queue: MailQueue, attachments: AttachmentSources, sender: MailSender,
                 transactions: Transactions, outbox: EventOutbox, *,
                 policy: RetryPolicy | None = None, poll_seconds: float = 1.0,
                 lease: timedelta = timedelta(minutes=2),
                 clock: Callable[[], datetime] = system_now, owner: str = "",
                 batch: int = 20) -> None:
        self._queue = queue
        self._attachments = attachments
        self._sender = sender
        self._transactions = transactions
        self._outbox = outbox
        self._policy = policy or RetryPolicy()
        self._poll = poll_seconds
        self._lease = lease
        self._clock = clock
        self._batch = batch
        self.owner = owner or claimant()
        self._stopped = asyncio.Event()

    async def run_once(self) -> int:
        """Delivers due jobs until none is left or `batch` were tried; returns how many."""
        tried = 0
        while tried < self._batch and not self._stopped.is_set() and await self.deliver_one():
            tried += 1
        return tried

    async def run(self) -> None:
        """Delivers until `stop()`, as OutboxRelay.run does."""
        while not self._stopped.is_set():
            try:
                if await self.run_once() < self._batch:
                    await self._pause(self._poll)
            except PyMongoError as exc:
                log.warning("mail delivery: %s; retrying", exc)
                await self._pause(max(self._poll, 1.0))
            except Exception:  # a bug must not end delivery on this server for good
                log.exception("mail delivery pass failed; retrying")
                await self._pause(max(self._poll, 1.0))

    def stop(self) -> None:
        self._stopped.set()

    async def deliver_one(self) -> bool:
        """Claims one due job and makes one attempt at it; False when nothing was due."""
        job = await self._queue.claim(self.owner, self._clock(), self._lease)
        if job is None:
            return False
        try:
            # Within half the lease, so the outcome is written while the lease is ours.
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                files = [await self._attachments.build(ref) for ref in job.mail.attachments]
                refused = await self._sender.send(job, files)
        except DeliveryFailed as exc:
            await self._not_sent(job, exc.reason, exc.permanent, exc.code)
        except TimeoutError:
            await self._not_sent(job, "the attempt timed out", False, 0)
        except Exception:  # not BaseException: a cancelled worker leaves its lease to expire
            log.exception("mail %s: attempt %d failed", job.mail_id, job.attempts)
            await self._not_sent(job, "internal error (see the server log)", False, 0)
        else:
            await self._sent(job, refused)
        return True

    async def _sent(self, job: MailJob, refused: Mapping[str, str]) -> None:
        now = self._clock()
        note = "; ".join(f"refused {address}: {reply}" for address, reply in refused.items())
        event = MailDelivered(**_facts(job))
        if await self._record(job, event, lambda s: self._queue.mark_sent(job, now, note, s),
                              now):
            log.info("mail %s sent as %s (attempt %d)", job.mail_id, job.message_id,
                     job.attempts)

    async def _not_sent(self, job: MailJob, reason: str, permanent: bool, code: int) -> None:
        now = self._clock()
        due = None if permanent else self._policy.next_attempt(job.attempts, now)
        if due is not None:
            log.warning("mail %s: attempt %d failed (%s); next at %s", job.mail_id,
                        job.attempts, reason, due.isoformat())
            await self._queue.retry_later(job, due, now, reason)
            return
        error = reason if permanent else f"{reason} (gave up after {job.attempts} attempts)"
        event = MailFailed(**_facts(job), error=error, smtp_code=code)
        if await self._record(job, event,
                              lambda s: self._queue.mark_failed(job, now, error, s), now):
            log.warning("mail %s failed: %s", job.mail_id, error)

    async def _record(self, job: MailJob, event: DomainEvent,
                      write: Callable[[Session], Awaitable[bool]], now: datetime) -> bool:
        async def work(session: Session) -> bool:
            written = await write(session)
            if written:
                await self._outbox.add([event], ACTOR, now, session)
            return written

        if not await self._transactions.run_transaction(work):
            log.warning("mail %s: lease lost to another worker; its outcome stands",
                        job.mail_id)
            return False
        return True

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)


def _facts(job: MailJob) -> dict[str, Any]:
    document = job.mail.document
    return {"mail_id": job.mail_id, "document_type": document.document_type,
            "document_id": document.document_id, "recipients": list(job.mail.to),
            "message_id": job.message_id, "attempts": job.attempts}
