"""What is open now, for the dashboard: quotes a customer can still accept and invoices still
owed. Read from the documents through their state indexes, so the cost follows how much is
open, not how much history there is."""

from __future__ import annotations

from datetime import date
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.analytics import Amounts
from ..domain.invoices import OWING, InvoiceState
from ..domain.quotes import QuoteState
from ..domain.rollups import Tally
from ..services.analytics_ports import ProductLabel
from . import codec, query
from .mongo import Mongo
from .reads import AnalyticsReads


def _add(amounts: Amounts, doc: dict[str, Any], value: Any) -> None:
    amounts.setdefault(doc["currency"], Tally()).add(codec.undec(value), 1)


class OpenWork:
    def __init__(self, mongo: Mongo, read_preference: str = "primary") -> None:
        self._reads = AnalyticsReads(mongo, read_preference)

    async def open_quotes(self, scope: Scope, today: date,
                          narrow: dict[str, str] | None = None) -> Amounts:
        """SENT quotes valid until `today` (UTC) or later: their grand totals."""
        clauses = [{"state": QuoteState.SENT.value,
                    "valid_until": {"$gte": today.isoformat()}}, *query.narrowed(scope, narrow)]
        amounts: Amounts = {}
        async for doc in self._reads.find("quotes", query.all_of(clauses), projection={
                "currency": 1, "totals.grand_total": 1}):
            _add(amounts, doc, doc["totals"]["grand_total"])
        return dict(sorted(amounts.items()))

    async def pipeline(self, scope: Scope, today: date,
                       narrow: dict[str, str] | None = None) -> Amounts:
        """DRAFT quotes, and SENT ones valid until `today` (UTC) or later: their totals."""
        clauses = [{"$or": [{"state": QuoteState.DRAFT.value},
                            {"state": QuoteState.SENT.value,
                             "valid_until": {"$gte": today.isoformat()}}]},
                   *query.narrowed(scope, narrow)]
        amounts: Amounts = {}
        async for doc in self._reads.find("quotes", query.all_of(clauses), projection={
                "currency": 1, "totals.grand_total": 1}):
            _add(amounts, doc, doc["totals"]["grand_total"])
        return dict(sorted(amounts.items()))

    async def receivables(self, scope: Scope, today: date, narrow: dict[str, str] | None = None
                          ) -> tuple[Amounts, Amounts]:
        """What OPEN and UNCOLLECTIBLE invoices have due, and the part on OPEN ones past their
        due date (before `today`, UTC)."""
        clauses = [{"state": {"$in": [s.value for s in OWING]}}, *query.narrowed(scope, narrow)]
        outstanding: Amounts = {}
        overdue: Amounts = {}
        async for doc in self._reads.find("invoices", query.all_of(clauses), projection={
                "currency": 1, "amount_due": 1, "state": 1, "due_date": 1}):
            _add(outstanding, doc, doc["amount_due"])
            if doc["state"] == InvoiceState.OPEN.value and doc["due_date"] < today.isoformat():
                _add(overdue, doc, doc["amount_due"])
        return dict(sorted(outstanding.items())), dict(sorted(overdue.items()))

    async def products_in(self, category: str) -> list[str]:
        """Ids of the catalog's products in `category` (deleted ones included: they sold)."""
        cursor = self._reads.find("products", {"category": {"$eq": category}},
                                  projection={"_id": 1})
        return sorted([str(doc["_id"]) async for doc in cursor])

    async def product_labels(self, product_ids: list[str]) -> dict[str, ProductLabel]:
        keys: list[Any] = [ObjectId(p) for p in product_ids if ObjectId.is_valid(p)]
        keys += product_ids  # ids that are not ObjectIds (documents loaded by other tools)
        cursor = self._reads.find("products", {"_id": {"$in": keys}},
                                  projection={"sku": 1, "name": 1, "category": 1,
                                              "stock.on_hand": 1})
        return {str(d["_id"]): ProductLabel(d.get("sku", ""), d.get("name", ""),
                                            d.get("category", ""),
                                            (d.get("stock") or {}).get("on_hand"))
                async for d in cursor}
