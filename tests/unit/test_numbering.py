"""Number series definitions: formats, counters per year, and formats refused at start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sales_grpc.config import Settings
from sales_grpc.domain.numbering import (
    CREDIT_NOTE,
    CUSTOMER_CODE,
    INVOICE,
    QUOTE,
    SALES_ORDER,
    Policy,
    Reset,
    Series,
    SeriesError,
)

MOMENT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_a_number_shows_the_documents_year_and_the_zero_padded_sequence():
    series = Series(SALES_ORDER, "SO-{year}-{seq:06d}", Policy.BLOCK)
    assert series.number(42, MOMENT) == "SO-2026-000042"


def test_a_yearly_series_counts_per_year_and_a_lasting_one_under_its_own_name():
    yearly = Series(SALES_ORDER, "SO-{year}-{seq:06d}", Policy.BLOCK)
    lasting = Series(CUSTOMER_CODE, "CUST-{seq:06d}", Policy.BLOCK, Reset.NEVER)
    assert yearly.counter_id(MOMENT) == "sales_order:2026"
    assert yearly.counter_id(MOMENT.replace(year=2027)) == "sales_order:2027"
    assert lasting.counter_id(MOMENT) == lasting.counter_id(MOMENT.replace(year=2027))
    assert lasting.counter_id(MOMENT) == "customer_code"


def test_a_sequence_below_one_is_never_formatted():
    series = Series(CUSTOMER_CODE, "CUST-{seq:06d}", Policy.BLOCK, Reset.NEVER)
    assert series.number(1, MOMENT) == "CUST-000001"
    with pytest.raises(ValueError, match="positive"):
        series.number(0, MOMENT)


@pytest.mark.parametrize(("fmt", "reason"), [
    ("SO-{year}", "must contain {seq}"),
    ("SO-{seq:06d}", "must contain {year}"),
    ("SO-{year}-{number}", "names {number}"),
    ("SO-{year}-{}", "names {}"),
    ("SO-{year}-{0}", "names {0}"),
    ("SO-{year}-{seq.real}", "names {seq.real}"),
    ("SO-{year}-{seq", "malformed"),
    ("SO-{year}-{seq:06q}", "cannot format"),
    ("SO-{year}-{seq:{width}}", "cannot format"),
])
def test_a_yearly_format_that_cannot_give_unique_numbers_is_refused(fmt, reason):
    with pytest.raises(SeriesError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        Series(SALES_ORDER, fmt, Policy.BLOCK)


def test_a_gapless_series_takes_no_blocks_and_no_series_takes_an_empty_one():
    with pytest.raises(SeriesError, match="one number at a time"):
        Series(INVOICE, "INV-{year}-{seq:06d}", Policy.GAPLESS, block=10)
    with pytest.raises(SeriesError, match="at least 1"):
        Series(QUOTE, "QT-{year}-{seq:06d}", Policy.BLOCK, block=0)


def test_the_settings_define_every_series_with_its_policy_and_default_format():
    series = Settings().number_series()
    assert {name: (s.policy, s.number(7, MOMENT)) for name, s in series.items()} == {
        SALES_ORDER: (Policy.BLOCK, "SO-2026-000007"),
        CUSTOMER_CODE: (Policy.BLOCK, "CUST-000007"),
        QUOTE: (Policy.BLOCK, "QT-2026-000007"),
        INVOICE: (Policy.GAPLESS, "INV-2026-000007"),
        CREDIT_NOTE: (Policy.GAPLESS, "CN-2026-000007"),
    }
    assert series[SALES_ORDER].block == Settings().order_number_block


def test_formats_and_blocks_come_from_the_environment():
    settings = Settings.from_env({"INVOICE_NUMBER_FORMAT": "F{year}/{seq:05d}",
                                  "CUSTOMER_CODE_FORMAT": "C{seq}", "ORDER_NUMBER_BLOCK": "3"})
    series = settings.number_series()
    assert series[INVOICE].number(12, MOMENT) == "F2026/00012"
    assert series[CUSTOMER_CODE].number(12, MOMENT) == "C12"
    assert series[SALES_ORDER].block == 3


@pytest.mark.parametrize(("name", "value"), [
    ("ORDER_NUMBER_FORMAT", "SO-{seq:06d}"),
    ("CUSTOMER_CODE_FORMAT", "CUST"),
    ("QUOTE_NUMBER_FORMAT", "QT-{yaer}-{seq}"),
    ("INVOICE_NUMBER_FORMAT", "INV-{year}-{seq:06x"),
    ("CREDIT_NOTE_NUMBER_FORMAT", "CN-{year}"),
    ("ORDER_NUMBER_BLOCK", "0"),
    ("QUOTE_NUMBER_BLOCK", "-5"),
])
def test_a_bad_number_setting_stops_the_start_naming_its_variable(name, value):
    with pytest.raises(ValueError, match=f"^{name}="):
        Settings.from_env({name: value})
