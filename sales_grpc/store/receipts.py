"""Payments and credit notes: records that never change once written, listed newest first,
of one invoice or of every invoice in the caller's scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from ..domain.access import Scope
from ..domain.credit_notes import CreditNote
from ..domain.invoices import Payment, PaymentMethod
from ..domain.listing import SortKey
from ..domain.pricing import Totals
from ..services.ports import Session
from . import codec, query
from .documents import line_doc, line_from
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

D = codec.dec
U = codec.undec
_NEWEST_FIRST = [SortKey("create_time", True)]


async def _page(docs: AsyncCollection[dict[str, Any]], tokens: PageTokens, scope: Scope,
                invoice_id: str, size: int, token: str) -> tuple[list[dict[str, Any]], str]:
    clauses = query.scoped(scope)
    if invoice_id:
        clauses.append({"invoice_id": invoice_id})
    return await fetch_page(docs, query.all_of(clauses), _NEWEST_FIRST, size, token, tokens)


def payment_doc(p: Payment) -> dict[str, Any]:
    return {"_id": ObjectId(p.id), "invoice_id": p.invoice_id,
            "invoice_number": p.invoice_number, "customer_id": p.customer_id,
            "owner_id": p.owner_id, "team_id": p.team_id, "currency": p.currency,
            "amount": D(p.amount), "method": p.method.value, "reference": p.reference,
            "payment_date": p.payment_date.isoformat(), "recorded_by": p.recorded_by,
            "create_time": p.create_time}


def payment_from(d: dict[str, Any]) -> Payment:
    return Payment(str(d["_id"]), d["invoice_id"], d["invoice_number"], d["customer_id"],
                   d["owner_id"], d.get("team_id", ""), d["currency"], U(d["amount"]),
                   PaymentMethod(d["method"]), d.get("reference", ""),
                   date.fromisoformat(d["payment_date"]), d["recorded_by"], d["create_time"])


class PaymentRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        self._docs = mongo.db.payments
        self._tokens = tokens

    async def get(self, payment_id: str) -> Payment | None:
        doc = await self._docs.find_one({"_id": ObjectId(payment_id)})
        return None if doc is None else payment_from(doc)

    async def add(self, payment: Payment, session: Session) -> None:
        await self._docs.insert_one(payment_doc(payment), session=driver_session(session))

    async def list_page(self, scope: Scope, invoice_id: str, size: int, token: str
                        ) -> tuple[list[Payment], str]:
        docs, next_token = await _page(self._docs, self._tokens, scope, invoice_id, size, token)
        return [payment_from(d) for d in docs], next_token


def credit_note_doc(n: CreditNote) -> dict[str, Any]:
    t = n.totals
    return {"_id": ObjectId(n.id), "number": n.number, "invoice_id": n.invoice_id,
            "invoice_number": n.invoice_number, "customer_id": n.customer_id,
            "owner_id": n.owner_id, "team_id": n.team_id, "currency": n.currency,
            "lines": [line_doc(x) for x in n.lines], "source_lines": n.source_lines,
            "discount_rate": D(n.discount_rate),
            "totals": {"subtotal": D(t.subtotal), "discount_total": D(t.discount_total),
                       "tax_total": D(t.tax_total), "shipping": D(t.shipping),
                       "grand_total": D(t.grand_total)},
            "reason": n.reason, "issue_date": n.issue_date.isoformat(),
            "amount_applied": D(n.amount_applied), "amount_to_balance": D(n.amount_to_balance),
            **codec.audit_fields(n.audit)}


def credit_note_from(d: dict[str, Any]) -> CreditNote:
    t = d["totals"]
    return CreditNote(
        id=str(d["_id"]), number=d["number"], invoice_id=d["invoice_id"],
        invoice_number=d["invoice_number"], customer_id=d["customer_id"],
        owner_id=d["owner_id"], team_id=d.get("team_id", ""), currency=d["currency"],
        lines=[line_from(x) for x in d["lines"]], source_lines=list(d["source_lines"]),
        totals=Totals(U(t["subtotal"]), U(t["discount_total"]), U(t["tax_total"]),
                      U(t["shipping"])),
        reason=d["reason"], issue_date=date.fromisoformat(d["issue_date"]),
        audit=codec.audit_from(d), amount_applied=U(d["amount_applied"]),
        amount_to_balance=U(d["amount_to_balance"]), discount_rate=U(d["discount_rate"]))


class CreditNoteRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        self._docs = mongo.db.credit_notes
        self._tokens = tokens

    async def get(self, credit_note_id: str) -> CreditNote | None:
        doc = await self._docs.find_one({"_id": ObjectId(credit_note_id)})
        return None if doc is None else credit_note_from(doc)

    async def add(self, note: CreditNote, session: Session) -> None:
        await self._docs.insert_one(credit_note_doc(note), session=driver_session(session))

    async def list_page(self, scope: Scope, invoice_id: str, size: int, token: str
                        ) -> tuple[list[CreditNote], str]:
        docs, next_token = await _page(self._docs, self._tokens, scope, invoice_id, size, token)
        return [credit_note_from(d) for d in docs], next_token
