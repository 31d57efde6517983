"""Mail jobs in MongoDB (`mail_jobs`): enqueued in a use case's transaction, claimed under a
lease by the delivery workers of every replica, and kept afterwards as the delivery status.

A job is free to claim when it is pending or retrying, `due_time` has come and `lease_until`
has passed (it is the enqueue time until someone claims it). Each claim draws a new `lease_id`;
every outcome is written only where the job still has it, so a worker whose lease expired (it
hung, or crashed and came back) cannot overwrite the outcome of the worker that took over.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from ..domain.mail import (
    DocumentRef,
    Mail,
    MailJob,
    MailState,
    MailStatus,
    message_id,
)
from ..services.ids import new_id
from ..services.ports import Session
from .mongo import Mongo
from .sessions import driver_session

_OPEN = [MailState.PENDING.value, MailState.RETRYING.value]
_LATEST = [("create_time", DESCENDING), ("_id", DESCENDING)]


class MailJobStore:
    """Both ports: MailJobs for use cases, MailQueue for the worker (services/mail.py)."""

    def __init__(self, mongo: Mongo, message_id_domain: str) -> None:
        self._jobs = mongo.db.mail_jobs
        self._domain = message_id_domain

    async def enqueue(self, mail: Mail, now: datetime, session: Session) -> MailStatus:
        mail_id = new_id()
        doc = {"_id": mail_id, **_mail_doc(mail), "message_id": message_id(mail_id, self._domain),
               "state": MailState.PENDING.value, "attempts": 0, "create_time": now,
               "due_time": now, "lease_until": now, "lease_owner": "", "lease_id": "",
               "send_time": None, "last_error": ""}
        await self._jobs.insert_one(doc, session=driver_session(session))
        return _status(doc)

    async def backlog(self) -> tuple[int, int]:
        """How many jobs wait to be sent or retried, and how many failed for good."""
        pending = await self._jobs.count_documents({"state": {"$in": _OPEN}})
        failed = await self._jobs.count_documents({"state": MailState.FAILED.value})
        return pending, failed

    async def status_of(self, document: DocumentRef) -> MailStatus | None:
        doc = await self._jobs.find_one({"document_type": document.document_type,
                                         "document_id": document.document_id}, sort=_LATEST)
        return None if doc is None else _status(doc)

    async def statuses_of(self, document_type: str, document_ids: Sequence[str]
                          ) -> dict[str, MailStatus]:
        found: dict[str, MailStatus] = {}
        cursor = self._jobs.find({"document_type": document_type,
                                  "document_id": {"$in": list(document_ids)}}, sort=_LATEST)
        async for doc in cursor:
            found.setdefault(doc["document_id"], _status(doc))
        return found

    async def claim(self, owner: str, now: datetime, lease: timedelta) -> MailJob | None:
        doc = await self._jobs.find_one_and_update(
            {"state": {"$in": _OPEN}, "due_time": {"$lte": now}, "lease_until": {"$lte": now}},
            {"$set": {"lease_owner": owner, "lease_id": uuid.uuid4().hex,
                      "lease_until": now + lease},
             "$inc": {"attempts": 1}},
            sort=[("due_time", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER)
        if doc is None:
            return None
        return MailJob(doc["_id"], _mail(doc), doc["message_id"], doc["create_time"],
                       doc["attempts"], doc["lease_id"])

    async def mark_sent(self, job: MailJob, now: datetime, note: str, session: Session
                        ) -> bool:
        return await self._finish(job, {"state": MailState.SENT.value, "send_time": now,
                                        "last_error": note, "lease_until": now}, session)

    async def mark_failed(self, job: MailJob, now: datetime, error: str, session: Session
                          ) -> bool:
        return await self._finish(job, {"state": MailState.FAILED.value, "last_error": error,
                                        "lease_until": now}, session)

    async def retry_later(self, job: MailJob, due: datetime, now: datetime, error: str
                          ) -> bool:
        return await self._finish(job, {"state": MailState.RETRYING.value, "due_time": due,
                                        "last_error": error, "lease_until": now}, None)

    async def abandon(self, document_type: str, document_ids: Sequence[str], reason: str
                      ) -> int:
        """Fails the open jobs about these documents unsent, `reason` as their error: the
        demo history's quotes were "sent" in the past, and nobody is to be mailed now."""
        result = await self._jobs.update_many(
            {"document_type": document_type, "document_id": {"$in": list(document_ids)},
             "state": {"$in": _OPEN}},
            {"$set": {"state": MailState.FAILED.value, "last_error": reason}})
        return result.modified_count

    async def _finish(self, job: MailJob, changes: dict[str, Any], session: Session | None
                      ) -> bool:
        result = await self._jobs.update_one(
            {"_id": job.mail_id, "lease_id": job.lease_id, "state": {"$in": _OPEN}},
            {"$set": changes}, session=driver_session(session))
        return result.modified_count == 1


def _mail_doc(mail: Mail) -> dict[str, Any]:
    return {"document_type": mail.document.document_type,
            "document_id": mail.document.document_id, "to": list(mail.to),
            "subject": mail.subject, "body": mail.body,
            "attachments": [{"document_type": a.document_type, "document_id": a.document_id}
                            for a in mail.attachments]}


def _mail(doc: dict[str, Any]) -> Mail:
    return Mail(DocumentRef(doc["document_type"], doc["document_id"]), tuple(doc["to"]),
                doc["subject"], doc["body"],
                tuple(DocumentRef(a["document_type"], a["document_id"])
                      for a in doc["attachments"]))


def _status(doc: dict[str, Any]) -> MailStatus:
    state = MailState(doc["state"])
    return MailStatus(
        mail_id=doc["_id"], document=DocumentRef(doc["document_type"], doc["document_id"]),
        state=state, recipients=tuple(doc["to"]), message_id=doc["message_id"],
        attempts=doc["attempts"], create_time=doc["create_time"],
        next_attempt_time=doc["due_time"] if state.open else None,
        send_time=doc["send_time"], last_error=doc["last_error"])
