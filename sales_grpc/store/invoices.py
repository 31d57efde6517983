"""The invoices collection. Drafts have no number, so the number's unique index is sparse
and a draft's document has no `number` field at all."""

from __future__ import annotations

from datetime import date
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.aging import Receivable
from ..domain.customers import PaymentTerms
from ..domain.invoices import OWING, Invoice, InvoiceState
from ..domain.listing import Condition, SortKey
from ..services.ports import Session
from . import codec, query
from .documents import DocumentStore, base_doc, base_values
from .mongo import Mongo
from .orders import tallies_from
from .paging import PageTokens, fetch_page
from .sessions import driver_session

TEXT_PATHS = ("number", "notes", "order_number")
D = codec.dec
U = codec.undec
_TIME_FIELDS = {InvoiceState.OPEN: "finalize_time", InvoiceState.PAID: "paid_time",
                InvoiceState.VOID: "void_time", InvoiceState.UNCOLLECTIBLE: "uncollectible_time"}
# The `overdue` filter: not a stored field, since it changes as days pass.
OVERDUE = "overdue"


def to_doc(i: Invoice) -> dict[str, Any]:
    doc = {**base_doc(i, _TIME_FIELDS), "order_id": i.order_id,
           "order_number": i.order_number, "source_lines": i.source_lines,
           "payment_terms": i.payment_terms.value, "issue_date": codec.day_doc(i.issue_date),
           "due_date": codec.day_doc(i.due_date), "amount_paid": D(i.amount_paid),
           "amount_credited": D(i.amount_credited),
           "credited_to_balance": D(i.credited_to_balance), "credited_tax": D(i.credited_tax),
           "amount_due": D(i.amount_due),
           "credited": [{"quantity": t.quantity, "gross": D(t.gross), "discount": D(t.discount),
                         "tax": D(t.tax)} for t in i.credited],
           "close_reason": i.close_reason, "overdue_noted": i.overdue_noted,
           "last_send_time": i.last_send_time}
    if not i.number:
        del doc["number"]  # a draft: outside the sparse unique index
    return doc


def from_doc(d: dict[str, Any]) -> Invoice:
    d = {"number": "", **d}
    return Invoice(
        **base_values(d, InvoiceState, InvoiceState.DRAFT, _TIME_FIELDS),
        order_id=d.get("order_id", ""), order_number=d.get("order_number", ""),
        source_lines=list(d.get("source_lines", [])),
        payment_terms=PaymentTerms(d.get("payment_terms", PaymentTerms.NET_30.value)),
        issue_date=codec.day_from(d.get("issue_date")),
        due_date=codec.day_from(d.get("due_date")),
        amount_paid=U(d.get("amount_paid", 0)), amount_credited=U(d.get("amount_credited", 0)),
        credited_to_balance=U(d.get("credited_to_balance", 0)),
        credited_tax=U(d.get("credited_tax", 0)), credited=tallies_from(d.get("credited", [])),
        close_reason=d.get("close_reason", ""), overdue_noted=d.get("overdue_noted", False),
        last_send_time=d.get("last_send_time"))


def overdue_clause(wanted: bool, today: date) -> dict[str, Any]:
    late = {"state": InvoiceState.OPEN.value, "due_date": {"$lt": today.isoformat()}}
    if wanted:
        return late
    return {"$or": [{"state": {"$ne": InvoiceState.OPEN.value}},
                    {"due_date": {"$gte": today.isoformat()}}]}


class InvoiceRepository(DocumentStore[Invoice]):
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        super().__init__(mongo.db.invoices, to_doc, from_doc)
        self._tokens = tokens

    async def get_by_number(self, number: str) -> Invoice | None:
        if not number:
            return None
        doc = await self._docs.find_one({"number": {"$eq": number}})
        return None if doc is None else from_doc(doc)

    async def delete(self, invoice: Invoice, session: Session) -> bool:
        result = await self._docs.delete_one(
            {"_id": ObjectId(invoice.id), "version": invoice.version,
             "state": InvoiceState.DRAFT.value}, session=driver_session(session))
        return result.deleted_count == 1

    async def overdue_unnoted(self, today: date, limit: int) -> list[str]:
        cursor = self._docs.find({"state": InvoiceState.OPEN.value, "overdue_noted": False,
                                  "due_date": {"$lt": today.isoformat()}},
                                 projection={"_id": 1}, limit=limit)
        return [str(d["_id"]) async for d in cursor]

    async def receivables(self, scope: Scope, as_of: date, customer_id: str, owner_id: str,
                          team_id: str) -> list[Receivable]:
        clauses = query.scoped(scope) + [
            {"state": {"$in": [s.value for s in OWING]}},
            {"issue_date": {"$lte": as_of.isoformat()}}]
        for path, value in (("customer_id", customer_id), ("owner_id", owner_id),
                            ("team_id", team_id)):
            if value:
                clauses.append({path: value})
        cursor = self._docs.find(query.all_of(clauses), projection={
            "customer_id": 1, "currency": 1, "due_date": 1, "amount_due": 1})
        return [Receivable(d["customer_id"], d["currency"], date.fromisoformat(d["due_date"]),
                           U(d["amount_due"])) async for d in cursor]

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str, today: date | None = None
                        ) -> tuple[list[Invoice], str]:
        plain = [c for c in conditions if c.path != OVERDUE]
        clauses = query.scoped(scope) + query.build(plain, TEXT_PATHS)
        for c in conditions:
            if c.path == OVERDUE:
                assert today is not None, "an overdue filter needs the day it is asked on"
                clauses.append(overdue_clause(bool(c.value) == (c.operator == "="), today))
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token
