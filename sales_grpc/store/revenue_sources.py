"""Revenue read straight from the documents: what a rebuild recomputes, and the order confirm
time a cancellation's projection needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from ..domain import revenue_facts as rf
from ..domain.invoices import InvoiceState
from ..domain.orders import OrderState
from ..domain.rollups import Basis
from ..services.analytics_ports import Recomputed
from ..services.ports import Session
from . import codec
from .mongo import Mongo
from .sessions import driver_session

_FINALIZED = [s.value for s in InvoiceState if s is not InvoiceState.DRAFT]


def _who(doc: dict[str, Any]) -> rf.Owner:
    return rf.Owner(doc["currency"], doc["owner_id"], doc.get("team_id", ""),
                    doc.get("customer_id", ""))


def _sale(doc: dict[str, Any]) -> rf.Sale:
    U, totals = codec.undec, doc["totals"]
    return rf.Sale(U(totals["grand_total"]), U(totals.get("subtotal", 0)),
                   U(totals.get("discount_total", 0)),
                   tuple(rf.SoldLine(x["product_id"], x["quantity"], U(x["gross"]),
                                     U(x["discount"])) for x in doc.get("lines", [])))


_SALE_FIELDS = {"currency": 1, "owner_id": 1, "team_id": 1, "customer_id": 1, "totals": 1,
                "lines": 1}
_QUOTE_TIMES = {Basis.QUOTES_SENT: "send_time", Basis.QUOTES_ACCEPTED: "accept_time",
                Basis.QUOTES_REJECTED: "reject_time", Basis.QUOTES_EXPIRED: "expire_time"}


class RevenueSources:
    def __init__(self, mongo: Mongo) -> None:
        self._db = mongo.db

    async def confirm_time(self, order_id: str, session: Session | None = None
                           ) -> datetime | None:
        try:
            key = ObjectId(order_id)
        except (InvalidId, TypeError):
            return None
        doc = await self._db.sales_orders.find_one({"_id": key}, projection={"confirm_time": 1},
                                                   session=driver_session(session))
        return None if doc is None else doc.get("confirm_time")

    async def recompute(self) -> Recomputed:
        """Reads every order, invoice, credit note and payment once. Each document is read as
        it stands at its own moment, so `facts` says which of its changes the result holds."""
        out = Recomputed()
        await self._orders(out)
        issued = await self._invoices(out)
        await self._credit_notes(out)
        await self._payments(out, issued)
        await self._quotes(out)
        return out

    async def _orders(self, out: Recomputed) -> None:
        cursor = self._db.sales_orders.find(
            {"confirm_time": {"$ne": None}},
            projection={**_SALE_FIELDS, "confirm_time": 1, "state": 1})
        async for doc in cursor:
            order_id = str(doc["_id"])
            out.facts.add((rf.ORDER_CONFIRMED, order_id))
            at, who, sale = doc["confirm_time"], _who(doc), _sale(doc)
            out.contributions.extend(rf.booking(at, who, sale))
            if doc["state"] == OrderState.CANCELLED.value:
                out.facts.add((rf.ORDER_CANCELLED, order_id))
                out.contributions.extend(rf.cancellation(at, who, sale))

    async def _invoices(self, out: Recomputed) -> dict[str, date]:
        """Returns every finalized invoice's issue date (payments count days from it)."""
        issued: dict[str, date] = {}
        cursor = self._db.invoices.find(
            {"state": {"$in": _FINALIZED}},
            projection={"currency": 1, "owner_id": 1, "team_id": 1, "customer_id": 1,
                        "totals.grand_total": 1, "issue_date": 1, "state": 1})
        async for doc in cursor:
            invoice_id = str(doc["_id"])
            issued[invoice_id] = date.fromisoformat(doc["issue_date"])
            out.facts.add((rf.INVOICE_FINALIZED, invoice_id))
            if doc["state"] == InvoiceState.VOID.value:
                out.facts.add((rf.INVOICE_VOIDED, invoice_id))
                continue
            out.contributions.extend(rf.billing(
                date.fromisoformat(doc["issue_date"]), _who(doc),
                codec.undec(doc["totals"]["grand_total"])))
        return issued

    async def _credit_notes(self, out: Recomputed) -> None:
        cursor = self._db.credit_notes.find({}, projection={
            "currency": 1, "owner_id": 1, "team_id": 1, "customer_id": 1,
            "totals.grand_total": 1, "issue_date": 1})
        async for doc in cursor:
            out.facts.add((rf.CREDIT_NOTE_ISSUED, str(doc["_id"])))
            out.contributions.extend(rf.credit(
                date.fromisoformat(doc["issue_date"]), _who(doc),
                codec.undec(doc["totals"]["grand_total"])))

    async def _payments(self, out: Recomputed, issued: dict[str, date]) -> None:
        cursor = self._db.payments.find({}, projection={
            "currency": 1, "owner_id": 1, "team_id": 1, "customer_id": 1, "amount": 1,
            "payment_date": 1, "method": 1, "invoice_id": 1})
        async for doc in cursor:
            out.facts.add((rf.PAYMENT_RECEIVED, str(doc["_id"])))
            out.contributions.extend(rf.collection(
                date.fromisoformat(doc["payment_date"]), doc["method"], _who(doc),
                codec.undec(doc["amount"]), issued.get(doc.get("invoice_id", ""))))

    async def _quotes(self, out: Recomputed) -> None:
        times = list(_QUOTE_TIMES.values())
        cursor = self._db.quotes.find(
            {"$or": [{name: {"$ne": None}} for name in times]},
            projection={"currency": 1, "owner_id": 1, "team_id": 1, "totals.grand_total": 1,
                        **dict.fromkeys(times, 1)})
        async for doc in cursor:
            for basis, name in _QUOTE_TIMES.items():
                if doc.get(name) is None:
                    continue
                fact = rf.quote_outcome(basis, str(doc["_id"]), doc[name], _who(doc),
                                        codec.undec(doc["totals"]["grand_total"]))
                out.facts.add(fact.key)
                out.contributions.extend(fact.contributions)
