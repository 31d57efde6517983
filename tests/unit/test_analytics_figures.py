"""Pure analytics rules: exact ratios, the year before a leap day, growth and moving averages,
the rate in effect on a day, a funnel's steps in order, and a forecast's whole periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sales_grpc.domain.analytics import Period, RevenueQuery
from sales_grpc.domain.errors import InvalidArgument, Violations
from sales_grpc.domain.exchange import ExchangeRate, RateBook, convert
from sales_grpc.domain.forecast_query import ForecastAsk, ForecastQuery
from sales_grpc.domain.funnel import Journey, Reached, Step, funnel
from sales_grpc.domain.rollups import Tally
from sales_grpc.domain.sales_figures import growth, ratio, trend, year_before


def test_ratios_are_exact_decimals_rounded_half_even_and_empty_on_a_zero_base() -> None:
    assert ratio(1, 3) == "0.333333"
    assert ratio(Decimal("0.0000005"), 1) == "0"  # half-even: not "-0" or "0.000001"
    assert ratio(1, 8) == "0.125" and ratio(5, 0) == ""
    assert growth(Decimal("150"), Decimal("100")) == "0.5"
    assert growth(Decimal("0"), Decimal("100")) == "-1"
    assert ratio(140, 1) == "140"  # no exponent


def test_the_year_before_a_leap_day_is_the_28th() -> None:
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_before(date(2026, 3, 1)) == date(2025, 3, 1)


def test_a_trend_compares_with_the_period_before_the_range_and_averages_its_window() -> None:
    def usd(amount: str) -> dict[str, Tally]:
        return {"USD": Tally(Decimal(amount), 1)}

    spans = [(date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]
    out = trend(spans, [usd("30"), {}], [usd("10"), usd("20")], [{}, usd("5")], 3)
    feb, mar = (p.amounts[0] for p in out)
    assert (feb.period_over_period, feb.year_over_year, feb.moving_average) == (
        "0.5", "", Decimal(20))
    assert (mar.period_over_period, mar.year_over_year) == ("-1", "-1")
    assert mar.moving_average == Decimal(50) / 3


def test_the_rate_in_effect_is_the_last_set_on_or_before_the_day() -> None:
    book = RateBook("USD")
    for day, rate in (("2026-03-15", "1.2"), ("2026-03-01", "1.1")):
        book.add(ExchangeRate.parse("EUR", "USD", day, rate, "admin"))
    assert book.on("EUR", date(2026, 2, 28)) is None
    assert book.on("EUR", date(2026, 3, 14)) == Decimal("1.1")
    assert book.on("EUR", date(2026, 3, 15)) == Decimal("1.2")
    assert book.on("USD", date(2000, 1, 1)) == 1
    got = convert({"EUR": Tally(Decimal("10.005"), 1), "USD": Tally(Decimal("1"), 1),
                   "GBP": Tally(Decimal("3"), 1)}, book, date(2026, 3, 31))
    assert (got.amount, got.unconverted) == (Decimal("13.01"), ("GBP",))
    with pytest.raises(InvalidArgument):
        ExchangeRate.parse("EUR", "EUR", "2026-01-01", "1", "admin")


def test_a_funnel_counts_a_step_only_after_the_one_before_and_takes_median_waits() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)

    def journey(*hours: int | None) -> Journey:
        j = Journey("USD")
        for step, h in zip(list(Step), hours, strict=False):
            if h is not None:
                j.steps[step] = Reached(t0 + timedelta(hours=h), Decimal(10))
        return j

    stages = funnel([journey(0, 1, 3), journey(0, 3), journey(0, None, 5), journey(0)])
    assert [s.count for s in stages] == [4, 2, 1, 0, 0, 0]  # no sent step, no acceptance
    assert stages[1].median_seconds == 2 * 3600 and stages[2].median_seconds == 2 * 3600
    assert stages[0].median_seconds is None and stages[3].values == {}


def test_a_forecast_fits_whole_periods_up_to_the_end_date_and_forecasts_the_next() -> None:
    ask = ForecastAsk("2026-11-27", "UTC", Period.MONTH, None, "USD", 2, 12, 0, False)
    q = ForecastQuery.of(ask, date(2030, 1, 1), Violations())
    assert q.history.spans[0] == (date(2025, 11, 1), date(2025, 11, 30))
    assert q.history.spans[-1] == (date(2026, 10, 1), date(2026, 10, 31))
    assert q.future == [(date(2026, 11, 1), date(2026, 11, 30)),
                        (date(2026, 12, 1), date(2026, 12, 31))]
    assert q.season == 12
    with pytest.raises(InvalidArgument) as bad:
        ForecastQuery.of(ForecastAsk("", "UTC", None, None, "", 0, 0, 0, True), date(2026, 1, 1),
                         Violations())
    assert {v.field for v in bad.value.violations} == {"product_id", "horizon"}


@pytest.mark.parametrize("first,last", [("1970-01-01", "1970-01-31"), ("1971-12-01", "1972-01-31")])
def test_a_zone_whose_offset_is_not_a_whole_quarter_hour_is_named_not_guessed(first, last):
    """Liberia kept -0:44:30 until 1972: days there cannot be cut from 15-minute rows."""
    with pytest.raises(InvalidArgument) as err:
        RevenueQuery.parse(first, last, "Africa/Monrovia", Period.MONTH, None, "", "")
    assert [v.field for v in err.value.violations] == ["time_zone"]
    assert "not a whole quarter hour" in err.value.violations[0].description
    query = RevenueQuery.parse("2020-01-01", "2020-01-31", "Africa/Monrovia", Period.MONTH,
                               None, "", "")
    with pytest.raises(InvalidArgument, match="quarter hour"):
        query.cover_of(date(1971, 12, 1), date(1971, 12, 31))
