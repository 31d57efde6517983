"""Product use cases: the catalog, and stock adjustments written to a ledger atomically."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import products as rules
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.authorization import Move, authorize
from ..domain.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, Violations
from ..domain.listing import (
    Condition,
    FilterField,
    bool_converter,
    currency_converter,
    decimal_converter,
    page_size,
    parse_filter,
    parse_order_by,
    text_converter,
)
from ..domain.products import MovementReason, Product, StockMovement
from .clock import now
from .ids import new_id
from .ports import IdempotencyKeys, ProductRecords, Replayed, Session, idempotency_key

_EQ = frozenset({"=", "!="})
FILTERS = {
    "category": FilterField("category", _EQ, lambda raw: raw),
    "sku": FilterField("sku", _EQ, lambda raw: raw),
    "active": FilterField("active", frozenset({"="}), bool_converter),
    "unit_price": FilterField("unit_price.amount", frozenset({"=", "!=", "<", "<=", ">", ">="}),
                              decimal_converter),
    "currency_code": FilterField("unit_price.currency", _EQ, currency_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
ORDER_BY = {"create_time": "create_time", "name": "name", "sku": "sku",
            "unit_price": "unit_price.amount"}


class ProductService:
    def __init__(self, repo: ProductRecords, idempotency: IdempotencyKeys,
                 default_currency: str = "USD") -> None:
        self._repo = repo
        self._idempotency = idempotency
        self._default_currency = default_currency

    async def create(self, principal: Principal, values: dict[str, Any],
                     request_id: str = "") -> Product:
        authorize(principal, Move.EDIT_CATALOG)
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        key = idempotency_key("product", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(earlier)  # before the SKU check, which a replay would fail
        product = rules.new_product(values, id=new_id(), actor=principal.subject,
                                    now=now())
        # In a transaction retried on write conflicts: a racing create of the same SKU then
        # fails on the unique index as ALREADY_EXISTS.
        outcome = await self._idempotency.run_once(
            key, product.id, lambda session: self._repo.add(product, session))
        if isinstance(outcome, Replayed):
            return await self.get(outcome.result_id)
        return product

    async def get(self, product_id: str, field_path: str = "id") -> Product:
        check.object_id(field_path, product_id)
        product = await self._repo.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} not found", reason="PRODUCT_NOT_FOUND",
                           metadata={"id": product_id})
        return product

    async def get_by_sku(self, sku: str) -> Product:
        if not sku:
            raise InvalidArgument.of("sku", "is required")
        product = await self._repo.get_by_sku(sku)
        if product is None:
            raise NotFound(f"no product has SKU {sku[:64]!r}", reason="PRODUCT_NOT_FOUND")
        return product

    async def list_page(self, *, filter: str = "", order_by: str = "", size: int = 0,
                        token: str = "", show_deleted: bool = False) -> tuple[list[Product], str]:
        conditions = parse_filter(filter, FILTERS)
        if any(c.field == "unit_price" for c in conditions) and \
                not any(c.field == "currency_code" for c in conditions):
            # A price is a number in a currency: compare within one, DEFAULT_CURRENCY unless
            # the filter names another, never 10 JPY against 10 USD.
            conditions.append(Condition("currency_code", "unit_price.currency", "=",
                                        self._default_currency))
        order = parse_order_by(order_by, ORDER_BY, "create_time")
        return await self._repo.list_page(conditions, order, page_size(size), token, show_deleted)

    async def update(self, principal: Principal, product_id: str, mask: list[str],
                     values: dict[str, Any], etag: str) -> Product:
        authorize(principal, Move.EDIT_CATALOG)
        fields = rules.check_mask(mask)
        current = await self.get(product_id, "product.id")
        current.check_etag(etag)
        changes = {name: values.get(name) for name in fields}
        if "active" in changes and changes["active"] is None:
            raise InvalidArgument.of("product.active", "is named in update_mask but not set; "
                                     "send true or false")
        updated = rules.apply_update(current, changes, actor=principal.subject, now=now())
        return await self._save(updated, current)

    async def delete(self, principal: Principal, product_id: str, etag: str) -> Product:
        authorize(principal, Move.EDIT_CATALOG)
        current = await self.get(product_id)
        current.check_etag(etag)
        rules.check_deletable(current)
        moment = now()
        archived = replace(current, delete_time=moment, version=current.version + 1,
                           audit=current.audit.touched(principal.subject, moment))
        return await self._save(archived, current)

    async def _save(self, updated: Product, current: Product) -> Product:
        saved = await self._repo.save(updated, expected_version=current.version)
        if saved is None:
            raise Aborted(f"product {current.sku} was changed concurrently; re-read and retry",
                          metadata={"id": current.id})
        return saved

    async def categories(self, size: int = 0, token: str = ""
                         ) -> tuple[list[tuple[str, int, int]], str]:
        return await self._repo.categories(page_size(size), token)

    async def adjust_stock(self, principal: Principal, product_id: str, delta: int,
                           reason: MovementReason | None, note: str, request_id: str = ""
                           ) -> tuple[Product, StockMovement]:
        authorize(principal, Move.ADJUST_STOCK)
        reason = rules.check_adjustment(delta, reason, note)
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        # The key names the product too, so one request_id reused for another product is
        # a new adjustment rather than a replay of the first.
        key = idempotency_key("stock", principal.subject,
                              f"{product_id}:{request_id}" if request_id else "")
        if key and (earlier := await self._idempotency.find(key)):
            return await self._replayed_adjustment(earlier)
        current = await self.get(product_id, "product_id")
        if current.is_deleted:
            raise FailedPrecondition(f"product {current.sku} is deleted", reason="PRODUCT_DELETED")
        movement_id = new_id()

        async def work(session: Session) -> tuple[Product, StockMovement]:
            moved = await self._repo.move_stock(product_id, delta, session)
            if moved is None:
                latest = await self._repo.get(product_id, session)
                raise rules.short_stock_error(latest or current, delta)
            movement = StockMovement(movement_id, product_id, delta, reason, note,
                                     moved.stock.on_hand, principal.subject, now())
            await self._repo.add_movement(movement, session)
            return moved, movement

        # Retried on write conflicts, so concurrent adjustments of one product serialise.
        outcome = await self._idempotency.run_once(key, movement_id, work)
        if isinstance(outcome, Replayed):
            return await self._replayed_adjustment(outcome.result_id)
        return outcome

    async def _replayed_adjustment(self, movement_id: str) -> tuple[Product, StockMovement]:
        movement = await self._repo.get_movement(movement_id)
        assert movement is not None, "an idempotency key points at a committed movement"
        return await self.get(movement.product_id), movement

    async def list_movements(self, product_id: str, size: int = 0, token: str = ""
                             ) -> tuple[list[StockMovement], str]:
        await self.get(product_id, "product_id")
        return await self._repo.list_movements(product_id, page_size(size), token)

    async def list_low_stock(self, size: int = 0, token: str = "") -> tuple[list[Product], str]:
        return await self._repo.list_low_stock(page_size(size), token)
