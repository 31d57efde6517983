"""Revenue rollups: what each document contributes, and the UTC-aligned buckets it is kept in.

A contribution lands in one bucket per level (a quarter hour, an hour, a day and a month, all
aligned in UTC). Any interval whose ends fall on quarter hours, as every calendar period of
every time zone in use does, is then tiled exactly by aligned buckets; `cover` picks the
fewest: whole months, then days, then hours, then quarter hours at the edges. Amounts dated by
calendar day (an invoice's issue date, a payment date) need only days and months.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum


class Basis(str, Enum):
    BOOKINGS = "bookings"
    BILLINGS = "billings"
    COLLECTIONS = "collections"
    # Quote outcomes at their instants: counts and grand totals, for win rates.
    QUOTES_SENT = "quotes_sent"
    QUOTES_ACCEPTED = "quotes_accepted"
    QUOTES_REJECTED = "quotes_rejected"
    QUOTES_EXPIRED = "quotes_expired"


class Dimension(str, Enum):
    """What a rollup row is kept per, beyond currency, owner and team: nothing more (the
    totals), a customer, or a product (order lines: units and net amounts)."""

    TOTAL = ""
    CUSTOMER = "customer"
    PRODUCT = "product"


class Level(str, Enum):
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    QUARTER_HOUR = "m15"


_FIXED = {Level.DAY: timedelta(days=1), Level.HOUR: timedelta(hours=1),
          Level.QUARTER_HOUR: timedelta(minutes=15)}
INSTANT_LEVELS = (Level.MONTH, Level.DAY, Level.HOUR, Level.QUARTER_HOUR)
DAY_LEVELS = (Level.MONTH, Level.DAY)


def levels_of(basis: Basis) -> tuple[Level, ...]:
    """Bookings and quote outcomes happen at instants; billings and collections on calendar
    days."""
    return DAY_LEVELS if basis in (Basis.BILLINGS, Basis.COLLECTIONS) else INSTANT_LEVELS


class NotAligned(ValueError):
    """An interval end that no bucket of the finest level starts at."""


@dataclass(frozen=True, order=True)
class Bucket:
    level: Level
    start: datetime  # UTC


def floor(level: Level, t: datetime) -> datetime:
    t = t.astimezone(UTC).replace(second=0, microsecond=0)
    if level is Level.MONTH:
        return t.replace(day=1, hour=0, minute=0)
    if level is Level.DAY:
        return t.replace(hour=0, minute=0)
    if level is Level.HOUR:
        return t.replace(minute=0)
    return t.replace(minute=t.minute - t.minute % 15)


def following(level: Level, start: datetime) -> datetime:
    """The start of the bucket after the one starting at `start`."""
    if level is Level.MONTH:
        year, month = divmod(start.year * 12 + start.month, 12)
        return start.replace(year=year, month=month + 1)
    return start + _FIXED[level]


def ceil(level: Level, t: datetime) -> datetime:
    start = floor(level, t)
    return start if start == t else following(level, start)


def aligned(t: datetime, level: Level = Level.QUARTER_HOUR) -> bool:
    return floor(level, t) == t


def day_start(day: date) -> datetime:
    """A calendar day as rollups keep it: its UTC midnight."""
    return datetime.combine(day, time(), UTC)


def buckets_of(moment: datetime, levels: Iterable[Level]) -> list[Bucket]:
    return [Bucket(level, floor(level, moment)) for level in levels]


def cover(start: datetime, end: datetime, levels: tuple[Level, ...] = INSTANT_LEVELS
          ) -> list[Bucket]:
    """The fewest aligned buckets that tile [start, end), coarsest first per stretch.

    Both ends must fall on the finest level's buckets (NotAligned otherwise)."""
    if not (aligned(start, levels[-1]) and aligned(end, levels[-1])):
        raise NotAligned(f"{start.isoformat()} .. {end.isoformat()} is not on "
                         f"{levels[-1].value} boundaries")
    return _cover(start.astimezone(UTC), end.astimezone(UTC), levels)


def _cover(start: datetime, end: datetime, levels: tuple[Level, ...]) -> list[Bucket]:
    if start >= end:
        return []
    level, finer = levels[0], levels[1:]
    first, last = ceil(level, start), floor(level, end)
    if first >= last:
        return _cover(start, end, finer)
    middle = []
    cursor = first
    while cursor < last:
        middle.append(Bucket(level, cursor))
        cursor = following(level, cursor)
    return [*_cover(start, first, finer), *middle, *_cover(last, end, finer)]


@dataclass
class Tally:
    """What a rollup holds: an exact amount and a document count, and the measures some rows
    add: units sold (product rows), gross and discount (bookings: subtotal and discount
    total), orders cancelled after confirmation (bookings, at the confirm time) and days
    from issue to payment summed over payments (collections)."""

    amount: Decimal = Decimal(0)
    count: int = 0
    units: int = 0
    gross: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    cancelled: int = 0
    days: int = 0

    def add(self, amount: Decimal, count: int) -> None:
        self.amount += amount
        self.count += count

    def merge(self, other: Tally) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def negated(self) -> Tally:
        return Tally(**{name: -getattr(self, name) for name in MEASURES})

    @property
    def is_zero(self) -> bool:
        return all(getattr(self, name) == 0 for name in MEASURES)


MEASURES = ("amount", "count", "units", "gross", "discount", "cancelled", "days")
DECIMAL_MEASURES = frozenset({"amount", "gross", "discount"})


@dataclass(frozen=True)
class Contribution:
    """A document's signed part of one basis: its tally added at `moment` to the rollup of
    its currency, owner and team, per `dimension` (and its `subject`, a customer or product
    id, for those kept per one)."""

    basis: Basis
    moment: datetime  # UTC; a calendar day's midnight for the day-dated bases
    currency: str
    owner_id: str
    team_id: str
    amount: Decimal
    count: int
    dimension: Dimension = Dimension.TOTAL
    subject: str = ""
    extra: Tally | None = None  # the measures beyond amount and count

    def tally(self) -> Tally:
        t = Tally() if self.extra is None else Tally(**{
            name: getattr(self.extra, name) for name in MEASURES})
        t.add(self.amount, self.count)
        return t

    def negated(self) -> Contribution:
        return replace(self, amount=-self.amount, count=-self.count,
                       extra=None if self.extra is None else self.extra.negated())

    def per(self, dimension: Dimension, subject: str) -> Contribution:
        return replace(self, dimension=dimension, subject=subject)


@dataclass(frozen=True, order=True)
class RollupKey:
    basis: Basis
    level: Level
    start: datetime
    currency: str
    owner_id: str
    team_id: str
    dimension: Dimension = Dimension.TOTAL
    subject: str = ""


def increments(contributions: Iterable[Contribution]) -> dict[RollupKey, Tally]:
    """Every contribution added to its bucket at each level of its basis, merged per key;
    keys that net to nothing are left out."""
    rows: dict[RollupKey, Tally] = {}
    for c in contributions:
        for bucket in buckets_of(c.moment, levels_of(c.basis)):
            key = RollupKey(c.basis, bucket.level, bucket.start, c.currency, c.owner_id,
                            c.team_id, c.dimension, c.subject)
            rows.setdefault(key, Tally()).merge(c.tally())
    return {key: tally for key, tally in rows.items() if not tally.is_zero}
