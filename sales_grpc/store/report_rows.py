"""The rows of a report, read from MongoDB with one cursor in a stable order.

The cursor is pulled only as fast as its consumer asks for rows, and is closed when the
consumer stops (completed, cancelled or failed): `open_cursors` counts those still open.
Rows come in `_id` order, after any sort keys a custom report names (stored fields, so the
database sorts them); the per-customer aging reads in customer order and groups as it goes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from datetime import date
from functools import partial
from typing import Any

from ..domain.access import Scope
from ..domain.listing import Condition, SortKey
from ..domain.reports import DateRange, Report
from . import query
from .mongo import Mongo
from .report_sources import (
    LINE_SOURCES,
    SOLD,
    SOURCES,
    Doc,
    Row,
    Sales,
    add_sales,
    day_bounds,
    products,
)

Key = list[Any]
BATCH_SIZE = 500


class ReportRows:
    def __init__(self, mongo: Mongo, batch_size: int = BATCH_SIZE) -> None:
        self._db = mongo.db
        self._batch = batch_size
        self.open_cursors = 0

    def _query(self, report: Report, scope: Scope, conditions: list[Condition],
               dates: DateRange) -> tuple[str, dict[str, Any]]:
        source = SOURCES[report.source]
        clauses = [*(query.scoped(scope) if source.scoped else []), *source.fixed,
                   *query.build(conditions, source.text_paths)]
        if (dates.start or dates.end) and source.dated:
            clauses.append({report.date_field: day_bounds(report.date_field, dates.start,
                                                          dates.end, source.timed)})
        return source.collection, query.all_of(clauses)

    async def estimate(self, report: Report, scope: Scope, conditions: list[Condition],
                       dates: DateRange) -> int:
        """The documents matching; for line reports, their lines."""
        collection, match = self._query(report, scope, conditions, dates)
        if report.source not in LINE_SOURCES:
            return await self._db[collection].count_documents(match)
        pipeline = [{"$match": match}, {"$project": {"n": {"$size": "$lines"}}},
                    {"$group": {"_id": None, "n": {"$sum": "$n"}}}]
        async with await self._db[collection].aggregate(pipeline) as cursor:
            async for found in cursor:
                return int(found["n"])
        return 0

    async def rows(self, report: Report, scope: Scope, conditions: list[Condition],
                   dates: DateRange, as_of: date, order: Sequence[SortKey] = ()
                   ) -> AsyncGenerator[tuple[Key, Row], None]:
        """Each row with its sort key: the document's `_id` and the row's place in it."""
        collection, match = self._query(report, scope, conditions, dates)
        source = SOURCES[report.source]
        rows_of = source.rows
        if source.with_sales:
            sales = await self._sales(report, scope, dates)
            rows_of = partial(products, sales=sales)
        sort = [(k.path, -1 if k.descending else 1) for k in order]
        if source.group_by:
            sort.insert(0, (source.group_by, 1))
        self.open_cursors += 1
        try:
            async with self._db[collection].find(match, sort=[*sort, ("_id", 1)],
                                                 batch_size=self._batch) as cursor:
                if rows_of is not None:
                    async for doc in cursor:
                        for index, row in enumerate(rows_of(doc, as_of)):
                            yield [doc["_id"], index], row
                    return
                assert source.group_rows is not None
                group: list[Doc] = []  # one customer's owed invoices: a bounded few
                async for doc in cursor:
                    if group and doc[source.group_by] != group[0][source.group_by]:
                        for key_row in _grouped(source.group_rows, group, as_of):
                            yield key_row
                        group = []
                    group.append(doc)
                for key_row in _grouped(source.group_rows, group, as_of):
                    yield key_row
        finally:
            self.open_cursors -= 1

    async def _sales(self, report: Report, scope: Scope, dates: DateRange) -> Sales:
        """Units and net sales per product on the orders the caller sees, confirmed in the
        range: one pass over those orders' lines, memory bounded by the catalog."""
        clauses = [*query.scoped(scope), *SOLD]
        if dates.start or dates.end:
            clauses.append({report.date_field: day_bounds(report.date_field, dates.start,
                                                          dates.end)})
        sales: Sales = {}
        async with self._db.sales_orders.find(
                query.all_of(clauses), {"lines.product_id": 1, "lines.quantity": 1,
                                        "lines.gross": 1, "lines.discount": 1},
                batch_size=self._batch) as cursor:
            async for order in cursor:
                add_sales(sales, order)
        return sales



def _grouped(group_rows: Callable[[list[Doc], date], Iterator[Row]], docs: list[Doc],
             as_of: date) -> Iterator[tuple[Key, Row]]:
    """A group's rows keyed by the group's first document and the row's place."""
    if docs:
        for index, row in enumerate(group_rows(docs, as_of)):
            yield [docs[0]["_id"], index], row
