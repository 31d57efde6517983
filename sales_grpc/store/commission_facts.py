"""What a commission report is computed from, read from the invoices, credit_notes, payments
and products collections: the documents dated in the report's days in the caller's scope,
the invoices they belong to, and those invoices' earlier receipts (shares are rounded on
running totals, so a receipt's share depends on the ones before it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.commission_facts import BilledInvoice, DocumentKind, Facts, Receipt
from ..domain.commissions import CommissionBasis
from ..domain.invoices import InvoiceState
from . import codec, query
from .mongo import Mongo

U = codec.undec
_BILLED = [InvoiceState.OPEN.value, InvoiceState.PAID.value, InvoiceState.UNCOLLECTIBLE.value]
_INVOICE_FIELDS = {"number": 1, "currency": 1, "owner_id": 1, "team_id": 1, "issue_date": 1,
                   "state": 1, "lines.product_id": 1, "lines.gross": 1, "lines.discount": 1,
                   "totals": 1}
_NOTE_FIELDS = {"number": 1, "invoice_id": 1, "owner_id": 1, "team_id": 1, "issue_date": 1,
                "create_time": 1, "totals": 1, "amount_to_balance": 1, "source_lines": 1,
                "lines.gross": 1, "lines.discount": 1}
_PAYMENT_FIELDS = {"invoice_id": 1, "owner_id": 1, "team_id": 1,
                   "payment_date": 1, "create_time": 1, "amount": 1}


def _note(d: dict[str, Any]) -> Receipt:
    t = d["totals"]
    lines = tuple((number - 1, U(x["gross"]) - U(x["discount"]))
                  for number, x in zip(d["source_lines"], d["lines"], strict=True))
    return Receipt(DocumentKind.CREDIT_NOTE, str(d["_id"]), d["number"], d["invoice_id"],
                   d["owner_id"], d.get("team_id", ""), date.fromisoformat(d["issue_date"]),
                   d["create_time"], U(t["grand_total"]), U(t["subtotal"]) - U(t["discount_total"]),
                   U(d.get("amount_to_balance", 0)), lines)


def _payment(d: dict[str, Any]) -> Receipt:
    return Receipt(DocumentKind.PAYMENT, str(d["_id"]), "", d["invoice_id"],
                   d["owner_id"], d.get("team_id", ""), date.fromisoformat(d["payment_date"]),
                   d["create_time"], U(d["amount"]))


class CommissionFactsReader:
    def __init__(self, mongo: Mongo) -> None:
        self._db = mongo.db

    async def read(self, basis: CommissionBasis, first: date, last: date, scope: Scope
                   ) -> Facts:
        days = {"$gte": first.isoformat(), "$lte": last.isoformat()}
        scoped = query.scoped(scope)
        docs: dict[str, dict[str, Any]] = {}
        wanted: set[str] = set()
        if basis is CommissionBasis.BILLINGS:
            cursor = self._db.invoices.find(
                query.all_of([*scoped, {"state": {"$in": _BILLED}}, {"issue_date": days}]),
                projection=_INVOICE_FIELDS)
            docs = {str(d["_id"]): d async for d in cursor}
        else:
            async for d in self._db.payments.find(
                    query.all_of([*scoped, {"payment_date": days}]),
                    projection={"invoice_id": 1}):
                wanted.add(d["invoice_id"])
        async for d in self._db.credit_notes.find(
                query.all_of([*scoped, {"issue_date": days}]),
                projection={"invoice_id": 1, "amount_to_balance": 1}):
            if basis is CommissionBasis.BILLINGS or U(d.get("amount_to_balance", 0)):
                wanted.add(d["invoice_id"])
        missing = [ObjectId(i) for i in wanted - set(docs)]
        if missing:
            async for d in self._db.invoices.find({"_id": {"$in": missing}},
                                                  projection=_INVOICE_FIELDS):
                docs[str(d["_id"])] = d
        return await self._facts(basis, docs, last)

    async def _facts(self, basis: CommissionBasis, docs: dict[str, dict[str, Any]],
                     last: date) -> Facts:
        categories = await self._categories(
            {x["product_id"] for d in docs.values() for x in d.get("lines", [])})
        facts = Facts()
        for invoice_id, d in docs.items():
            t = d["totals"]
            facts.invoices[invoice_id] = BilledInvoice(
                invoice_id, d.get("number", ""), d["currency"], d["owner_id"],
                d.get("team_id", ""), date.fromisoformat(d["issue_date"]),
                tuple(categories.get(x["product_id"], "") for x in d["lines"]),
                tuple(U(x["gross"]) - U(x["discount"]) for x in d["lines"]), U(t["shipping"]),
                U(t["grand_total"]), d["state"] == InvoiceState.VOID.value)
            facts.receipts[invoice_id] = []
        ids = list(docs)
        if not ids:
            return facts
        async for d in self._db.credit_notes.find(
                {"invoice_id": {"$in": ids}, "issue_date": {"$lte": last.isoformat()}},
                projection=_NOTE_FIELDS):
            facts.receipts[d["invoice_id"]].append(_note(d))
        if basis is CommissionBasis.COLLECTIONS:
            async for d in self._db.payments.find(
                    {"invoice_id": {"$in": ids}, "payment_date": {"$lte": last.isoformat()}},
                    projection=_PAYMENT_FIELDS):
                facts.receipts[d["invoice_id"]].append(_payment(d))
        return facts

    async def _categories(self, product_ids: set[str]) -> dict[str, str]:
        keys = [ObjectId(p) for p in product_ids if ObjectId.is_valid(p)]
        if not keys:
            return {}
        cursor = self._db.products.find({"_id": {"$in": keys}}, projection={"category": 1})
        return {str(d["_id"]): d.get("category", "") async for d in cursor}
