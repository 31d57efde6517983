"""The revenue rollups: one document per (basis, level, bucket start, currency, owner, team)
with an exact Decimal128 amount and a document count, changed only by `$inc`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from pymongo import UpdateOne

from ..domain.access import Scope
from ..domain.analytics import Amounts
from ..domain.rollups import Basis, Bucket, Level, RollupKey, Tally
from ..services.ports import Session
from . import codec, query
from .mongo import Mongo
from .sessions import driver_session

COLLECTION = "analytics_rollups"  # indexed in store/mongo.py
# Bucket starts asked for in one query; a year of days in a non-UTC zone needs ~9000 hours.
_IN_CHUNK = 2000


def _id(key: RollupKey) -> str:
    """A readable, unambiguous key: JSON of its parts (ids may hold any character)."""
    return json.dumps([key.basis.value, key.level.value, key.start.isoformat(), key.currency,
                       key.owner_id, key.team_id])


def _fields(key: RollupKey) -> dict[str, Any]:
    return {"basis": key.basis.value, "level": key.level.value, "start": key.start,
            "currency": key.currency, "owner_id": key.owner_id, "team_id": key.team_id}


def _key(doc: dict[str, Any]) -> RollupKey:
    return RollupKey(Basis(doc["basis"]), Level(doc["level"]), doc["start"].astimezone(UTC),
                     doc["currency"], doc["owner_id"], doc["team_id"])


class RollupStore:
    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db[COLLECTION]

    async def apply(self, rows: dict[RollupKey, Tally], session: Session) -> None:
        """Adds each tally to its rollup, creating it at zero first; in the caller's
        transaction, which also records what the tallies came from."""
        if not rows:
            return
        await self._docs.bulk_write(
            [UpdateOne({"_id": _id(key)},
                       {"$inc": {"amount": codec.dec(t.amount), "count": t.count},
                        "$setOnInsert": _fields(key)}, upsert=True)
             for key, t in sorted(rows.items())],
            ordered=False, session=driver_session(session))

    async def read(self, basis: Basis, buckets: Iterable[Bucket], scope: Scope, owner_id: str,
                   team_id: str) -> dict[Bucket, Amounts]:
        """The tallies per bucket and currency in `scope`, narrowed to an owner and/or team
        when given (a narrowing outside the scope matches nothing)."""
        by_level: dict[Level, list[Any]] = {}
        for bucket in set(buckets):
            by_level.setdefault(bucket.level, []).append(bucket.start)
        found: dict[Bucket, Amounts] = {}
        narrow = query.scoped(scope) + [{name: value} for name, value in (
            ("owner_id", owner_id), ("team_id", team_id)) if value]
        for level, starts in by_level.items():
            starts.sort()
            for i in range(0, len(starts), _IN_CHUNK):
                clauses = [{"basis": basis.value, "level": level.value,
                            "start": {"$in": starts[i:i + _IN_CHUNK]}}, *narrow]
                cursor = self._docs.find(query.all_of(clauses), projection={
                    "start": 1, "currency": 1, "amount": 1, "count": 1})
                async for doc in cursor:
                    amounts = found.setdefault(Bucket(level, doc["start"].astimezone(UTC)), {})
                    amounts.setdefault(doc["currency"], Tally()).add(
                        codec.undec(doc["amount"]), doc["count"])
        return found

    async def all_rows(self) -> dict[RollupKey, Tally]:
        """Every rollup that holds something (a confirm and its cancel leave a zero row)."""
        rows = {}
        async for doc in self._docs.find({}):
            tally = Tally(codec.undec(doc["amount"]), doc["count"])
            if not tally.is_zero:
                rows[_key(doc)] = tally
        return rows

    async def replace(self, rows: dict[RollupKey, Tally], batch: int = 1000) -> None:
        """Replaces every rollup; only while the projectors are paused (not atomic: readers
        may see part of the new rows for the moment it takes)."""
        await self._docs.delete_many({})
        docs = [{"_id": _id(key), **_fields(key), "amount": codec.dec(t.amount),
                 "count": t.count} for key, t in sorted(rows.items())]
        for i in range(0, len(docs), batch):
            await self._docs.insert_many(docs[i:i + batch], ordered=False)
