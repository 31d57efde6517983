"""The products collection and its stock ledger (stock_movements)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from ..domain.errors import AlreadyExists
from ..domain.listing import Condition, SortKey
from ..domain.products import MovementReason, Product, Stock, StockMovement
from ..services.ports import Session
from . import codec, query
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

_CATEGORIES = "products/categories"  # the page-token fingerprint of ListCategories

TEXT_PATHS = ("name", "sku", "description")


def to_doc(p: Product) -> dict[str, Any]:
    return {
        "_id": ObjectId(p.id), "sku": p.sku, "name": p.name, "description": p.description,
        "category": p.category, "unit_price": codec.money_doc(p.unit_price),
        "cost": codec.money_doc(p.cost),
        "tax_rate": None if p.tax_rate is None else codec.dec(p.tax_rate),
        "unit_of_measure": p.unit_of_measure,
        # `available` is stored beside on_hand and reserved so that reserving stock is one
        # conditional $inc ({available: {$gte: qty}}): atomic without a read-modify-write.
        "stock": {"on_hand": p.stock.on_hand, "reserved": p.stock.reserved,
                  "available": p.stock.available},
        "reorder_level": p.reorder_level, "active": p.active,
        **codec.audit_fields(p.audit), "version": p.version, "delete_time": p.delete_time,
    }


def from_doc(d: dict[str, Any]) -> Product:
    stock = d.get("stock") or {}
    price = codec.money_from(d["unit_price"])
    assert price is not None
    return Product(
        id=str(d["_id"]), sku=d["sku"], name=d["name"], description=d.get("description", ""),
        category=d.get("category", ""), unit_price=price, cost=codec.money_from(d.get("cost")),
        tax_rate=None if d.get("tax_rate") is None else codec.undec(d["tax_rate"]),
        unit_of_measure=d.get("unit_of_measure", "each"),
        stock=Stock(stock.get("on_hand", 0), stock.get("reserved", 0)),
        reorder_level=d.get("reorder_level", 0), active=d.get("active", True),
        audit=codec.audit_from(d), version=d["version"], delete_time=d.get("delete_time"),
    )


def movement_doc(m: StockMovement) -> dict[str, Any]:
    return {"_id": ObjectId(m.id), "product_id": m.product_id, "quantity_delta": m.quantity_delta,
            "reason": m.reason.value, "note": m.note, "on_hand_after": m.on_hand_after,
            "actor": m.actor, "create_time": m.create_time}


def movement_from(d: dict[str, Any]) -> StockMovement:
    return StockMovement(str(d["_id"]), d["product_id"], d["quantity_delta"],
                         MovementReason(d["reason"]), d.get("note", ""), d["on_hand_after"],
                         d["actor"], d["create_time"])


def _sku_taken(sku: str) -> AlreadyExists:
    return AlreadyExists(f"a product with SKU {sku!r} already exists", reason="SKU_TAKEN",
                         metadata={"sku": sku})


class ProductRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        self._docs = mongo.db.products
        self._movements = mongo.db.stock_movements
        self._tokens = tokens

    async def get(self, product_id: str, session: Session | None = None) -> Product | None:
        doc = await self._docs.find_one({"_id": ObjectId(product_id)},
                                        session=driver_session(session))
        return None if doc is None else from_doc(doc)

    async def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        """The products among `product_ids` that exist, by id, in one round trip."""
        ids = [ObjectId(i) for i in dict.fromkeys(product_ids)]
        docs = await self._docs.find({"_id": {"$in": ids}}).to_list()
        return {str(d["_id"]): from_doc(d) for d in docs}

    async def get_by_sku(self, sku: str) -> Product | None:
        doc = await self._docs.find_one({"sku": {"$eq": sku}})
        return None if doc is None else from_doc(doc)

    async def add(self, product: Product, session: Session) -> None:
        try:
            await self._docs.insert_one(to_doc(product), session=driver_session(session))
        except DuplicateKeyError as exc:
            raise _sku_taken(product.sku) from exc

    async def save(self, product: Product, expected_version: int) -> Product | None:
        """Writes catalog fields only if the version still matches, and returns the product
        as stored (None on a version mismatch). Stock is left as stored, because reservations
        change it concurrently without bumping the version."""
        doc = to_doc(product)
        del doc["stock"]
        try:
            saved = await self._docs.find_one_and_update(
                {"_id": ObjectId(product.id), "version": expected_version}, {"$set": doc},
                return_document=ReturnDocument.AFTER)
        except DuplicateKeyError as exc:
            raise _sku_taken(product.sku) from exc
        return None if saved is None else from_doc(saved)

    async def move_stock(self, product_id: str, delta: int, session: Session
                         ) -> Product | None:
        """Adds `delta` to on hand unless that would leave less than the reserved units;
        None when the product is missing or the stock is short."""
        doc = await self._docs.find_one_and_update(
            {"_id": ObjectId(product_id), "stock.available": {"$gte": -delta}},
            {"$inc": {"stock.on_hand": delta, "stock.available": delta}},
            return_document=ReturnDocument.AFTER, session=driver_session(session))
        return None if doc is None else from_doc(doc)

    async def add_movement(self, movement: StockMovement, session: Session) -> None:
        await self._movements.insert_one(movement_doc(movement), session=driver_session(session))

    async def get_movement(self, movement_id: str) -> StockMovement | None:
        doc = await self._movements.find_one({"_id": ObjectId(movement_id)})
        return None if doc is None else movement_from(doc)

    async def list_page(self, conditions: list[Condition], order: list[SortKey], size: int,
                        token: str, show_deleted: bool) -> tuple[list[Product], str]:
        clauses = query.build(conditions, TEXT_PATHS)
        if not show_deleted:
            clauses.append({"delete_time": None})
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token

    async def list_low_stock(self, size: int, token: str) -> tuple[list[Product], str]:
        low = {"active": True, "delete_time": None,
               "$expr": {"$lte": ["$stock.available", "$reorder_level"]}}
        docs, next_token = await fetch_page(self._docs, low, [SortKey("stock.available", False)],
                                            size, token, self._tokens)
        return [from_doc(d) for d in docs], next_token

    async def list_movements(self, product_id: str, size: int, token: str
                             ) -> tuple[list[StockMovement], str]:
        docs, next_token = await fetch_page(self._movements, {"product_id": product_id},
                                            [SortKey("_id", True)], size, token, self._tokens)
        return [movement_from(d) for d in docs], next_token

    async def categories(self, size: int, token: str
                         ) -> tuple[list[tuple[str, int, int]], str]:
        """(category, live products, active products) in name order, keyset-paged by name."""
        after = self._tokens.decode(token, _CATEGORIES)[0] if token else None
        pipeline: list[dict[str, Any]] = [
            {"$match": {"delete_time": None}},
            {"$group": {"_id": "$category", "count": {"$sum": 1},
                        "active": {"$sum": {"$cond": ["$active", 1, 0]}}}},
            *([{"$match": {"_id": {"$gt": after}}}] if after is not None else []),
            {"$sort": {"_id": 1}},
            {"$limit": size + 1},
        ]
        cursor = await self._docs.aggregate(pipeline)
        rows = [(d["_id"] or "", d["count"], d["active"]) async for d in cursor]
        if len(rows) <= size:
            return rows, ""
        return rows[:size], self._tokens.encode(_CATEGORIES, [rows[size - 1][0]])


class StockLedger:
    """Reservation-side stock changes made by orders, inside the order's transaction.

    Each product's change is one conditional $inc, so concurrent orders can never take
    `available` below zero; an order's products go in one bulk write, one round trip.
    """

    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db.products
        self._movements = mongo.db.stock_movements

    async def reserve_all(self, quantities: dict[str, int], session: Session) -> bool:
        """Reserves every quantity, or returns False if any product was short (the caller
        aborts the transaction, which undoes the ones that succeeded)."""
        result = await self._docs.bulk_write([
            UpdateOne({"_id": ObjectId(pid), "stock.available": {"$gte": qty}},
                      {"$inc": {"stock.reserved": qty, "stock.available": -qty}})
            for pid, qty in quantities.items()], ordered=False, session=driver_session(session))
        return result.modified_count == len(quantities)

    async def availability(self, product_ids: list[str]) -> dict[str, int]:
        docs = await self._docs.find({"_id": {"$in": [ObjectId(p) for p in product_ids]}},
                                     {"stock.available": 1}).to_list()
        return {str(d["_id"]): int(d["stock"]["available"]) for d in docs}

    async def release_all(self, quantities: dict[str, int], session: Session) -> None:
        await self._docs.bulk_write([
            UpdateOne({"_id": ObjectId(pid)},
                      {"$inc": {"stock.reserved": -qty, "stock.available": qty}})
            for pid, qty in quantities.items()], ordered=False, session=driver_session(session))

    async def ship_all(self, movements: list[StockMovement], session: Session) -> None:
        """Turns reservations into outbound movements: on hand and reserved both drop, and
        each product's ledger gets its SHIPMENT entry."""
        mongo_session = driver_session(session)
        ids = [ObjectId(m.product_id) for m in movements]
        await self._docs.bulk_write([
            UpdateOne({"_id": oid}, {"$inc": {"stock.on_hand": m.quantity_delta,
                                              "stock.reserved": m.quantity_delta}})
            for oid, m in zip(ids, movements, strict=True)], ordered=False,
            session=mongo_session)
        on_hand = {d["_id"]: int(d["stock"]["on_hand"]) for d in await self._docs.find(
            {"_id": {"$in": ids}}, {"stock.on_hand": 1}, session=mongo_session).to_list()}
        await self._movements.insert_many([
            movement_doc(replace(m, on_hand_after=on_hand.get(oid, 0)))
            for oid, m in zip(ids, movements, strict=True)], session=mongo_session)
