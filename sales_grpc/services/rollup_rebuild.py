"""Rebuilding the revenue rollups from the documents, and checking them against the documents.

Both pause every projector first (a lease, so a crashed run cannot stop projection for good),
then read each document once. A document read as it stands holds some of its events' changes;
`Recomputed.facts` names them. An unprojected event whose change the read already holds is
counted by the rebuild, so the rebuild marks it projected; one whose change came after the read
is left for the projector. So the rollups are exact however busy the service is, and nothing is
counted twice. An interrupted rebuild leaves rollups that `check` reports; running it again
repairs them, since it depends on nothing but the documents and the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.revenue_facts import Fact
from ..domain.rollups import Contribution, RollupKey, Tally, increments
from .analytics_ports import FactReader, Gate, Projections, Recomputed, Rollups, Sources
from .clock import now as system_now

# Longer than a rebuild of a large history takes; a crashed run resumes projection after it.
PAUSE_LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class RollupDifference:
    key: RollupKey
    stored: Tally
    expected: Tally

    def __str__(self) -> str:
        k = self.key
        per = f" {k.dimension.value}={k.subject!r}" if k.subject else ""
        return (f"{k.basis.value} {k.level.value} {k.start.isoformat()} {k.currency} "
                f"owner={k.owner_id!r} team={k.team_id!r}{per}: rollup {self.stored}, "
                f"documents {self.expected}")


@dataclass(frozen=True)
class RebuildReport:
    rollups: int
    events_counted: int


class RollupMaintenance:
    def __init__(self, gate: Gate, queue: Projections, rollups: Rollups, sources: Sources,
                 read_fact: FactReader, clock: Callable[[], datetime] = system_now,
                 changed: Callable[[], Awaitable[None]] | None = None) -> None:
        self._gate = gate
        self._queue = queue
        self._rollups = rollups
        self._sources = sources
        self._read_fact = read_fact
        self._clock = clock
        self._changed = changed

    async def rebuild(self) -> RebuildReport:
        await self._gate.pause(self._clock(), PAUSE_LEASE)
        try:
            recomputed = await self._sources.recompute()
            counted, _ = await self._counted_unprojected(recomputed)
            rows = increments(recomputed.contributions)
            await self._rollups.replace(rows)
            await self._queue.mark(counted, self._clock())
        finally:
            await self._gate.resume()
        if self._changed is not None:
            await self._changed()
        return RebuildReport(len(rows), len(counted))

    async def check(self) -> list[RollupDifference]:
        """The rollups that differ from the documents (none when all is well)."""
        await self._gate.pause(self._clock(), PAUSE_LEASE)
        try:
            recomputed = await self._sources.recompute()
            _, not_yet_projected = await self._counted_unprojected(recomputed)
            stored = await self._rollups.all_rows()
        finally:
            await self._gate.resume()
        expected = increments([*recomputed.contributions,
                               *(part.negated() for part in not_yet_projected)])
        zero = Tally()
        return [RollupDifference(key, stored.get(key, zero), expected.get(key, zero))
                for key in sorted(stored.keys() | expected.keys())
                if stored.get(key) != expected.get(key)]

    async def _counted_unprojected(self, recomputed: Recomputed
                                   ) -> tuple[list[str], list[Contribution]]:
        """The unprojected events whose changes the documents read already hold (and those
        that change no revenue), and what those events add (the rollups do not hold it yet)."""
        ids: list[str] = []
        parts: list[Contribution] = []
        for doc in await self._queue.unprojected():
            fact = self._fact(doc)
            if fact is None:  # adds nothing to revenue: counted as it is, nothing to project
                ids.append(doc["_id"])
                continue
            if fact.key not in recomputed.facts:
                continue
            ids.append(doc["_id"])
            confirmed = (await self._sources.confirm_time(fact.key[1])
                         if fact.unbooks is not None else None)
            parts.extend(fact.resolved(confirmed))
        return ids, parts

    def _fact(self, doc: dict[str, Any]) -> Fact | None:
        if "payload" not in doc:
            return None
        return self._read_fact(doc["type_url"], doc["payload"], doc["occur_time"])
