"""Revenue rollups: what each document contributes, and the UTC-aligned buckets it is kept in.

A contribution lands in one bucket per level (a quarter hour, an hour, a day and a month, all
aligned in UTC). Any interval whose ends fall on quarter hours, as every calendar period of
every time zone in use does, is then tiled exactly by aligned buckets; `cover` picks the
fewest: whole months, then days, then hours, then quarter hours at the edges. Amounts dated by
calendar day (an invoice's issue date, a payment date) need only days and months.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum


class Basis(str, Enum):
    BOOKINGS = "bookings"
    BILLINGS = "billings"
    COLLECTIONS = "collections"


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
    """Bookings happen at instants; billings and collections on calendar days."""
    return INSTANT_LEVELS if basis is Basis.BOOKINGS else DAY_LEVELS


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


@dataclass(frozen=True)
class Contribution:
    """A document's signed part of one basis: `amount` and `count` (of documents) added at
    `moment` to the rollup of its currency, owner and team."""

    basis: Basis
    moment: datetime  # UTC; a calendar day's midnight for the day-dated bases
    currency: str
    owner_id: str
    team_id: str
    amount: Decimal
    count: int

    def negated(self) -> Contribution:
        return Contribution(self.basis, self.moment, self.currency, self.owner_id,
                            self.team_id, -self.amount, -self.count)


@dataclass(frozen=True, order=True)
class RollupKey:
    basis: Basis
    level: Level
    start: datetime
    currency: str
    owner_id: str
    team_id: str


@dataclass
class Tally:
    amount: Decimal = Decimal(0)
    count: int = 0

    def add(self, amount: Decimal, count: int) -> None:
        self.amount += amount
        self.count += count

    @property
    def is_zero(self) -> bool:
        return self.amount == 0 and self.count == 0


def increments(contributions: Iterable[Contribution]) -> dict[RollupKey, Tally]:
    """Every contribution added to its bucket at each level of its basis, merged per key;
    keys that net to nothing are left out."""
    rows: dict[RollupKey, Tally] = {}
    for c in contributions:
        for bucket in buckets_of(c.moment, levels_of(c.basis)):
            key = RollupKey(c.basis, bucket.level, bucket.start, c.currency, c.owner_id,
                            c.team_id)
            rows.setdefault(key, Tally()).add(c.amount, c.count)
    return {key: tally for key, tally in rows.items() if not tally.is_zero}
