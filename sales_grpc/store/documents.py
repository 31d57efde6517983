"""The BSON shape every sales document shares (lines, totals, owner, audit, state times), so
orders, quotes and invoices store their common part alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from ..domain.documents.document import SalesDocument
from ..domain.documents.lines import DocumentLine
from ..domain.pricing import LineAmounts, Totals
from ..services.ports import Session
from . import codec
from .sessions import driver_session

D = codec.dec
U = codec.undec
S = TypeVar("S", bound=Enum)
Doc = TypeVar("Doc", bound=SalesDocument[Any])


def line_doc(line: DocumentLine) -> dict[str, Any]:
    return {"product_id": line.product_id, "sku": line.sku, "product_name": line.product_name,
            "quantity": line.quantity, "unit_price": D(line.unit_price),
            "price_given": line.price_given, "discount_rate": D(line.discount_rate),
            "tax_rate": D(line.tax_rate), "gross": D(line.amounts.gross),
            "discount": D(line.amounts.discount), "tax": D(line.amounts.tax),
            "total": D(line.amounts.total), "list_price": D(line.list_price)}


def line_from(d: dict[str, Any]) -> DocumentLine:
    return DocumentLine(d["product_id"], d["sku"], d["product_name"], d["quantity"],
                        U(d["unit_price"]), d["price_given"], U(d["discount_rate"]),
                        U(d["tax_rate"]),
                        LineAmounts(U(d["gross"]), U(d["discount"]), U(d["tax"])),
                        # Documents written before list prices were kept: their price was the
                        # list's unless given, and a given one was checked against the limit.
                        U(d.get("list_price", d["unit_price"])))


def base_doc(doc: SalesDocument[Any], time_fields: Mapping[Any, str]) -> dict[str, Any]:
    """The shared fields; `time_fields` names the field that keeps when each state was
    entered, so queries can use those times."""
    t = doc.totals
    return {
        "_id": ObjectId(doc.id), "number": doc.number, "customer_id": doc.customer_id,
        "state": doc.state.value, "currency": doc.currency,
        "lines": [line_doc(x) for x in doc.lines],
        "discount_rate": D(doc.discount_rate), "shipping": D(doc.shipping),
        "totals": {"subtotal": D(t.subtotal), "discount_total": D(t.discount_total),
                   "tax_total": D(t.tax_total), "shipping": D(t.shipping),
                   "grand_total": D(t.grand_total)},
        "notes": doc.notes, "owner_id": doc.owner_id, "team_id": doc.team_id,
        **codec.audit_fields(doc.audit), "version": doc.version,
        **{name: doc.entered.get(state) for state, name in time_fields.items()},
    }


def base_values(d: dict[str, Any], states: type[S], initial: S,
                time_fields: Mapping[S, str]) -> dict[str, Any]:
    """The shared fields as keyword arguments of the document type's constructor."""
    t = d["totals"]
    return {
        "id": str(d["_id"]), "number": d["number"], "customer_id": d["customer_id"],
        "currency": d["currency"], "lines": [line_from(x) for x in d["lines"]],
        "discount_rate": U(d["discount_rate"]), "shipping": U(d["shipping"]),
        "totals": Totals(U(t["subtotal"]), U(t["discount_total"]), U(t["tax_total"]),
                         U(t["shipping"])),
        "owner_id": d["owner_id"], "team_id": d.get("team_id", ""),
        "audit": codec.audit_from(d), "state": states(d["state"]), "notes": d.get("notes", ""),
        "entered": {initial: d["create_time"], **{
            state: d[name] for state, name in time_fields.items() if d.get(name)}},
        "version": d["version"],
    }


class DocumentStore(Generic[Doc]):
    """Reading and writing one document type's collection: by id, insert, and the
    version-checked save every change goes through."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]],
                 to_doc: Callable[[Doc], dict[str, Any]],
                 from_doc: Callable[[dict[str, Any]], Doc]) -> None:
        self._docs = collection
        self._to_doc = to_doc
        self._from_doc = from_doc

    async def get(self, document_id: str, session: Session | None = None) -> Doc | None:
        doc = await self._docs.find_one({"_id": ObjectId(document_id)},
                                        session=driver_session(session))
        return None if doc is None else self._from_doc(doc)

    async def add(self, document: Doc, session: Session | None) -> None:
        await self._docs.insert_one(self._to_doc(document), session=driver_session(session))

    async def save(self, document: Doc, expected_version: int, session: Session) -> bool:
        """Writes the document's own fields if the version matches; $set rather than a
        replace, so fields other documents keep on it (an invoice's mark) are left alone."""
        doc = self._to_doc(document)
        del doc["_id"]
        result = await self._docs.update_one(
            {"_id": ObjectId(document.id), "version": expected_version}, {"$set": doc},
            session=driver_session(session))
        return result.matched_count == 1
