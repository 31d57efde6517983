"""The quotes collection: one document per revision (number + revision is unique)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo import DESCENDING

from ..domain.access import Scope
from ..domain.listing import Condition, SortKey
from ..domain.quotes import Quote, QuoteState
from . import query
from .documents import DocumentStore, base_doc, base_values
from .mongo import Mongo
from .paging import PageTokens, fetch_page

TEXT_PATHS = ("number", "notes")
_TIME_FIELDS = {QuoteState.SENT: "send_time", QuoteState.ACCEPTED: "accept_time",
                QuoteState.REJECTED: "reject_time", QuoteState.EXPIRED: "expire_time",
                QuoteState.CANCELLED: "cancel_time", QuoteState.SUPERSEDED: "supersede_time"}


def to_doc(q: Quote) -> dict[str, Any]:
    # valid_until as an ISO date string: BSON has no date type, and the text sorts by day.
    return {**base_doc(q, _TIME_FIELDS), "revision": q.revision,
            "valid_until": q.valid_until.isoformat(), "terms": q.terms,
            "close_reason": q.close_reason, "order_id": q.order_id,
            "previous_revision_id": q.previous_revision_id,
            "next_revision_id": q.next_revision_id}


def from_doc(d: dict[str, Any]) -> Quote:
    return Quote(**base_values(d, QuoteState, QuoteState.DRAFT, _TIME_FIELDS),
                 revision=d["revision"], valid_until=date.fromisoformat(d["valid_until"]),
                 terms=d.get("terms", ""), close_reason=d.get("close_reason", ""),
                 order_id=d.get("order_id", ""),
                 previous_revision_id=d.get("previous_revision_id", ""),
                 next_revision_id=d.get("next_revision_id", ""))


class QuoteRepository(DocumentStore[Quote]):
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        super().__init__(mongo.db.quotes, to_doc, from_doc)
        self._tokens = tokens

    async def get_by_number(self, number: str) -> Quote | None:
        """The latest revision."""
        doc = await self._docs.find_one({"number": {"$eq": number}},
                                        sort=[("revision", DESCENDING)])
        return None if doc is None else from_doc(doc)

    async def past_due(self, today: date, limit: int) -> list[str]:
        """Ids of SENT quotes whose last day is before `today`: the expiry job's work."""
        cursor = self._docs.find({"state": QuoteState.SENT.value,
                                  "valid_until": {"$lt": today.isoformat()}},
                                 projection={"_id": 1}, limit=limit)
        return [str(d["_id"]) async for d in cursor]

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> tuple[list[Quote], str]:
        clauses = query.scoped(scope) + query.build(conditions, TEXT_PATHS)
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token
