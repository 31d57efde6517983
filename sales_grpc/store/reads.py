"""The database as analytics queries read it: with the READ_PREFERENCE the settings name, so
a replica set can serve them from secondaries. Writes and transactions never use it."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_preferences import ReadPreference, _ServerMode

from .mongo import Mongo

_MODES: dict[str, _ServerMode] = {
    "primary": ReadPreference.PRIMARY, "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST}


def reading(mongo: Mongo, preference: str = "primary") -> AsyncDatabase[dict[str, Any]]:
    if preference == "primary":
        return mongo.db
    return mongo.db.with_options(read_preference=_MODES[preference])
