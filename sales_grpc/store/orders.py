"""The sales_orders collection (history is in store/history.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.access import Scope
from ..domain.listing import Condition, SortKey
from ..domain.orders import OPEN_EXPOSURE, OrderState, SalesOrder
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


def from_doc(d: dict[str, Any]) -> SalesOrder:
    return SalesOrder(**base_values(d, OrderState, OrderState.DRAFT, _TIME_FIELDS),
                      cancel_reason=d.get("cancel_reason", ""),
                      credit_limit_overridden=d.get("credit_limit_overridden", False),
                      quote_id=d.get("quote_id", ""))


class OrderRepository(DocumentStore[SalesOrder]):
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        super().__init__(mongo.db.sales_orders, to_doc, from_doc)
        self._tokens = tokens

    async def get_by_number(self, number: str) -> SalesOrder | None:
        doc = await self._docs.find_one({"number": {"$eq": number}})
        return None if doc is None else from_doc(doc)

    async def open_exposure(self, customer_id: str, currency: str,
                            session: Session) -> Decimal:
        """Grand totals of the customer's confirmed, not yet invoiced orders in `currency`."""
        cursor = await self._docs.aggregate([
            {"$match": {"customer_id": customer_id, "currency": currency,
                        "invoiced": {"$ne": True},
                        "state": {"$in": [s.value for s in OPEN_EXPOSURE]}}},
            {"$group": {"_id": None, "sum": {"$sum": "$totals.grand_total"}}},
        ], session=driver_session(session))
        rows = await cursor.to_list()
        return U(rows[0]["sum"]) if rows else Decimal(0)

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str) -> tuple[list[SalesOrder], str]:
        clauses = query.scoped(scope) + query.build(conditions, TEXT_PATHS)
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token
