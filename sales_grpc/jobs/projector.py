"""The revenue projector: every replica runs one beside its server (api/server.py starts and
stops it like the outbox relay).

Each pass claims a batch of unprojected outbox events and applies what they add to the rollups,
in one transaction: the claim (`projected_time`, set only where unset) and the rollup `$inc`s
commit together or not at all. Two replicas claiming the same events conflict and the loser's
retry finds them taken, so no event counts twice; a crash anywhere leaves the events
unprojected for the next pass. A paused gate (a rebuild at work) stops every pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from pymongo.errors import PyMongoError

from ..domain.rollups import Contribution, increments
from ..services.analytics_ports import FactReader, Gate, Projections, Rollups, Sources
from ..services.clock import now as system_now
from ..services.ports import Session, Transactions

log = logging.getLogger(__name__)


class Projector:
    def __init__(self, transactions: Transactions, queue: Projections, gate: Gate,
                 rollups: Rollups, sources: Sources, read_fact: FactReader, *,
                 poll_seconds: float = 1.0, batch: int = 200,
                 clock: Callable[[], datetime] = system_now,
                 changed: Callable[[], Awaitable[None]] | None = None) -> None:
        self._transactions = transactions
        self._queue = queue
        self._gate = gate
        self._rollups = rollups
        self._sources = sources
        self._read_fact = read_fact
        self._poll = poll_seconds
        self._batch = batch
        self._clock = clock
        self._stopped = asyncio.Event()
        self._changed = changed  # told after each pass that applied events (cached answers)

    async def project_pending(self) -> int:
        """Projects one batch; returns how many events this pass claimed."""
        event_ids = await self._queue.pending(self._batch)
        if not event_ids:
            return 0

        async def work(session: Session) -> int:
            moment = self._clock()
            if not await self._gate.enter(moment, session):
                return 0
            claimed = await self._queue.claim(event_ids, moment, session)
            parts: list[Contribution] = []
            for doc in claimed:
                if "payload" not in doc:  # written before payloads were stored; never read
                    continue
                try:
                    fact = self._read_fact(doc["type_url"], doc["payload"], doc["occur_time"])
                except Exception:  # noqa: BLE001 - one unreadable event must not stop the rest
                    log.exception("revenue projector: cannot read event %s; it is left out "
                                  "(`sales-grpc analytics check` shows the difference)",
                                  doc["_id"])
                    continue
                if fact is None:
                    continue
                confirmed = (await self._sources.confirm_time(fact.key[1], session)
                             if fact.unbooks is not None else None)
                parts.extend(fact.resolved(confirmed))
            await self._rollups.apply(increments(parts), session)
            return len(claimed)

        claimed = await self._transactions.run_transaction(work)
        if claimed and self._changed is not None:
            await self._changed()
        return claimed

    async def run(self) -> None:
        """Projects until `stop()`; a full batch is followed at once by the next."""
        while not self._stopped.is_set():
            try:
                if await self.project_pending() < self._batch:
                    await self._pause(self._poll)
            except PyMongoError as exc:
                log.warning("revenue projector: %s; retrying", exc)
                await self._pause(max(self._poll, 1.0))
            except Exception:  # a bug must not end projection on this server for good
                log.exception("revenue projector pass failed; retrying")
                await self._pause(max(self._poll, 1.0))

    def stop(self) -> None:
        self._stopped.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)
