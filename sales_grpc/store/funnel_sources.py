"""A quote cohort's documents for the conversion funnel: the first revisions created in a
range, every revision of their numbers, the orders accepted quotes made and those orders'
invoices. Every read goes through an index by the cohort's keys, so the cost follows the
cohort's size, not the history's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

from ..domain.access import Scope
from ..domain.errors import InvalidArgument
from ..domain.funnel import MAX_COHORT, Journey, Reached, Step
from ..domain.invoices import InvoiceState
from ..domain.orders import OrderState
from . import codec, query
from .mongo import Mongo
from .reads import AnalyticsReads

_BILLED = [InvoiceState.OPEN.value, InvoiceState.PAID.value, InvoiceState.UNCOLLECTIBLE.value]


def _total(doc: dict[str, Any]) -> Decimal:
    return codec.undec(doc["totals"]["grand_total"])


class FunnelSources:
    def __init__(self, mongo: Mongo, read_preference: str = "primary") -> None:
        self._reads = AnalyticsReads(mongo, read_preference)

    async def cohort(self, scope: Scope, narrow: dict[str, str], start: datetime,
                     end: datetime) -> list[Journey]:
        """The journeys of the quotes whose first revision was created in [start, end)."""
        clauses = query.narrowed(scope, narrow)
        firsts = [d async for d in self._reads.find(
            "quotes",
            query.all_of([{"create_time": {"$gte": start, "$lt": end}, "revision": 1},
                          *clauses]),
            projection={"number": 1, "currency": 1, "totals.grand_total": 1,
                        "create_time": 1}, limit=MAX_COHORT + 1)]
        if len(firsts) > MAX_COHORT:
            raise InvalidArgument.of("start_date", f"the cohort has more than {MAX_COHORT} "
                                     "quotes; choose a shorter range")
        journeys = {d["number"]: Journey(d["currency"], {
            Step.CREATED: Reached(d["create_time"], _total(d))}) for d in firsts}
        orders: dict[str, Journey] = {}
        async for rev in self._reads.find(
                "quotes", query.all_of([{"number": {"$in": list(journeys)}}, *clauses]),
                projection={"number": 1, "send_time": 1, "accept_time": 1, "order_id": 1,
                            "totals.grand_total": 1}):
            j = journeys[rev["number"]]
            sent = j.steps.get(Step.SENT)
            if rev.get("send_time") and (sent is None or rev["send_time"] < sent.moment):
                j.steps[Step.SENT] = Reached(rev["send_time"], _total(rev))
            if rev.get("accept_time"):
                j.steps[Step.ACCEPTED] = Reached(rev["accept_time"], _total(rev))
                if rev.get("order_id"):
                    orders[rev["order_id"]] = j
        await self._orders(orders, clauses)
        return list(journeys.values())

    async def _orders(self, orders: dict[str, Journey], clauses: list[dict[str, Any]]) -> None:
        keys = [ObjectId(o) for o in orders if ObjectId.is_valid(o)]
        confirmed: dict[str, Journey] = {}
        async for doc in self._reads.find(
                "sales_orders", query.all_of([{"_id": {"$in": keys}}, *clauses]),
                projection={"confirm_time": 1, "state": 1, "totals.grand_total": 1}):
            if doc.get("confirm_time") and doc["state"] != OrderState.CANCELLED.value:
                j = orders[str(doc["_id"])]
                j.steps[Step.ORDER_CONFIRMED] = Reached(doc["confirm_time"], _total(doc))
                confirmed[str(doc["_id"])] = j
        bills: dict[str, list[dict[str, Any]]] = {}
        async for doc in self._reads.find(
                "invoices", query.all_of([{"order_id": {"$in": list(confirmed)},
                                          "state": {"$in": _BILLED}}, *clauses]),
                projection={"order_id": 1, "state": 1, "finalize_time": 1, "paid_time": 1,
                            "totals.grand_total": 1, "amount_paid": 1}):
            bills.setdefault(doc["order_id"], []).append(doc)
        for order_id, invoices in bills.items():
            j = confirmed[order_id]
            j.steps[Step.INVOICED] = Reached(min(i["finalize_time"] for i in invoices),
                                             sum((_total(i) for i in invoices), Decimal(0)))
            if all(i["state"] == InvoiceState.PAID.value for i in invoices):
                j.steps[Step.PAID] = Reached(
                    max(i["paid_time"] for i in invoices),
                    sum((codec.undec(i["amount_paid"]) for i in invoices), Decimal(0)))
