"""Analytics answers cached briefly in Redis, keyed by the question, the caller's scope, the
day and the rollups' version: every projector pass that applies events bumps the version, so
an answer never outlives the change that alters it by more than a pass. Redis trouble costs a
cache miss, never a failed call.

The version lives in one hash (`<namespace>:rollups`) with the commit point of the latest
projection behind it (store/mongo.py CommitPoint): a call that reads the version reads
analytics at or after that point (store/reads.py `read_after`), so with READ_PREFERENCE on a
secondary an answer is never computed from rollups older than its version and then cached for
everyone. One key, one Lua script: Redis Cluster needs nothing more (docs/scaling.md)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import bson
import redis.asyncio as aioredis
from bson.timestamp import Timestamp
from redis.exceptions import RedisError

from ..observability.metrics import REDIS_ERRORS, CacheCounts
from .mongo import CommitPoint
from .reads import read_after

log = logging.getLogger(__name__)

# Short: the version key makes answers fresh after a change; the TTL bounds what the version
# cannot see (time passing: what is overdue today, a forecast's default end date).
ANSWER_SECONDS = 30

# KEYS[1] the hash; ARGV the commit point (seconds, increment, BSON cluster time) or three
# empty strings. Keeps the later of the stored point and this one (replicas bump in any
# order), then increments the version.
_BUMP = """
if ARGV[1] ~= '' then
  local t = tonumber(redis.call('HGET', KEYS[1], 't') or '-1')
  local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '-1')
  local nt, ni = tonumber(ARGV[1]), tonumber(ARGV[2])
  if nt > t or (nt == t and ni > i) then
    redis.call('HSET', KEYS[1], 't', ARGV[1], 'i', ARGV[2], 'ct', ARGV[3])
  end
end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
"""


class AnswerCache:
    def __init__(self, redis: aioredis.Redis, namespace: str, ttl: int = ANSWER_SECONDS,
                 last_commit: Callable[[], CommitPoint | None] = lambda: None) -> None:
        self._redis = redis
        self._namespace = namespace
        self._state = f"{namespace}:rollups"
        self._ttl = ttl
        self._last_commit = last_commit  # the projection a bump publishes (Mongo.last_commit)
        self._bump = redis.register_script(_BUMP)
        self._counts = CacheCounts("analytics")

    async def version(self) -> str | None:
        """The rollups' version, or None when Redis cannot say (then nothing is cached). The
        rest of the call's analytics reads see the projection that made it."""
        try:
            version, t, i, cluster_time = await self._redis.hmget(
                self._state, ["version", "t", "i", "ct"])
        except RedisError as exc:
            log.warning("analytics cache: version read failed: %s", exc)
            REDIS_ERRORS.labels("analytics_cache.version").inc()
            return None
        if t is not None and i is not None and isinstance(cluster_time, bytes):
            read_after(CommitPoint(bson.decode(cluster_time), Timestamp(int(t), int(i))))
        return version.decode() if isinstance(version, bytes) else "0"

    async def bump(self) -> None:
        point = self._last_commit()
        args: list[bytes | int | str] = (
            ["", "", ""] if point is None else
            [point.operation_time.time, point.operation_time.inc,
             bson.encode(point.cluster_time)])
        try:
            await self._bump(keys=[self._state], args=args)
        except RedisError as exc:  # answers then expire within the TTL
            log.warning("analytics cache: version bump failed: %s", exc)
            REDIS_ERRORS.labels("analytics_cache.bump").inc()

    def _key(self, parts: list[bytes]) -> str:
        digest = hashlib.sha256(b"\x00".join(parts)).hexdigest()
        return f"{self._namespace}:answer:{digest}"

    async def get(self, parts: list[bytes]) -> bytes | None:
        try:
            raw = await self._redis.get(self._key(parts))
        except RedisError as exc:
            log.warning("analytics cache: read failed: %s", exc)
            REDIS_ERRORS.labels("analytics_cache.read").inc()
            self._counts.miss()
            return None
        if isinstance(raw, bytes):
            self._counts.hit()
            return raw
        self._counts.miss()
        return None

    async def put(self, parts: list[bytes], answer: bytes) -> None:
        try:
            await self._redis.set(self._key(parts), answer, ex=self._ttl)
        except RedisError as exc:
            log.warning("analytics cache: write failed: %s", exc)
            REDIS_ERRORS.labels("analytics_cache.write").inc()
