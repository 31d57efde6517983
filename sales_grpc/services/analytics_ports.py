"""The adapter interfaces analytics needs: rollups, the outbox as projected, the projector
gate, the documents read for a rebuild, and what is open now."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from ..domain.access import Scope
from ..domain.analytics import Amounts
from ..domain.exchange import ExchangeRate, RateBook
from ..domain.forecast import ForecastResult
from ..domain.funnel import Journey
from ..domain.revenue_facts import Fact, FactKey
from ..domain.rollups import Basis, Bucket, Contribution, Dimension, RollupKey, Tally
from .ports import Session

# Reads an outbox event (type URL, serialized payload, occur time): the revenue fact it
# records, or None (wired in bootstrap from the contract's converters).
FactReader = Callable[[str, bytes, datetime], Fact | None]


class Rollups(Protocol):
    async def apply(self, rows: dict[RollupKey, Tally], session: Session) -> None: ...

    def rows(self, basis: Basis, buckets: Iterable[Bucket], scope: Scope,
             narrow: dict[str, str], dimension: Dimension = Dimension.TOTAL,
             subjects: list[str] | None = None) -> AsyncIterator[tuple[RollupKey, Tally]]: ...

    async def order_times(self, scope: Scope, narrow: dict[str, str], subjects: list[str] | None,
                          start: datetime | None, end: datetime | None, latest: bool
                          ) -> dict[str, datetime]: ...

    async def all_rows(self) -> dict[RollupKey, Tally]: ...

    async def replace(self, rows: dict[RollupKey, Tally]) -> None: ...


class Projections(Protocol):
    async def pending(self, limit: int) -> list[str]: ...

    async def claim(self, event_ids: list[str], now: datetime, session: Session
                    ) -> list[dict[str, Any]]: ...

    async def unprojected(self) -> list[dict[str, Any]]: ...

    async def mark(self, event_ids: list[str], now: datetime) -> None: ...


class Gate(Protocol):
    async def enter(self, now: datetime, session: Session) -> bool: ...

    async def pause(self, now: datetime, lease: timedelta) -> None: ...

    async def resume(self) -> None: ...


@dataclass
class Recomputed:
    """Every contribution the documents make now, and the facts they were read with: each
    document is read as it stands at its own moment, and `facts` says which of its changes
    the contributions hold."""

    contributions: list[Contribution] = field(default_factory=list)
    facts: set[FactKey] = field(default_factory=set)


class Sources(Protocol):
    async def confirm_time(self, order_id: str, session: Session | None = None
                           ) -> datetime | None: ...

    async def recompute(self) -> Recomputed: ...


@dataclass(frozen=True)
class ProductLabel:
    sku: str = ""
    name: str = ""
    category: str = ""
    on_hand: int | None = None


class OpenWorkReader(Protocol):
    """What is open now, narrowed like the rollups (owner_id, team_id), and the catalog's
    names and categories of products."""

    async def open_quotes(self, scope: Scope, today: date,
                          narrow: dict[str, str] | None = None) -> Amounts: ...

    async def receivables(self, scope: Scope, today: date, narrow: dict[str, str] | None = None
                          ) -> tuple[Amounts, Amounts]: ...

    async def pipeline(self, scope: Scope, today: date,
                       narrow: dict[str, str] | None = None) -> Amounts: ...

    async def products_in(self, category: str) -> list[str]: ...

    async def product_labels(self, product_ids: list[str]) -> dict[str, ProductLabel]: ...


class FunnelReader(Protocol):
    async def cohort(self, scope: Scope, narrow: dict[str, str], start: datetime,
                     end: datetime) -> list[Journey]: ...


class ForecastPort(Protocol):
    async def forecast(self, history: list[Decimal], season_length: int, horizon: int,
                       currency: str = "") -> ForecastResult: ...


class Answers(Protocol):
    async def version(self) -> str | None: ...

    async def bump(self) -> None: ...

    async def get(self, parts: list[bytes]) -> bytes | None: ...

    async def put(self, parts: list[bytes], answer: bytes) -> None: ...


class RateStore(Protocol):
    async def put(self, rate: ExchangeRate) -> None: ...

    async def delete(self, reporting: str, currency: str, day: date) -> bool: ...

    async def page(self, reporting: str, currency: str, size: int, after: str
                   ) -> tuple[list[ExchangeRate], str]: ...

    async def book(self, reporting: str, currencies: list[str], first: date, last: date
                   ) -> RateBook: ...
