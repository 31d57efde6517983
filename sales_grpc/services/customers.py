"""Customer use cases: create (idempotent), read, list, search, update, archive."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import customers as rules
from ..domain import validation as check
from ..domain.access import Principal, in_scope, scope_of
from ..domain.customers import Customer, CustomerStatus, CustomerType, PaymentTerms
from ..domain.errors import Aborted, FailedPrecondition, NotFound, Violations
from ..domain.listing import (
    Condition,
    FilterField,
    enum_converter,
    page_size,
    parse_filter,
    parse_order_by,
    text_converter,
)
from ..domain.numbering import CUSTOMER_CODE
from .clock import now
from .ids import new_id
from .ports import CustomerRecords, IdempotencyKeys, NumberSeries, Replayed, idempotency_key

_EQ = frozenset({"=", "!="})
FILTERS = {
    "status": FilterField("status", _EQ, enum_converter({s.name: s.value for s in CustomerStatus})),
    "customer_type": FilterField(
        "customer_type", _EQ, enum_converter({t.name: t.value for t in CustomerType})),
    "payment_terms": FilterField(
        "payment_terms", _EQ, enum_converter({t.name: t.value for t in PaymentTerms})),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "team_id": FilterField("team_id", _EQ, text_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
# customer_code sorts by its number (store/customers.py code_key), not as text.
ORDER_BY = {"create_time": "create_time", "customer_code": "code_key",
            "last_name": "last_name", "company_name": "company_name"}


class CustomerService:
    def __init__(self, repo: CustomerRecords, idempotency: IdempotencyKeys,
                 numbers: NumberSeries) -> None:
        self._repo = repo
        self._idempotency = idempotency
        self._numbers = numbers

    async def create(self, principal: Principal, values: dict[str, Any],
                     request_id: str = "") -> Customer:
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        key = idempotency_key("customer", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)  # before drawing a customer code
        moment = now()
        customer = rules.new_customer(values, id=new_id(), code="CUST-PENDING",
                                      principal=principal, now=moment)
        customer.customer_code = await self._numbers.draw(CUSTOMER_CODE, moment, None)
        outcome = await self._idempotency.run_once_single_write(
            key, customer.id, lambda session: self._repo.add(customer, session))
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return customer

    async def get(self, principal: Principal, customer_id: str) -> Customer:
        check.object_id("id", customer_id)
        customer = await self._repo.get(customer_id)
        if customer is None or not in_scope(scope_of(principal), customer.owner_id,
                                            customer.team_id):
            raise NotFound(f"customer {customer_id} not found", reason="CUSTOMER_NOT_FOUND",
                           metadata={"id": customer_id})
        return customer

    async def list_page(self, principal: Principal, *, filter: str = "", order_by: str = "",
                        size: int = 0, token: str = "", show_deleted: bool = False
                        ) -> tuple[list[Customer], str]:
        conditions = parse_filter(filter, FILTERS)
        order = parse_order_by(order_by, ORDER_BY, "create_time")
        return await self._repo.list_page(scope_of(principal), conditions, order, page_size(size),
                                          token, show_deleted)

    async def search(self, principal: Principal, text: str, size: int = 0, token: str = ""
                     ) -> tuple[list[Customer], str]:
        v = Violations()
        check.text(v, "query", text, required=True, max_len=200)
        v.raise_if_any()
        condition = Condition("text", "text", ":", text)
        order = parse_order_by("customer_code", ORDER_BY, "customer_code")
        return await self._repo.list_page(scope_of(principal), [condition], order, page_size(size),
                                          token, show_deleted=False)

    async def update(self, principal: Principal, customer_id: str, mask: list[str],
                     values: dict[str, Any], etag: str) -> Customer:
        fields = rules.check_mask(mask)
        current = await self.get(principal, customer_id)
        current.check_etag(etag)
        changes = {name: values.get(name) for name in fields}
        updated = rules.apply_update(current, changes, principal=principal, now=now())
        return await self._save(updated, current)

    async def delete(self, principal: Principal, customer_id: str, etag: str) -> Customer:
        current = await self.get(principal, customer_id)
        current.check_etag(etag)
        if current.is_deleted:
            raise FailedPrecondition(f"customer {current.customer_code} is already deleted",
                                     reason="CUSTOMER_DELETED")
        moment = now()
        archived = replace(current, delete_time=moment, version=current.version + 1,
                           audit=current.audit.touched(principal.subject, moment))
        return await self._save(archived, current)

    async def _save(self, updated: Customer, current: Customer) -> Customer:
        if not await self._repo.save(updated, expected_version=current.version):
            raise Aborted(f"customer {current.customer_code} was changed concurrently; "
                          "re-read and retry", metadata={"id": current.id})
        return updated
