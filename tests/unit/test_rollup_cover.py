"""The bucket cover: a local calendar period tiled exactly by the fewest UTC-aligned buckets."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales_grpc.domain.analytics import Period, days_cover, local_midnight, periods
from sales_grpc.domain.rollups import (
    DAY_LEVELS,
    Basis,
    Bucket,
    Level,
    NotAligned,
    cover,
    floor,
    following,
)

NEW_YORK, KOLKATA = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


def levels(buckets: list[Bucket]) -> Counter[Level]:
    return Counter(b.level for b in buckets)


def assert_tiles(buckets: list[Bucket], start: datetime, end: datetime) -> None:
    cursor = start
    for bucket in buckets:
        assert bucket.start == cursor
        cursor = following(bucket.level, bucket.start)
    assert cursor == end


def test_a_utc_month_is_one_month_bucket() -> None:
    assert cover(utc(2026, 3, 1), utc(2026, 4, 1)) == [Bucket(Level.MONTH, utc(2026, 3, 1))]


def test_a_new_york_month_is_the_utc_days_inside_it_and_hours_at_each_edge() -> None:
    start, end = local_midnight(date(2026, 1, 1), NEW_YORK), local_midnight(date(2026, 2, 1),
                                                                            NEW_YORK)
    assert (start, end) == (utc(2026, 1, 1, 5), utc(2026, 2, 1, 5))
    buckets = cover(start, end)
    assert_tiles(buckets, start, end)
    assert levels(buckets) == {Level.DAY: 31 - 1, Level.HOUR: 19 + 5}


def test_a_kolkata_day_needs_quarter_hours_at_its_half_hour_edges() -> None:
    start = local_midnight(date(2026, 3, 10), KOLKATA)
    end = local_midnight(date(2026, 3, 11), KOLKATA)
    assert start == utc(2026, 3, 9, 18, 30)
    buckets = cover(start, end)
    assert_tiles(buckets, start, end)
    assert levels(buckets) == {Level.HOUR: 23, Level.QUARTER_HOUR: 4}


def test_the_new_york_spring_forward_day_has_23_hours() -> None:
    buckets = days_cover(date(2026, 3, 8), date(2026, 3, 8), Basis.BOOKINGS, NEW_YORK)
    assert_tiles(buckets, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert sum((following(b.level, b.start) - b.start for b in buckets),
               timedelta()) == timedelta(hours=23)


def test_day_dated_revenue_is_covered_by_days_and_months_whatever_the_zone() -> None:
    buckets = days_cover(date(2026, 1, 30), date(2026, 3, 2), Basis.BILLINGS, KOLKATA)
    assert buckets == [Bucket(Level.DAY, utc(2026, 1, 30)), Bucket(Level.DAY, utc(2026, 1, 31)),
                       Bucket(Level.MONTH, utc(2026, 2, 1)), Bucket(Level.DAY, utc(2026, 3, 1)),
                       Bucket(Level.DAY, utc(2026, 3, 2))]


def test_an_end_off_the_quarter_hours_is_refused() -> None:
    with pytest.raises(NotAligned):
        cover(utc(2026, 1, 1), utc(2026, 1, 1, 0, 10))
    with pytest.raises(NotAligned):
        cover(utc(2026, 1, 1), utc(2026, 1, 1, 1), DAY_LEVELS)


def test_periods_are_cut_to_the_range_and_weeks_start_on_monday() -> None:
    assert periods(date(2026, 3, 15), date(2026, 5, 10), Period.MONTH) == [
        (date(2026, 3, 15), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 10))]
    assert periods(date(2026, 3, 4), date(2026, 3, 16), Period.WEEK) == [
        (date(2026, 3, 4), date(2026, 3, 8)), (date(2026, 3, 9), date(2026, 3, 15)),
        (date(2026, 3, 16), date(2026, 3, 16))]
    assert periods(date(2026, 2, 1), date(2026, 8, 1), Period.QUARTER) == [
        (date(2026, 2, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 8, 1))]
    assert periods(date(2000, 1, 1), date(2026, 1, 1), Period.DAY) is None


QUARTERS = st.integers(min_value=0, max_value=4 * 24 * 800)


@given(QUARTERS, QUARTERS)
def test_any_quarter_hour_interval_is_tiled_with_no_run_a_coarser_bucket_could_replace(
        a: int, b: int) -> None:
    origin = utc(2025, 1, 1)
    start, end = sorted((origin + timedelta(minutes=15 * a), origin + timedelta(minutes=15 * b)))
    buckets = cover(start, end)
    assert_tiles(buckets, start, end)
    # Fewest: no finer bucket lies inside an aligned coarser bucket that fits in the interval.
    for bucket in buckets:
        for coarser in (Level.MONTH, Level.DAY, Level.HOUR):
            if coarser is bucket.level:
                break
            outer = floor(coarser, bucket.start)
            assert not (start <= outer and following(coarser, outer) <= end)
