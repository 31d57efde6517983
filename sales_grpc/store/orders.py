"""The sales_orders collection (history is in store/history.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.documents.lines import DocumentLine
from ..domain.listing import Condition, SortKey
from ..domain.orders import OPEN_EXPOSURE, OrderState, SalesOrder
from ..domain.pricing import LineAmounts, Totals
from ..services.ports import Session
from . import codec, query
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

TEXT_PATHS = ("number", "notes")
D = codec.dec
U = codec.undec
_TIME_FIELDS = {OrderState.CONFIRMED: "confirm_time", OrderState.SHIPPED: "ship_time",
                OrderState.DELIVERED: "deliver_time", OrderState.CANCELLED: "cancel_time"}


def _line_doc(line: DocumentLine) -> dict[str, Any]:
    return {"product_id": line.product_id, "sku": line.sku, "product_name": line.product_name,
            "quantity": line.quantity, "unit_price": D(line.unit_price),
            "price_given": line.price_given, "discount_rate": D(line.discount_rate),
            "tax_rate": D(line.tax_rate), "gross": D(line.amounts.gross),
            "discount": D(line.amounts.discount), "tax": D(line.amounts.tax),
            "total": D(line.amounts.total), "list_price": D(line.list_price)}


def _line_from(d: dict[str, Any]) -> DocumentLine:
    return DocumentLine(d["product_id"], d["sku"], d["product_name"], d["quantity"],
                     U(d["unit_price"]), d["price_given"], U(d["discount_rate"]),
                     U(d["tax_rate"]), LineAmounts(U(d["gross"]), U(d["discount"]), U(d["tax"])),
                     # Orders written before list prices were kept: their price was the list's
                     # unless given, and a given one was checked against the limit then.
                     U(d.get("list_price", d["unit_price"])))


def to_doc(o: SalesOrder) -> dict[str, Any]:
    t = o.totals
    return {
        "_id": ObjectId(o.id), "number": o.number, "customer_id": o.customer_id,
        "state": o.state.value, "currency": o.currency, "lines": [_line_doc(x) for x in o.lines],
        "discount_rate": D(o.discount_rate), "shipping": D(o.shipping),
        "totals": {"subtotal": D(t.subtotal), "discount_total": D(t.discount_total),
                   "tax_total": D(t.tax_total), "shipping": D(t.shipping),
                   "grand_total": D(t.grand_total)},
        "notes": o.notes, "owner_id": o.owner_id, "team_id": o.team_id,
        **codec.audit_fields(o.audit), "version": o.version,
        # The time of each state entered, as fields of their own so queries can use them.
        **{_TIME_FIELDS[state]: o.entered.get(state) for state in _TIME_FIELDS},
        "cancel_reason": o.cancel_reason, "credit_limit_overridden": o.credit_limit_overridden,
    }


def from_doc(d: dict[str, Any]) -> SalesOrder:
    t = d["totals"]
    return SalesOrder(
        id=str(d["_id"]), number=d["number"], customer_id=d["customer_id"],
        currency=d["currency"], lines=[_line_from(x) for x in d["lines"]],
        discount_rate=U(d["discount_rate"]), shipping=U(d["shipping"]),
        totals=Totals(U(t["subtotal"]), U(t["discount_total"]), U(t["tax_total"]),
                      U(t["shipping"])),
        owner_id=d["owner_id"], team_id=d.get("team_id", ""), audit=codec.audit_from(d),
        state=OrderState(d["state"]), notes=d.get("notes", ""),
        entered={OrderState.DRAFT: d["create_time"], **{
            state: d[name] for state, name in _TIME_FIELDS.items() if d.get(name)}},
        cancel_reason=d.get("cancel_reason", ""),
        credit_limit_overridden=d.get("credit_limit_overridden", False), version=d["version"],
    )


class OrderRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        self._mongo = mongo
        self._docs = mongo.db.sales_orders
        self._tokens = tokens

    async def get(self, order_id: str, session: Session | None = None) -> SalesOrder | None:
        doc = await self._docs.find_one({"_id": ObjectId(order_id)},
                                        session=driver_session(session))
        return None if doc is None else from_doc(doc)

    async def get_by_number(self, number: str) -> SalesOrder | None:
        doc = await self._docs.find_one({"number": {"$eq": number}})
        return None if doc is None else from_doc(doc)

    async def add(self, order: SalesOrder, session: Session | None) -> None:
        await self._docs.insert_one(to_doc(order), session=driver_session(session))

    async def save(self, order: SalesOrder, expected_version: int, session: Session) -> bool:
        """Writes the order's own fields if the version matches; $set rather than a replace,
        so fields other documents keep on the order (an invoice's mark) are left alone."""
        doc = to_doc(order)
        del doc["_id"]
        result = await self._docs.update_one(
            {"_id": ObjectId(order.id), "version": expected_version}, {"$set": doc},
            session=driver_session(session))
        return result.matched_count == 1

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
