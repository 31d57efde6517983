"""Shared field checks: a value must match as a whole, a trailing newline included."""

import pytest

from sales_grpc.domain import validation as check
from sales_grpc.domain.errors import InvalidArgument, Violations
from sales_grpc.domain.records import Address


def _fields(fn, *args) -> list[str]:
    v = Violations()
    fn(v, *args)
    return [item.field for item in v.items]


@pytest.mark.parametrize("value", ["ann@example.com", "a.b+tag@mail.example.co.uk"])
def test_a_plain_email_address_is_accepted(value):
    assert _fields(check.email, "email", value) == []


@pytest.mark.parametrize("value", ["ann@example.com\n", "ann@@example.com", "@example.com",
                                   "ann@example", "ann example@x.com", "ann@-x.com"])
def test_a_malformed_email_address_is_rejected(value):
    assert _fields(check.email, "email", value) == ["email"]


def test_a_phone_number_with_a_trailing_newline_is_rejected():
    assert _fields(check.phone, "phone", "+1 555 0100") == []
    assert _fields(check.phone, "phone", "+1 555 0100\n") == ["phone"]


def test_a_region_code_with_a_trailing_newline_is_rejected():
    assert _fields(check.address, "a", Address(region_code="US")) == []
    assert _fields(check.address, "a", Address(region_code="US\n")) == ["a.region_code"]


@pytest.mark.parametrize("value", ["", "zz", "0" * 23, "0" * 25, "A" * 24, "0" * 24 + "\n",
                                   "' or 1=1", "０" * 24])
def test_a_malformed_id_is_invalid_argument(value):
    with pytest.raises(InvalidArgument) as error:
        check.object_id("id", value)
    assert error.value.violations[0].field == "id"


def test_a_well_formed_id_is_returned_unchanged():
    assert check.object_id("id", "0123456789abcdef01234567") == "0123456789abcdef01234567"


def test_control_characters_are_rejected_but_newlines_and_tabs_are_not():
    v = Violations()
    check.text(v, "notes", "a\nb\tc", required=False, max_len=10)
    assert v.items == []
    check.text(v, "notes", "a\x07b", required=False, max_len=10)
    assert [item.field for item in v.items] == ["notes"]
