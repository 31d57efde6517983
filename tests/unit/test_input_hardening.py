"""Inputs that misbehave, as pure rules: times at the edges, quoted input kept short, status
caps, amounts past the cap or finer than the currency, invisible text and malformed etags."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bson import json_util
from google.rpc import error_details_pb2

from sales_grpc.api.errors import to_status
from sales_grpc.domain import validation as check
from sales_grpc.domain.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
    Violations,
    shown,
)
from sales_grpc.domain.listing import parse_filter, parse_order_by, time_converter
from sales_grpc.domain.money import Money, MoneyError, check_currency, parse_decimal
from sales_grpc.domain.pricing import LineAmounts, check_within_cap, total
from sales_grpc.domain.records import Versioned
from sales_grpc.services.customers import FILTERS as CUSTOMER_FILTERS
from sales_grpc.services.order_queries import FILTERS as ORDER_FILTERS
from sales_grpc.services.order_queries import ORDER_BY as ORDER_ORDER
from sales_grpc.store.paging import PageTokens

HUGE = "x" * 100_000


# -- times -------------------------------------------------------------------------------


def test_a_time_with_an_offset_is_normalised_to_utc():
    moment = time_converter("2026-01-01T02:00:00+02:00")
    assert moment == datetime(2026, 1, 1, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("raw", "expected"), [
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ("0001-01-01T14:00:00+14:00", datetime(1, 1, 1, tzinfo=UTC)),
    ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("9999-12-31T09:59:59.999999-14:00", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
])
def test_the_first_and_last_moments_of_the_timestamp_range_are_accepted(raw, expected):
    assert time_converter(raw) == expected


@pytest.mark.parametrize("raw", [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T13:59:59+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:30:00-00:30",
])
def test_a_time_outside_the_timestamp_range_once_in_utc_is_refused(raw):
    with pytest.raises(ValueError, match="out of range"):
        time_converter(raw)


def test_an_out_of_range_time_in_a_filter_is_invalid_argument_on_filter():
    with pytest.raises(InvalidArgument) as error:
        parse_filter('create_time > "0001-01-01T00:00:00+14:00"', ORDER_FILTERS)
    assert [v.field for v in error.value.violations] == ["filter"]


@pytest.mark.parametrize("moment", [
    time_converter("0001-01-02T00:00:00Z"), time_converter("0001-01-01T00:00:00Z"),
    time_converter("9999-12-31T23:59:59.999Z"),
])
def test_a_page_token_and_a_query_fingerprint_carry_an_extreme_time(moment):
    tokens = PageTokens("unit-test-secret")
    [back] = tokens.decode(tokens.encode("q", [moment]), "q")
    assert back.replace(tzinfo=UTC) == moment
    [condition] = parse_filter(f'create_time > "{moment.isoformat()}"', ORDER_FILTERS)
    query = {condition.path: {"$gt": condition.value}}
    assert json_util.loads(json_util.dumps(query))[condition.path]["$gt"] == \
        moment.replace(tzinfo=None)


@pytest.mark.parametrize(("text", "quoted"), [
    ("create_time > 2026-01-01T00:00:00Z", 'create_time > "2026-01-01T00:00:00Z"'),
    ("create_time <= 2026-01-01T10:00:00+02:00", 'create_time <= "2026-01-01T10:00:00+02:00"'),
    ("create_time > 2026-01-01", 'create_time > "2026-01-01T00:00:00Z"'),
])
def test_an_unquoted_timestamp_is_told_to_quote_it(text, quoted):
    with pytest.raises(InvalidArgument) as error:
        parse_filter(text, ORDER_FILTERS)
    assert f"timestamps must be quoted: {quoted}" in error.value.violations[0].description


def test_an_unquoted_value_with_a_colon_is_told_to_quote_it():
    with pytest.raises(InvalidArgument) as error:
        parse_filter("owner_id = rep:1", CUSTOMER_FILTERS)
    assert error.value.violations[0].description == \
        "values containing ':' must be quoted: owner_id = \"rep:1\""


# -- quoting input --------------------------------------------------------------------


def test_shown_quotes_a_short_value_whole():
    assert shown("abc") == "'abc'"


def test_shown_cuts_a_long_value_and_says_how_long_it_was():
    text = shown(HUGE)
    assert text == f"'{'x' * 40}…' (100000 characters)"


@pytest.mark.parametrize("fail", [
    lambda: parse_order_by(HUGE, ORDER_ORDER, "create_time"),
    lambda: parse_order_by(f"create_time {HUGE}", ORDER_ORDER, "create_time"),
    lambda: parse_filter(f"{'a' * 999} = 1", CUSTOMER_FILTERS),
    lambda: parse_filter(f"status = {'A' * 990}", CUSTOMER_FILTERS),
    lambda: parse_filter("text:" + "\u00e9" * 990, CUSTOMER_FILTERS),
    lambda: check.object_id("id", HUGE),
    lambda: check.update_mask([HUGE], frozenset({"notes"}), kind="customer"),
    lambda: check.update_mask([f"notes.{HUGE}"], frozenset({"notes"}), kind="customer"),
])
def test_huge_input_is_quoted_short_in_invalid_argument(fail):
    with pytest.raises(InvalidArgument) as error:
        fail()
    assert len(error.value.message) < 400
    assert all(len(v.description) < 400 for v in error.value.violations)


@pytest.mark.parametrize("fail", [
    lambda: parse_decimal(HUGE), lambda: parse_decimal("1" * 100_000),
    lambda: parse_decimal("0." + "1" * 100_000), lambda: check_currency(HUGE),
])
def test_huge_money_input_is_quoted_short(fail):
    with pytest.raises(MoneyError) as error:
        fail()
    assert len(str(error.value)) < 200


def test_a_huge_email_is_quoted_short():
    v = Violations()
    check.email(v, "customer.email", HUGE)
    [violation] = v.items
    assert len(violation.description) < 200


def _trailer_size(error) -> int:
    _, status = to_status(error)
    return len(status.message.encode()) + len(status.SerializeToString())


def test_a_status_caps_its_message_fields_descriptions_and_metadata():
    error = InvalidArgument(HUGE, metadata={"value": HUGE},
                            violations=[FieldViolation(HUGE, HUGE)])
    _, status = to_status(error)
    assert len(status.message) == 1024 and status.message.endswith("…")
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    status.details[0].Unpack(info)
    status.details[1].Unpack(bad)
    assert len(info.metadata["value"]) == 256
    [violation] = bad.field_violations
    assert (len(violation.field), len(violation.description)) == (256, 512)
    assert _trailer_size(error) < 8 * 1024


def test_a_status_with_many_violations_keeps_the_leading_ones_within_budget():
    error = InvalidArgument("bad", violations=[
        FieldViolation(f"lines[{i}].{HUGE}", HUGE) for i in range(500)])
    _, status = to_status(error)
    bad = error_details_pb2.BadRequest()
    status.details[1].Unpack(bad)
    assert 1 <= len(bad.field_violations) < 500
    assert bad.field_violations[0].field.startswith("lines[0].")
    assert _trailer_size(error) < 8 * 1024
    short = InvalidArgument("bad", violations=[FieldViolation(f"f{i}", "x") for i in range(30)])
    assert len(to_status(short)[1].details) == 2
    bad = error_details_pb2.BadRequest()
    to_status(short)[1].details[1].Unpack(bad)
    assert len(bad.field_violations) == 30


def test_a_precondition_status_is_capped_too():
    error = FailedPrecondition(HUGE, violations=[
        PreconditionViolation(HUGE, HUGE, HUGE) for _ in range(200)])
    assert _trailer_size(error) < 8 * 1024


# -- amounts past the cap ----------------------------------------------------------------


def _line(gross: str, tax: str = "0") -> LineAmounts:
    return LineAmounts(Decimal(gross), Decimal(0), Decimal(tax))


def _cap_fields(lines: list[LineAmounts], shipping: str = "0") -> dict[str, str]:
    try:
        check_within_cap(lines, total(lines, Decimal(shipping)))
    except InvalidArgument as error:
        return {v.field: v.description for v in error.violations}
    return {}


def test_amounts_just_below_the_cap_pass():
    assert _cap_fields([_line("999999999999999.99")]) == {}


def test_a_line_at_the_cap_is_named_by_its_index():
    fields = _cap_fields([_line("1.00"), _line("999999999999999.99", tax="0.01")])
    assert "sales_order.lines[1]" in fields and "sales_order.lines[0]" not in fields
    assert "exceeds the cap" in fields["sales_order.lines[1]"]


def test_lines_that_sum_past_the_cap_name_the_lines():
    fields = _cap_fields([_line("600000000000000"), _line("600000000000000")])
    assert set(fields) == {"sales_order.lines"}
    assert "1000000000000000" in fields["sales_order.lines"]


def test_shipping_that_pushes_the_grand_total_past_the_cap_names_the_shipping_charge():
    fields = _cap_fields([_line("999999999999990.00")], shipping="11.49")
    assert set(fields) == {"sales_order.shipping_charge"}
    assert "1000000000000001.49" in fields["sales_order.shipping_charge"]


def test_tax_that_pushes_the_grand_total_past_the_cap_names_the_order():
    fields = _cap_fields([_line("600000000000000", tax="0"),
                          _line("399999999999999", tax="1.00")])
    assert set(fields) == {"sales_order"}


# -- minor units --------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "amount", "fits"), [
    ("JPY", "1500", True), ("JPY", "1.5", False), ("JPY", "1500.0", True),
    ("USD", "12.50", True), ("USD", "12.500", True), ("USD", "12.505", False),
    ("USD", "0.005", False), ("BHD", "1.005", True), ("BHD", "1.0005", False),
])
def test_an_amount_fits_its_currencys_minor_unit_or_not(currency, amount, fits):
    assert Money.parse(currency, amount).fits_minor_unit() is fits


def test_the_minor_unit_error_names_the_currency_and_its_places():
    assert Money.parse("JPY", "1.5").minor_unit_error() == \
        "JPY amounts have at most 0 decimal places; '1.5' has more"


# -- invisible text ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", "\u200b\ufeff", "\u200b", "\u2060\u00ad",
                                   "\u3164", "\u2800", "\u200e\u200f", " \u3000\u200b "])
def test_a_required_text_that_shows_nothing_is_missing(value):
    v = Violations()
    check.text(v, "customer.first_name", value, required=True, max_len=100)
    assert [(i.field, i.description) for i in v.items] == [("customer.first_name", "is required")]


@pytest.mark.parametrize("value", ["Ann", "\u200bAnn", "Ann\u200dMarie", "李", "\u0661"])
def test_a_required_text_with_something_visible_passes(value):
    v = Violations()
    check.text(v, "customer.first_name", value, required=True, max_len=100)
    assert v.items == []


# -- etags -------------------------------------------------------------------------------


@dataclass
class _Record(Versioned):
    pass


@pytest.mark.parametrize("etag", ["v-1", "*", "abc", "v0", "v01", "v", "V2", " v2", "v2\n",
                                  "v1.5", "W/\"v2\"", "v\u0662"])
def test_a_malformed_etag_is_invalid_argument_on_etag(etag):
    with pytest.raises(InvalidArgument) as error:
        _Record(version=2).check_etag(etag)
    assert [v.field for v in error.value.violations] == ["etag"]


def test_a_well_formed_etag_is_checked_against_the_version():
    record = _Record(version=2)
    record.check_etag("")
    record.check_etag("v2")
    with pytest.raises(Aborted):
        record.check_etag("v3")
    with pytest.raises(Aborted) as error:
        record.check_etag("v" + "9" * 100_000)
    assert len(error.value.message) < 200

