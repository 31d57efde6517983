"""Analytics answers cached briefly in Redis, keyed by the question, the caller's scope, the
day and the rollups' version: every projector pass that applies events bumps the version, so
an answer never outlives the change that alters it by more than a pass. Redis trouble costs a
cache miss, never a failed call."""

from __future__ import annotations

import hashlib
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Short: the version key makes answers fresh after a change; the TTL bounds what the version
# cannot see (time passing: what is overdue today, a forecast's default end date).
ANSWER_SECONDS = 30


class AnswerCache:
    def __init__(self, redis: aioredis.Redis, namespace: str, ttl: int = ANSWER_SECONDS) -> None:
        self._redis = redis
        self._namespace = namespace
        self._ttl = ttl

    async def version(self) -> str | None:
        """The rollups' version, or None when Redis cannot say (then nothing is cached)."""
        try:
            raw = await self._redis.get(f"{self._namespace}:version")
        except RedisError as exc:
            log.warning("analytics cache: version read failed: %s", exc)
            return None
        return raw.decode() if isinstance(raw, bytes) else "0"

    async def bump(self) -> None:
        try:
            await self._redis.incr(f"{self._namespace}:version")
        except RedisError as exc:  # answers then expire within the TTL
            log.warning("analytics cache: version bump failed: %s", exc)

    def _key(self, parts: list[bytes]) -> str:
        digest = hashlib.sha256(b"\x00".join(parts)).hexdigest()
        return f"{self._namespace}:answer:{digest}"

    async def get(self, parts: list[bytes]) -> bytes | None:
        try:
            raw = await self._redis.get(self._key(parts))
        except RedisError as exc:
            log.warning("analytics cache: read failed: %s", exc)
            return None
        return raw if isinstance(raw, bytes) else None

    async def put(self, parts: list[bytes], answer: bytes) -> None:
        try:
            await self._redis.set(self._key(parts), answer, ex=self._ttl)
        except RedisError as exc:
            log.warning("analytics cache: write failed: %s", exc)
