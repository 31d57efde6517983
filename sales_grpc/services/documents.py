"""The one routine that changes a sales document: load, scope check, etag, move, effects, save,
history and outbox events, all in one transaction. Orders use it; quotes and invoices will."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from ..domain import validation as check
from ..domain.access import Principal, in_scope, scope_of
from ..domain.documents.document import SalesDocument
from ..domain.documents.lifecycle import HistoryEntry
from ..domain.errors import Aborted, NotFound, shown
from ..domain.events import DomainEvent
from .clock import now
from .ports import EventOutbox, Page, Session, Transactions

D = TypeVar("D", bound=SalesDocument[Any])


class DocumentRecords(Protocol[D]):
    async def get(self, document_id: str, session: Session | None = None) -> D | None: ...
    async def add(self, document: D, session: Session | None) -> None: ...
    async def save(self, document: D, expected_version: int, session: Session) -> bool: ...


class DocumentHistory(Protocol):
    async def add(self, entries: list[HistoryEntry[Any, Any]], session: Session | None
                  ) -> None:
        """Appends entries, in the caller's transaction; None only for a creating entry,
        written before its document exists."""
        ...
    async def list_page(self, document_id: str, size: int, token: str
                        ) -> Page[HistoryEntry[Any, Any]]: ...


@dataclass
class Change(Generic[D]):
    """What one call does to a document: effects add history entries and events here."""

    document: D
    principal: Principal
    moment: datetime
    session: Session
    history: list[HistoryEntry[Any, Any]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


Effects = Callable[[Change[D]], Awaitable[None]]


class DocumentWorkflow(Generic[D]):
    def __init__(self, kind: str, not_found_reason: str, transactions: Transactions,
                 records: DocumentRecords[D], history: DocumentHistory,
                 outbox: EventOutbox) -> None:
        self.kind = kind  # "sales order", for messages
        self._not_found_reason = not_found_reason
        self._transactions = transactions
        self._records = records
        self._history = history
        self._outbox = outbox

    @property
    def transactions(self) -> Transactions:
        return self._transactions

    def visible(self, principal: Principal, document: D | None, key: str) -> D:
        """The document if the caller may see it; another rep's is NOT_FOUND, not DENIED, so
        that its existence does not leak."""
        if document is None or not in_scope(scope_of(principal), document.owner_id,
                                             document.team_id):
            raise NotFound(f"{self.kind} {shown(key)} not found", reason=self._not_found_reason)
        return document

    def changed_concurrently(self, document: D) -> Aborted:
        return Aborted(f"{self.kind} {document.number} was changed concurrently; re-read and "
                       "retry", metadata={"id": document.id})

    async def add(self, document: D, created: Enum, principal: Principal,
                  session: Session | None) -> None:
        """Inserts a new document with its creating history entry: in the caller's
        transaction, or without one (None) as two ordered inserts, the entry first. A crash
        between them leaves an entry for a document that never existed, which nobody can list
        (history is read through its document); never a document without its entry. That
        saves a create the transaction's round trips."""
        entry = HistoryEntry(document.id, created, None, document.state, principal.subject,
                             document.audit.create_time)
        await self._history.add([entry], session)
        await self._records.add(document, session)

    async def change(self, principal: Principal, document_id: str, etag: str,
                     effects: Effects[D] | None = None, *, action: Enum | None = None,
                     note: str = "") -> D:
        """Moves the document by `action` (if any), runs `effects`, and saves it one version
        on with its history and events, atomically; retried whole on write conflicts."""
        return await self._transactions.run_transaction(
            self.changing(principal, document_id, etag, effects, action=action, note=note))

    def changing(self, principal: Principal, document_id: str, etag: str,
                 effects: Effects[D] | None = None, *, action: Enum | None = None,
                 note: str = "") -> Callable[[Session], Awaitable[D]]:
        """The work of `change`, for a caller that runs it in its own transaction (with an
        idempotency key claimed in the same one, say)."""

        async def work(session: Session) -> D:
            check.object_id("id", document_id)
            document = self.visible(principal, await self._records.get(document_id, session),
                                    document_id)
            document.check_etag(etag)
            expected = document.version
            change = Change(document, principal, now(), session)
            if action is not None:
                change.history.append(document.move(action, principal, change.moment, note))
            if effects is not None:
                await effects(change)
            document.touch(principal, change.moment)
            if not await self._records.save(document, expected, session):
                raise self.changed_concurrently(document)
            await self.log(change, session)
            return document

        return work

    async def log(self, change: Change[D], session: Session) -> None:
        """Writes a change's history and events in the caller's transaction."""
        if change.history:
            await self._history.add(change.history, session)
        if change.events:
            await self._outbox.add(change.events, change.principal.subject, change.moment,
                                   session)

    async def history(self, principal: Principal, document_id: str, size: int, token: str
                      ) -> Page[HistoryEntry[Any, Any]]:
        check.object_id("id", document_id)
        self.visible(principal, await self._records.get(document_id), document_id)
        return await self._history.list_page(document_id, size, token)
