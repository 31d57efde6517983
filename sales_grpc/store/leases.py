"""Named leases in MongoDB (`leases`): work that must run in one process at a time, whatever
the number of replicas and workers, such as the outbox relay (store/outbox.py).

A lease is one document `{_id: name, owner, until}`. A process takes it when it is free or
expired, and renews it while it holds it; the holder counts it as its own only for half its
duration after each renewal, so it stops before anyone else may take it over (which needs the
whole duration to pass, measured by the clocks of the two processes: NTP keeps them well
within that). A holder that dies without releasing it delays the work by one duration at most.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..services.ids import claimant
from .mongo import Mongo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Lease:
    def __init__(self, mongo: Mongo, name: str, duration: timedelta = timedelta(seconds=10),
                 owner: str = "") -> None:
        self._docs = mongo.db.leases
        self.name = name
        self.duration = duration
        self.owner = owner or claimant()
        # time.monotonic() moments: renew past the first, act on it only before the second.
        self._renew_at = self._valid_until = 0.0

    @property
    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    async def hold(self) -> bool:
        """Whether this process holds the lease now: taken, or renewed once a quarter of it
        has run, in one database round trip; in between known without one."""
        started = time.monotonic()
        if started < self._renew_at:
            return True
        now = datetime.now(UTC)
        try:
            await self._docs.find_one_and_update(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"until": {"$lte": now}}]},
                {"$set": {"owner": self.owner, "until": now + self.duration}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # held by another: the upsert met its document
            self._renew_at = self._valid_until = 0.0
            return False
        # Counted from before the round trip, so never past the database's `until`.
        seconds = self.duration.total_seconds()
        self._renew_at, self._valid_until = started + seconds / 4, started + seconds / 2
        return True

    async def release(self) -> None:
        """Gives the lease up (if still ours), so another process takes over at once."""
        self._renew_at = self._valid_until = 0.0
        await self._docs.update_one({"_id": self.name, "owner": self.owner},
                                    {"$set": {"until": _EPOCH}})
