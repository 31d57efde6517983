"""The customers collection: documents in, Customer records out."""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from ..domain.access import Scope
from ..domain.customers import (
    Customer,
    CustomerStatus,
    CustomerType,
    PaymentTerms,
    SalesStats,
    by_currency,
)
from ..domain.listing import Condition, SortKey
from ..domain.money import Money, check_currency
from ..services.ports import Session
from . import codec, query
from .cache import DocumentCache
from .mongo import Mongo
from .paging import PageTokens, fetch_page
from .sessions import driver_session

# full_name: "Ann Lee" finds Ann Lee, whose names are in two fields.
TEXT_PATHS = ("first_name", "last_name", "full_name", "company_name", "email",
              "customer_code")
_DIGITS = re.compile(r"(\d+)$")


def code_key(code: str) -> str:
    """A customer code's sort key: its trailing number zero-padded to 20 digits, so
    CUST-1000000 sorts after CUST-999999 whatever the format's width."""
    match = _DIGITS.search(code)
    return code if match is None else f"{code[:match.start()]}{int(match.group(1)):020d}"


def to_doc(c: Customer) -> dict[str, Any]:
    return {
        "_id": ObjectId(c.id), "customer_code": c.customer_code, "first_name": c.first_name,
        "last_name": c.last_name, "company_name": c.company_name,
        "full_name": f"{c.first_name} {c.last_name}", "code_key": code_key(c.customer_code),
        "customer_type": c.customer_type.value, "email": c.email, "phone": c.phone,
        "billing_address": codec.address_doc(c.billing_address),
        "shipping_address": codec.address_doc(c.shipping_address),
        "payment_terms": c.payment_terms.value, "credit_limit": codec.money_doc(c.credit_limit),
        "tax_id": c.tax_id, "notes": c.notes, "status": c.status.value,
        "owner_id": c.owner_id, "team_id": c.team_id,
        "stats": {"order_count": c.stats.order_count,
                  "spent": {m.currency: codec.dec(m.amount) for m in c.stats.total_spent},
                  "last_order_time": c.stats.last_order_time,
                  "outstanding": _amounts_doc(c.stats.outstanding),
                  "credit_balance": _amounts_doc(c.stats.credit_balance)},
        **codec.audit_fields(c.audit), "version": c.version, "delete_time": c.delete_time,
    }


def _amounts_doc(amounts: tuple[Money, ...]) -> dict[str, Any]:
    return {m.currency: codec.dec(m.amount) for m in amounts}


def _amounts(doc: dict[str, Any] | None) -> tuple[Money, ...]:
    return by_currency(Money(currency, codec.undec(amount))
                       for currency, amount in (doc or {}).items())


def from_doc(d: dict[str, Any]) -> Customer:
    stats = d.get("stats") or {}
    return Customer(
        id=str(d["_id"]), customer_code=d["customer_code"], first_name=d["first_name"],
        last_name=d["last_name"], company_name=d.get("company_name", ""),
        customer_type=CustomerType(d["customer_type"]), email=d["email"],
        phone=d.get("phone", ""), billing_address=codec.address_from(d.get("billing_address")),
        shipping_address=codec.address_from(d.get("shipping_address")),
        payment_terms=PaymentTerms(d["payment_terms"]),
        credit_limit=codec.money_from(d.get("credit_limit")), tax_id=d.get("tax_id", ""),
        notes=d.get("notes", ""), status=CustomerStatus(d["status"]), owner_id=d["owner_id"],
        team_id=d.get("team_id", ""),
        stats=SalesStats(stats.get("order_count", 0), by_currency(
            Money(currency, codec.undec(amount))
            for currency, amount in (stats.get("spent") or {}).items()),
            stats.get("last_order_time"), _amounts(stats.get("outstanding")),
            _amounts(stats.get("credit_balance"))),
        audit=codec.audit_from(d), version=d["version"], delete_time=d.get("delete_time"),
    )


class CustomerRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens, cache: DocumentCache | None = None
                 ) -> None:
        self._mongo = mongo
        self._docs = mongo.db.customers
        self._tokens = tokens
        self._cache = cache

    async def get(self, customer_id: str, session: Session | None = None) -> Customer | None:
        """Reads outside a transaction may come from the cache (see store/cache.py)."""
        cache = self._cache if session is None else None
        doc = await cache.get(customer_id) if cache else None
        if doc is None:
            doc = await self._docs.find_one({"_id": ObjectId(customer_id)},
                                            session=driver_session(session))
            if doc is not None and cache:
                await cache.put(customer_id, doc)
        return None if doc is None else from_doc(doc)

    async def add(self, customer: Customer, session: Session | None) -> None:
        await self._docs.insert_one(to_doc(customer), session=driver_session(session))

    async def save(self, customer: Customer, expected_version: int) -> bool:
        """Writes the customer only if nobody else changed it since `expected_version`.

        The sales statistics are left as stored: orders change them concurrently without
        bumping the version, and an edit made from an older read must not roll them back.
        """
        doc = to_doc(customer)
        del doc["stats"], doc["_id"]
        result = await self._docs.update_one(
            {"_id": ObjectId(customer.id), "version": expected_version}, {"$set": doc})
        await forget(self._cache, customer.id)
        return result.matched_count == 1

    async def list_page(self, scope: Scope, conditions: list[Condition], order: list[SortKey],
                        size: int, token: str, show_deleted: bool) -> tuple[list[Customer], str]:
        clauses = query.scoped(scope) + query.build(conditions, TEXT_PATHS)
        if not show_deleted:
            clauses.append({"delete_time": None})
        docs, next_token = await fetch_page(self._docs, query.all_of(clauses), order, size,
                                            token, self._tokens)
        return [from_doc(d) for d in docs], next_token


class CustomerStats:
    """Keeps a customer's order count, totals spent and last order time current, inside the
    transaction of the order change that moves them.

    The totals are a map in the customer document, `stats.spent`, of currency code to a
    Decimal128 amount, so one update changes them whatever the currency: $inc on the order's
    currency adds to its total, or starts it, with no read first and so no lost update.
    (`stats.total_spent`, one Money in the first order's currency, was the shape before; the
    service was not released, so it is not read or migrated: a development database shows
    totals from the orders confirmed or cancelled since.)
    """

    def __init__(self, mongo: Mongo, cache: DocumentCache | None = None) -> None:
        self._docs = mongo.db.customers
        self._cache = cache

    async def record(self, customer_id: str, count: int, amount: Money, when: datetime | None,
                     session: Session) -> Customer | None:
        """Applies the change and returns the customer as updated (None if it is gone).

        It also claims the customer's account for the transaction: `account_version` goes up
        by one. Every transaction that changes what a customer owes (confirming or cancelling
        an order now; finalizing invoices and recording payments as they arrive) writes this
        one document, so two of them for one customer conflict and one is retried: the open
        exposure a credit check reads after the claim cannot change under it. Without the
        claim, two confirms could each see room under the limit and together exceed it."""
        currency = check_currency(amount.currency)  # a field name below: a known code only
        update: dict[str, Any] = {"$inc": {"stats.order_count": count,
                                           f"stats.spent.{currency}": codec.dec(amount.amount),
                                           "account_version": 1}}
        if when is not None:
            update["$max"] = {"stats.last_order_time": when}
        doc = await self._docs.find_one_and_update(
            {"_id": ObjectId(customer_id)}, update, return_document=ReturnDocument.AFTER,
            session=driver_session(session))
        if doc is None:
            return None
        await forget(self._cache, customer_id)
        return from_doc(doc)


    async def receivable(self, customer_id: str, outstanding: Money, balance: Money,
                         session: Session) -> Customer | None:
        """Moves what the customer owes and their credit balance, in the caller's
        transaction, claiming the account like `record` (so a credit check never reads an
        exposure a concurrent invoice change is moving). A balance that would go below zero
        matches nothing: None, and nothing changed."""
        owed = check_currency(outstanding.currency)
        held = check_currency(balance.currency)
        match: dict[str, Any] = {"_id": ObjectId(customer_id)}
        if balance.amount < 0:
            match[f"stats.credit_balance.{held}"] = {"$gte": codec.dec(-balance.amount)}
        changes: dict[str, Any] = {"account_version": 1}
        if outstanding.amount:
            changes[f"stats.outstanding.{owed}"] = codec.dec(outstanding.amount)
        if balance.amount:
            changes[f"stats.credit_balance.{held}"] = codec.dec(balance.amount)
        doc = await self._docs.find_one_and_update(
            match, {"$inc": changes},
            return_document=ReturnDocument.AFTER, session=driver_session(session))
        if doc is None:
            return None
        await forget(self._cache, customer_id)
        return from_doc(doc)


async def forget(cache: DocumentCache | None, customer_id: str) -> None:
    """Drops the cached customer once the write is durable: after the commit, in a
    transaction."""
    if cache is not None:
        await Mongo.after_commit(partial(cache.drop, customer_id))
