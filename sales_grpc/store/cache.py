"""A read-through cache of MongoDB documents in Redis, dropped after every committed write.

Reads that are not part of a transaction may be served from the cache; writes drop the entry
once they are durable (after the commit, for writes inside a transaction). A read that races
a write can put back the older document, so entries also expire after `ttl` seconds: a cached
read is at most that stale in the race and exact otherwise. Writes never trust the cache: they
are version-checked against MongoDB. Redis trouble only costs speed: the database answers.
"""

from __future__ import annotations

import logging
from typing import Any

import bson
import redis.asyncio as aioredis
from bson.codec_options import CodecOptions
from redis.exceptions import RedisError

from ..observability.metrics import REDIS_ERRORS, CacheCounts

log = logging.getLogger(__name__)
_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)


class DocumentCache:
    def __init__(self, redis: aioredis.Redis, namespace: str, ttl: int = 300,
                 name: str = "customer") -> None:
        self._redis = redis
        self._namespace = namespace
        self._ttl = ttl
        self._name = name
        self._counts = CacheCounts(name)

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self._redis.get(self._key(key))
        except RedisError as exc:
            log.warning("cache read failed: %s", exc)
            REDIS_ERRORS.labels(f"{self._name}_cache.read").inc()
            self._counts.miss()
            return None
        if not isinstance(raw, bytes):
            self._counts.miss()
            return None
        self._counts.hit()
        return bson.decode(raw, codec_options=_CODEC)

    async def put(self, key: str, doc: dict[str, Any]) -> None:
        try:
            await self._redis.set(self._key(key), bson.encode(doc), ex=self._ttl)
        except RedisError as exc:
            log.warning("cache write failed: %s", exc)
            REDIS_ERRORS.labels(f"{self._name}_cache.write").inc()

    async def drop(self, key: str) -> None:
        try:
            await self._redis.delete(self._key(key))
        except RedisError as exc:  # the entry expires by itself within the ttl
            log.warning("cache invalidation failed: %s", exc)
            REDIS_ERRORS.labels(f"{self._name}_cache.drop").inc()
