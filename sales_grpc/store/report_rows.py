"""The rows of the built-in reports, read from MongoDB with one cursor in `_id` order.

The cursor is pulled only as fast as its consumer asks for rows, and is closed when the
consumer stops (completed, cancelled or failed): `open_cursors` counts those still open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from ..domain.access import Scope
from ..domain.aging import BUCKETS, bucket_of
from ..domain.invoices import OWING
from ..domain.listing import Condition
from ..domain.reports import DateRange, Report
from . import codec, query
from .mongo import Mongo

Row = list[object]
Key = list[Any]
U = codec.undec
BATCH_SIZE = 500
_TEXT_PATHS = {"sales_orders": ("number", "notes"), "invoices": ("number", "notes",
                                                                  "order_number")}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else U(value)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _order_head(d: dict[str, Any]) -> Row:
    return [d.get("number", ""), d.get("state", ""), d.get("customer_id", ""),
            d.get("owner_id", ""), d.get("team_id", ""), d.get("currency", "")]


def _orders(d: dict[str, Any], as_of: date) -> Iterator[Row]:
    t = d.get("totals", {})
    yield [*_order_head(d), len(d.get("lines", [])),
           *(_dec(t.get(k)) for k in ("subtotal", "discount_total", "tax_total", "shipping",
                                      "grand_total")),
           d.get("create_time"), d.get("confirm_time"), d.get("notes", "")]


def _lines(d: dict[str, Any], as_of: date) -> Iterator[Row]:
    head = _order_head(d)
    for number, x in enumerate(d.get("lines", []), start=1):
        yield [*head, number, x["product_id"], x["sku"], x["product_name"], x["quantity"],
               *(U(x[k]) for k in ("unit_price", "discount_rate", "tax_rate", "gross",
                                   "discount", "tax", "total")),
               d.get("create_time")]


def _invoices(d: dict[str, Any], as_of: date) -> Iterator[Row]:
    yield [d.get("number", ""), d.get("state", ""), d.get("customer_id", ""),
           d.get("owner_id", ""), d.get("team_id", ""), d.get("order_number", ""),
           d.get("currency", ""), _day(d.get("issue_date")), _day(d.get("due_date")),
           _dec(d.get("totals", {}).get("grand_total")), _dec(d.get("amount_paid", 0)),
           _dec(d.get("amount_credited", 0)), _dec(d.get("amount_due", 0)),
           d.get("create_time")]


def _payments(d: dict[str, Any], as_of: date) -> Iterator[Row]:
    yield [str(d["_id"]), d.get("invoice_number", ""), d.get("customer_id", ""),
           d.get("owner_id", ""), d.get("team_id", ""), d.get("currency", ""), U(d["amount"]),
           d.get("method", ""), d.get("reference", ""), _day(d.get("payment_date")),
           d.get("create_time")]


def _aging(d: dict[str, Any], as_of: date) -> Iterator[Row]:
    due = U(d.get("amount_due", 0))
    due_date = _day(d.get("due_date"))
    if due == 0 or due_date is None:
        return
    bucket = bucket_of(due_date, as_of)
    yield [d.get("number", ""), d.get("customer_id", ""), d.get("owner_id", ""),
           d.get("team_id", ""), d.get("currency", ""), _day(d.get("issue_date")), due_date,
           max((as_of - due_date).days, 0), BUCKETS[bucket], due,
           *(due if i == bucket else Decimal(0) for i in range(len(BUCKETS)))]


# source -> (collection, clauses every query has, the rows of one document)
_SOURCES: dict[str, tuple[str, list[dict[str, Any]], Callable[[dict[str, Any], date],
                                                                Iterator[Row]]]] = {
    "sales_orders": ("sales_orders", [], _orders),
    "order_lines": ("sales_orders", [], _lines),
    "invoices": ("invoices", [], _invoices),
    "payments": ("payments", [], _payments),
    "receivables": ("invoices", [{"state": {"$in": sorted(s.value for s in OWING)}}], _aging),
}


def _range(report: Report, dates: DateRange) -> list[dict[str, Any]]:
    if not dates.start and not dates.end:
        return []
    bounds: dict[str, Any] = {}
    timed = report.date_field.endswith("_time")
    if dates.start:
        start = date.fromisoformat(dates.start)
        bounds["$gte"] = datetime.combine(start, time(), UTC) if timed else dates.start
    if dates.end:
        end = date.fromisoformat(dates.end)
        bounds["$lte"] = (datetime.combine(end, time.max, UTC) if timed
                          else dates.end)
    return [{report.date_field: bounds}]


class ReportRows:
    def __init__(self, mongo: Mongo, batch_size: int = BATCH_SIZE) -> None:
        self._db = mongo.db
        self._batch = batch_size
        self.open_cursors = 0

    def _query(self, report: Report, scope: Scope, conditions: list[Condition],
               dates: DateRange) -> tuple[str, dict[str, Any]]:
        collection, fixed, _ = _SOURCES[report.source]
        clauses = [*query.scoped(scope), *fixed,
                   *query.build(conditions, _TEXT_PATHS.get(collection, ("number",))),
                   *_range(report, dates)]
        return collection, query.all_of(clauses)

    async def estimate(self, report: Report, scope: Scope, conditions: list[Condition],
                       dates: DateRange) -> int:
        """The documents matching; for line reports, their lines."""
        collection, match = self._query(report, scope, conditions, dates)
        if report.source != "order_lines":
            return await self._db[collection].count_documents(match)
        pipeline = [{"$match": match}, {"$project": {"n": {"$size": "$lines"}}},
                    {"$group": {"_id": None, "n": {"$sum": "$n"}}}]
        async with await self._db[collection].aggregate(pipeline) as cursor:
            async for found in cursor:
                return int(found["n"])
        return 0

    async def rows(self, report: Report, scope: Scope, conditions: list[Condition],
                   dates: DateRange, as_of: date) -> AsyncGenerator[tuple[Key, Row], None]:
        """Each row with its sort key: the document's `_id` and the row's place in it."""
        collection, match = self._query(report, scope, conditions, dates)
        _, _, rows_of = _SOURCES[report.source]
        self.open_cursors += 1
        try:
            async with self._db[collection].find(match, sort=[("_id", 1)],
                                                 batch_size=self._batch) as cursor:
                async for doc in cursor:
                    for index, row in enumerate(rows_of(doc, as_of)):
                        yield [doc["_id"], index], row
        finally:
            self.open_cursors -= 1
