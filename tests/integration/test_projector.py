"""The revenue projector against a real database: two replicas never count an event twice, a
failed pass leaves its events for the next, and a rebuild amid unprojected events neither
loses nor doubles any of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from sales_grpc.api.converters.revenue_events import revenue_fact
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.rollups import Basis, Dimension, Level, RollupKey, Tally
from sales_grpc.jobs.projector import Projector
from sales_grpc.store.projection import ProjectionQueue, ProjectorGate
from sales_grpc.store.revenue_sources import RevenueSources
from sales_grpc.store.rollups import RollupStore

from ..api.analytics_fixtures import History, known_history, write


@pytest.fixture
async def app(fresh_settings: Callable[..., Settings]) -> AsyncIterator[App]:
    app = await build(fresh_settings())  # no server: no projector of its own
    yield app
    await app.close()


def projector(app: App, rollups: Any = None, batch: int = 3) -> Projector:
    return Projector(app.mongo, ProjectionQueue(app.mongo), ProjectorGate(app.mongo),
                     rollups or RollupStore(app.mongo), RevenueSources(app.mongo), revenue_fact,
                     batch=batch)


async def drain(*projectors: Projector) -> None:
    async def run(p: Projector) -> None:
        while await p.project_pending():
            pass

    await asyncio.gather(*(run(p) for p in projectors))


def bookings_total(rows: dict[RollupKey, Tally]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for key, tally in rows.items():
        if (key.basis is Basis.BOOKINGS and key.level is Level.MONTH
                and key.dimension is Dimension.TOTAL):
            totals[key.currency] = totals.get(key.currency, Decimal(0)) + tally.amount
    return totals


def expected_bookings(history: History) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for o in history.orders:
        if o.confirmed and not o.cancelled:
            totals[o.currency] = totals.get(o.currency, Decimal(0)) + Decimal(o.total)
    return totals


async def test_two_projectors_at_once_count_every_event_exactly_once(app: App) -> None:
    history = known_history()
    await write(app.mongo, history)
    await drain(projector(app), projector(app), projector(app, batch=1))
    rows = await RollupStore(app.mongo).all_rows()
    assert bookings_total(rows) == expected_bookings(history)
    assert await app.analytics.maintenance.check() == []


class FailingOnce:
    def __init__(self, real: RollupStore) -> None:
        self.real, self.failed = real, False

    async def apply(self, rows: Any, session: Any) -> None:
        await self.real.apply(rows, session)
        if not self.failed:
            self.failed = True
            raise RuntimeError("crash after the rollup change, before the commit")


async def test_a_pass_that_fails_before_commit_leaves_its_events_for_the_next(app: App) -> None:
    history = known_history()
    await write(app.mongo, history)
    broken = projector(app, FailingOnce(RollupStore(app.mongo)), batch=1000)
    with pytest.raises(RuntimeError):
        await broken.project_pending()
    assert await RollupStore(app.mongo).all_rows() == {}
    assert await app.mongo.db.outbox.count_documents({"projected_time": None}) > 0
    await drain(broken)
    assert bookings_total(await RollupStore(app.mongo).all_rows()) == expected_bookings(history)
    assert await app.analytics.maintenance.check() == []


async def test_a_rebuild_amid_unprojected_events_leaves_nothing_to_count_twice(app: App) -> None:
    history = known_history()
    await write(app.mongo, history)
    half = projector(app, batch=5)
    await half.project_pending()  # some events projected, the rest still waiting
    report = await app.analytics.maintenance.rebuild()
    assert report.events_counted > 0
    await drain(projector(app))
    assert bookings_total(await RollupStore(app.mongo).all_rows()) == expected_bookings(history)
    assert await app.analytics.maintenance.check() == []
