"""The outbox as the projector reads it, and the gate that pauses every projector.

An event is projected once: its outbox entry gets `projected_time` in the same transaction as
the rollup change it causes, and only if it had none (two replicas claiming one event conflict,
and the loser's retry finds it taken). Entries are projected whether or not revenue reads them,
so the index of unprojected ones stays small.

The gate is one document every projector transaction writes: a rebuild that pauses it (a plain
write) makes any projector transaction that started before conflict and retry, and the retry
sees the pause, so no projection commits while the rebuild works.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne

from ..services.ports import Session
from .mongo import Mongo
from .sessions import driver_session

_UNPROJECTED = {"projected_time": None}
_GATE = "projector"


class ProjectionQueue:
    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db.outbox

    async def pending(self, limit: int) -> list[str]:
        """Ids of the oldest unprojected events."""
        cursor = self._docs.find(_UNPROJECTED, projection={"_id": 1},
                                 sort=[("occur_time", ASCENDING)],
                                 limit=limit)
        return [doc["_id"] async for doc in cursor]

    async def claim(self, event_ids: list[str], now: datetime, session: Session
                    ) -> list[dict[str, Any]]:
        """Marks those of the events still unprojected as projected now, in the caller's
        transaction, and returns them (type_url, payload, occur_time)."""
        s = driver_session(session)
        stamp = {"projected_time": now, "projection_mark": uuid.uuid4().hex}
        await self._docs.update_many({"_id": {"$in": event_ids}, **_UNPROJECTED},
                                     {"$set": stamp}, session=s)
        cursor = self._docs.find({"_id": {"$in": event_ids},
                                  "projection_mark": stamp["projection_mark"]},
                                 projection={"type_url": 1, "payload": 1, "occur_time": 1},
                                 session=s)
        return await cursor.to_list()

    async def unprojected(self) -> list[dict[str, Any]]:
        """Every unprojected event: the ones a rebuild may find already counted."""
        cursor = self._docs.find(_UNPROJECTED,
                                 projection={"type_url": 1, "payload": 1, "occur_time": 1})
        return await cursor.to_list()

    async def mark(self, event_ids: list[str], now: datetime) -> None:
        """Marks events projected outside any transaction (a rebuild counted them)."""
        if event_ids:
            # Single-document updates, outside any transaction: see Outbox.mark_published.
            await self._docs.bulk_write(
                [UpdateOne({"_id": event_id, **_UNPROJECTED}, {"$set": {"projected_time": now}})
                 for event_id in event_ids], ordered=False)


class ProjectorGate:
    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db.analytics_state

    async def enter(self, now: datetime, session: Session) -> bool:
        """In a projector's transaction: whether projecting may go on. Writes the gate, so a
        pause made meanwhile aborts the transaction (a write conflict, retried)."""
        doc = await self._docs.find_one_and_update(
            {"_id": _GATE}, {"$inc": {"passes": 1}}, upsert=True,
            return_document=ReturnDocument.AFTER, session=driver_session(session))
        until = (doc or {}).get("paused_until")
        return until is None or until <= now

    async def pause(self, now: datetime, lease: timedelta) -> None:
        """Stops every projector until `resume` or for `lease` at most (a crashed rebuild
        must not stop projection for good)."""
        await self._docs.update_one({"_id": _GATE}, {"$set": {"paused_until": now + lease}},
                                    upsert=True)

    async def resume(self) -> None:
        await self._docs.update_one({"_id": _GATE}, {"$set": {"paused_until": None}},
                                    upsert=True)
