"""What is open now, for the dashboard: quotes a customer can still accept and invoices still
owed. Read from the documents through their state indexes, so the cost follows how much is
open, not how much history there is."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.access import Scope
from ..domain.analytics import Amounts
from ..domain.invoices import OWING, InvoiceState
from ..domain.quotes import QuoteState
from ..domain.rollups import Tally
from . import codec, query
from .mongo import Mongo


def _add(amounts: Amounts, doc: dict[str, Any], value: Any) -> None:
    amounts.setdefault(doc["currency"], Tally()).add(codec.undec(value), 1)


class OpenWork:
    def __init__(self, mongo: Mongo) -> None:
        self._db = mongo.db

    async def open_quotes(self, scope: Scope, today: date) -> Amounts:
        """SENT quotes valid until `today` (UTC) or later: their grand totals."""
        clauses = [{"state": QuoteState.SENT.value,
                    "valid_until": {"$gte": today.isoformat()}}, *query.scoped(scope)]
        amounts: Amounts = {}
        async for doc in self._db.quotes.find(query.all_of(clauses), projection={
                "currency": 1, "totals.grand_total": 1}):
            _add(amounts, doc, doc["totals"]["grand_total"])
        return dict(sorted(amounts.items()))

    async def receivables(self, scope: Scope, today: date) -> tuple[Amounts, Amounts]:
        """What OPEN and UNCOLLECTIBLE invoices have due, and the part on OPEN ones past their
        due date (before `today`, UTC)."""
        clauses = [{"state": {"$in": [s.value for s in OWING]}}, *query.scoped(scope)]
        outstanding: Amounts = {}
        overdue: Amounts = {}
        async for doc in self._db.invoices.find(query.all_of(clauses), projection={
                "currency": 1, "amount_due": 1, "state": 1, "due_date": 1}):
            _add(outstanding, doc, doc["amount_due"])
            if doc["state"] == InvoiceState.OPEN.value and doc["due_date"] < today.isoformat():
                _add(overdue, doc, doc["amount_due"])
        return dict(sorted(outstanding.items())), dict(sorted(overdue.items()))
