"""Document history in its own collection: one entry per change, written in the changing
transaction, listed oldest first a page at a time (a long-lived order's history no longer
grows the order itself)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from bson import ObjectId

from ..domain.documents.lifecycle import HistoryEntry
from ..domain.listing import SortKey
from ..services.ports import Session
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

A = TypeVar("A", bound=Enum)
S = TypeVar("S", bound=Enum)
_OLDEST_FIRST = [SortKey("time", False), SortKey("_id", False)]


class HistoryLog(Generic[A, S]):
    """The history of one document type (`document_type` tells types apart in the shared
    collection); actions and states are that type's enums."""

    def __init__(self, mongo: Mongo, tokens: PageTokens, document_type: str,
                 actions: type[A], states: type[S]) -> None:
        self._docs = mongo.db.document_history
        self._tokens = tokens
        self._type = document_type
        self._actions = actions
        self._states = states

    async def add(self, entries: list[HistoryEntry[A, S]], session: Session | None) -> None:
        # _ids made here in order, so entries written together keep their order on equal times.
        await self._docs.insert_many([self._doc(e) for e in entries], ordered=True,
                                     session=driver_session(session))

    async def list_page(self, document_id: str, size: int, token: str
                        ) -> tuple[list[HistoryEntry[A, S]], str]:
        query = {"document_type": self._type, "document_id": document_id}
        docs, next_token = await fetch_page(self._docs, query, _OLDEST_FIRST, size, token,
                                            self._tokens)
        return [self._entry(d) for d in docs], next_token

    def _doc(self, e: HistoryEntry[A, S]) -> dict[str, Any]:
        return {"_id": ObjectId(), "document_type": self._type, "document_id": e.document_id,
                "action": e.action.value,
                "from": e.from_state.value if e.from_state is not None else None,
                "to": e.to_state.value, "actor": e.actor, "time": e.time, "note": e.note}

    def _entry(self, d: dict[str, Any]) -> HistoryEntry[A, S]:
        return HistoryEntry(d["document_id"], self._actions(d["action"]),
                            self._states(d["from"]) if d["from"] is not None else None,
                            self._states(d["to"]), d["actor"], d["time"], d.get("note", ""))
