"""The list query language: filters joined by AND, sort orders, and page sizes."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales_grpc.domain.errors import InvalidArgument
from sales_grpc.domain.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Condition,
    SortKey,
    page_size,
    parse_filter,
    parse_order_by,
)
from sales_grpc.services.customers import FILTERS as CUSTOMER_FILTERS
from sales_grpc.services.customers import ORDER_BY as CUSTOMER_ORDER
from sales_grpc.services.products import FILTERS as PRODUCT_FILTERS
from sales_grpc.services.products import ORDER_BY as PRODUCT_ORDER


def _field_violation(error: pytest.ExceptionInfo[InvalidArgument]) -> str:
    [violation] = error.value.violations
    return violation.field


def test_a_filter_of_comparisons_joined_by_and_parses_to_conditions():
    text = 'status = ACTIVE AND customer_type != BUSINESS AND owner_id = "rep-1"'
    conditions = parse_filter(text, CUSTOMER_FILTERS)
    assert conditions == [
        Condition("status", "status", "=", "active"),
        Condition("customer_type", "customer_type", "!=", "business"),
        Condition("owner_id", "owner_id", "=", "rep-1"),
    ]


def test_an_empty_filter_has_no_conditions():
    assert parse_filter("", CUSTOMER_FILTERS) == []
    assert parse_filter("   ", CUSTOMER_FILTERS) == []


def test_a_price_filter_value_is_an_exact_decimal():
    [condition] = parse_filter("unit_price >= 10.50", PRODUCT_FILTERS)
    assert condition == Condition("unit_price", "unit_price.amount", ">=", Decimal("10.50"))


def test_a_quoted_value_keeps_escaped_quotes():
    [condition] = parse_filter(r'text:"say \"hi\""', CUSTOMER_FILTERS)
    assert condition.value == 'say "hi"'


@pytest.mark.parametrize("text", [
    "colour = RED",
    "_id = 1",
    "delete_time = null",
])
def test_an_unknown_filter_field_is_invalid_argument(text):
    with pytest.raises(InvalidArgument, match="unknown field") as error:
        parse_filter(text, CUSTOMER_FILTERS)
    assert _field_violation(error) == "filter"


@pytest.mark.parametrize(("text", "fields"), [
    ("status > ACTIVE", CUSTOMER_FILTERS),
    ("text = acme", CUSTOMER_FILTERS),
    ("active != true", PRODUCT_FILTERS),
    ("sku : ABC", PRODUCT_FILTERS),
])
def test_an_operator_the_field_does_not_take_is_invalid_argument(text, fields):
    with pytest.raises(InvalidArgument, match="does not support"):
        parse_filter(text, fields)


@pytest.mark.parametrize("text", [
    "status = ACTIVE customer_type = BUSINESS",
    "status = ACTIVE OR status = PROSPECT",
    "status = ACTIVE AND",
    "AND status = ACTIVE",
    "status =",
    "status ACTIVE",
    "= ACTIVE",
    'text:"unterminated',
    "status = = ACTIVE",
])
def test_a_malformed_filter_is_invalid_argument(text):
    with pytest.raises(InvalidArgument) as error:
        parse_filter(text, CUSTOMER_FILTERS)
    assert _field_violation(error) == "filter"


@pytest.mark.parametrize(("text", "fields"), [
    ("status = DELETED", CUSTOMER_FILTERS),
    ("status = active", CUSTOMER_FILTERS),
    ("active = yes", PRODUCT_FILTERS),
    ("unit_price < 1e3", PRODUCT_FILTERS),
    ("unit_price < NaN", PRODUCT_FILTERS),
    ('text:""', CUSTOMER_FILTERS),
])
def test_a_value_the_field_cannot_take_is_invalid_argument(text, fields):
    with pytest.raises(InvalidArgument):
        parse_filter(text, fields)


def test_a_filter_longer_than_the_limit_is_invalid_argument():
    with pytest.raises(InvalidArgument, match="longer than"):
        parse_filter("text:" + '"' + "a" * 1000 + '"', CUSTOMER_FILTERS)


@pytest.mark.parametrize("value", ['{"$gt": ""}', ".*", "' or 1=1 --", "$where", "a AND b"])
def test_injection_looking_input_stays_a_literal_value(value):
    quoted = '"' + value.replace('"', '\\"') + '"'
    [condition] = parse_filter(f"owner_id = {quoted}", CUSTOMER_FILTERS)
    assert condition == Condition("owner_id", "owner_id", "=", value)
    [condition] = parse_filter(f"text:{quoted}", CUSTOMER_FILTERS)
    assert condition.value == value


def test_an_unquoted_operator_inside_a_value_is_not_a_second_condition():
    with pytest.raises(InvalidArgument):
        parse_filter('owner_id = {"$ne": 1}', CUSTOMER_FILTERS)


def test_order_by_takes_several_fields_each_optionally_descending():
    assert parse_order_by("last_name, create_time desc", CUSTOMER_ORDER, "create_time") == [
        SortKey("last_name", False), SortKey("create_time", True)]


def test_order_by_maps_a_field_to_its_stored_path():
    assert parse_order_by("unit_price desc", PRODUCT_ORDER, "create_time") == [
        SortKey("unit_price.amount", True)]


def test_an_empty_order_by_uses_the_default():
    assert parse_order_by("", CUSTOMER_ORDER, "create_time") == [SortKey("create_time", False)]


@pytest.mark.parametrize("text", ["email", "create_time descending", "name desc extra", ",",
                                  "create_time,", "_id", "unit_price"])
def test_a_bad_order_by_is_invalid_argument(text):
    with pytest.raises(InvalidArgument) as error:
        parse_order_by(text, CUSTOMER_ORDER, "create_time")
    assert _field_violation(error) == "order_by"


def test_a_negative_page_size_is_invalid_argument():
    with pytest.raises(InvalidArgument) as error:
        page_size(-1)
    assert _field_violation(error) == "page_size"


def test_page_size_zero_means_the_default_of_fifty():
    assert page_size(0) == DEFAULT_PAGE_SIZE == 50


def test_page_size_above_the_maximum_is_capped_at_five_hundred():
    assert page_size(501) == MAX_PAGE_SIZE == 500
    assert page_size(2**31 - 1) == 500


def test_page_size_within_limits_is_kept():
    assert page_size(1) == 1
    assert page_size(500) == 500


@pytest.mark.parametrize("text", ["name, name", "name, name desc", "name desc, sku, name"])
def test_an_order_by_naming_a_field_twice_is_invalid_argument(text):
    with pytest.raises(InvalidArgument, match="more than once") as error:
        parse_order_by(text, PRODUCT_ORDER, "create_time")
    assert _field_violation(error) == "order_by"


@given(st.text(max_size=60))
def test_parse_filter_raises_nothing_but_invalid_argument(text):
    for fields in (CUSTOMER_FILTERS, PRODUCT_FILTERS):
        try:
            parse_filter(text, fields)
        except InvalidArgument:
            pass


_words = st.sampled_from(["status", "=", "!=", "ACTIVE", "AND", "text", ":", '"a b"',
                          "unit_price", ">=", "10.5", "active", "true", "owner_id", '"x\\"y"'])


@given(st.lists(_words, max_size=12).map(" ".join))
def test_parse_filter_of_near_valid_text_raises_nothing_but_invalid_argument(text):
    for fields in (CUSTOMER_FILTERS, PRODUCT_FILTERS):
        try:
            parse_filter(text, fields)
        except InvalidArgument:
            pass


@given(st.text(max_size=40))
def test_parse_order_by_raises_nothing_but_invalid_argument(text):
    try:
        parse_order_by(text, PRODUCT_ORDER, "create_time")
    except InvalidArgument:
        pass
