"""Product rules: SKU, prices, tax rates, masks, deletion and stock adjustments."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sales_grpc.domain import products as rules
from sales_grpc.domain.errors import FailedPrecondition, InvalidArgument
from sales_grpc.domain.money import Money
from sales_grpc.domain.products import MovementReason, Stock

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
DEFAULT_RATE = Decimal("0.15")


def _new(**overrides):
    values = {"sku": "TOOL-1", "name": "Hammer", "unit_price": Money("USD", Decimal("9.99"))}
    values.update(overrides)
    return rules.new_product(values, id="b" * 24, actor="rep-1", now=NOW)


def _fields(**overrides) -> set[str]:
    with pytest.raises(InvalidArgument) as error:
        _new(**overrides)
    return {v.field for v in error.value.violations}


@pytest.mark.parametrize("sku", ["A", "abc-123_X.9", "9" * 64])
def test_a_sku_of_letters_digits_dots_dashes_and_underscores_is_accepted(sku):
    assert _new(sku=sku).sku == sku


@pytest.mark.parametrize("sku", ["", "-ABC", ".abc", "A B", "A/B", "Ä1", "9" * 65, "A\n",
                                 '{"$gt": ""}'])
def test_a_malformed_sku_is_rejected(sku):
    assert _fields(sku=sku) == {"product.sku"}


def test_a_negative_price_is_reported_on_its_amount():
    assert _fields(unit_price=Money("USD", Decimal("-1"))) == {"product.unit_price.amount"}


def test_a_missing_price_is_required():
    assert _fields(unit_price=None) == {"product.unit_price"}


def test_a_negative_cost_is_rejected():
    assert _fields(cost=Money("USD", Decimal("-0.01"))) == {"product.cost.amount"}


def test_a_cost_in_another_currency_than_the_price_is_rejected():
    assert _fields(cost=Money("EUR", Decimal(1))) == {"product.cost.currency_code"}


@pytest.mark.parametrize("rate", [Decimal("-0.01"), Decimal("1.01"), Decimal(2)])
def test_a_tax_rate_outside_zero_to_one_is_rejected(rate):
    assert _fields(tax_rate=rate) == {"product.tax_rate"}


def test_a_zero_tax_rate_is_a_real_rate_not_the_default():
    product = _new(tax_rate=Decimal(0))
    assert product.tax_rate == 0
    assert product.effective_tax_rate(DEFAULT_RATE) == 0


def test_an_unset_tax_rate_falls_back_to_the_default():
    assert _new().effective_tax_rate(DEFAULT_RATE) == DEFAULT_RATE


def test_a_new_product_is_active_with_no_stock():
    product = _new(active=None)
    assert product.active is True
    assert product.stock == Stock(0, 0)
    assert product.sellable


def test_stock_given_on_create_is_ignored():
    product = _new(stock=Stock(100, 0))
    assert product.stock.on_hand == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": " "}, "product.name"),
    ({"name": "n" * 201}, "product.name"),
    ({"description": "d" * 5001}, "product.description"),
    ({"category": "c" * 101}, "product.category"),
    ({"unit_of_measure": ""}, "product.unit_of_measure"),
    ({"reorder_level": -1}, "product.reorder_level"),
])
def test_each_bad_catalog_field_is_reported_by_its_path(overrides, field):
    assert _fields(**overrides) == {field}


def test_available_stock_is_on_hand_minus_reserved():
    assert Stock(on_hand=10, reserved=4).available == 6


def test_stock_cannot_be_named_in_an_update_mask():
    with pytest.raises(InvalidArgument, match="AdjustStock"):
        rules.check_mask(["stock"])
    with pytest.raises(InvalidArgument):
        rules.check_mask(["stock.on_hand"])


def test_money_sub_fields_in_a_mask_replace_the_whole_price():
    assert rules.check_mask(["unit_price.amount", "name"]) == ["name", "unit_price"]


def test_an_update_may_not_change_the_cost_to_another_currency():
    product = _new()
    with pytest.raises(InvalidArgument):
        rules.apply_update(product, {"cost": Money("EUR", Decimal(1))}, actor="a", now=NOW)


def test_a_product_with_reserved_stock_cannot_be_deleted():
    product = _new()
    product.stock = Stock(5, 2)
    with pytest.raises(FailedPrecondition) as error:
        rules.check_deletable(product)
    assert error.value.reason == "STOCK_RESERVED"
    assert error.value.violations[0].subject == f"products/{product.id}"


def test_a_deleted_product_cannot_be_deleted_or_updated_again():
    product = _new()
    product.delete_time = NOW
    with pytest.raises(FailedPrecondition):
        rules.check_deletable(product)
    with pytest.raises(FailedPrecondition):
        rules.apply_update(product, {"name": "x"}, actor="a", now=NOW)


@pytest.mark.parametrize(("delta", "reason"), [
    (5, MovementReason.RECEIPT),
    (-3, MovementReason.CORRECTION),
    (3, MovementReason.CORRECTION),
    (-1, MovementReason.WRITE_OFF),
    (2, MovementReason.CUSTOMER_RETURN),
])
def test_a_legal_stock_adjustment_is_accepted(delta, reason):
    assert rules.check_adjustment(delta, reason, "") is reason


@pytest.mark.parametrize(("delta", "reason", "field"), [
    (0, MovementReason.CORRECTION, "quantity_delta"),
    (-5, MovementReason.RECEIPT, "quantity_delta"),
    (-5, MovementReason.CUSTOMER_RETURN, "quantity_delta"),
    (5, MovementReason.WRITE_OFF, "quantity_delta"),
    (5, None, "reason"),
    (5, MovementReason.SHIPMENT, "reason"),
    (10**9 + 1, MovementReason.RECEIPT, "quantity_delta"),
])
def test_an_illegal_stock_adjustment_is_invalid_argument(delta, reason, field):
    with pytest.raises(InvalidArgument) as error:
        rules.check_adjustment(delta, reason, "")
    assert field in {v.field for v in error.value.violations}


def test_a_stock_note_longer_than_five_hundred_characters_is_rejected():
    with pytest.raises(InvalidArgument) as error:
        rules.check_adjustment(1, MovementReason.RECEIPT, "n" * 501)
    assert error.value.violations[0].field == "note"


def test_a_short_stock_error_names_the_product_and_the_reserved_units():
    product = _new()
    product.stock = Stock(3, 2)
    error = rules.short_stock_error(product, -2)
    assert error.reason == "INSUFFICIENT_STOCK"
    assert error.violations[0].subject == f"products/{product.id}"
    assert "2 reserved" in error.message
