"""The sales_orders collection (history is in store/history.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.listing import Condition, SortKey
from ..domain.orders import OPEN_EXPOSURE, OrderState, SalesOrder
from ..domain.tallies import LineTally
from ..services.ports import Session
from . import codec, query
from .documents import DocumentStore, base_doc, base_values
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

TEXT_PATHS = ("number", "notes")
U = codec.undec
_TIME_FIELDS = {OrderState.CONFIRMED: "confirm_time", OrderState.SHIPPED: "ship_time",
                OrderState.DELIVERED: "deliver_time", OrderState.CANCELLED: "cancel_time"}


def to_doc(o: SalesOrder) -> dict[str, Any]:
    return {**base_doc(o, _TIME_FIELDS), "cancel_reason": o.cancel_reason,
            "credit_limit_overridden": o.credit_limit_overridden, "quote_id": o.quote_id}


def invoicing_doc(o: SalesOrder) -> dict[str, Any]:
    """The order's invoicing, written only by save_invoicing (to_doc leaves it out, so an
    order's own save never rolls back what an invoice claimed)."""
    return {"lines": [{"quantity": t.quantity, "gross": codec.dec(t.gross),
                       "discount": codec.dec(t.discount), "tax": codec.dec(t.tax)}
                      for t in o.invoiced],
            "shipping": o.shipping_invoiced, "amount": codec.dec(o.invoiced_amount)}


def tallies_from(docs: list[dict[str, Any]]) -> list[LineTally]:
    return [LineTally(t["quantity"], U(t["gross"]), U(t["discount"]), U(t["tax"]))
            for t in docs]


def from_doc(d: dict[str, Any]) -> SalesOrder:
    invoicing = d.get("invoicing") or {}
    return SalesOrder(**base_values(d, OrderState, OrderState.DRAFT, _TIME_FIELDS),
                      cancel_reason=d.get("cancel_reason", ""),
                      credit_limit_overridden=d.get("credit_limit_overridden", False),
                      quote_id=d.get("quote_id", ""),
                      invoiced=tallies_from(invoicing.get("lines", [])),
                      shipping_invoiced=invoicing.get("shipping", False),
                      invoiced_amount=U(invoicing.get("amount", 0)))


class OrderRepository(DocumentStore[SalesOrder]):
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        super().__init__(mongo.db.sales_orders, to_doc, from_doc)
        self._tokens = tokens

    async def get_by_number(self, number: str) -> SalesOrder | None:
        doc = await self._docs.find_one({"number": {"$eq": number}})
        return None if doc is None else from_doc(doc)

    async def save_invoicing(self, order: SalesOrder, session: Session) -> None:
        await self._docs.update_one({"_id": ObjectId(order.id)},
                                    {"$set": {"invoicing": invoicing_doc(order)}},
                                    session=driver_session(session))

    async def open_exposure(self, customer_id: str, currency: str,
                            session: Session) -> Decimal:
        """What the customer's confirmed orders in `currency` add to their exposure before
        they are invoiced: each grand total less what its finalized invoices billed (those
        count as open invoices instead)."""
        docs = self._docs.find(
            {"customer_id": customer_id, "currency": currency,
             "state": {"$in": [s.value for s in OPEN_EXPOSURE]}},
            projection={"totals.grand_total": 1, "invoicing.amount": 1},
            session=driver_session(session))
        total = Decimal(0)
        async for d in docs:
            billed = (d.get("invoicing") or {}).get("amount", 0)
            total += U(d["totals"]["grand_total"]) - U(billed)
        return total

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> tuple[list[SalesOrder], str]:
        clauses = query.scoped(scope) + query.build(conditions, TEXT_PATHS)
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token
