"""The database as analytics queries read it: with the READ_PREFERENCE the settings name, so
a replica set can serve them from secondaries. Writes and transactions never use it.

A secondary may lag the primary, so a read sent there goes through a causally consistent
session advanced to the latest commit it must see: the latest transaction this process
committed (so a caller's confirm, then their dashboard on the same replica, shows it), and the
projector commit behind the analytics answers' version (`read_after`, set by
store/answer_cache.py, so an answer cached under a version was computed from at least the
rollups that made that version, on whichever replica). The member waits until it has applied
that point before answering. With READ_PREFERENCE=primary there is no session and no wait.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_preferences import ReadPreference, _ServerMode

from .mongo import CommitPoint, Mongo

_MODES: dict[str, _ServerMode] = {
    "primary": ReadPreference.PRIMARY, "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST}

# The commit this call's analytics reads must see besides this process's own (per call: each
# gRPC call runs in a task of its own, with its own copy of the context).
_after: ContextVar[CommitPoint | None] = ContextVar("analytics_read_after", default=None)


def reading(mongo: Mongo, preference: str = "primary") -> AsyncDatabase[dict[str, Any]]:
    if preference == "primary":
        return mongo.db
    return mongo.db.with_options(read_preference=_MODES[preference])


def later(a: CommitPoint | None, b: CommitPoint | None) -> CommitPoint | None:
    if a is None or (b is not None and b.operation_time > a.operation_time):
        return b
    return a


def read_after(point: CommitPoint | None) -> None:
    """The rest of this call's analytics reads see at least `point`."""
    _after.set(later(_after.get(), point))


class AnalyticsReads:
    """Analytics queries on `preference`, each in a causally consistent session when it may
    be answered by a secondary."""

    def __init__(self, mongo: Mongo, preference: str = "primary") -> None:
        self.db = reading(mongo, preference)
        self._mongo = mongo
        self._anywhere = preference != "primary"

    def point(self) -> CommitPoint | None:
        return later(self._mongo.last_commit, _after.get())

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncClientSession | None]:
        point = self.point() if self._anywhere else None
        if point is None:
            yield None
            return
        async with self._mongo.client.start_session(causal_consistency=True) as session:
            session.advance_cluster_time(point.cluster_time)
            session.advance_operation_time(point.operation_time)
            yield session

    async def find(self, collection: str, filter: Mapping[str, Any], **options: Any
                   ) -> AsyncIterator[dict[str, Any]]:
        async with self.session() as session:
            async for doc in self.db[collection].find(filter, session=session, **options):
                yield doc

    async def aggregate(self, collection: str, pipeline: list[dict[str, Any]]
                        ) -> AsyncIterator[dict[str, Any]]:
        async with self.session() as session:
            cursor = await self.db[collection].aggregate(pipeline, session=session)
            async for doc in cursor:
                yield doc
