"""Money is exact: plain decimal strings only, known currencies, half-up minor-unit rounding."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales_grpc.domain.money import (
    MAX_ABS_AMOUNT,
    MINOR_UNITS,
    Money,
    MoneyError,
    parse_decimal,
    round_to_minor,
)


@pytest.mark.parametrize("text", ["1e3", "1E3", "NaN", "nan", "Infinity", "-inf", "abc", "",
                                  "1.2.3", "1,50", "0x10", "1_000", "--1", "12.50 USD"])
def test_parse_decimal_rejects_anything_but_a_plain_decimal(text):
    with pytest.raises(MoneyError):
        parse_decimal(text)


def test_parse_decimal_rejects_more_places_than_allowed():
    with pytest.raises(MoneyError, match="decimal places"):
        parse_decimal("1.0000001")


def test_parse_decimal_rejects_amounts_of_sixteen_integer_digits():
    with pytest.raises(MoneyError, match="out of range"):
        parse_decimal("1000000000000000")


def test_parse_decimal_keeps_a_half_cent_exact():
    assert parse_decimal("0.005") == Decimal("0.005")
    assert str(parse_decimal("0.005")) == "0.005"


def test_parse_decimal_accepts_signs_and_leading_or_trailing_points():
    assert parse_decimal("-12.50") == Decimal("-12.50")
    assert parse_decimal("+3") == Decimal(3)
    assert parse_decimal(".5") == Decimal("0.5")


def test_money_parse_rejects_an_unknown_currency():
    with pytest.raises(MoneyError, match="currency"):
        Money.parse("XYZ", "1.00")


def test_money_parse_rejects_a_lower_case_currency_code():
    with pytest.raises(MoneyError, match="currency"):
        Money.parse("usd", "1.00")


def test_money_parse_treats_an_empty_amount_as_zero():
    assert Money.parse("USD", "") == Money("USD", Decimal(0))


@pytest.mark.parametrize(("currency", "amount", "expected"), [
    ("USD", "0.005", "0.01"),
    ("USD", "0.004", "0.00"),
    ("USD", "2.675", "2.68"),
    ("USD", "-0.005", "-0.01"),
    ("JPY", "0.5", "1"),
    ("JPY", "1234.4", "1234"),
    ("BHD", "1.0005", "1.001"),
    ("BHD", "1.0004", "1.000"),
])
def test_rounding_is_half_up_to_the_currencys_minor_unit(currency, amount, expected):
    rounded = Money.parse(currency, amount).rounded()
    assert str(rounded.amount) == expected
    assert rounded.currency == currency


def test_adding_money_of_two_currencies_is_refused():
    with pytest.raises(MoneyError, match="cannot combine"):
        Money.parse("USD", "1") + Money.parse("EUR", "1")


def test_adding_and_subtracting_money_is_exact():
    total = Money.parse("USD", "0.1") + Money.parse("USD", "0.2")
    assert total.amount == Decimal("0.3")
    assert (total - Money.parse("USD", "0.3")).amount == 0


_in_range = st.decimals(min_value=-(MAX_ABS_AMOUNT - 1), max_value=MAX_ABS_AMOUNT - 1,
                        places=6, allow_nan=False, allow_infinity=False)


@given(_in_range)
def test_any_plain_decimal_within_limits_round_trips_exactly(value):
    text = format(value, "f")
    assert parse_decimal(text) == value
    assert parse_decimal(str(parse_decimal(text))) == value


@given(st.text(max_size=40))
def test_parse_decimal_raises_nothing_but_money_error(text):
    try:
        parse_decimal(text)
    except MoneyError:
        pass


@given(_in_range, st.sampled_from(sorted(MINOR_UNITS)))
def test_rounding_never_moves_an_amount_by_more_than_half_a_minor_unit(value, currency):
    rounded = round_to_minor(value, currency)
    half = Decimal(1).scaleb(-MINOR_UNITS[currency]) / 2
    assert abs(rounded - value) <= half
    assert -rounded.as_tuple().exponent == MINOR_UNITS[currency]


@pytest.mark.parametrize("text", ["١٢", "１２", "12.٥", "²"])
def test_parse_decimal_accepts_only_ascii_digits(text):
    with pytest.raises(MoneyError):
        parse_decimal(text)


@pytest.mark.parametrize(("text", "expected"), [("-0", "0"), ("-0.00", "0.00"), ("+0", "0")])
def test_a_negative_zero_reads_as_plain_zero(text, expected):
    assert str(parse_decimal(text)) == expected


@given(st.text(alphabet="0123456789.-+", min_size=1, max_size=20))
def test_whatever_parse_decimal_accepts_prints_back_without_an_exponent(text):
    try:
        value = parse_decimal(text)
    except MoneyError:
        return
    assert "E" not in str(value) and "e" not in str(value)
