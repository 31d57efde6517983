"""The revenue rollups: one document per (basis, level, bucket start, currency, owner, team,
and for rows kept per customer or product, the dimension and its id) with exact Decimal128
amounts and counts, changed only by `$inc`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import DeleteOne, UpdateOne

from ..domain.access import Scope
from ..domain.rollups import (
    DECIMAL_MEASURES,
    MEASURES,
    Basis,
    Bucket,
    Dimension,
    Level,
    RollupKey,
    Tally,
)
from ..services.ports import Session
from . import codec, query
from .mongo import Mongo
from .reads import AnalyticsReads
from .sessions import driver_session

COLLECTION = "analytics_rollups"  # indexed in store/mongo.py
# Bucket starts asked for in one query; a year of days in a non-UTC zone needs ~9000 hours.
_IN_CHUNK = 2000
# An equality, not `$in: ["", None]`: SecantusDB's planner reads the whole collection for an
# `$in` on this field (2.4 s instead of 64 ms at 17,000 rollups, bench/dashboard.py). Every
# rollup is written with its dimension ("" for totals); a rollup from before dimensions
# existed is rewritten by `sales-grpc analytics rebuild`, which an upgrade runs once.
_TOTALS = {"dimension": ""}


def _id(key: RollupKey) -> str:
    """A readable, unambiguous key: JSON of its parts (ids may hold any character); a totals
    row's is what it was before dimensions were kept."""
    parts = [key.basis.value, key.level.value, key.start.isoformat(), key.currency,
             key.owner_id, key.team_id]
    if key.dimension is not Dimension.TOTAL:
        parts += [key.dimension.value, key.subject]
    return json.dumps(parts)


def _fields(key: RollupKey) -> dict[str, Any]:
    return {"basis": key.basis.value, "level": key.level.value, "start": key.start,
            "currency": key.currency, "owner_id": key.owner_id, "team_id": key.team_id,
            "dimension": key.dimension.value, "subject": key.subject}


def _key(doc: dict[str, Any]) -> RollupKey:
    return RollupKey(Basis(doc["basis"]), Level(doc["level"]), doc["start"].astimezone(UTC),
                     doc["currency"], doc["owner_id"], doc["team_id"],
                     Dimension(doc.get("dimension") or ""), doc.get("subject", ""))


def _stored(t: Tally) -> dict[str, Any]:
    """The measures to add: amount and count always, the others when not zero."""
    return {name: codec.dec(value) if name in DECIMAL_MEASURES else value
            for name in MEASURES if (value := getattr(t, name)) or name in ("amount", "count")}


def tally_of(doc: dict[str, Any]) -> Tally:
    tally = Tally()
    for name in MEASURES:
        if name in doc:
            setattr(tally, name, codec.undec(doc[name]) if name in DECIMAL_MEASURES
                    else doc[name])
    return tally


class RollupStore:
    def __init__(self, mongo: Mongo, read_preference: str = "primary") -> None:
        self._docs = mongo.db[COLLECTION]
        self._reads = AnalyticsReads(mongo, read_preference)  # the answers' queries

    async def apply(self, rows: dict[RollupKey, Tally], session: Session) -> None:
        """Adds each tally to its rollup, creating it at zero first; in the caller's
        transaction, which also records what the tallies came from."""
        if not rows:
            return
        await self._docs.bulk_write(
            [UpdateOne({"_id": _id(key)}, {"$inc": _stored(t), "$setOnInsert": _fields(key)},
                       upsert=True)
             for key, t in sorted(rows.items())],
            ordered=False, session=driver_session(session))

    async def rows(self, basis: Basis, buckets: Iterable[Bucket], scope: Scope,
                   narrow: dict[str, str], dimension: Dimension = Dimension.TOTAL,
                   subjects: list[str] | None = None
                   ) -> AsyncIterator[tuple[RollupKey, Tally]]:
        """Every row of `basis` in those buckets and `scope` at one dimension, narrowed by
        `narrow` (owner_id, team_id: empty values ignored) and to `subjects` when given; an
        async iterator of (key, tally)."""
        by_level: dict[Level, list[Any]] = {}
        for bucket in set(buckets):
            by_level.setdefault(bucket.level, []).append(bucket.start)
        clauses = query.narrowed(scope, narrow)
        clauses.append(_TOTALS if dimension is Dimension.TOTAL
                       else {"dimension": dimension.value})
        if subjects is not None:
            clauses.append({"subject": {"$in": subjects}})
        for level, starts in by_level.items():
            starts.sort()
            for i in range(0, len(starts), _IN_CHUNK):
                found = [{"basis": basis.value, "level": level.value,
                          "start": {"$in": starts[i:i + _IN_CHUNK]}}, *clauses]
                async for doc in self._reads.find(COLLECTION, query.all_of(found)):
                    yield _key(doc), tally_of(doc)

    async def order_times(self, scope: Scope, narrow: dict[str, str], subjects: list[str] | None,
                          start: datetime | None, end: datetime | None, latest: bool
                          ) -> dict[str, datetime]:
        """Per customer, the quarter hour of their first (or, with `latest`, last) booking
        still counted, in scope, optionally only within [start, end): read from the customer
        rows of the finest level, where a cancelled order's bucket counts nothing."""
        clauses: list[dict[str, Any]] = [
            {"basis": Basis.BOOKINGS.value, "dimension": Dimension.CUSTOMER.value,
             "level": Level.QUARTER_HOUR.value, "count": {"$gt": 0}},
            *query.narrowed(scope, narrow)]
        if subjects is not None:
            clauses.append({"subject": {"$in": subjects}})
        if start is not None and end is not None:
            clauses.append({"start": {"$gte": start, "$lt": end}})
        pick = "$max" if latest else "$min"
        cursor = self._reads.aggregate(COLLECTION, [
            {"$match": query.all_of(clauses)},
            {"$group": {"_id": "$subject", "moment": {pick: "$start"}}}])
        return {d["_id"]: d["moment"].astimezone(UTC) async for d in cursor}

    async def all_rows(self) -> dict[RollupKey, Tally]:
        """Every rollup that holds something (a confirm and its cancel leave a zero row)."""
        rows = {}
        async for doc in self._docs.find({}):
            tally = tally_of(doc)
            if not tally.is_zero:
                rows[_key(doc)] = tally
        return rows

    async def replace(self, rows: dict[RollupKey, Tally], batch: int = 1000) -> None:
        """Replaces every rollup; only while the projectors are paused (not atomic: readers
        may see part of the new rows for the moment it takes)."""
        # One document at a time, never delete_many: see Outbox.mark_published.
        old = [DeleteOne({"_id": doc["_id"]})
               async for doc in self._docs.find({}, projection={"_id": 1})]
        for i in range(0, len(old), batch):
            await self._docs.bulk_write(old[i:i + batch], ordered=False)
        docs = [{"_id": _id(key), **_fields(key), **_stored(t)}
                for key, t in sorted(rows.items())]
        for i in range(0, len(docs), batch):
            await self._docs.insert_many(docs[i:i + batch], ordered=False)
